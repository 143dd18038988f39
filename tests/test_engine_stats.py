"""The engine's statistics against an independent computation with torch.autograd.

The reference here walks the network block by block with plain tensor ops, asks
autograd for dL/dW and dL/dz directly, and computes every column the obvious way
(torch.std, torch.quantile, ...). The engine computes the same numbers from what
the forward pass recorded, packed weight rows and compiled one-pass kernels.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from vangrad_core import (
    ACTIVATION_TABLE,
    ExperimentConfig,
    Trainer,
    batch_indices,
    build_model,
    layer_stats,
    make_dataset,
)
from vangrad_core.stats import LAYER_COLUMNS, QUANTILE_SAMPLE, SATURATION_THRESHOLD, LayerStatistics


def reference_stats(model, x, y, quantile_examples: int | None = None) -> pd.DataFrame:
    """Every column of layer_stats, computed independently (no update: NaN ratio)."""
    activation = ACTIVATION_TABLE[model.config.activation]
    h, zs, act_ins, act_outs = x, [], [], []
    for block in model.blocks:
        z = block.linear(h)
        zs.append(z)
        a = block.norm_before(z) if block.norm_before is not None else z
        out = block.activation(a)
        act_ins.append(a.detach())
        act_outs.append(out.detach())
        hn = block.norm_after(out) if block.norm_after is not None else out
        h = h + hn if block.residual else hn
    logits = model.head(h)
    zs.append(logits)
    loss = nn.functional.cross_entropy(logits, y)
    weights = [lin.weight for lin in model.linears]
    grads = torch.autograd.grad(loss, weights + zs)
    weight_grads, deltas = grads[: len(weights)], grads[len(weights) :]
    rows = []
    for i, (w, g, d) in enumerate(zip(weights, weight_grads, deltas, strict=False)):
        row = {
            "layer": i + 1,
            "weight_grad_norm": g.norm().item(),
            "weight_norm": w.norm().item(),
            "grad_data_ratio": (g.std(correction=0) / w.std(correction=0)).item(),
            "delta_rms": d.pow(2).mean().sqrt().item(),
        }
        if i < len(model.blocks):
            a, out = act_ins[i], act_outs[i]
            deriv = torch.func.vmap(torch.func.grad(lambda t: activation.function(t)))(a.flatten()).view_as(a)
            n = quantile_examples or max(1, math.ceil(QUANTILE_SAMPLE / a.shape[1]))
            q = np.quantile(a[:n].flatten().numpy(), [0.15, 0.5, 0.85])
            dead = ((out == 0).all(0) | (deriv == 0).all(0)).double().mean().item()
            row.update(
                act_input_mean=a.mean().item(),
                act_input_std=a.std(correction=0).item(),
                act_input_p15=q[0],
                act_input_p50=q[1],
                act_input_p85=q[2],
                act_mean=out.mean().item(),
                act_std=out.std(correction=0).item(),
                mean_derivative=deriv.mean().item(),
                saturation=(deriv < SATURATION_THRESHOLD * activation.max_derivative).double().mean().item(),
                dead_fraction=dead,
            )
        rows.append(row)
    return pd.DataFrame(rows)


CASES = [
    ExperimentConfig(depth=4, width=16, activation="sigmoid"),
    ExperimentConfig(depth=5, width=12, activation="tanh", norm="batchnorm_before", init="xavier_normal"),
    ExperimentConfig(depth=3, width=20, activation="relu", norm="batchnorm_after", init="he_normal"),
    ExperimentConfig(depth=4, width=8, activation="relu", init="large_normal", weight_scale=2.0),
    ExperimentConfig(depth=3, width=10, activation="gelu", norm="layernorm_before", residual=True),
    ExperimentConfig(depth=3, width=10, activation="elu", init="lecun_normal", dataset="digits"),
    ExperimentConfig(depth=3, width=10, activation="selu", init="orthogonal", dataset="teacher"),
    ExperimentConfig(depth=3, width=10, activation="leaky_relu", init="he_uniform"),
    ExperimentConfig(depth=2, width=6, activation="linear", init="xavier_uniform"),
]


@pytest.mark.parametrize("config", CASES, ids=lambda c: f"{c.activation}-{c.norm}-{c.init}")
def test_layer_stats_match_autograd(config):
    model = build_model(config)
    data = make_dataset(config)
    x, y = data.x_train[:64], data.y_train[:64]
    expected = reference_stats(model, x, y)
    got = layer_stats(model, x, y)
    assert list(got.columns) == list(LAYER_COLUMNS)
    assert len(got) == config.depth + 1
    assert got["update_ratio"].isna().all()
    assert (got["distance_from_init"] == 0).all()
    for column in expected.columns:
        np.testing.assert_allclose(
            got[column].to_numpy(), expected[column].to_numpy(), rtol=2e-4, atol=1e-7, err_msg=column
        )
    output = got.iloc[-1]
    assert output[["act_input_mean", "saturation", "dead_fraction"]].isna().all()


def test_quantiles_are_exact_when_the_batch_is_small():
    config = ExperimentConfig(depth=3, width=16)
    model = build_model(config)
    data = make_dataset(config)
    x, y = data.x_train[:8], data.y_train[:8]  # 8 x 16 values, fewer than the sample
    got = layer_stats(model, x, y)
    expected = reference_stats(model, x, y, quantile_examples=8)
    for column in ("act_input_p15", "act_input_p50", "act_input_p85"):
        np.testing.assert_allclose(got[column][:-1], expected[column][:-1], rtol=1e-5)


def test_layer_stats_changes_nothing():
    config = ExperimentConfig(depth=3, width=8, norm="batchnorm_before")
    model = build_model(config)
    data = make_dataset(config)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    layer_stats(model, data.x_train[:32], data.y_train[:32])
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), key
    assert all(p.grad is None for p in model.parameters())


@pytest.mark.parametrize(
    "config",
    [
        ExperimentConfig(depth=4, width=12, steps=6, learning_rate=0.5),
        ExperimentConfig(depth=3, width=12, steps=6, optimizer="momentum", norm="batchnorm_before"),
        ExperimentConfig(depth=3, width=12, steps=6, optimizer="adam", learning_rate=0.01),
        ExperimentConfig(depth=3, width=12, steps=6, grad_clip=0.01, activation="relu"),
    ],
    ids=["sgd", "momentum-bn", "adam", "clipped"],
)
def test_training_steps_match_a_plain_loop(config):
    """Rows of Trainer.layers equal a plain PyTorch loop's own measurements."""
    trainer = Trainer(config)
    trainer.step(config.steps)
    layers = trainer.layers

    model = build_model(config)  # same seed: the same weights as the trainer's
    data = make_dataset(config)
    optimizer = {
        "sgd": lambda p: torch.optim.SGD(p, lr=config.learning_rate),
        "momentum": lambda p: torch.optim.SGD(p, lr=config.learning_rate, momentum=0.9),
        "adam": lambda p: torch.optim.Adam(p, lr=config.learning_rate),
    }[config.optimizer](model.parameters())
    initial = [lin.weight.detach().clone() for lin in model.linears]
    batches = batch_indices(config, len(data.x_train))
    for step in range(config.steps):
        idx = next(batches)
        x, y = data.x_train[idx], data.y_train[idx]
        expected = reference_stats(model, x, y)
        before = [lin.weight.detach().clone() for lin in model.linears]
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        if config.grad_clip:
            nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        scales = [norm.weight.mean().item() for norm in model.norms]  # what this step's forward used
        shifts = [norm.bias.mean().item() for norm in model.norms]
        optimizer.step()
        row = layers[layers["step"] == step].reset_index(drop=True)
        if scales:
            np.testing.assert_allclose(row["norm_gamma_mean"][: config.depth], scales, rtol=1e-6)
            np.testing.assert_allclose(row["norm_beta_mean"][: config.depth], shifts, atol=1e-7)
        for column in ("weight_grad_norm", "weight_norm", "grad_data_ratio", "delta_rms", "act_input_std"):
            np.testing.assert_allclose(row[column], expected[column], rtol=1e-4, err_msg=f"{column} @ {step}")
        for i, lin in enumerate(model.linears):
            change = lin.weight.detach() - before[i]
            if config.optimizer == "sgd" and not config.grad_clip:
                # plain SGD: the update is exactly lr x gradient (before float rounding)
                change = -config.learning_rate * lin.weight.grad
            ratio = (change.std(correction=0) / before[i].std(correction=0)).item()
            moved = ((before[i] - initial[i]).norm() / initial[i].norm()).item()
            assert row["update_ratio"][i] == pytest.approx(ratio, rel=1e-3, abs=1e-12)
            assert row["distance_from_init"][i] == pytest.approx(moved, rel=1e-3, abs=1e-9)
        assert trainer.metrics["loss"][step] == pytest.approx(loss.item(), rel=1e-5)


def test_test_accuracy_uses_running_statistics():
    config = ExperimentConfig(depth=3, width=8, norm="batchnorm_before", steps=30)
    trainer = Trainer(config)
    trainer.step(30)
    model = trainer.model
    model.eval()
    with torch.no_grad():
        logits = model(trainer.data.x_test)
    accuracy = (logits.argmax(1) == trainer.data.y_test).double().mean().item()
    assert trainer.metrics["test_accuracy"].iloc[-1] == pytest.approx(accuracy)
    assert trainer.metrics["test_accuracy"].notna().sum() >= 2


@pytest.mark.parametrize("name", list(ACTIVATION_TABLE))
def test_every_derivative_is_autograds(name):
    """Each activation's derivative, as the statistics' compiled pass computes it from
    the output (a quadratic in y on each side of 0; GELU's by torch), is autograd's."""
    activation = ACTIVATION_TABLE[name]
    x = torch.cat([torch.linspace(-12, 12, 4001, dtype=torch.float64), torch.tensor([0.0, -0.0, 1e-30, -1e-30])])
    x.requires_grad_(True)
    (expected,) = torch.autograd.grad(activation.function(x).sum(), x)
    np.testing.assert_allclose(activation.derivative(x.detach()), expected, rtol=1e-12, atol=1e-15)


def test_percentiles_stay_exact_across_many_steps():
    """The percentiles' samples are sorted many steps at a time (and when the frame is
    asked for): every step's p15/p50/p85 still match a plain loop's own."""
    config = ExperimentConfig(depth=3, width=16, steps=150, learning_rate=0.3)
    trainer = Trainer(config)
    trainer.step(70)
    early = trainer.layers  # asked for mid-run: sorts what is kept so far
    trainer.step(80)
    layers = trainer.layers
    pd.testing.assert_frame_equal(early, layers[layers["step"] < 70].reset_index(drop=True))

    model = build_model(config)
    data = make_dataset(config)
    optimizer = torch.optim.SGD(model.parameters(), lr=config.learning_rate)
    batches = batch_indices(config, len(data.x_train))
    for step in range(config.steps):
        idx = next(batches)
        x, y = data.x_train[idx], data.y_train[idx]
        if step in (0, 63, 64, 65, 69, 70, 128, 149):
            expected = reference_stats(model, x, y)
            row = layers[layers["step"] == step].reset_index(drop=True)
            for column in ("act_input_p15", "act_input_p50", "act_input_p85"):
                got, want = row[column][:-1], expected[column][:-1]
                np.testing.assert_allclose(got, want, rtol=1e-4, err_msg=f"{column} @ {step}")
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()


def test_a_tensor_that_is_not_contiguous_is_measured_the_same():
    """The compiled pass reads tensors where they lie in memory; one laid out otherwise
    (none is, as autograd makes them) is copied first, not misread."""
    config = ExperimentConfig(depth=3, width=8, activation="tanh")
    data = make_dataset(config)
    x, y = data.x_train[:16], data.y_train[:16]
    rows = []
    for transposed in (False, True):
        stats = LayerStatistics(build_model(config))
        stats.start()
        loss = nn.functional.cross_entropy(stats.model(x), y)
        loss.backward()
        stats.stop()
        if transposed:  # the same values, stored column by column
            outputs = stats.recording.act_outputs
            outputs[1] = outputs[1].detach().t().contiguous().t()
            assert not outputs[1].is_contiguous()
        row = stats.new_rows(1)
        stats.measure_weights(row[0])
        stats.measure_pass(row[0], 0, updated=False)
        stats.sort_samples()
        rows.append(stats.table(row.numpy())[0])
    np.testing.assert_array_equal(rows[0], rows[1])
