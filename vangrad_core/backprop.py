"""A training step's forward and backward passes, written out layer by layer.

This is backpropagation as the lesson draws it: going back through a block, dL/dz
is the gradient arriving from above times the nonlinearity's slope (and through the
norm, if any); the Linear layer then passes dL/dz · W further down and takes
dL/dW = dL/dzᵀ · (its input). Each step calls the very op that autograd's backward
of that layer calls, so every number is the same as `loss.backward()` gives, bit
for bit (tests/test_backprop.py, for every activation, norm and residual).

Why not autograd: at the app's sizes (width 64, batch 64) a layer's matrix product
takes about what autograd spends building and walking the graph around it. Written
out, a forward and backward pass costs a third less at depth 20 × width 64 and a
sixth less at depth 50 × width 128 with batch norm (docs/performance.md, "The
engine"), and it keeps what the statistics read anyway (each hidden layer's
nonlinearity input and output, and dL/dz) with no graph to ask them from. The tests
hold it equal to autograd: to `loss.backward()` and to `measure.record_pass`, the
statistics' reference. Only `Trainer` trains this way; evaluation and every other
pass call the network itself.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import torch
from torch import nn

from .activations import ACTIVATION_TABLE
from .model import Network

_aten = torch.ops.aten
MEAN, NO_IGNORED_CLASS = 1, -100  # nll_loss's reduction code and ignore_index, as cross_entropy's defaults


class NormKept(NamedTuple):
    """What a norm's backward needs of its forward pass."""

    given: torch.Tensor
    mean: torch.Tensor
    inverse_std: torch.Tensor


@dataclasses.dataclass
class TrainingPass:
    """What one forward pass keeps, per hidden block from the input side, and what the
    backward pass adds (`deltas`)."""

    block_inputs: list[torch.Tensor]  # each Linear layer's input (the head's last)
    act_inputs: list[torch.Tensor]  # the nonlinearity's input: z, or norm(z)
    act_outputs: list[torch.Tensor]
    norms: list[NormKept | None]  # what each block's norm keeps for its backward (None: no norm)
    logits: torch.Tensor
    deltas: list[torch.Tensor] = dataclasses.field(default_factory=list)  # dL/dz of every Linear layer


class _Layer(NamedTuple):
    """A Linear layer's parameters and what follows it in its block, looked up once
    (each module attribute is a lookup through nn.Module: a fifth of a forward pass)."""

    weight: nn.Parameter
    bias: nn.Parameter
    norm_before: nn.Module | None
    norm_after: nn.Module | None
    residual: bool


class Backprop:
    """A network's training passes, written out (see the module's docstring). Build it
    once the parameters are what training will update (after `packing`)."""

    def __init__(self, network: Network):
        self.activation = ACTIVATION_TABLE[network.config.activation]
        self.hidden = [
            _Layer(b.linear.weight, b.linear.bias, b.norm_before, b.norm_after, b.residual) for b in network.blocks
        ]
        self.head = network.head

    def training_pass(self, x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, TrainingPass]:
        """One training pass on the batch (`x`, `y`): its mean cross-entropy loss, and
        what it kept, with dL/dz (`forward`, `loss_and_gradient`, `backward`)."""
        recorded = self.forward(x)
        loss, logits_grad = loss_and_gradient(recorded.logits, y)
        self.backward(recorded, logits_grad)
        return loss, recorded

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> TrainingPass:
        """The network's training-mode forward pass (batch norm updates its running
        statistics, as `network(x)` would), keeping what `backward` needs."""
        block_inputs, act_inputs, act_outputs, norms = [], [], [], []
        function = self.activation.function
        h = x
        for layer in self.hidden:
            block_inputs.append(h)
            into = z = nn.functional.linear(h, layer.weight, layer.bias)
            kept = None
            if layer.norm_before is not None:
                into, kept = _norm_forward(layer.norm_before, z)
            after = out = function(into)
            if layer.norm_after is not None:
                after, kept = _norm_forward(layer.norm_after, out)
            act_inputs.append(into)
            act_outputs.append(out)
            norms.append(kept)
            h = h + after if layer.residual else after
        block_inputs.append(h)
        logits = nn.functional.linear(h, self.head.weight, self.head.bias)
        return TrainingPass(block_inputs, act_inputs, act_outputs, norms, logits)

    @torch.no_grad()
    def backward(self, recorded: TrainingPass, logits_grad: torch.Tensor) -> None:
        """Every parameter's gradient, into its `.grad` (overwritten, not accumulated;
        the trainer's are views into packed rows), and each Linear layer's dL/dz into
        `recorded.deltas`, from the input side."""
        slope_backward = self.activation.backward
        deltas = [logits_grad]
        head = self.head
        grad = _linear_backward(head.weight, head.bias, logits_grad, recorded.block_inputs[-1], pass_on=True)
        for i in range(len(self.hidden) - 1, -1, -1):
            layer, from_above = self.hidden[i], grad
            if layer.norm_after is not None:
                grad = _norm_backward(layer.norm_after, grad, recorded.norms[i])
            grad = slope_backward(grad, recorded.act_inputs[i], recorded.act_outputs[i])
            if layer.norm_before is not None:
                grad = _norm_backward(layer.norm_before, grad, recorded.norms[i])
            deltas.append(grad)
            grad = _linear_backward(layer.weight, layer.bias, grad, recorded.block_inputs[i], pass_on=i > 0)
            if layer.residual:
                grad = grad + from_above  # the skip connection passes the gradient on as it came
        recorded.deltas = deltas[::-1]


def loss_and_gradient(logits: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The mean cross-entropy of `logits` and its gradient dL/dlogits: the ops of
    `nn.functional.cross_entropy` and of autograd's backward of it."""
    log_probabilities = torch.log_softmax(logits, 1)
    loss, total_weight = _aten.nll_loss_forward(log_probabilities, targets, None, MEAN, NO_IGNORED_CLASS)
    grad = _aten.nll_loss_backward(
        torch.ones_like(loss), log_probabilities, targets, None, MEAN, NO_IGNORED_CLASS, total_weight
    )
    return loss, _aten._log_softmax_backward_data(grad, log_probabilities, 1, log_probabilities.dtype)


def _linear_backward(
    weight: nn.Parameter, bias: nn.Parameter, delta: torch.Tensor, inputs: torch.Tensor, pass_on: bool
) -> torch.Tensor:
    """dL/dW and dL/db into their .grad; dL/d(input) if `pass_on` (the first layer's
    input is the data, whose gradient nobody asks for)."""
    torch.mm(delta.t(), inputs, out=_grad_of(weight))
    torch.sum(delta, 0, out=_grad_of(bias))
    return delta.mm(weight) if pass_on else delta


def _norm_forward(norm: nn.Module, h: torch.Tensor) -> tuple[torch.Tensor, NormKept]:
    """`norm(h)` in training mode, and what its backward needs."""
    if isinstance(norm, nn.BatchNorm1d):
        norm.num_batches_tracked.add_(1)
        out, mean, inverse_std = _aten.native_batch_norm(
            h, norm.weight, norm.bias, norm.running_mean, norm.running_var, True, norm.momentum, norm.eps
        )
    else:
        out, mean, inverse_std = _aten.native_layer_norm(h, norm.normalized_shape, norm.weight, norm.bias, norm.eps)
    return out, NormKept(h, mean, inverse_std)


def _norm_backward(norm: nn.Module, grad: torch.Tensor, kept: NormKept) -> torch.Tensor:
    """dL/d(norm's input) from dL/d(its output); dL/dgamma and dL/dbeta into the
    norm's .grad."""
    h, mean, inverse_std = kept
    if isinstance(norm, nn.BatchNorm1d):
        grad_in, grad_weight, grad_bias = _aten.native_batch_norm_backward(
            grad, h, norm.weight, norm.running_mean, norm.running_var, mean, inverse_std, True, norm.eps, [True] * 3
        )
    else:
        grad_in, grad_weight, grad_bias = _aten.native_layer_norm_backward(
            grad, h, norm.normalized_shape, mean, inverse_std, norm.weight, norm.bias, [True] * 3
        )
    _grad_of(norm.weight).copy_(grad_weight)
    _grad_of(norm.bias).copy_(grad_bias)
    return grad_in


def _grad_of(parameter: nn.Parameter) -> torch.Tensor:
    """The parameter's .grad, to write into (made, if it has none yet)."""
    if parameter.grad is None:
        parameter.grad = torch.empty_like(parameter)
    return parameter.grad
