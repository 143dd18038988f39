"""The trainer's backward pass written out (backprop.py) gives what autograd gives, bit
for bit: every gradient, every dL/dz, the loss and batch norm's running statistics,
for every activation, norm and residual, and on adversarial cases (NaN and Inf,
saturated units, batch 1, width 2, ten classes). And a whole run trains exactly what a
plain PyTorch loop trains."""

from __future__ import annotations

import copy
import itertools

import pytest
import torch
from torch import nn

from tests.engine_cases import batch, poisoned
from vangrad_core import ACTIVATIONS, NORMS, ExperimentConfig, Trainer, batch_indices, build_model, make_dataset
from vangrad_core.backprop import Backprop
from vangrad_core.measure import record_pass


def written_out(model: nn.Module, x: torch.Tensor, y: torch.Tensor):
    """One pass through `Backprop` on `model`: its loss and recorded pass."""
    return Backprop(model).training_pass(x, y)


def assert_same_as_autograd(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> None:
    """One training pass on each of three copies of `model`: loss.backward(), the
    reference's autograd.grad for dL/dz (`measure.record_pass`), and the written-out pass."""
    by_backward, by_grad, written = (copy.deepcopy(model) for _ in range(3))
    loss = nn.functional.cross_entropy(by_backward(x), y)
    loss.backward()
    reference = record_pass(by_grad, x, y)
    got_loss, recorded = written_out(written, x, y)
    assert torch.equal(got_loss, loss.detach()), (got_loss, loss)
    for (name, expected), got in zip(by_backward.named_parameters(), written.parameters(), strict=True):
        assert torch.equal(got.grad, expected.grad), name
    for (name, expected), got in zip(by_backward.named_buffers(), written.buffers(), strict=True):
        assert torch.equal(got, expected), name  # batch norm's running statistics
    assert len(recorded.deltas) == len(reference.deltas) == len(model.linears)
    for layer, (got, expected) in enumerate(zip(recorded.deltas, reference.deltas, strict=True), start=1):
        assert torch.equal(got, expected), f"dL/dz of layer {layer}"


@pytest.mark.parametrize(
    "activation, norm, residual", list(itertools.product(ACTIVATIONS, NORMS, (False, True))), ids=str
)
def test_every_gradient_is_autograds(activation, norm, residual):
    config = ExperimentConfig(depth=4, width=12, activation=activation, norm=norm, residual=residual)
    assert_same_as_autograd(build_model(config), *batch(config, 32))


@pytest.mark.parametrize(
    "config, n_examples",
    [
        (ExperimentConfig(depth=3, width=2), 16),  # width 2
        (ExperimentConfig(depth=3, width=8, norm="layernorm_before"), 1),  # batch 1
        (ExperimentConfig(depth=3, width=8, dataset="digits", norm="batchnorm_after"), 40),  # ten classes
        (ExperimentConfig(depth=6, width=16, init="large_normal"), 32),  # sigmoids saturated
        (ExperimentConfig(depth=6, width=16, activation="relu", init="small_normal"), 32),  # dead ReLUs, exact 0s
    ],
    ids=["width-2", "batch-1", "digits", "saturated", "dead"],
)
def test_adversarial_cases_are_autograds(config, n_examples):
    assert_same_as_autograd(build_model(config), *batch(config, n_examples))


@pytest.mark.parametrize("poison", [float("nan"), float("inf")])
def test_nan_and_inf_reach_the_same_places(poison):
    model, x, y = poisoned(poison, norm="batchnorm_before", at=(3, 2))
    twin = copy.deepcopy(model)
    nn.functional.cross_entropy(model(x), y).backward()
    got_loss, _ = written_out(twin, x, y)
    for (name, expected), got in zip(model.named_parameters(), twin.parameters(), strict=True):
        assert torch.equal(got.grad.isnan(), expected.grad.isnan()), name
        finite = expected.grad.isfinite()
        assert torch.equal(got.grad[finite], expected.grad[finite]), name
    assert not got_loss.isfinite()


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize("norm", ["none", "batchnorm_before"])
def test_a_run_trains_exactly_what_a_plain_loop_trains(optimizer, norm):
    """Thirty steps of the trainer (backward pass written out, packed parameters, its
    optimizer) against loss.backward() and torch.optim on the same model and batches:
    the same losses and weights, bit for bit."""
    config = ExperimentConfig(
        depth=5, width=16, steps=30, optimizer=optimizer, norm=norm, learning_rate=0.01 if optimizer == "adam" else 0.3
    )
    trainer = Trainer(config)
    trainer.step(config.steps)
    model = build_model(config)
    data = make_dataset(config)
    momentum = 0.9 if optimizer == "momentum" else 0.0
    plain = (
        torch.optim.Adam(model.parameters(), lr=config.learning_rate, foreach=True)
        if optimizer == "adam"
        else torch.optim.SGD(model.parameters(), lr=config.learning_rate, momentum=momentum, foreach=True)
    )
    batches = batch_indices(config, len(data.x_train))
    losses = []
    for _ in range(config.steps):
        idx = next(batches)
        loss = nn.functional.cross_entropy(model(data.x_train[idx]), data.y_train[idx])
        plain.zero_grad()
        loss.backward()
        plain.step()
        losses.append(loss.item())
    assert trainer.metrics["loss"].tolist() == losses
    for expected, got in zip(model.parameters(), trainer.model.parameters(), strict=True):
        assert torch.equal(got, expected)
