"""The lesson, as data: every text the app teaches with, beside the run it describes.

Scenarios (the playground's presets), comparisons (the Compare page's pairs), the
lecture tour's steps, the batch-norm page's networks, and the classic experiments'
papers, findings and setups all live here, in one place, so that one test module
(tests/test_claims.py) can train every run and check every sentence against it.
Nothing here trains or draws: the pages read it, the engine runs it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

from .config import ExperimentConfig
from .recurrent import GUESS_LOSS, N_TEST, RecurrentConfig
from .summary import ABOVE_CHANCE, LN2, RunFacts, TimeFacts, factor_number
from .writing import number


@dataclasses.dataclass(frozen=True)
class Claim:
    """One thing a text says about its run, and the check that it is so.

    `holds` gets the run's facts (for a comparison: A's, then B's), then those of
    each config in `also`, trained the same way, for the claims that need a third run."""

    says: str  # the words on screen, quoted (or summed up) from the text
    holds: Callable[..., bool]
    also: tuple[ExperimentConfig, ...] = ()


def stalled(run: RunFacts) -> bool:
    """Its loss ends where it would be guessing between two classes (ln 2 ≈ 0.69), and its
    test accuracy at chance, as the loss sentence under the charts says "stalled"."""
    return abs(run.final_loss - LN2) < 0.03 and run.final_test_accuracy < 0.5 + ABOVE_CHANCE


def settles_near_guessing(run: RunFacts, from_step: int = 0) -> bool:
    """It has `stalled`, and from step `from_step` to the end its loss, as the curves'
    line draws it (`RunFacts.smoothed_loss`), stays within 0.03 of ln 2:
    what "stays near 0.69" says (by default all along)."""
    settled = run.smoothed_loss.loc[from_step:]
    return stalled(run) and bool((settled - LN2).abs().lt(0.03).all())


def first_whole_layer_dead(run: RunFacts) -> int | None:
    """The first recorded step at which some hidden layer's units are all dead (None: never)."""
    dead = run.layers.loc[run.layers["dead_fraction"] >= 1, "step"]
    return int(dead.min()) if len(dead) else None


def dead_layers_stay_dead(run: RunFacts) -> bool:
    """Every hidden layer whose units are all dead at the end has been so at every step
    since it first was. (Dead is for the batch: a layer below, frozen once no gradient
    reaches it, can still be wholly dead for one batch and not the next.)"""
    whole = run.layers.pivot(index="step", columns="layer", values="dead_fraction").ge(1)
    ends_dead = whole.columns[whole.iloc[-1]]
    return len(ends_dead) > 0 and bool((whole[ends_dead].cummax() == whole[ends_dead]).all().all())


def nothing_passes_a_dead_layer(run: RunFacts) -> bool:
    """At the end, some hidden layer is wholly dead, and it and every layer below it get
    exactly 0 gradient."""
    end = run.at("end")  # (indexed by layer)
    dead = end.index[end["dead_fraction"] >= 1]
    return len(dead) > 0 and bool((end.loc[: dead.max(), "delta_rms"] == 0).all())


def learned(run: RunFacts, accuracy: float = 0.85) -> bool:
    return run.final_test_accuracy >= accuracy and run.final_loss < 0.5 * LN2


def trains(run: RunFacts, accuracy: float = 0.85) -> bool:
    """Test accuracy reaches `accuracy` and the loss ends well below where it started
    (a looser test than `learned`, for deep runs whose batch loss stays noisy)."""
    return run.final_test_accuracy >= accuracy and run.final_loss < run.first_loss - 0.1


def almost_no_loss(run: RunFacts) -> bool:
    """The loss ends below 0.05: "falls to almost 0"."""
    return run.final_loss < 0.05


def signal_per_layer(run: RunFacts) -> float:
    """At step 0, the factor each hidden layer multiplies the variance of the
    nonlinearity's input by, forwards (geometric mean from layer 1 to the last)."""
    variance = run.at("start")["act_input_std"] ** 2
    return float((variance.iloc[-1] / variance.iloc[0]) ** (1 / (len(variance) - 1)))


def vanishes(run: RunFacts, below: float = 1e-3) -> bool:
    """At step 0, layer 1 gets less than `below` of the last hidden layer's gradient."""
    return run.gradient_ratio("start") < below


def keeps_its_size(run: RunFacts) -> bool:
    """At step 0, layer 1's gradient is within a factor of 4 of the last hidden layer's
    (over 20-30 layers, ×0.93-1.07 a layer or closer to 1, where deep sigmoid's is ×0.14)."""
    return 0.25 < run.gradient_ratio("start") < 4


@dataclasses.dataclass(frozen=True)
class Scenario:
    name: str
    config: ExperimentConfig
    notice: str  # one or two sentences: what this run shows and where to look
    claims: tuple[Claim, ...]


_DEEP = ExperimentConfig(depth=20, width=32, activation="sigmoid", dataset="moons", steps=500)
# Whether a layer dies, or a deep run trains, can hang on the order in which a processor
# adds a matrix product's terms. The dying-ReLU runs, the 30-layer ReLU runs and batch
# norm at learning rate 10 (below) have the seed and learning rate at which every claim
# about them holds under each of the five code branches MKL offers (docs/architecture.md,
# "The same run on every machine"). Before, a dying-ReLU layer died under one branch and
# not another, and He's 30-layer run trained unsteadily under one branch only.
_DYING = ExperimentConfig(
    depth=8, width=16, activation="relu", init="he_normal", learning_rate=0.6, dataset="moons", steps=500, seed=11
)
_THIRTY_RELU = ExperimentConfig(
    depth=30, width=32, activation="relu", learning_rate=0.03, dataset="moons", steps=500, seed=6
)
_SATURATED = _DEEP.replace(init="large_normal", weight_scale=4.0)  # weights ~ N(0, 16)
_EXPLODING = _DEEP.replace(activation="relu", init="large_normal", weight_scale=0.32, learning_rate=0.03)

EXPLODES_AT_START = Claim(  # (the exploding scenario's: the grey dotted line, at step 1)
    "at step 1 layer 1 gets about 90 times layer 20's, ×1.27 a layer",
    # (as the headline writes the factor: ×1.3 said before, whose 19th power is 146)
    lambda r: (
        80 < r.gradient_ratio("start") < 100 and factor_number(r.per_layer("start"), steps=r.config.depth - 1) == "1.27"
    ),
)
SETTLES_ONCE_A_LAYER_DIES = Claim(  # (Dying ReLU's, in its scenario and tour step 7)
    "within thirty steps of a whole layer's death the loss settles at about 0.69 for good",
    lambda r: (dead := first_whole_layer_dead(r)) is not None and settles_near_guessing(r, dead + 30),
)
STALLS = Claim("the loss stays near 0.69, a coin flip", settles_near_guessing)
LEARNS = Claim("the network learns", learned)

SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "Deep sigmoid stalls",
        _DEEP,
        "20 sigmoid layers: every layer shrinks the gradient on its way back, so layer 1 gets "
        "almost nothing. The loss stays near 0.69 (a coin flip between two classes) and the layers "
        "next to the input never move.",
        (
            Claim("every layer shrinks the gradient", lambda r: r.per_layer("start") < 0.3),
            Claim("layer 1 gets almost nothing", lambda r: vanishes(r, 1e-10)),
            STALLS,
            Claim("the layers next to the input never move", lambda r: r.at("end")["distance_from_init"][1] < 1e-6),
        ),
    ),
    Scenario(
        "Same, with ReLU (He init)",
        _DEEP.replace(activation="relu", init="he_normal"),
        "ReLU's slope is 1 where it is active, and He init keeps the signal's size: the gradient "
        "reaches layer 1 and the loss falls.",
        (Claim("the gradient reaches layer 1", keeps_its_size), LEARNS),
    ),
    Scenario(
        "Sigmoid saturates (large init)",
        _SATURATED,
        # (at step 1 the gradient grows toward the input: a walk read "slopes almost 0" beside a rising
        # dotted line as a contradiction)
        # (four lines on a projector, or its charts run past a 1280×720 screen)
        "Weights drawn from N(0, 4²) push most of the sigmoid's inputs onto its flat tails, where its slope is "
        "almost 0 (the bars, and the histogram under the slope curve). At step 1 the large weights still make "
        "up for it (the dotted line rises toward the input); after ten updates layer 1 gets a few millionths "
        "of what layer 20 gets. The loss starts far above 0.69 and settles near it (a coin flip) within 60 "
        "steps. Large weights are not bad in themselves: with N(0, 1) fewer inputs saturate and this network "
        "learns better than with PyTorch's default.",
        (
            Claim("most inputs saturated from the start", lambda r: r.flat("start").max() > 0.5),
            Claim(  # (most steps back, not only its two ends: 16 of 19 on this run)
                "at step 1 the dotted line rises toward the input",
                lambda r: (
                    r.gradient_ratio("start") > 1
                    and ((delta := r.at("start")["delta_rms"].to_numpy())[:-1] > delta[1:]).mean() >= 0.75
                ),
            ),
            Claim(
                "after ten updates layer 1 gets a few millionths of what layer 20 gets (and at the end)",
                lambda r: all(1e-6 <= ratio < 1e-5 for ratio in (r.gradient_ratio_at(10), r.gradient_ratio("end"))),
            ),
            Claim("they stay saturated", lambda r: r.flat("end").max() > 0.5),
            Claim("the loss starts far above 0.69", lambda r: r.metrics["loss"].iloc[0] > 2 * LN2),
            Claim("settles near it within 60 steps", lambda r: settles_near_guessing(r, 60)),
            Claim(
                "with N(0, 1) fewer saturate, and it learns better than with the default",
                lambda r, unit, default: (
                    unit.flat("end").max() < r.flat("end").max() and unit.final_loss < default.final_loss - 0.1
                ),
                also=(_SATURATED.replace(weight_scale=1.0), _DEEP),
            ),
        ),
    ),
    Scenario(
        "tanh suffers too",
        _DEEP.replace(activation="tanh"),
        "tanh's slope peaks at 1, not 0.25, yet with PyTorch's default init (weights too small "
        "for tanh) the gradient still fades with depth and the loss stalls.",
        (
            Claim("the gradient fades with depth", lambda r: r.per_layer("start") < 0.8 and vanishes(r)),
            STALLS,
        ),
    ),
    Scenario(
        "Dying ReLU (learning rate too large)",
        _DYING,
        "A large learning rate: the loss swings and falls below 0.25, then large updates knock ReLU units to "
        "where they output 0 for every input (their slope there is exactly 0). Once a whole layer is dead (its "
        "cross at 100%), no gradient passes it and it stays dead: within thirty steps of that the loss settles "
        "at about 0.69, and stays there.",
        (
            Claim("the loss falls below 0.25", lambda r: r.lowest_loss < 0.25),
            Claim("a whole layer ends dead", lambda r: (r.dead("end") >= 1).any()),
            Claim("once a whole layer is dead it stays dead", dead_layers_stay_dead),
            Claim("once a whole layer is dead no gradient passes it", nothing_passes_a_dead_layer),
            SETTLES_ONCE_A_LAYER_DIES,
        ),
    ),
    Scenario(
        "Leaky ReLU never dies",
        _DYING.replace(activation="leaky_relu"),
        "The same run with a slope of 0.01 below 0: no unit is ever dead, and the network learns.",
        (Claim("no unit is ever dead", lambda r: r.most_dead_ever == 0), LEARNS),
    ),
    Scenario(
        "30 ReLU layers, Xavier init",
        _THIRTY_RELU.replace(init="xavier_normal"),
        "Xavier init assumes a symmetric activation; ReLU drops half the signal, so each layer "
        "halves its variance: layer 1 gets a tiny share of the gradient, the last layer's units end "
        "up off for every input (dead), and the network stalls (He et al. 2015).",
        (
            Claim("each layer halves its variance", lambda r: 0.4 < signal_per_layer(r) < 0.6),
            Claim("layer 1 gets a tiny share of the gradient", lambda r: vanishes(r, 1e-3)),
            Claim("the last layer's units end up dead", lambda r: r.dead("end").iloc[-1] >= 1),
            STALLS,
        ),
    ),
    Scenario(
        "30 ReLU layers, He init",
        _THIRTY_RELU.replace(init="he_normal"),
        "He init doubles the variance to make up for ReLU's half: the signal and the gradient keep "
        "their size through 30 layers, and the network learns: its loss falls to almost 0.",
        (
            Claim(
                "the signal keeps its size",
                lambda r: 0.25 < signal_per_layer(r) ** (r.config.depth - 1) < 4,
            ),
            Claim("the gradient keeps its size", keeps_its_size),
            LEARNS,
            Claim("its loss falls to almost 0", almost_no_loss),
        ),
    ),
    Scenario(
        "Batch norm rescues deep sigmoid",
        _DEEP.replace(norm="batchnorm_before"),
        "The first scenario with batch norm before each sigmoid: inputs are re-centred where the "
        "slope is steepest, so the gradient no longer vanishes (it even grows toward the input, by "
        "less than ×1.3 a layer) and the loss falls.",
        (
            Claim(
                "the gradient no longer vanishes, it grows toward the input by less than ×1.3 a layer",
                lambda r: 1 < r.gradient_ratio("start") and r.per_layer("start") < 1.3,
            ),
            LEARNS,
        ),
    ),
    Scenario(
        "Batch norm, learning rate too large",
        # (seed 6: at seed 0 training failed under MKL's AVX2 branch, not under its own choice)
        _DEEP.replace(norm="batchnorm_before", learning_rate=10.0, seed=6),
        "Batch norm guarantees nothing: with a learning rate of 10 the learned scale and shift push "
        "inputs back onto the flat tails and training fails.",
        (
            Claim("inputs back onto the flat tails", lambda r: r.flat("end").max() > 0.5),
            Claim("training fails", lambda r: r.final_test_accuracy < 0.8),
        ),
    ),
    Scenario(
        "Exploding gradients",
        _EXPLODING,
        "The mirror image: each layer multiplies the gradient by more than 1 on its way back (at step 1, "
        "×1.27 a layer: layer 1 gets about 90 times what layer 20 gets), the first updates blow the weights up "
        "and within a few steps the loss is no longer a number: the run stops.",
        (
            EXPLODES_AT_START,
            Claim("within a few steps the run stops", lambda r: r.diverged_at is not None and r.diverged_at <= 10),
        ),
    ),
    Scenario(
        "Exploding, with gradient clipping",
        _EXPLODING.replace(grad_clip=1.0),
        "The same network with the gradient's norm clipped to 1 before each update: the gradient "
        "still grows toward the input, but no update is large enough to blow up, and it trains.",
        (
            Claim("the gradient still grows toward the input", lambda r: r.gradient_ratio("start") > 10),
            Claim("no update blows up", lambda r: r.diverged_at is None),
            LEARNS,
        ),
    ),
)

SCENARIO_BY_NAME = {s.name: s for s in SCENARIOS}


@dataclasses.dataclass(frozen=True)
class Comparison:
    name: str
    a: tuple[str, ExperimentConfig]  # (label, config)
    b: tuple[str, ExperimentConfig]
    notice: str
    claims: tuple[Claim, ...]  # each `holds(a, b)`
    # the Compare page's two charts side by side at the top, what the notice points to (a
    # projector's first screen): two of "profiles", "loss", "saturation"
    first: tuple[str, str] = ("profiles", "loss")


_SMALL_FACTOR = 0.01 * math.sqrt(_DEEP.width)  # tanh's slope at 0 is 1: what N(0, 0.01²) weights pass on

COMPARISONS: tuple[Comparison, ...] = (
    Comparison(
        "Sigmoid vs ReLU (20 layers)",
        ("sigmoid", _DEEP),
        ("ReLU, He init", _DEEP.replace(activation="relu", init="he_normal")),
        "Same depth, data and seed: the sigmoid network's gradient fades toward the input and its loss "
        "stays near 0.69; ReLU's reaches layer 1 and the loss falls.",
        (
            Claim("sigmoid's fades, ReLU's reaches layer 1", lambda a, b: vanishes(a) and keeps_its_size(b)),
            Claim("sigmoid stalls, ReLU learns", lambda a, b: stalled(a) and learned(b)),
        ),
    ),
    Comparison(
        "Batch norm off vs on",
        ("no batch norm", _DEEP),
        ("batch norm before the sigmoid", _DEEP.replace(norm="batchnorm_before")),
        "Batch norm keeps each sigmoid's inputs centred where its slope is steepest: the gradient "
        "no longer vanishes and the network learns.",
        (
            Claim("the gradient no longer vanishes", lambda a, b: vanishes(a) and b.gradient_ratio("start") > 0.1),
            Claim("the network learns", lambda a, b: stalled(a) and learned(b)),
        ),
    ),
    Comparison(
        "Batch norm before vs after the activation",
        ("before the sigmoid", _DEEP.replace(norm="batchnorm_before")),
        ("after the sigmoid", _DEEP.replace(norm="batchnorm_after")),
        # (it said "compare their saturation" above a saturation chart with almost nothing to draw)
        "Before: the sigmoid receives standardized inputs. After: its own inputs are not standardized, only "
        "its outputs are passed on centred. Here neither puts more than 3% of a layer's inputs on the flat "
        "tails, both keep the gradient from vanishing (it even grows toward the input, as batch norm's does at "
        "initialization) and both learn.",
        (
            Claim(
                "neither puts more than 3% of a layer's inputs on the flat tails",
                lambda a, b: max(a.layers["saturation"].max(), b.layers["saturation"].max()) <= 0.03,
            ),
            Claim(
                "both keep the gradient from vanishing: it grows toward the input",  # (NaN: no gradient at the top)
                lambda a, b: all(run.gradient_ratio(step) > 1 for run in (a, b) for step in ("start", "end")),
            ),
            Claim("both learn", lambda a, b: learned(a) and learned(b)),
        ),
        first=("profiles", "saturation"),
    ),
    Comparison(
        "Xavier vs He at 30 ReLU layers",
        ("Xavier init", _THIRTY_RELU.replace(init="xavier_normal")),
        ("He init", _THIRTY_RELU.replace(init="he_normal")),
        "Xavier's variance is half what ReLU needs: from step 1 layer 1 gets a tiny share of the gradient "
        "(the numbers below, while it trains), then the last layer dies, and by the end no gradient reaches "
        "any hidden layer: the network stalls. He's keeps the gradient's size, and its loss falls to almost 0.",
        (
            Claim("Xavier: a tiny share at step 1; He: its size", lambda a, b: vanishes(a) and keeps_its_size(b)),
            Claim("the last layer dies", lambda a, b: a.dead("end").iloc[-1] >= 1),
            Claim(
                "by the end no gradient reaches any hidden layer", lambda a, b: (a.at("end")["delta_rms"] == 0).all()
            ),
            Claim("Xavier stalls, He trains", lambda a, b: stalled(a) and trains(b)),
            Claim("He's loss falls to almost 0", lambda a, b: almost_no_loss(b)),
        ),
    ),
    Comparison(
        "ReLU vs Leaky ReLU (large learning rate)",
        ("ReLU", _DYING),
        ("Leaky ReLU", _DYING.replace(activation="leaky_relu")),
        "The same large learning rate kills ReLU units (the crosses) but never Leaky ReLU's.",
        (Claim("kills ReLU units, never Leaky ReLU's", lambda a, b: a.most_dead_ever == 1 and b.most_dead_ever == 0),),
        first=("saturation", "loss"),
    ),
    Comparison(
        "Default vs small init",
        ("PyTorch default", _DEEP.replace(activation="tanh")),
        ("small: N(0, 0.01²)", _DEEP.replace(activation="tanh", init="small_normal")),
        f"Tiny weights pass on about √{_DEEP.width} × 0.01 ≈ {_SMALL_FACTOR:.2f} of the gradient per layer "
        "(tanh's slope is 1 near 0): nothing reaches the input. PyTorch's default fades more slowly, "
        "but over 20 layers it stalls too.",
        (
            Claim(
                f"about {_SMALL_FACTOR:.2f} per layer",
                lambda a, b: abs(b.per_layer("start") / _SMALL_FACTOR - 1) < 0.25,
            ),
            Claim("the default fades more slowly", lambda a, b: b.per_layer("start") < a.per_layer("start") < 1),
            Claim("both stall", lambda a, b: stalled(a) and stalled(b)),
        ),
    ),
    Comparison(
        "Default vs large init",
        ("PyTorch default", _DEEP),
        ("large: N(0, 4²)", _SATURATED),
        "Large weights push the sigmoid's inputs onto its flat tails: look at the saturation bars. "
        "Both stall, for different reasons: the default's gradient fades from the start; the large init's grows "
        "toward the input at step 1, its first updates are larger than the weights, and once its sigmoids are "
        "flat its gradient fades too.",
        (
            Claim("large weights saturate", lambda a, b: b.flat("end").max() > 0.5 > a.flat("end").max()),
            Claim("the default's gradient fades from the start", lambda a, b: vanishes(a)),
            Claim("the large init's grows toward the input at step 1", lambda a, b: b.gradient_ratio("start") > 1),
            Claim(
                "its first updates are larger than the weights",
                lambda a, b: b.rows("start")["update_ratio"].max() > 1,
            ),
            Claim(
                "once its sigmoids are flat its gradient fades too",
                lambda a, b: b.flat("end").max() >= 0.99 and b.gradient_ratio("end") < 1e-3,
            ),
            Claim("both stall", lambda a, b: stalled(a) and stalled(b)),
        ),
        first=("profiles", "saturation"),
    ),
)

COMPARISON_BY_NAME = {c.name: c for c in COMPARISONS}
# the pair the batch norm page links to (a renamed comparison fails here, not as a bad link)
BATCHNORM_PLACEMENT = COMPARISON_BY_NAME["Batch norm before vs after the activation"]


# ---- the lecture tour ---------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class TourStep:
    title: str
    text: str
    scenario: str  # a name in TOUR_RUNS (SCENARIOS, or TIME_SCENARIOS for the recurrent steps)
    charts: tuple[str, ...]  # the two charts that tell the step's story (the tour page draws them)
    notice: str
    claims: tuple[Claim, ...]  # checked on the scenario's run


_TOUR_DEPTH: tuple[TourStep, ...] = (  # the feed-forward half; the recurrent half is at the end
    TourStep(
        "What vanishing gradients are",
        "Training updates each weight by its gradient. In a deep network the gradient is computed "
        "from the output backwards, one layer at a time, and it can shrink on the way: the layers "
        "next to the input then get almost nothing, and barely learn.",
        "Deep sigmoid stalls",
        ("network", "profile"),
        "The colour drains from the output (right) to the input (left), and the solid line falls steeply "
        "to the left: layer 1 gets a tiny fraction of the top's gradient (the number is above the charts), "
        "and the loss stays near 0.69.",
        (Claim("layer 1 gets a tiny fraction", lambda r: vanishes(r, 1e-10)), STALLS),
    ),
    TourStep(
        "Why sigmoid causes them",
        "The sigmoid squashes any input into (0, 1). Its slope is at most 0.25, and nearly 0 for large "
        "inputs: a large change of input makes a small change of output. Backpropagation multiplies "
        "these slopes (times the weights), layer after layer.",
        "Sigmoid saturates (large init)",
        ("derivative", "saturation"),
        "The inputs (blue) spread far onto the sigmoid's flat tails, where its slope (red) is near 0: "
        "in most layers, most inputs are saturated.",
        (Claim("in most layers, most inputs are saturated", lambda r: (r.flat("end") > 0.5).mean() > 0.5),),
    ),
    TourStep(
        "Symptom 1: upper layers change a lot, lower layers barely",
        "One way to spot vanishing gradients: look at how much each layer's weights change. The "
        "layers near the output move; those near the input do not.",
        "Deep sigmoid stalls",
        ("updates", "distance"),
        "Each step changes the top layers' weights by up to about a tenth of their size, and those of "
        "the layers near the input not at all: their updates are too small to change a float32 number "
        "(the line along the bottom of the left chart, marked 0). The bottom ten layers have not moved from their "
        "initial weights since the start (the 0s on the right).",
        (
            Claim(  # (over the run, as the chart draws it: the output layer's peaks at 0.108)
                "the top layers' updates up to about a tenth of their weights",
                lambda r: 0.05 < r.layers["update_ratio"].max() < 0.2,
            ),
            Claim(
                "the bottom ten layers' last update exactly 0",
                lambda r: (r.at("end")["update_ratio"].loc[1:10] == 0).all(),
            ),
            Claim(
                "the bottom ten layers have not moved at all",
                lambda r: (r.at("end")["distance_from_init"].loc[1:10] == 0).all(),
            ),
        ),
    ),
    TourStep(
        "Symptom 2: gradients may become zero",
        "Sometimes the gradient is not just small but exactly zero: every unit of a layer gives 0 "
        "for every input, so nothing flows back through it.",
        "30 ReLU layers, Xavier init",
        ("heatmap", "saturation"),
        "The last hidden layer is dead (its cross at 100%): no gradient flows back through it, and the "
        "map shows the layers below it getting none.",
        (
            Claim("the last hidden layer is dead", lambda r: r.dead("end").iloc[-1] >= 1),
            Claim("the layers below get none", lambda r: (r.at("end")["delta_rms"].iloc[:-1] == 0).all()),
        ),
    ),
    TourStep(
        "Symptom 3: learning is slow or stalls early",
        "The loss of a network whose lower layers get no gradient falls slowly, or not at all.",
        "Deep sigmoid stalls",
        ("curves", "boundary"),
        "The loss stays near 0.69, what answering 50/50 for every point scores (the map's pale colour), "
        "and test accuracy stays near 50%.",
        (STALLS, Claim("test accuracy stays near 50%", lambda r: abs(r.final_test_accuracy - 0.5) < ABOVE_CHANCE)),
    ),
    TourStep(
        "Fix 1: ReLU",
        "ReLU's slope is exactly 1 wherever it is active, so the gradient passes through unchanged "
        "(with He initialization to keep the signal's size).",
        "Same, with ReLU (He init)",
        ("profile", "curves"),
        # (its loss line jumps near step 200, and units die on the way: a walk read "falls to almost 0" beside it
        # as hiding the next slide's subject)
        "The gradient profile is nearly flat and the loss falls to almost 0 by the end, but not smoothly: near "
        "step 200 one large update throws it back above where it started, and by the end up to half of a "
        "layer's units are dead (next: when a whole layer dies).",
        (
            Claim("nearly flat", keeps_its_size),
            Claim("falls to almost 0 by the end", almost_no_loss),
            Claim(  # (the line's peak above its first point, and the run's largest jump of one batch there)
                "near step 200 one large update throws it back above where it started",
                lambda r: (
                    r.smoothed_loss.max() > r.smoothed_loss.iloc[0]
                    and 150 <= r.metrics["step"][r.smoothed_loss.idxmax()] <= 250
                    and 150 <= r.metrics["step"][(jump := r.metrics["loss"].diff().idxmax())] <= 250
                    and r.metrics["loss"][jump] > r.metrics["loss"].iloc[0]
                ),
            ),
            Claim(
                "by the end up to half of a layer's units are dead, no whole layer",
                lambda r: 0.4 < r.dead("end").max() <= 0.5,
            ),
        ),
    ),
    TourStep(
        "But: dying ReLU",
        "ReLU's slope is exactly 0 below zero. A large update can push a unit to where it outputs 0 "
        "for every input: then its gradient is 0 and it never recovers.",
        "Dying ReLU (learning rate too large)",
        ("saturation", "curves"),
        "The loss swings with the large updates and falls below 0.25 for a while. Then units die until a whole "
        "layer is dead (its cross at 100%), and the loss settles at about 0.69 for good.",
        (
            Claim("falls below 0.25 for a while", lambda r: r.lowest_loss < 0.25),
            Claim(  # ("until": none was at step 1)
                "units die until a whole layer is dead (its cross at 100%)",
                lambda r: (r.dead("start").dropna() < 1).all() and (r.dead("end") >= 1).any(),
            ),
            SETTLES_ONCE_A_LAYER_DIES,
        ),
    ),
    TourStep(
        "Fix 2: Leaky ReLU",
        "Leaky ReLU keeps a small slope (0.01) below zero, so a unit always passes some gradient back.",
        "Leaky ReLU never dies",
        ("saturation", "curves"),
        "With the same learning rate, no unit is ever dead and the network learns.",
        (Claim("no unit is ever dead", lambda r: r.most_dead_ever == 0), LEARNS),
    ),
    TourStep(
        "Fix 3: initialization",
        "Initialize the weights so that each layer keeps the variance of its inputs, forwards and "
        "backwards: Glorot (Xavier) for symmetric activations, He (twice the variance) for ReLU. "
        "Step 4 showed 30 ReLU layers with Xavier init dying; here is He init.",
        "30 ReLU layers, He init",
        ("profile", "curves"),
        "At step 1 the gradient keeps its size through all 30 layers (the grey dotted line), and the loss falls "
        "to almost 0.",
        (Claim("keeps its size", keeps_its_size), Claim("the loss falls to almost 0", almost_no_loss)),
    ),
    TourStep(
        "Fix 4: batch normalization",
        "Batch norm standardizes each unit's input over the mini-batch (mean 0, std 1), then applies "
        "a learned scale and shift. Before a sigmoid, it keeps the inputs where the slope is steep.",
        "Batch norm rescues deep sigmoid",
        ("profile", "curves"),
        "The same 20-layer sigmoid network as step 1: now the gradient reaches layer 1 and the loss falls.",
        (Claim("reaches layer 1", lambda r: r.gradient_ratio("start") > 0.1), LEARNS),
    ),
    TourStep(
        "Batch norm guarantees nothing",
        "Batch norm makes saturation less likely; it does not clip anything. With too large a "
        "learning rate the learned scale and shift push inputs back onto the flat tails.",
        "Batch norm, learning rate too large",
        ("saturation", "curves"),
        "By the end many layers have more than 30% of their inputs on the flat tails, where batch norm had "
        "put them on the steep part. The loss does not settle: training fails despite batch norm.",
        (
            Claim(
                "by the end many layers have more than 30% on the flat tails; at step 1 none had",
                lambda r: (r.flat("start") <= 0.3).all() and (r.flat("end") > 0.3).sum() >= 5,
            ),
            Claim("the loss does not settle", lambda r: r.final_loss > 2 * r.lowest_loss),
            Claim("training fails", lambda r: r.final_test_accuracy < 0.8),
        ),
    ),
    TourStep(
        "The mirror image: exploding gradients",
        "If each layer multiplies the gradient by more than 1, it grows layer by layer on its way "
        "back instead, and the updates blow the weights up until the numbers overflow.",
        "Exploding gradients",
        ("profile", "curves"),
        "At step 1 the profile already rises toward the input: layer 1 gets about 90 times what layer 20 gets, "
        "×1.27 a layer (the grey dotted line, which looks flat beside what follows). Two updates later it rises by "
        "more than 10¹⁵; at the next step the loss is no longer a number and the run stops with a clear message.",
        (
            EXPLODES_AT_START,
            Claim(  # (the step after them, 3, is the one that overflows: the last recorded is 2)
                "two updates later it rises by more than 10¹⁵",
                lambda r: r.diverged_at == 3 and r.gradient_ratio("end") > 1e15,
            ),
            Claim("within a few steps the run stops", lambda r: r.diverged_at is not None and r.diverged_at <= 10),
        ),
    ),
)


# ---- the batch-norm page's networks ------------------------------------------------

_BN_BASE = ExperimentConfig(depth=10, width=32, norm="batchnorm_before", dataset="moons", steps=500)
BATCHNORM_NETWORKS: dict[str, ExperimentConfig] = {
    "Sigmoid, batch norm before it": _BN_BASE,
    "Sigmoid, batch norm after it": _BN_BASE.replace(norm="batchnorm_after"),
    "ReLU after batch norm (the follow-up question)": _BN_BASE.replace(activation="relu", init="he_normal"),
    # the Playground's "Batch norm, learning rate too large", which tour step 11 trains: the run that fails,
    # taken apart (a 10-layer network at learning rate 10 here learned, beside the slide saying it fails)
    "Sigmoid, batch norm, learning rate 10": SCENARIO_BY_NAME["Batch norm, learning rate too large"].config,
}


# ---- the course's batch-norm question (seed 000), on the "Why sigmoid vanishes" page ---

# (×4.4, not ×4: at ×4 the run without batch norm learned or did not by the order a
# processor adds a matrix product's terms in; at ×4.4 every claim below holds in every
# order MKL offers)
_QUESTION = ExperimentConfig(
    depth=10, width=32, init="large_normal", weight_scale=4.4, dataset="moons", steps=300, learning_rate=1.0
)
# learning rate -> the two runs that answer the question at that rate
BATCHNORM_QUESTION: dict[float, Comparison] = {
    rate: Comparison(
        f"Saturation without and with batch norm, learning rate {rate:g}",
        ("without batch norm", _QUESTION.replace(learning_rate=rate)),
        ("with batch norm", _QUESTION.replace(learning_rate=rate, norm="batchnorm_before")),
        notice,
        claims,
    )
    for rate, notice, claims in (
        (
            1.0,
            "Without batch norm, large weights put most of the sigmoid's inputs on its flat tails and the "
            "network does not learn; with batch norm before each sigmoid, almost none are there and it learns.",
            (
                Claim("without: most inputs on the tails", lambda a, b: (a.flat("end") > 0.5).all()),
                Claim("with: almost none", lambda a, b: b.flat("end").max() < 0.1),
                Claim("without does not learn, with learns", lambda a, b: a.final_test_accuracy < 0.6 and learned(b)),
            ),
        ),
        (
            10.0,
            "With a learning rate of 10, batch norm's learned scale and shift push most inputs back "
            "onto the flat tails: batch norm standardizes, it does not clip.",
            (Claim("with batch norm, most inputs back on the tails", lambda a, b: b.flat("end").mean() > 0.5),),
        ),
    )
}


# ---- the activations, in words (the "Why sigmoid vanishes" page) ---------------------

ACTIVATION_WORDS: dict[str, str] = {
    "sigmoid": "The sigmoid squashes every input into (0, 1). Its slope is at most **0.25**, "
    "at x = 0, and almost 0 once |x| > 5: there the neuron is *saturated*.",
    "tanh": "tanh squashes into (-1, 1). Its slope reaches 1 at x = 0 but is just as flat "
    "in the tails: tanh saturates too.",
    "relu": "ReLU's slope is exactly 1 for x > 0: gradients pass unchanged. For x < 0 it is "
    "exactly 0: a unit that only sees negative inputs is *dead*.",
    "leaky_relu": "Leaky ReLU keeps a small slope (0.01) below 0, so a unit can always recover.",
}
ACTIVATION_WORDS_OTHER = "Compare its slope with the sigmoid's 0.25: the flatter, the more it shrinks gradients."


# ---- the classic experiments: what each paper found, and the runs that re-do it -------
# (vangrad_core.experiments measures them and decides from the numbers)

GLOROT_SIGMOID = ExperimentConfig(
    depth=4,
    width=256,
    activation="sigmoid",
    init="default",
    learning_rate=0.3,
    batch_size=10,
    steps=1500,
    dataset="digits",
)
GLOROT_TANH = ExperimentConfig(depth=5, width=256, activation="tanh", init="default", dataset="digits")
HE_30 = ExperimentConfig(
    depth=30, width=64, activation="relu", init="xavier_normal", learning_rate=0.01, steps=1500, dataset="digits"
)
IOFFE = ExperimentConfig(
    depth=3,
    width=100,
    activation="sigmoid",
    init="xavier_normal",
    learning_rate=0.5,
    batch_size=60,
    steps=2000,
    dataset="digits",
)
IOFFE_CHECKPOINTS = 20
DYING_DEPTH = 50
DYING_TRIALS = 200
SELU_NET = ExperimentConfig(depth=40, width=256, activation="selu", init="lecun_normal", dataset="teacher")
MEMORY_LENGTHS = (5, 10, 50)
MEMORY_CELLS = {"rnn": "plain tanh RNN", "lstm": "LSTM, forget bias 1"}
MEMORY_RUN = RecurrentConfig(task="adding", hidden=32, batch_size=64, optimizer="adam", learning_rate=0.05, steps=600)
# Success: a test mean squared error under half of 1/12, the best a network that knows only
# the second marked number can do (the first one's variance): it must remember the first.
# Answering 1 always: 1/6.
MEMORY_SUCCESS_MSE = 0.04

BN_INIT = ExperimentConfig(
    depth=100, width=128, activation="relu", init="he_normal", norm="batchnorm_before", dataset="digits"
)
BN_DEPTHS = (10, 25, 50, 100)
BN_EXAMPLES = 512  # one batch: batch norm's statistics come from it
BN_VARIANTS = {  # at BN_INIT's depth: (activation, init, residual)
    "ReLU": ("relu", "he_normal", False),
    "tanh": ("tanh", "xavier_normal", False),
    "linear": ("linear", "xavier_normal", False),
    "ReLU, residual": ("relu", "he_normal", True),
}
BN_FIT_EDGE = 5  # the growth rate is fitted over layers BN_FIT_EDGE+1 .. depth-BN_FIT_EDGE
ISOMETRY = ExperimentConfig(
    depth=32, width=64, activation="tanh", init="xavier_normal", learning_rate=0.05, steps=400, dataset="digits"
)
ISOMETRY_INITS = {  # key -> (name, activation, init, weight scale): σ_w² = 1 for tanh, 2 for ReLU
    "tanh_gaussian": ("tanh, Gaussian", "tanh", "xavier_normal", 1.0),
    "tanh_orthogonal": ("tanh, orthogonal", "tanh", "orthogonal", 1.0),
    "relu_gaussian": ("ReLU, Gaussian (He)", "relu", "he_normal", 1.0),
    "relu_orthogonal": ("ReLU, orthogonal ×√2", "relu", "orthogonal", math.sqrt(2)),
}
ISOMETRY_TRAINED = ("tanh_gaussian", "tanh_orthogonal")
ISOMETRY_EXAMPLES = 8  # the Jacobian's singular values at each of these inputs
ISOMETRY_TARGET = 0.9  # test accuracy: how many steps each init takes to reach it
ISOMETRY_EVERY = 10  # steps between measurements of test accuracy
SHATTERED = ExperimentConfig(
    depth=50, width=128, activation="relu", init="he_normal", norm="batchnorm_before", dataset="spirals"
)
SHATTERED_POINTS = 256  # inputs evenly spaced on a segment of the plane
SHATTERED_SEGMENT = ((-2.0, 1.0), (2.0, 1.0))  # from, to
_SEGMENT_WORDS = "from ({}, {}) to ({}, {})".format(*map(number, (*SHATTERED_SEGMENT[0], *SHATTERED_SEGMENT[1])))
SHATTERED_NETWORKS = 4  # random networks per kind; the correlations are averaged
WIDTH_NET = ExperimentConfig(depth=50, activation="relu", init="he_normal", dataset="digits")
WIDTHS = (16, 32, 64, 128)
WIDTH_TRIALS = 300  # random networks per width


@dataclasses.dataclass(frozen=True)
class Paper:
    key: str
    title: str
    paper: str  # authors, year, title
    finding: str  # what the paper found, in our words
    setup: str  # what this run does, and how it is smaller than the paper's


PAPERS: tuple[Paper, ...] = (
    Paper(
        "glorot",
        "Saturation and the normalized initialization",
        "Glorot & Bengio (2010), Understanding the difficulty of training deep feedforward neural networks",
        "With the then-standard initialization, a deep sigmoid network's top hidden layer is driven to 0, "
        "where its derivative is small, early in training. With tanh, the gradient passed back shrinks "
        "toward the input while the weights' gradients stay about level; their normalized (Xavier) "
        "initialization keeps the backpropagated gradient level too.",
        f"{GLOROT_SIGMOID.depth} sigmoid layers of {GLOROT_SIGMOID.width} units on 8×8 digits, "
        f"{GLOROT_SIGMOID.steps} steps of SGD in batches of {GLOROT_SIGMOID.batch_size} (the paper: 1000 units, "
        f"Shapeset, millions of examples); PyTorch's default init, whose weights are the paper's "
        f"U[−1/√n, 1/√n] (its biases are small uniform values, not zero). Gradients: {GLOROT_TANH.depth} tanh "
        f"layers of {GLOROT_TANH.width} at initialization, on 512 examples.",
    ),
    Paper(
        "he",
        "30 ReLU layers: Xavier stalls, He trains",
        "He, Zhang, Ren & Sun (2015), Delving deep into rectifiers",
        "Xavier's initialization assumes a linear activation; ReLU zeroes half its inputs, so the variance "
        "of the signal, and of the gradient on its way back, halves at every layer (in theory its size ×1/√2 ≈ "
        "0.71 a layer), and a 30-layer ReLU network does not learn. Doubling the weights' variance (std √(2/n)) "
        "keeps it, and the same network trains.",
        f"{HE_30.depth} ReLU layers of {HE_30.width} units on 8×8 digits, {HE_30.steps} steps of SGD "
        f"(learning rate {HE_30.learning_rate}) for each init (the paper: a 30-layer convolutional network on "
        "ImageNet).",
    ),
    Paper(
        "ioffe",
        "Batch normalization keeps the inputs to a sigmoid steadier",
        "Ioffe & Szegedy (2015), Batch normalization, Figure 1",
        "In a network of three sigmoid layers of 100 units, batch norm makes test accuracy rise faster, "
        "and the distribution of what a last-layer sigmoid receives (its 15th, 50th and 85th "
        "percentiles) moves far less; without it, that distribution drifts as the layers below learn.",
        f"The paper's network ({IOFFE.depth} × {IOFFE.width} sigmoid) on 8×8 digits instead of MNIST, "
        f"{IOFFE.steps} steps in batches of {IOFFE.batch_size} instead of 50000, learning rate "
        f"{IOFFE.learning_rate}; percentiles over the test set (batch norm with the test set's own batch "
        "statistics, as in training), every "
        f"{IOFFE.steps // IOFFE_CHECKPOINTS} steps.",
    ),
    Paper(
        "bn_init",
        "Batch norm makes gradients explode at initialization",
        "Yang, Pennington, Rao, Sohl-Dickstein & Schoenholz (2019), A mean field theory of batch normalization",
        "In a deep fully connected network with batch norm and no residual connections, the gradient at "
        "initialization grows geometrically on its way back to the input, whatever the activation and whatever the "
        "weights' scale: batch norm itself causes it. With ReLU each layer multiplies it by about √(π/(π−1)) ≈ 1.21 "
        "in a wide network; the nearer the activation is to linear, the slower it grows; residual connections tame "
        "it. Batch norm keeps units out of saturation, but it does not make a deep network well-conditioned by itself.",
        f"Networks of {BN_INIT.width} units a layer with batch norm before each activation, untrained, on one batch "
        f"of {BN_EXAMPLES} digits: ReLU (He init) {', '.join(map(str, BN_DEPTHS[:-1]))} and {BN_DEPTHS[-1]} layers "
        f"deep; at depth {BN_INIT.depth}, tanh and linear (Xavier init) and ReLU with residual connections. The "
        "rate per layer is fitted to the log of the RMS of dL/dz over all but "
        f"{BN_FIT_EDGE} layers at either end, and compared with √(E[φ'(z)²] / Var φ(z)), z ~ N(0, 1): the rate of "
        "an infinitely wide network and a large batch, when batch norm's mean and variance are taken as constants "
        "on the way back. For ReLU that is the paper's √(π/(π−1)); for tanh and linear it is our estimate by the "
        "same argument, not the paper's exact values. The paper: an exact theory of infinitely wide networks, "
        "checked by simulations and by training networks of many depths.",
    ),
    Paper(
        "dying",
        "Narrow, deep ReLU networks are born dead",
        "Lu, Shin, Su & Karniadakis (2019), Dying ReLU and initialization",
        "A ReLU network is dead when some layer outputs 0 for every input: its output is then constant "
        "and no gradient reaches the layers below. At initialization, the chance of that grows with "
        "depth and falls with width; Leaky ReLU never outputs exactly 0, so it never dies.",
        f"{DYING_TRIALS} networks per width (He init, zero biases), depths 1 to {DYING_DEPTH}, checked on the "
        "spirals' training inputs (the paper: on the whole input space, with proofs).",
    ),
    Paper(
        "selu",
        "SELU normalizes itself",
        "Klambauer, Unterthiner, Mayr & Hochreiter (2017), Self-normalizing neural networks",
        "With SELU and LeCun's initialization (variance 1/n), the mean and variance of each layer's "
        "activations are drawn to 0 and 1, so they stay there through many layers, without batch norm.",
        f"{SELU_NET.depth} layers of {SELU_NET.width} units at initialization, on 512 Gaussian inputs of the "
        "teacher dataset, beside ReLU and tanh with the same init (the paper: up to 32 layers, trained on 121 "
        "tasks).",
    ),
    Paper(
        "isometry",
        "Orthogonal weights: dynamical isometry",
        "Saxe, McClelland & Ganguli (2013), Exact solutions to the nonlinear dynamics of learning in deep linear "
        "neural networks; Pennington, Schoenholz & Ganguli (2017), Resurrecting the sigmoid in deep learning "
        "through dynamical isometry",
        "A deep network learns fast when every singular value of its input-output Jacobian is near 1 (dynamical "
        "isometry): then every direction of the gradient passes through at the same size. At the edge of chaos "
        "(tanh with σ_w² = 1, no biases), Gaussian weights still spread the singular values over many powers of "
        "ten as depth grows; orthogonal weights keep them together, and the network learns many times faster. "
        "ReLU cannot get there: whatever the weights, its units that are off collapse directions of the Jacobian.",
        f"{ISOMETRY.depth} layers of {ISOMETRY.width} units on the 8×8 digits (64 inputs: the Jacobian is square), "
        "untrained: the singular values of d(last hidden layer)/d(input) at "
        f"{ISOMETRY_EXAMPLES} inputs, in float64. tanh with σ_w² = 1 (Gaussian: Xavier normal; orthogonal), ReLU "
        f"with σ_w² = 2 (Gaussian: He normal; orthogonal ×√2). Then the two tanh networks train (SGD, learning rate "
        f"{ISOMETRY.learning_rate}, batches of {ISOMETRY.batch_size}; test accuracy every {ISOMETRY_EVERY} steps, "
        f"up to {ISOMETRY.steps}). The digits' standardized pixels take the first tanh layers past their linear "
        "part, so the orthogonal network's singular values shrink together, below 1: their spread, not their "
        "level, is what differs here. The papers: deep linear networks solved exactly, and tanh networks hundreds "
        "of layers deep trained on CIFAR-10.",
    ),
    Paper(
        "shattered",
        "Shattered gradients",
        "Balduzzi, Frean, Leary, Lewis, Ma & McWilliams (2017), The shattered gradients problem: if resnets are "
        "the answer, then what is the question?",
        "Along a line of nearby inputs, the gradient of a deep plain network's output with respect to its input "
        "looks more and more like white noise as depth grows: the correlation between the gradients at nearby "
        "inputs decays exponentially with depth (as 2⁻ᴸ in the paper's model of a rectifier network). With skip "
        "connections it decays far more slowly (as 1/√L for resnets with batch norm), so the gradient still points "
        "somewhere.",
        f"ReLU networks of {SHATTERED.width} units a layer, He init, batch norm before each ReLU, plain and with "
        f"residual connections, untrained. Inputs: {SHATTERED_POINTS} points evenly spaced on the segment "
        f"{_SEGMENT_WORDS} of the plane; batch norm uses their mean and variance, held fixed so that each "
        "input's gradient is its own. Gradient: the derivative of the output layer's "
        f"first unit along the segment, for the network's first 1 to {SHATTERED.depth} layers; correlation between "
        f"neighbouring points, the mean of {SHATTERED_NETWORKS} networks. One layer is smooth by construction: "
        "batch norm turns every first-layer unit into the same ramp along the segment, bent at its middle. The "
        "paper: a scalar input, and convolutional networks too.",
    ),
    Paper(
        "width",
        "Width matters: narrow networks vary wildly",
        "Hanin (2018), Which neural net architectures give rise to exploding and vanishing gradients?",
        "With He's initialization a ReLU network's gradients keep their size on average, whatever its shape. But "
        "the size varies from one random network to the next, and that spread grows with β = Σ 1/width, the sum "
        "over the hidden layers of one over their width: at the same depth, narrow networks are born with "
        "vanishing or exploding gradients far more often. Depth alone does not decide; depth over width does.",
        f"{WIDTH_TRIALS} random ReLU networks per width ({', '.join(map(str, WIDTHS))} units a layer), He normal "
        f"weights, zero biases, depths 1 to {WIDTH_NET.depth}. For one digit and a random direction u: |J u|², J "
        "the Jacobian of the last hidden layer's output with respect to the input (its entries are the gradients "
        "of each unit with respect to each pixel), over its mean (units over inputs, which He's init keeps). "
        "Theory: each layer multiplies |J u|² by 2/fan-in times a χ² with as many degrees of freedom as units "
        "on, independently, so the variances of the logarithm add up, layer by layer: about 5/width a layer for "
        "wide layers. The paper: the fourth moment of the Jacobian's entries lies between two exponentials of β, "
        "for any widths.",
    ),
    Paper(
        "lstm",
        "An LSTM bridges time lags a plain RNN cannot",
        "Bengio, Simard & Frasconi (1994), Learning long-term dependencies with gradient descent is "
        "difficult; Hochreiter & Schmidhuber (1997), Long short-term memory",
        "A recurrent network trained by gradient descent learns dependencies over a few steps only: the "
        "gradient from the answer shrinks geometrically on its way back through time. The LSTM's additive cell "
        "state carries it much further back (it shrinks too, far more slowly), and the LSTM solves the adding "
        "problem with the marked numbers hundreds of steps back.",
        f"The adding problem at T = {', '.join(map(str, MEMORY_LENGTHS))} (the paper: 100 to 1000), "
        f"{MEMORY_RUN.hidden} units, Adam (learning rate {MEMORY_RUN.learning_rate}) in batches of "
        f"{MEMORY_RUN.batch_size}, up to {MEMORY_RUN.steps} steps per run, one run per T and network; a run "
        f"succeeds when its mean squared error on {N_TEST} test sequences falls under {MEMORY_SUCCESS_MSE}, which "
        "needs the first marked number (knowing only the second leaves 1/12). The paper: thousands to millions of "
        "sequences, and the original LSTM, without a forget gate.",
    ),
)


# ---- through time: recurrent networks (the "Through time" page's pairs) ---------------

_SEQUENCE = MEMORY_RUN.replace(length=50)  # the adding problem over 50 steps, Adam
_EXPLODING_RNN = _SEQUENCE.replace(init="scaled_normal", spectral_radius=3.0, optimizer="sgd", learning_rate=0.1)


def forgets(run: TimeFacts) -> bool:
    """Its test error never comes within 10 % under always answering the average: at no
    test of the run ("never beats", "does no better" than the average), not only at its end."""
    return float(run.metrics["test_loss"].min()) > 0.9 * GUESS_LOSS["adding"]


def per_step(run: TimeFacts) -> float:
    """At initialization, the factor a step back multiplies the gradient by (geometric mean over T − 1 steps)."""
    return run.time_ratio("start") ** (1 / (run.config.length - 1))


GOOD_SHARE = 0.1  # "a good share" of the gradient reaching t = 1: at least a tenth of the last step's


TIME_COMPARISONS: tuple[Comparison, ...] = (
    Comparison(
        "Plain RNN vs LSTM (T = 50)",
        ("plain tanh RNN", _SEQUENCE),
        ("LSTM, forget bias 1", _SEQUENCE.replace(cell="lstm")),
        "The same task, the same 50 time steps: the plain RNN's gradient fades back through time, so the "
        "first half of the sequence (where one of the two numbers to add is) gets almost none, and it never "
        "does better than answering the average. The LSTM's cell state carries the gradient back through its forget "
        "gate: by the end it reaches t = 1 and the LSTM learns the task (its test squared error under 0.01).",
        (
            Claim(
                "the RNN's gradient fades back through time (its first half gets almost none), the LSTM's "
                "reaches t = 1 by the end",
                lambda a, b: a.share_at(25) < 1e-3 and a.time_ratio("end") < 1e-8 and b.time_ratio("end") > 1e-2,
            ),
            Claim(
                "the RNN never beats the average, the LSTM learns it (test squared error under 0.01)",
                lambda a, b: forgets(a) and b.final_test_loss < 0.01,
            ),
        ),
    ),
    Comparison(
        "Short vs long sequences (T = 10 vs 100)",
        ("T = 10", _SEQUENCE.replace(length=10)),
        ("T = 100", _SEQUENCE.replace(length=100)),
        "The same plain RNN over 10 and over 100 steps: every step back multiplies the gradient by "
        "about the same factor, so at initialization the first input gets a small share over 10 steps "
        "and next to nothing over 100.",
        (
            Claim(
                "every step back multiplies it by about the same factor",
                lambda a, b: 0.8 < per_step(a) / per_step(b) < 1.25,
            ),
            Claim(
                "a small share over 10 steps, next to nothing over 100",
                lambda a, b: 1e-4 < a.time_ratio("start") < 0.1 and b.time_ratio("start") < 1e-15,
            ),
        ),
    ),
    Comparison(
        "Default vs orthogonal recurrent weights",
        ("PyTorch default", _SEQUENCE),
        ("orthogonal", _SEQUENCE.replace(init="orthogonal")),
        "Orthogonal weights keep a vector's length, so at initialization the gradient reaches t = 1 "
        "with a good share of its size (Saxe et al. 2013), where the default's has all but vanished. "
        "It does not last: training moves the weights away, the gradient vanishes again and this "
        "plain RNN still fails the task. Initialization alone is not memory.",
        (
            Claim(
                "at initialization orthogonal keeps a good share, the default almost none",
                lambda a, b: b.time_ratio("start") > GOOD_SHARE and a.time_ratio("start") < 1e-8,
            ),
            Claim("it does not last", lambda a, b: b.time_ratio("end") < 1e-3),
            Claim("both fail the task", lambda a, b: forgets(a) and forgets(b)),
        ),
    ),
    Comparison(
        "Exploding RNN, without and with clipping",
        ("spectral radius 3", _EXPLODING_RNN),
        ("spectral radius 3, clipped at 1", _EXPLODING_RNN.replace(grad_clip=1.0)),
        # (three lines on a projector: in four, the charts ran past a 1280×720 screen)
        "Spectral radius 3 stretches the gradient: at initialization t = 1 gets over 10⁵ times what t = 50 "
        "gets. A's first update throws its tanh units onto their flat tails: t = 1 then gets "
        "exactly 0, t = 50's gradient grows about thirtyfold a step, and A blows up within a few dozen steps. "
        "Clipped at norm 1 (Pascanu et al. 2013), B trains to the end but never beats answering the average: "
        "clipping tames the explosion, not the forgetting.",
        (
            Claim("t = 1 gets over 10⁵ times what t = 50 gets", lambda a, b: a.time_ratio("start") > 1e5),
            Claim(
                "A's first update throws its tanh units onto their flat tails",
                lambda a, b: a.gate("mean_derivative", "start") > 0.1 > a.slope_since_first_update(),
            ),
            Claim(
                # (and only the last few time steps get any: checked, no longer said)
                "t = 1 then gets exactly 0",
                lambda a, b: a.gets_exactly_0_since_first_update(1) and a.most_reached_since_first_update() <= 5,
            ),
            Claim(
                "the gradient at t = 50 grows about thirtyfold a step", lambda a, b: 20 < a.growth_at_the_last_t() < 45
            ),
            Claim(
                "A blows up within a few dozen steps",
                lambda a, b: a.diverged_at is not None and a.diverged_at < 60,
            ),
            Claim(
                "B trains to the end",
                lambda a, b: b.diverged_at is None and b.final_test_loss < b.first_test_loss,
            ),
            Claim(
                "B never beats answering the average",
                lambda a, b: float(b.metrics["test_loss"].min()) >= GUESS_LOSS[b.config.task],
            ),
        ),
    ),
)
TIME_COMPARISON_BY_NAME = {c.name: c for c in TIME_COMPARISONS}
_CLIPPING_PAIR = next(c for c in TIME_COMPARISONS if c.a[1] == _EXPLODING_RNN)  # (the tour's last step names it)

# single recurrent runs, for the tour's last steps
TIME_SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "Through time: a plain RNN",
        _SEQUENCE,
        "A plain tanh RNN must add two numbers marked somewhere in a sequence of 50.",
        (
            Claim("t = 1 gets almost nothing at step 1", lambda r: r.time_ratio("start") < 1e-3),
            Claim("it never beats answering the average", forgets),
        ),
    ),
    Scenario(
        "Through time: an LSTM",
        _SEQUENCE.replace(cell="lstm"),
        "The same task for an LSTM whose forget gates start open (bias 1).",
        (
            Claim(
                "by the end the gradient reaches t = 1 with a good share", lambda r: r.time_ratio("end") > GOOD_SHARE
            ),
            Claim("it learns the task (test squared error under 0.01)", lambda r: r.final_test_loss < 0.01),
            Claim(
                "its most open unit's forget gate ends near 1, the mean of its units far lower",
                lambda r: r.gate("most_open_gate") > 0.95 and r.gate("forget_gate") < 0.8,
            ),
        ),
    ),
    Scenario(
        "Through time: exploding, clipped",
        _EXPLODING_RNN.replace(grad_clip=1.0),
        "A plain RNN whose recurrent weights have spectral radius 3, its gradient clipped at norm 1.",
        (
            Claim("t = 1 gets over a hundred thousand times what t = 50 gets", lambda r: r.time_ratio("start") > 1e5),
            Claim(
                "unclipped, it blows up within a few dozen steps; clipped, it trains to the end",
                lambda r, unclipped: (
                    unclipped.diverged_at is not None and unclipped.diverged_at < 60 and r.diverged_at is None
                ),
                also=(_EXPLODING_RNN,),
            ),
            Claim("no better than answering the average", forgets),
        ),
    ),
)
TIME_SCENARIO_BY_NAME = {s.name: s for s in TIME_SCENARIOS}
TOUR_RUNS = {**SCENARIO_BY_NAME, **TIME_SCENARIO_BY_NAME}  # what a tour step's `scenario` may name


_TOUR_TIME: tuple[TourStep, ...] = (  # the tour's last steps: the same problem in a recurrent network
    TourStep(
        "Through time: the same problem in an RNN",
        "A recurrent network reads a sequence one step at a time with the same weights. Unrolled over T "
        "steps it is a T-layer network whose layers share one matrix: the gradient of a loss read at the "
        "end reaches the first inputs only through T − 1 multiplications by the same Jacobian.",
        "Through time: a plain RNN",
        ("time_profile", "curves"),
        "The gradient falls steeply back through time: at step 1, t = 1 gets a tiny fraction of what "
        "t = 50 gets. One of the two numbers to add sits somewhere in the first half, so the RNN's test loss never "
        "beats answering the average.",
        TIME_SCENARIOS[0].claims,
    ),
    TourStep(
        "LSTM's cell state carries the gradient",
        "The LSTM adds to its cell state instead of overwriting it: c_t = f_t · c_(t−1) + i_t · g_t. Back "
        "through time the gradient along c is multiplied only by the forget gate f_t, which can learn to "
        "stay near 1.",
        "Through time: an LSTM",
        ("time_profile", "gates"),
        "By the end the forget gate of its most open unit sits near 1 while the mean of its units stays far "
        "lower: a few units keep the memory, and along them the gradient reaches t = 1 with a good share of "
        "its size. The LSTM learns the task.",
        TIME_SCENARIOS[1].claims,
    ),
    TourStep(
        "Exploding through time: clipping",
        "If the recurrent Jacobian stretches vectors, the gradient grows at every step back instead, and "
        "one update can wreck the weights. Clipping rescales the whole gradient when its norm is too large "
        "(Pascanu et al. 2013).",
        "Through time: exploding, clipped",
        ("time_profile", "curves"),
        "At step 1 the gradient grows back through time: t = 1 gets over a hundred thousand times what t = 50 "
        "gets. Without clipping this run blows up within a few dozen steps (Through time's pair "
        f"“{_CLIPPING_PAIR.name}” draws both); clipped at 1, it trains to the end, though, a plain RNN still, "
        "its test loss does no better than answering the average.",
        TIME_SCENARIOS[2].claims,
    ),
)


TOUR: tuple[TourStep, ...] = _TOUR_DEPTH + _TOUR_TIME
