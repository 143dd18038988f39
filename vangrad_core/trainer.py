"""Training, step by step, with per-layer statistics recorded as it goes."""

from __future__ import annotations

import contextlib
import dataclasses
import math
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.optim.adam import adam
from torch.optim.sgd import sgd

from .backprop import Backprop
from .config import ExperimentConfig
from .data import Dataset, make_dataset
from .measure import LAYER_COLUMNS, UNIT_COLUMNS
from .measure_fast import FastMeasure, raw_dtype
from .model import Network, build_model
from .packing import pack_parameters
from .summary import doomed_from_the_start
from .writing import number

if TYPE_CHECKING:
    from .recurrent import RecurrentConfig

METRIC_COLUMNS = ("step", "loss", "train_accuracy", "test_loss", "test_accuracy")
HISTORY_BYTES = 24 * 2**20  # the per-layer history kept at most, in bytes
TEST_EVALUATIONS = 20  # about this many test measurements per run, and
MIN_EVAL_EVERY = 50  # at most one per this many steps: each costs a few training steps
MOMENTUM = 0.9


def batch_indices(config: ExperimentConfig, n_train: int) -> Iterator[torch.Tensor]:
    """The training batches' indices: shuffled epochs from the config's seed.

    A batch larger than the training set is the whole (shuffled) training set."""
    gen = torch.Generator().manual_seed(config.seed + 104729)
    size = min(config.batch_size, n_train)
    while True:
        order = torch.randperm(n_train, generator=gen)
        for start in range(0, n_train - size + 1, size):
            yield order[start : start + size]


class Optimizer:
    """SGD (plain or with momentum) or Adam, with PyTorch's own update functions
    (`torch.optim.sgd.sgd`, `torch.optim.adam.adam`) and their state kept here: the same
    numbers as `torch.optim.SGD` and `torch.optim.Adam` (tests/test_engine_stats.py).
    Not those classes because their first step imports `torch._dynamo`, to step out of
    a compiler this engine never runs: about as long as importing torch, and 70 MB
    more in every process that trains (docs/architecture.md, "The statistics")."""

    def __init__(self, config: ExperimentConfig | RecurrentConfig, params: Iterable[torch.Tensor]):
        self.kind, self.learning_rate = config.optimizer, config.learning_rate
        self.params = list(params)
        # the state is made at the first step, as torch.optim's: a run that is only looked
        # at (a page opened on a network too large to train) holds no optimizer state
        self.momentum_buffers: list[torch.Tensor | None] = [None] * len(self.params)
        self.exp_avgs: list[torch.Tensor] = []
        self.exp_avg_sqs: list[torch.Tensor] = []
        self.steps: list[torch.Tensor] = []

    @torch.no_grad()
    def step(self) -> None:
        """One update of every parameter that has a gradient, as torch.optim's step."""
        # foreach: one multi-tensor update instead of a Python loop over parameters
        # (PyTorch only picks it by default on GPUs)
        have = [i for i, p in enumerate(self.params) if p.grad is not None]
        params = [self.params[i] for i in have]
        grads = [p.grad for p in params]
        if self.kind == "adam":
            if not self.steps:
                self.exp_avgs = [torch.zeros_like(p) for p in self.params]
                self.exp_avg_sqs = [torch.zeros_like(p) for p in self.params]
                self.steps = [torch.tensor(0.0) for _ in self.params]
            adam(
                params,
                grads,
                [self.exp_avgs[i] for i in have],
                [self.exp_avg_sqs[i] for i in have],
                [],
                [self.steps[i] for i in have],
                foreach=True,
                amsgrad=False,
                beta1=0.9,
                beta2=0.999,
                lr=self.learning_rate,
                weight_decay=0.0,
                eps=1e-8,
                maximize=False,
            )
            return
        buffers = [self.momentum_buffers[i] for i in have]
        momentum = MOMENTUM if self.kind == "momentum" else 0.0
        sgd(
            params,
            grads,
            buffers,
            foreach=True,
            weight_decay=0.0,
            momentum=momentum,
            lr=self.learning_rate,
            dampening=0.0,
            nesterov=False,
            maximize=False,
        )
        for i, buffer in zip(have, buffers, strict=True):  # (sgd fills in the first step's buffers)
            self.momentum_buffers[i] = buffer


def not_finite_words(value: float) -> str:
    """A loss that is no longer a number, as a student reads it (not "nan" or "inf")."""
    return "NaN (not a number)" if math.isnan(value) else "infinite"


def test_every(steps: int) -> int:
    """Every how many steps a run of `steps` steps measures its test loss and accuracy
    (and at its last step)."""
    return max(MIN_EVAL_EVERY, steps // TEST_EVALUATIONS)


def layer_record_every(config: ExperimentConfig) -> int:
    """Every how many steps the per-layer history is kept (1 but for long, deep runs),
    so that no run keeps more than HISTORY_BYTES of it: its rows, and the raw
    records they are made from."""
    bytes_per_step = (config.depth + 1) * len(LAYER_COLUMNS) * 8 + raw_dtype(config.depth).itemsize
    max_records = max(1, HISTORY_BYTES // bytes_per_step)
    return max(1, math.ceil(config.steps / max_records))


def coarser(every: int, needed: int) -> int:
    """The first multiple of `every` that is at least `needed`: when a run that goes on
    must record less often, the steps it recorded at a multiple of it stay on the grid."""
    return every * math.ceil(needed / every)


def grown(rows: np.ndarray, length: int, empty: np.ndarray | None = None) -> np.ndarray:
    """`rows` with room for `length` rows: the new ones NaN (or `empty`'s)."""
    out = np.full((length, *rows.shape[1:]), np.nan) if empty is None else empty
    out[: len(rows)] = rows
    return out


@contextlib.contextmanager
def subnormals_flushed() -> Iterator[None]:
    """This thread's float arithmetic with subnormal numbers (under float32's smallest
    normal, 1.2e-38) read and written as 0, then as before. A gradient fading away
    (back through a deep sigmoid network, or back through time in a plain RNN) passes
    through them, and a processor takes many times longer on each: a depth-100 × 256
    sigmoid step took 2.8 s instead of 0.27, the lesson's T = 50 RNN trained 3x slower
    (docs/performance.md). Charts already draw them as "0, or under 1.2e-38". Per
    thread, so around a run's steps only: other code on the thread (a test's reference
    pass) keeps its arithmetic; and a run trained with more intra-op threads than one
    (`python -m vangrad_core --threads N`; the app trains with one) flushes on its own
    thread only. (Not nested: it turns the flushing off as it ends.)"""
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(False)


class SteppedRun:
    """What every trainer shares: `step(n)` runs `_one_step` until n steps have run,
    the config's steps are done, or the run has diverged; `extend(more)` lets a run
    that is done go on. Steps and tests at rest run with subnormal numbers flushed to
    0 (`subnormals_flushed`)."""

    config: ExperimentConfig
    step_count: int
    diverged_at: int | None
    record_every: int  # the history is kept every this many steps, and at the last
    _n_records: int  # records kept so far
    _metrics: np.ndarray  # one row a step, METRIC_COLUMNS
    _frames: dict[str, tuple[int, pd.DataFrame]]  # frames built, by name, with the count they were built at
    _record_asked: bool = False  # the step being taken is recorded whatever the grid (`step`'s record_last)

    @property
    def done(self) -> bool:
        return self.diverged_at is not None or self.step_count >= self.config.steps

    @property
    def max_extension(self) -> int:
        """How many more steps `extend` can add (the config's largest step count)."""
        return 0 if self.diverged_at is not None else self.config.FIELDS["steps"].high - self.config.steps

    def extend(self, more: int) -> None:
        """Train on: `more` steps past the config's, on the same weights, batches and
        history (its `config.steps` grows)."""
        more = min(more, self.max_extension)
        if more > 0:
            self.config = self.config.replace(steps=self.config.steps + more)
            self._grow(self.config.steps)

    def _grow(self, steps: int) -> None:
        raise NotImplementedError

    def _room(self, steps: int, kept: int) -> int:
        """Records a run grown to `steps` may keep: those it has (a finished run's last
        step, off the grid, among them), one every `record_every` steps to come, and its
        new last step; never fewer than the `kept` it has room for now."""
        return max(kept, self._n_records + (steps - self.step_count) // self.record_every + 2)

    def step(self, n: int = 1, record_last: bool = False) -> int:
        """Run up to n more optimizer steps; returns how many ran. `record_last`: the last
        of them is recorded even off the grid of `record_every` (a step taken by hand, which
        the charts then show, where a long run's grid would leave them a few steps behind)."""
        ran = 0
        with subnormals_flushed():
            while ran < n and not self.done:
                self._record_asked = record_last and ran == n - 1
                self._one_step()
                ran += 1
        self._record_asked = False
        return ran

    def _record_this_step(self, s: int) -> bool:
        """Whether step `s` is recorded: on the grid, the run's last, or asked for (off
        the grid, with room made for it: the records were counted for the grid's)."""
        on_grid = s % self.record_every == 0 or s == self.config.steps - 1
        if self._record_asked and not on_grid:
            self._room_for_one_more()
        return on_grid or self._record_asked

    def _room_for_one_more(self) -> None:
        """One more record than the grid needs (for a step recorded off it)."""
        raise NotImplementedError

    @property
    def last_recorded_step(self) -> int:
        """The last step recorded (what the charts show as "now"); -1 before the first."""
        raise NotImplementedError

    def _one_step(self) -> None:
        raise NotImplementedError

    def evaluate(self) -> tuple[float, float]:
        """Test loss and accuracy of the weights as they are."""
        raise NotImplementedError

    def test_at_rest(self) -> None:
        """Test the weights as they are into the last step's row, if it has no test yet:
        a run stopped between two evaluations (paused, stepped by hand) shows the test
        loss and accuracy of the weights its other numbers describe."""
        s = self.step_count - 1
        if s >= 0 and self.diverged_at is None and math.isnan(self._metrics[s, 3]):
            with subnormals_flushed():
                self._metrics[s, 3:] = self.evaluate()
            self._frames.pop("metrics", None)


class Trainer(SteppedRun):
    """Trains one config incrementally: call `step(n)` as often as you like.

    Row `s` of `metrics` has the loss and accuracy of the batch at optimizer step `s`
    (before its update) and, every few steps and at the end, the test loss and
    accuracy measured right after that step's update. Row `s` of `layers` describes
    the gradient computed at step `s` and the update applied at it.
    """

    def __init__(self, config: ExperimentConfig, record_every: int | None = None):
        """`record_every`: keep `layers` every this many steps (and at the last step),
        e.g. `config.steps` for step 0 and the last only, when a run's per-layer history
        is not looked at (a step not recorded takes about 0.8 of a recorded one's time at
        depth 20-32: docs/performance.md); never more often than
        `layer_record_every(config)` (the memory budget), which is the default."""
        self.config = config
        self.data: Dataset = make_dataset(config)
        self.model: Network = build_model(config)
        # Packed parameters: one compiled pass measures every layer, one op updates
        # them all (packing.py says what it buys). Pack before making the optimizer.
        self.packed = pack_parameters(self.model)
        self.backprop = Backprop(self.model)  # (over the packed parameters)
        self.measure = FastMeasure(self.model, self.packed)
        self.optimizer = Optimizer(config, self.packed.matrices)
        self._batch_norms = [m for m in self.model.modules() if isinstance(m, nn.BatchNorm1d)]
        self.record_every = max(layer_record_every(config), record_every or 1)
        self.eval_every = test_every(config.steps)
        self.step_count = 0
        self.diverged_at: int | None = None
        self.divergence_reason: str | None = None
        self._batches = batch_indices(config, len(self.data.x_train))
        n_records = config.steps // self.record_every + 2
        self._records = self.measure.new_records(n_records)  # measured, one per recorded step
        self._columns = {name: np.full((n_records, config.depth + 1), np.nan) for name in LAYER_COLUMNS}
        self._n_records = self._n_rows = 0  # records measured; of those, turned into rows
        self._metrics = np.full((config.steps, len(METRIC_COLUMNS)), np.nan)
        self._frames: dict[str, tuple[int, pd.DataFrame]] = {}

    def _one_step(self) -> None:
        s, measure = self.step_count, self.measure
        last = s == self.config.steps - 1
        record = self._records[self._n_records] if self._record_this_step(s) else None
        idx = next(self._batches)
        x, y = self.data.x_train[idx], self.data.y_train[idx]

        loss, recorded = self.backprop.training_pass(x, y)

        # Divergence: the first step whose loss, weights or weight gradients are not
        # finite stops the run before its update. (A non-finite bias or norm
        # parameter makes the next step's loss non-finite.)
        finite = measure.measure_weights(record) if record is not None else measure.weights_finite()
        loss_value = loss.item()
        if not math.isfinite(loss_value):
            return self._diverge(s, f"the loss became {not_finite_words(loss_value)}")
        if not finite:
            return self._diverge(s, "the weights or their gradients became Inf or NaN")
        if self.config.grad_clip > 0:
            nn.utils.clip_grad_norm_(self.packed.matrices, self.config.grad_clip)
        self.optimizer.step()

        correct = np.count_nonzero(recorded.logits.numpy().argmax(1) == y.numpy())  # NumPy: quicker on a few numbers
        self._metrics[s, :3] = (s, loss_value, correct / len(y))
        if record is not None:
            measure.measure_pass(record, recorded, s)
            self._n_records += 1
        if s % self.eval_every == 0 or last:
            self._metrics[s, 3:] = self.evaluate()
        self.step_count = s + 1

    def _grow(self, steps: int) -> None:
        self.measure.sort_samples()  # (pending percentiles are written into the records being replaced)
        every = coarser(self.record_every, layer_record_every(self.config))
        if every > self.record_every:  # the longer run, recorded as often, would pass HISTORY_BYTES
            self._measure_rows()  # (every record a row: both thinned alike)
            kept = np.flatnonzero(self._records["step"][: self._n_records] % every == 0)
            self._records = self._records[kept]
            self._columns = {name: values[kept] for name, values in self._columns.items()}
            self._n_records = self._n_rows = len(kept)
            self.record_every = every
            self._frames.clear()
        n_records = self._room(steps, len(self._records))
        self._records = grown(self._records, n_records, self.measure.new_records(n_records))
        self._columns = {name: grown(values, n_records) for name, values in self._columns.items()}
        self._metrics = grown(self._metrics, steps)

    @property
    def last_recorded_step(self) -> int:
        return int(self._records["step"][self._n_records - 1]) if self._n_records else -1

    def _room_for_one_more(self) -> None:
        self.measure.sort_samples()  # (pending percentiles are written into the records being replaced)
        n = len(self._records) + 1  # (the room there is belongs to the grid's steps still to come)
        self._records = grown(self._records, n, self.measure.new_records(n))
        self._columns = {name: grown(values, n) for name, values in self._columns.items()}

    def _diverge(self, s: int, reason: str) -> None:
        self.diverged_at = s
        first_loss = float(self._metrics[0, 1]) if s > 0 else math.nan
        self.divergence_reason = reason + (
            " before any update: the initial weights alone overflow the numbers"
            if s == 0
            else f"; the initial weights already gave a loss of {number(first_loss)}: its gradient made "
            f"{'the first update' if s == 1 else 'the first updates'} large enough to blow the weights up"
            if doomed_from_the_start(s, first_loss)
            else "; the updates had grown the weights until the gradients exploded"
        )

    @torch.no_grad()
    def evaluate(self) -> tuple[float, float]:
        """Test loss and accuracy in eval mode (batch norm uses running statistics). No
        accuracy (NaN) from outputs that are no longer numbers: the largest of NaNs is
        no prediction (a run diverged by overflow showed 50%, a coin flip's, beside no
        test point on its chart)."""
        logits = self._eval_logits(self.data.x_test)
        loss = nn.functional.cross_entropy(logits, self.data.y_test)
        if not torch.isfinite(logits).all():
            return float(loss), math.nan
        accuracy = (logits.argmax(1) == self.data.y_test).double().mean()
        return float(loss), float(accuracy)

    @torch.no_grad()
    def _eval_logits(self, x: torch.Tensor) -> torch.Tensor:
        # Only batch norm behaves differently in eval mode: flip just those modules
        # (model.eval() walks every module, which costs more than a training step).
        for norm in self._batch_norms:
            norm.training = False
        try:
            return self.model(x)
        finally:
            for norm in self._batch_norms:
                norm.training = True

    @property
    def metrics(self) -> pd.DataFrame:
        """One row per optimizer step so far (see the class docstring)."""
        return self._frame("metrics", self.step_count)

    @property
    def layers(self) -> pd.DataFrame:
        """One row per Linear layer per recorded step (`attrs['record_every']`)."""
        self._measure_rows()
        return self._frame("layers", self._n_records)

    def latest_layers(self) -> pd.DataFrame:
        """The rows of `layers` at its last recorded step only (what a live view's
        headline reads at every refresh), without building the whole frame."""
        self._measure_rows()
        return self._layer_rows(max(self._n_records - 1, 0), self._n_records)

    def _measure_rows(self) -> None:
        """Rows for the steps measured since the last call."""
        if self._n_rows < self._n_records:
            self.measure.sort_samples()
            new = slice(self._n_rows, self._n_records)
            for name, values in self.measure.table(self._records[new]).items():
                self._columns[name][new] = values
            self._n_rows = self._n_records

    def _layer_rows(self, start: int, stop: int) -> pd.DataFrame:
        columns = {c: _finite(self._columns[c][start:stop].ravel()) for c in LAYER_COLUMNS}
        columns["step"], columns["layer"] = columns["step"].astype("int64"), columns["layer"].astype("int64")
        frame = pd.DataFrame(columns)
        frame.attrs["record_every"] = self.record_every
        return frame

    def _frame(self, name: str, n: int) -> pd.DataFrame:
        cached = self._frames.get(name)
        if cached is None or cached[0] != n:
            if name == "layers":
                frame = self._layer_rows(0, n)
            else:
                columns = dict(zip(METRIC_COLUMNS, self._metrics[:n].T, strict=True))
                frame = pd.DataFrame(columns | {"step": columns["step"].astype("int64")})
            self._frames[name] = cached = (n, frame)
        return cached[1]

    @torch.no_grad()
    def decision_grid(self, resolution: int) -> tuple[pd.DataFrame, pd.DataFrame]:
        """For 2-D data: the probability of class 1 on a grid of `resolution`² points
        over the (standardized) plane (a snapshot's: `cost.grid_resolution`), columns
        x1, x2, p1; and the test points, columns x1, x2, label."""
        x, labels = self.data.x_test, self.data.y_test
        low, high = x.min(0).values - 0.3, x.max(0).values + 0.3
        x1 = torch.linspace(float(low[0]), float(high[0]), resolution)
        x2 = torch.linspace(float(low[1]), float(high[1]), resolution)
        grid = torch.cartesian_prod(x2, x1).flip(1)  # rows of (x1, x2), x1 fastest
        probabilities = self._eval_logits(grid).softmax(1)[:, 1]
        return (
            pd.DataFrame({"x1": grid[:, 0], "x2": grid[:, 1], "p1": probabilities.nan_to_num(0.5)}),
            pd.DataFrame({"x1": x[:, 0], "x2": x[:, 1], "label": labels}),
        )

    @torch.no_grad()
    def norm_stages(self, layer: int, n_examples: int = 256) -> pd.DataFrame:
        """What one hidden layer's batch norm does to a batch of training inputs:
        columns `stage` ("input" to the norm, "standardized" with the batch's mean and
        std, "scaled and shifted" by the learned gamma and beta) and `value`. Runs in
        training mode (batch statistics) and leaves every running statistic as it was."""
        block = self.model.blocks[layer - 1]
        norm = block.norm_before if block.norm_before is not None else block.norm_after
        if not isinstance(norm, nn.BatchNorm1d):
            raise ValueError(f"layer {layer} has no batch norm")
        h = self.data.x_train[:n_examples]
        with frozen_running_statistics(self.model):
            for previous in self.model.blocks[: layer - 1]:
                h = previous(h)
            z = block.linear(h)
            into = z if block.norm_before is not None else block.activation(z)
            standardized = (into - into.mean(0)) / torch.sqrt(into.var(0, unbiased=False) + norm.eps)
            out = standardized * norm.weight + norm.bias
        stages = {"input": into, "standardized": standardized, "scaled and shifted": out}
        return pd.concat(
            [pd.DataFrame({"stage": name, "value": t.flatten().double().numpy()}) for name, t in stages.items()],
            ignore_index=True,
        )

    @torch.no_grad()
    def test_accuracy_modes(self) -> tuple[float, float]:
        """Test accuracy with batch norm's running statistics (eval mode, what
        deployment uses) and with the test set's own batch statistics (train mode)."""
        running = (self._eval_logits(self.data.x_test).argmax(1) == self.data.y_test).double().mean()
        with frozen_running_statistics(self.model):
            batch = (self.model(self.data.x_test).argmax(1) == self.data.y_test).double().mean()
        return float(running), float(batch)

    def activation_inputs(self) -> pd.DataFrame:
        """A sample of the values each hidden layer's nonlinearity received at the
        last recorded step: columns `layer`, `value` (empty before the first step)."""
        sample = self.measure.histogram_sample()
        if sample is None:
            return pd.DataFrame({"layer": pd.Series(dtype="int64"), "value": pd.Series(dtype="float64")})
        per_layer = sample.flatten(1)
        layers = torch.arange(1, len(per_layer) + 1).repeat_interleave(per_layer.shape[1])
        return pd.DataFrame({"layer": layers.numpy(), "value": per_layer.reshape(-1).double().numpy()})

    def units(self) -> pd.DataFrame:
        """Every unit of every Linear layer at the last recorded step (`measure.UNIT_COLUMNS`:
        the RMS of its dL/dz over the batch; a hidden unit's saturated share and whether
        it is dead), from the input side; empty before the first step."""
        columns = self.measure.units()
        if columns is None:
            integers = ("step", "layer", "unit")
            return pd.DataFrame({c: pd.Series(dtype="int64" if c in integers else "float64") for c in UNIT_COLUMNS})
        columns["delta_rms"] = _finite(columns["delta_rms"])
        return pd.DataFrame(columns)


def _finite(values: np.ndarray) -> np.ndarray:
    """Inf as NaN: a number too large for float32 (a diverging run, whose reason says
    at which step) is not a measurement a chart or a download should carry."""
    return np.where(np.isinf(values), np.nan, values)


@contextlib.contextmanager
def frozen_running_statistics(model: nn.Module):
    """Batch norm's running statistics are put back as they were on leaving."""
    saved = [(b, b.clone()) for m in model.modules() if isinstance(m, nn.BatchNorm1d) for b in m.buffers()]
    try:
        yield
    finally:
        for buffer, value in saved:
            buffer.copy_(value)


@dataclasses.dataclass(frozen=True)
class ExperimentResult:
    config: ExperimentConfig
    metrics: pd.DataFrame
    layers: pd.DataFrame
    diverged_at: int | None
    divergence_reason: str | None = None


def run_experiment(config: ExperimentConfig) -> ExperimentResult:
    """Train a config to the end (or to divergence) and return its frames."""
    trainer = Trainer(config)
    trainer.step(config.steps)
    return ExperimentResult(
        config=config,
        metrics=trainer.metrics,
        layers=trainer.layers,
        diverged_at=trainer.diverged_at,
        divergence_reason=trainer.divergence_reason,
    )
