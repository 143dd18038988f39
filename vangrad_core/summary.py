"""What a run's numbers say: the headline numbers of its latest step, the facts a
lesson's claims are checked against, and the sentences the pages print about a run.

One gradient measure everywhere: the RMS of dL/dz (`delta_rms`), the gradient passed
back into each layer's output, which is what vanishes or explodes from layer to layer.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .activations import ACTIVATION_TABLE
from .config import ExperimentConfig
from .writing import MINUS, decimal_places, fixed, number, percent

if TYPE_CHECKING:
    from .recurrent import RecurrentConfig

LN2 = math.log(2)  # the cross-entropy of a coin flip between two classes
GRADIENT_MEASURE = "delta_rms"
GRADIENT_NAME = "gradient (RMS of dL/dz)"
SMOOTHING = 20  # batch losses are averaged over this many steps when a claim reads them
ABOVE_CHANCE = 0.1  # a test accuracy this far over chance is learning, whatever the loss says


def _hidden(rows: pd.DataFrame) -> pd.DataFrame:
    """The hidden layers' rows, indexed by layer."""
    return rows[rows["saturation"].notna()].set_index("layer")


def at_step(frame: pd.DataFrame, step: str) -> pd.DataFrame:
    """A frame's rows of its first recorded step ("start") or its last ("end")."""
    steps = frame["step"]
    return frame[steps == (steps.min() if step == "start" else steps.max())]


def gradient_ratio(rows: pd.DataFrame, measure: str = GRADIENT_MEASURE) -> float:
    """RMS of dL/dz (or another `measure`) at layer 1 over the last hidden layer's, in one
    step's rows: 0 when layer 1 gets none at all (a dead layer between them, say); NaN
    when there is nothing to compare: fewer than two hidden layers, or a last hidden
    layer that gets no gradient (0: cut between the output and it) or a non-finite one."""
    delta = _hidden(rows)[measure]
    if len(delta) < 2 or not delta.iloc[-1] > 0 or not math.isfinite(delta.iloc[-1]):
        return math.nan
    return float(delta.iloc[0] / delta.iloc[-1])


def per_layer(ratio: float, depth: int) -> float:
    """The factor a layer passes back on average (geometric mean) for a first/last ratio."""
    if depth < 2 or not math.isfinite(ratio) or ratio <= 0:
        return math.nan
    return ratio ** (1 / (depth - 1))


@dataclasses.dataclass(frozen=True)
class Headline:
    """The numbers a lecturer reads out about the latest step."""

    step: int  # optimizer steps taken
    loss: float  # the last batch's loss
    test_accuracy: float  # the last measured test accuracy (NaN before any)
    gradient_ratio: float  # RMS dL/dz, layer 1 / last hidden layer, at the latest recorded step
    per_layer: float  # what a layer passes back on average: gradient_ratio ** (1 / (depth - 1))
    flat_layer: int | None  # the hidden layer with the most inputs where the slope is near 0
    flat_fraction: float
    flat_word: str  # what those inputs are called for this activation: "saturated", "inactive"
    dead_layers: int  # hidden layers whose every unit is dead
    most_dead_layer: int | None
    most_dead_fraction: float
    test_step: int | None = None  # the step (counted from 1) the test accuracy was measured after
    first_gradient: float = math.nan  # RMS dL/dz at layer 1 and at the last hidden layer, at the latest recorded step
    last_gradient: float = math.nan
    # where a gradient that reaches layer 1 as exactly 0 was cut: the top of the unbroken run of hidden layers
    # from layer 1 up that get none (a residual network's skips carry it past a dead layer higher up)
    cut_at: int | None = None


def top_of_zeros(delta: pd.Series) -> int | None:
    """Of the hidden layers' RMS of dL/dz (indexed by layer), the top of the unbroken run of
    exact zeros from layer 1 up; None if layer 1 gets some gradient, or no layer does."""
    reached = delta.index[delta != 0]  # (NaN counts as reached: not a 0)
    return int(reached.min()) - 1 if len(delta) and delta.iloc[0] == 0 and len(reached) else None


def headline(metrics: pd.DataFrame, layers: pd.DataFrame, config: ExperimentConfig | None = None) -> Headline:
    """The headline numbers of the latest step (the gradient's at the latest recorded one)."""
    nan = math.nan
    word = ACTIVATION_TABLE[config.activation].flat_word if config is not None else "saturated"
    if metrics.empty or layers.empty:
        return Headline(0, nan, nan, nan, nan, None, nan, word, 0, None, nan)
    tested = metrics["test_accuracy"].dropna()
    latest = at_step(layers, "end")
    hidden = _hidden(latest)
    ratio = gradient_ratio(latest)
    flat, dead = hidden["saturation"], hidden["dead_fraction"]
    return Headline(
        step=int(metrics["step"].iloc[-1]) + 1,
        loss=float(metrics["loss"].iloc[-1]),
        test_accuracy=float(tested.iloc[-1]) if len(tested) else nan,
        gradient_ratio=ratio,
        per_layer=per_layer(ratio, len(hidden)),
        flat_layer=int(flat.idxmax()) if flat.notna().any() else None,
        flat_fraction=float(flat.max()),
        flat_word=word,
        dead_layers=int((dead >= 1).sum()),
        most_dead_layer=int(dead.idxmax()) if dead.notna().any() else None,
        most_dead_fraction=float(dead.max()),
        test_step=int(metrics["step"][tested.index[-1]]) + 1 if len(tested) else None,
        first_gradient=float(hidden[GRADIENT_MEASURE].iloc[0]) if len(hidden) else nan,
        last_gradient=float(hidden[GRADIENT_MEASURE].iloc[-1]) if len(hidden) else nan,
        cut_at=top_of_zeros(hidden[GRADIENT_MEASURE]),
    )


@dataclasses.dataclass(frozen=True)
class RunFacts:
    """What a run did, in the terms a lesson's sentences use; `tests/test_claims.py`
    checks every claim in `lessons.py` against these, on the run the sentence describes."""

    config: ExperimentConfig
    metrics: pd.DataFrame
    layers: pd.DataFrame
    diverged_at: int | None = None

    @classmethod
    def of(cls, result) -> RunFacts:
        """From an `ExperimentResult` (or anything with the same four fields)."""
        return cls(result.config, result.metrics, result.layers, result.diverged_at)

    def at(self, step: str) -> pd.DataFrame:
        """The hidden layers' rows at the "start" (step 0) or the "end" (the last recorded step)."""
        return _hidden(at_step(self.layers, step))

    def rows(self, step: str) -> pd.DataFrame:
        """Every Linear layer's rows (the output layer too) at the start or the end."""
        return at_step(self.layers, step).set_index("layer")

    def gradient_ratio(self, step: str = "start") -> float:
        return gradient_ratio(at_step(self.layers, step))

    def gradient_ratio_at(self, step: int) -> float:
        """`gradient_ratio` at a recorded step (10: after ten updates)."""
        return gradient_ratio(self.layers[self.layers["step"] == step])

    def per_layer(self, step: str = "start") -> float:
        return per_layer(self.gradient_ratio(step), self.config.depth)

    @functools.cached_property
    def smoothed_loss(self) -> pd.Series:
        """The batch loss as the curves' line draws it (`loss_window`: the mean of 20 batches in a lesson's run)."""
        return self.metrics["loss"].rolling(loss_window(len(self.metrics)), min_periods=1).mean()

    @property
    def first_loss(self) -> float:
        """The mean batch loss of the first SMOOTHING steps."""
        return float(self.metrics["loss"].iloc[:SMOOTHING].mean())

    @property
    def final_loss(self) -> float:
        """The mean batch loss of the last SMOOTHING steps."""
        return float(self.metrics["loss"].iloc[-SMOOTHING:].mean())

    @property
    def lowest_loss(self) -> float:
        """The lowest point of the loss line (`smoothed_loss`)."""
        return float(self.smoothed_loss.min())

    @property
    def final_test_accuracy(self) -> float:
        tested = self.metrics["test_accuracy"].dropna()
        return float(tested.iloc[-1]) if len(tested) else math.nan

    def flat(self, step: str = "end") -> pd.Series:
        """Per hidden layer, the share of inputs where the slope is near 0 (saturated/inactive)."""
        return self.at(step)["saturation"]

    def dead(self, step: str = "end") -> pd.Series:
        """Per hidden layer, the share of units dead for the whole batch."""
        return self.at(step)["dead_fraction"]

    @property
    def most_dead_ever(self) -> float:
        return float(self.layers["dead_fraction"].max())


@dataclasses.dataclass(frozen=True)
class TimeFacts:
    """What a recurrent run did, in the terms the Through-time page's claims use."""

    config: object  # a RecurrentConfig
    metrics: pd.DataFrame
    time_gradients: pd.DataFrame
    diverged_at: int | None = None

    @classmethod
    def of(cls, trainer) -> TimeFacts:
        """From a RecurrentTrainer."""
        return cls(trainer.config, trainer.metrics, trainer.time_gradients, trainer.diverged_at)

    def time_ratio(self, step: str = "start") -> float:
        """RMS of dL/dh_t at t = 1 over t = T, at the first or the last recorded step."""
        return time_ratio(at_step(self.time_gradients, step))

    def share_at(self, t: int, step: str = "end") -> float:
        """RMS of dL/dh_t at `t` over the last t's, at the first or the last recorded step."""
        rms = at_step(self.time_gradients, step).set_index("t")["grad_rms"]
        return float(rms[t] / rms.iloc[-1])

    def gate(self, column: str = "most_open_gate", step: str = "end") -> float:
        """A gate column (`most_open_gate`, `forget_gate`, `update_gate`) averaged over t,
        at the first or the last recorded step."""
        return float(at_step(self.time_gradients, step)[column].mean())

    def _since_first_update(self) -> pd.DataFrame:
        """The rows of the recorded steps from the first update on (step 1 and after)."""
        return self.time_gradients[self.time_gradients["step"] >= 1]

    def gets_exactly_0_since_first_update(self, t: int) -> bool:
        """Whether time step `t` got exactly 0 at every recorded step from the first
        update on (and there is such a step)."""
        at_t = self._since_first_update().query("t == @t")["grad_rms"]
        return len(at_t) > 0 and bool((at_t == 0).all())

    def most_reached_since_first_update(self) -> float:
        """The most time steps that got any gradient at one recorded step, from the first
        update on (NaN if none was recorded)."""
        later = self._since_first_update()
        return float((later["grad_rms"] > 0).groupby(later["step"]).sum().max()) if len(later) else math.nan

    def slope_since_first_update(self) -> float:
        """The hidden units' mean slope at their inputs (over t and the batch), at the
        steepest recorded step from the first update on (NaN if none was recorded)."""
        return float(self._since_first_update().groupby("step")["mean_derivative"].mean().max())

    def growth_at_the_last_t(self) -> float:
        """The factor dL/dh_T grew by a step, on average, from step 1 to the last
        recorded step (NaN with fewer than two of them)."""
        later = self._since_first_update()
        last = later[later["t"] == later["t"].max()].set_index("step")["grad_rms"]
        if len(last) < 2:
            return math.nan
        return float((last.iloc[-1] / last.iloc[0]) ** (1 / (last.index[-1] - last.index[0])))

    @property
    def first_test_loss(self) -> float:
        return float(self.metrics["test_loss"].dropna().iloc[0])

    @property
    def final_test_loss(self) -> float:
        return float(self.metrics["test_loss"].dropna().iloc[-1])


def time_ratio(rows: pd.DataFrame) -> float:
    """RMS of dL/dh_t at t = 1 over the last t, in one step's rows (NaN if the last is 0)."""
    rms = rows.set_index("t")["grad_rms"]
    if len(rms) == 0 or not rms.iloc[-1] > 0:
        return math.nan
    return float(rms.iloc[0] / rms.iloc[-1])


# ---- the sentences the pages print about a run ------------------------------------------


def range_words(low: float, high: float, digits: int = 2) -> str:
    """ "between 0.997 and 1.005", or "1 in every layer" where both ends read the same:
    `number`s, both ends to as many decimals as the finer one needs (else 1.005 read "1",
    as if no layer were above 1), a small end among them ("between −0.00018 and 0.039",
    not "−1.8e−4 and 0.039") unless it needs more than `writing.MAX_DECIMALS`."""
    low_text, high_text = number(low, digits), number(high, digits)
    if low_text == high_text:
        return f"{low_text} in every layer"
    needed = [decimal_places(value, digits) for value in (low, high)]
    if None in needed:  # (one in scientific notation: both as `number` writes them)
        return f"between {low_text} and {high_text}"
    places = max(needed)
    if "e" not in low_text + high_text:  # both plain: to the same places ("−5.2 and 1.0")
        return f"between {fixed(low, places)} and {fixed(high, places)}"
    # a small end: both to its places, less the zeros that only pad ("0.0012 and 1.004", not "1";
    # "0.0001 and 0.5", not "0.50000")
    low_text, high_text = (_unpadded(fixed(value, places), own) for value, own in zip((low, high), needed, strict=True))
    return f"between {low_text} and {high_text}"


def _unpadded(text: str, places: int) -> str:
    """`text` (a number in decimals) without trailing zeros past `places` decimals."""
    whole, _, fraction = text.partition(".")
    fraction = fraction[:places] + fraction[places:].rstrip("0")
    return f"{whole}.{fraction}" if fraction else whole


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 21st."""
    return f"{n}{'th' if 10 <= n % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def steps_words(count: int) -> str:
    """ "1 step", "3 steps"."""
    return f"{count} step{'s' * (count != 1)}"


def diverged_when(diverged_at: int) -> str:
    """When a run diverged, as the step counter counts (steps done): "after 3 steps"."""
    return "on its first step" if diverged_at == 0 else f"after {steps_words(diverged_at)}"


# A first batch's loss above this: the initial weights had already blown the outputs up
# (a cross-entropy of 1000 is the right class's logit 1000 behind: no sane start). A run
# that diverges after such a start was doomed by its weights, whatever its learning rate
# (depth-50 residual ReLU, loss 1.8e11 at step 1: at a learning rate of 1e-4 too).
BLOWN_UP_LOSS = 1e3


def doomed_from_the_start(diverged_at: int, first_loss: float) -> bool:
    """Whether a diverged run's initial weights are to blame, not its updates: it
    diverged at its first step, or its first loss was already above BLOWN_UP_LOSS."""
    return diverged_at == 0 or not first_loss <= BLOWN_UP_LOSS


def divergence_advice(config: ExperimentConfig, diverged_at: int, first_loss: float) -> str:
    """What to change after a run diverged: its initial weights where they doomed it
    (`doomed_from_the_start`), else its updates too; nothing it has already (it said
    "gradient clipping or batch norm" to a run with both)."""
    changes = ["a smaller weight scale", "another initialization"]
    if not doomed_from_the_start(diverged_at, first_loss):
        changes = ["a smaller learning rate", changes[0], _clipping(config.grad_clip)]
    if config.norm == "none":
        changes.append("batch norm")
    return f"Try {' or '.join([', '.join(changes[:-1]), changes[-1]])}."


def time_divergence_advice(config: RecurrentConfig, diverged_at: int, first_loss: float) -> str:
    """What to change after a recurrent run diverged (it has no weight scale and no batch
    norm): its recurrent weights where they doomed it (neither the learning rate nor
    clipping acts before the first update), else its updates."""
    if doomed_from_the_start(diverged_at, first_loss):
        smaller = "a smaller spectral radius or " if config.init == "scaled_normal" else ""
        return f"Try {smaller}another initialization of the recurrent weights."
    return f"Try a smaller learning rate or {_clipping(config.grad_clip)}."


def _clipping(threshold: float) -> str:
    """Clipping to suggest to a run that clips at `threshold` (0: it does not)."""
    return f"a clipping threshold below {number(threshold)}" if threshold > 0 else "gradient clipping"


def divergence_cause(reason: str) -> str:
    """A divergence reason's first clause, what blew up, for a banner with room for one line:
    "the loss became infinite" of "the loss became infinite; the updates had grown …"."""
    return re.split(r"[;:]", reason, maxsplit=1)[0]


def divergence_words(diverged_at: int, reason: str) -> str:
    """Where a run diverged and why, counted as the step counter counts (steps done), so
    that no reader has to know where step numbers start: "after 3 steps, on the 4th: …"."""
    if diverged_at == 0:
        return f"{diverged_when(0)}: {reason}"
    return f"{diverged_when(diverged_at)}, on the {ordinal(diverged_at + 1)}: {reason}"


def factor_number(factor: float, digits: int = 2, steps: int = 1) -> str:
    """A factor a layer or a time step: `digits` digits (0.14, 1.6), more where those
    would mislead: where they round it to 1 ("grows ×1 a layer" says it both does and
    does not), and where the factor multiplied out over `steps` (the layers or time steps
    it stands for) would land more than a fifth away from what it was measured from (30
    layers at ×1.1 make 16, where the run's 5.7 is ×1.06 a layer). (A factor of 100 or
    more a step, which `number` writes whole, keeps its digits: no run here has one.)"""
    shown = number(factor, digits)
    if not math.isfinite(factor) or factor <= 0:
        return shown
    for more in range(digits, 8):
        shown = number(factor, more)
        off_by = steps * abs(math.log(float(shown.replace(MINUS, "-")) / factor))
        if (shown != "1" or factor == 1) and off_by <= math.log(1.2):
            return shown
    return shown


def share_words(ratio: float) -> str:
    """One gradient's size against another's: "0.15 of what", "115 times what"."""
    return f"{number(ratio)} of what" if ratio < 1 else f"{number(ratio)} times what"


def passed_back(ratio: float, count: int, first: str, last: str, unit: str) -> str:
    """What `first` gets of `last`'s gradient, and the average factor per `unit` over
    the count − 1 steps between them ("" when there is nothing to say)."""
    if count < 2 or not math.isfinite(ratio) or ratio == 0:  # (0: the callers say where it was cut or fell)
        return ""
    change = "shrinks" if ratio < 1 else "grows"
    return (
        f"Now {first} gets {share_words(ratio)} {last} gets: on its way back the gradient {change} "
        f"×{factor_number(per_layer(ratio, count), steps=count - 1)} a {unit} on average."
    )


def gradient_sentence(head: Headline, depth: int) -> str:
    """The gradient profile in words: what layer 1 gets against the last hidden layer,
    and the average factor a layer on the way back; where the last hidden layer itself
    gets none, that (there is no ratio to give); where layer 1 gets exactly 0 with no
    dead layer on the way, that it underflowed."""
    if depth >= 2 and head.last_gradient == 0:
        if head.first_gradient == 0:
            return (
                f"Now no gradient reaches the hidden layers: it is 0 at layer {depth}, the last hidden layer, "
                "and at layer 1."
            )
        if head.first_gradient > 0:  # (skip connections carry it past the last hidden layer)
            return (
                f"Now layer {depth}, the last hidden layer, gets no gradient at all; layer 1 gets "
                f"{number(head.first_gradient)} (RMS of dL/dz), by the skip connections."
            )
    if depth >= 2 and head.gradient_ratio == 0 and head.dead_layers == 0:
        # no dead layer cut it: it vanished past what float32 holds (a depth-100 sigmoid's)
        return (
            f"Now layer 1 gets no gradient at all: on its way back from layer {depth} it shrank below "
            "float32's smallest number, to 0."
        )
    if depth >= 2 and head.gradient_ratio == 0:  # a dead layer cut it: where, as the profile's 0s show
        return (
            f"Now layer 1 gets no gradient at all: on its way back from layer {depth} it was cut to 0 "
            f"at layer {head.cut_at}."
        )
    return passed_back(head.gradient_ratio, depth, "layer 1", f"layer {depth}", "layer")


def time_sentence(rows: pd.DataFrame) -> str:
    """The same for a recurrent run's latest recorded step: t = 1 against the last t."""
    length = int(rows["t"].max()) if len(rows) else 0
    ratio = time_ratio(rows)
    if length >= 2 and ratio == 0:  # (no dead units counted through time: it may have underflowed, not been cut)
        return f"Now t = 1 gets no gradient at all: on its way back from t = {length} it fell to exactly 0."
    return passed_back(ratio, length, "t = 1", f"t = {length}", "time step")


def loss_window(steps: int) -> int:
    """How many batches a loss on screen is the mean of, in a run of `steps` steps so far:
    SMOOTHING, or a 40th of the run when that is more (a long run's line stays readable).
    The curves' line and the sentence under it use the same: its last point is the
    sentence's number."""
    return max(SMOOTHING, steps // 40)


def loss_sentence(metrics: pd.DataFrame, n_classes: int) -> str:
    """Where the loss is, against the loss of guessing (ln of the number of classes),
    and, near it, whether the test accuracy has left chance: a loss still near
    guessing while the accuracy climbs is learning that has begun, not stalled; in the
    first SMOOTHING steps, not stalled either, only not yet better."""
    if metrics.empty:
        return ""
    guess, chance = math.log(n_classes), 1 / n_classes
    window = loss_window(len(metrics))
    losses = metrics["loss"].iloc[-window:]
    recent = float(losses.mean())
    if not math.isfinite(recent):
        return "The loss is no longer a finite number."
    tested = metrics["test_accuracy"].dropna()
    accuracy = float(tested.iloc[-1]) if len(tested) else math.nan
    # near guessing: within 5%, or under it by no more than the mean's own noise (twice its standard error):
    # batches of one example swing by ±0.3, and a mean 6% under ln 10 was read as learning
    # beside a test loss flat at ln 10 and a test accuracy of 14%
    noise = 2 * float(losses.std()) / math.sqrt(len(losses)) if len(losses) > 1 and recent < guess else 0.0
    if abs(recent - guess) >= max(0.05 * guess, noise):
        verdict = "worse than guessing" if recent > guess else "below guessing: the network is learning"
    elif accuracy > chance + ABOVE_CHANCE:
        verdict = (
            f"close to guessing, but the test accuracy, {percent(accuracy)}, is above chance ({percent(chance)}): "
            "it has begun to learn"
        )
    elif len(metrics) < SMOOTHING:  # (Batch norm rescues deep sigmoid was "stalled" at steps 1-5, learning from 6)
        verdict = "no better than guessing yet"
    else:
        verdict = "no better than guessing: learning has stalled"
    batches = (
        "its first batch"
        if len(metrics) == 1
        else f"mean of the {len(metrics)} batches so far"
        if len(metrics) < window
        else f"mean of the last {window} batches"
    )
    return (
        f"Loss now {number(recent, 3)} ({batches}); guessing among {n_classes} classes "
        f"scores ln {n_classes} ≈ {guess:.2f}: {verdict}."
    )


def summarize(result, seconds: float | None = None) -> str:
    """A few lines of plain text about a finished run (for the command line)."""
    config, layers = result.config, result.layers
    head = headline(result.metrics, layers, config)
    lines = [
        f"{config.depth} hidden layers x {config.width} units, {config.activation}, "
        f"init {config.init}, norm {config.norm}, {config.optimizer} lr {config.learning_rate:g}, "
        f"{config.dataset}",
    ]
    if result.diverged_at is not None:
        lines.append(f"DIVERGED {divergence_words(result.diverged_at, result.divergence_reason)}")
    took = f" in {seconds:.1f} s" if seconds is not None else ""
    lines.append(f"{head.step} steps{took}: final loss {head.loss:.4f}, test accuracy {head.test_accuracy:.1%}")
    lines.append(
        f"{GRADIENT_NAME}, layer 1 / last hidden layer: {head.gradient_ratio:.3g} "
        f"(x{factor_number(head.per_layer, steps=config.depth - 1)} a layer; 1 = gradients keep their size, "
        "1e-6 = the first layer gets a millionth)"
    )
    if not layers.empty:
        first = at_step(layers, "start").set_index("layer")
        last = at_step(layers, "end").set_index("layer")
        table = pd.DataFrame(
            {
                "dL/dz RMS (start)": first[GRADIENT_MEASURE],
                "dL/dz RMS (end)": last[GRADIENT_MEASURE],
                head.flat_word or "flat": last["saturation"],
                "dead units": last["dead_fraction"],
                "moved from init": last["distance_from_init"],
            }
        )
        lines.append("\nper layer (1 = next to the input; the last is the output layer):")
        lines.append(table.to_string(float_format=lambda v: f"{v:.3g}", na_rep="-"))
    return "\n".join(lines)


def layer_ranges(layers: list[int]) -> str:
    """Layer numbers as a reader writes them: "3–9, 12"."""
    runs: list[list[int]] = []
    for layer in sorted(layers):
        if runs and layer == runs[-1][-1] + 1:
            runs[-1].append(layer)
        else:
            runs.append([layer])
    return ", ".join(f"{run[0]}–{run[-1]}" if len(run) > 2 else ", ".join(map(str, run)) for run in runs)


def units_sentence(units: pd.DataFrame, flat_word: str = "saturated") -> str:
    """The network drawn unit by unit (`Trainer.units`), in words: how many hidden
    units are dead and in which layers, how many are `flat_word` for every example of
    the batch (yet not dead)."""
    hidden = units[units["dead"].notna()]
    if hidden.empty:
        return ""
    dead = hidden[hidden["dead"] == 1]
    where = dead["layer"].unique().tolist()
    sentences = [
        f"Dead (red ✕): {len(dead)} of the {len(hidden)} hidden units, in layer{'s' if len(where) > 1 else ''} "
        f"{layer_ranges(where)}."
        if len(dead)
        else "No unit is dead."
    ]
    stuck = hidden[(hidden["saturation"] == 1) & (hidden["dead"] != 1)]
    if flat_word and len(stuck):
        sentences.append(f"{flat_word.capitalize()} for every example of the batch (hollow): {len(stuck)}.")
    return " ".join(sentences)


def dead_units_words(layers: pd.DataFrame) -> str:
    """Where a run's hidden layers have dead units now, in a few words for a comparison
    ("dead units in 18 of 20 hidden layers now, up to 62% of a layer"); "" before its
    first step. (Compare's caption only said what the crosses mean, beside ReLU's crosses
    in most layers and sigmoid's in none.)"""
    if layers.empty:
        return ""
    dead = _hidden(at_step(layers, "end"))["dead_fraction"].dropna()
    if dead.empty:
        return ""
    if not (dead > 0).any():
        return "no dead unit now"
    return (
        f"dead units in {int((dead > 0).sum())} of {len(dead)} hidden layers now, "
        f"up to {percent(dead.max())} of a layer"
    )


def dead_layers_sentence(layers: pd.DataFrame, residual: bool = False) -> str:
    """The hidden layers dead now (every unit passing no gradient for the whole batch),
    and since when: the first recorded step of the streak that lasts to now ("by" that
    step when the steps just before it were not recorded). A ReLU network at learning
    rate 10 lost layer 8 within a few steps, and nothing on the page said when. With
    `residual` connections the gradient goes on past a dead layer (not past the first,
    which has none around it)."""
    hidden = _hidden(layers) if len(layers) else layers
    if hidden.empty:
        return ""
    by_layer = hidden.pivot_table(index="step", columns="layer", values="dead_fraction", dropna=False)
    steps = by_layer.index.to_numpy()
    dead = [int(layer) for layer in by_layer.columns[by_layer.iloc[-1] >= 1]]
    if not dead:
        return ""
    alive = {layer: np.flatnonzero(~(by_layer[layer].to_numpy() >= 1)) for layer in dead}  # (NaN: not dead)
    start = {layer: int(alive[layer][-1]) + 1 if len(alive[layer]) else 0 for layer in dead}  # the streak's first

    def since(layer: int) -> str:
        i = start[layer]
        word = "since" if i == 0 or steps[i] == steps[i - 1] + 1 else "by"
        return f"{word} step {int(steps[i]) + 1}"

    bypassed = residual and min(dead) > 1
    if len(dead) == 1:
        after = (
            "its own weights get none, but the skip connection around it carries the gradient on back"
            if bypassed
            else "so nothing passes back through it"
        )
        units = "every one of its units gives no gradient for the whole batch"
        return f"Layer {dead[0]} is dead, {since(dead[0])}: {units}, {after}."
    first = min(dead, key=start.get)
    after = (
        "their own weights get no gradient, but skip connections carry it on back past them"
        if bypassed
        else "no gradient passes back through a dead layer"
    )
    return f"{len(dead)} layers are dead ({layer_ranges(dead)}), the first {since(first)} (layer {first}): {after}."


def flat_extremes(shares: pd.Series) -> list[int]:
    """The layers with the most and the fewest flat inputs, from their shares by layer
    (none when no layer has any): the two `flat_share_sentence` names, which the
    ridgeline must show."""
    shares = shares.dropna()
    return [int(shares.idxmax()), int(shares.idxmin())] if len(shares) and shares.max() > 0 else []


def flat_share_sentence(layers: pd.DataFrame, flat_word: str) -> str:
    """The hidden layers' `flat_word` share at the latest recorded step: the least and
    the most, or that none has any."""
    if layers.empty or not flat_word:
        return ""
    share = _hidden(at_step(layers, "end"))["saturation"].dropna()
    if share.empty:
        return ""
    if share.max() == 0:
        return f"Now no layer has a single {flat_word} input."
    high, low = flat_extremes(share)
    # a tie is counted, not named by its first layer ("layer 2 the fewest, 0%" of 19 at 0%)
    highs, lows = (share == share.max()).sum(), (share == share.min()).sum()
    most = f"layer {high} has" if highs == 1 else f"{highs} layers have"
    fewest = (
        f"layer {low} the fewest, {percent(share[low])}"
        if lows == 1
        else f"{lows} layers have none"
        if share[low] == 0
        else f"{lows} layers the fewest, {percent(share[low])}"
    )
    return f"Now {most} the most {flat_word} inputs, {percent(share[high])}, and {fewest}."
