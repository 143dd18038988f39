"""The experiments that found the vanishing gradient problem and its fixes, re-run small.

Each `Classic` pairs a paper (its finding, and how this run is smaller than the
paper's: lessons.PAPERS, with the runs' configs) with `run(seed)`, which trains (or measures at initialization) with
the engine and returns an `Outcome`: the frames its chart draws, the numbers that
decide, and a verdict computed from them, "reproduced" or "not reproduced". Each run
takes seconds on one CPU core.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Callable, Iterable, Iterator

import numpy as np
import pandas as pd
import torch

from . import theory
from .config import MAX_SEED, ExperimentConfig
from .data import make_dataset
from .lessons import (
    BN_DEPTHS,
    BN_EXAMPLES,
    BN_FIT_EDGE,
    BN_INIT,
    BN_VARIANTS,
    DYING_DEPTH,
    DYING_TRIALS,
    GLOROT_SIGMOID,
    GLOROT_TANH,
    HE_30,
    IOFFE,
    IOFFE_CHECKPOINTS,
    ISOMETRY,
    ISOMETRY_EVERY,
    ISOMETRY_EXAMPLES,
    ISOMETRY_INITS,
    ISOMETRY_TARGET,
    ISOMETRY_TRAINED,
    MEMORY_CELLS,
    MEMORY_LENGTHS,
    MEMORY_RUN,
    MEMORY_SUCCESS_MSE,
    PAPERS,
    SELU_NET,
    SHATTERED,
    SHATTERED_NETWORKS,
    SHATTERED_POINTS,
    SHATTERED_SEGMENT,
    WIDTH_NET,
    WIDTH_TRIALS,
    WIDTHS,
    Paper,
)
from .measure import at_initialization
from .model import Network, build_model, initialize, reinitialize, uninitialized_linear
from .recurrent import ADDING_TOLERANCE, GUESS_LOSS, GUESS_WITHIN, RecurrentTrainer
from .trainer import Trainer, frozen_running_statistics
from .writing import fixed, number, outward, percent

PERCENTILES = (15, 50, 85)


@dataclasses.dataclass(frozen=True)
class Outcome:
    reproduced: bool
    verdict: str  # the deciding numbers, in one or two sentences
    numbers: dict[str, float]
    frames: dict[str, pd.DataFrame]


@dataclasses.dataclass(frozen=True)
class Classic:
    """A paper (its texts: lessons.PAPERS) and the function that re-runs it."""

    paper: Paper
    run: Callable[[int], Outcome]

    @property
    def key(self) -> str:
        return self.paper.key


def _verdict(reproduced: bool, because: str) -> str:
    return ("Reproduced: " if reproduced else "Not reproduced: ") + because


def _steps(steps: float, limit: int) -> str:
    """How many steps a run took to reach a target, in words (inf: it never did)."""
    return f"{steps:.0f} steps" if math.isfinite(steps) else f"more than {limit} steps"


# ---- Glorot & Bengio 2010 ----------------------------------------------------------

SATURATED_MEAN = 0.1  # a sigmoid layer whose mean output is below this sits near 0


def glorot(seed: int) -> Outcome:
    trainer = Trainer(GLOROT_SIGMOID.replace(seed=seed))
    trainer.step(GLOROT_SIGMOID.steps)
    hidden = trainer.layers[trainer.layers["layer"] <= GLOROT_SIGMOID.depth]
    top = hidden[hidden["layer"] == GLOROT_SIGMOID.depth].set_index("step")["act_mean"]
    below = top[top < SATURATED_MEAN]
    saturated_row = int(below.index[0]) if len(below) else None
    # said as the Step number and the chart's axis count: row s is the (s+1)-th step
    saturated_at = saturated_row + 1 if saturated_row is not None else GLOROT_SIGMOID.steps
    profiles = []
    for init, name in (("default", "standard U[−1/√n, 1/√n]"), ("xavier_uniform", "normalized (Xavier)")):
        stats = at_initialization(GLOROT_TANH.replace(init=init, seed=seed))
        profiles.append(stats[stats["layer"] <= GLOROT_TANH.depth].assign(init=name))
    standard, normalized = (p.set_index("layer") for p in profiles)
    transitions = GLOROT_TANH.depth - 1

    def per_layer(profile: pd.DataFrame, column: str) -> float:
        """The factor a layer passes down, geometric mean over the tanh layers."""
        return float((profile[column][1] / profile[column][GLOROT_TANH.depth]) ** (1 / transitions))

    numbers = {
        "top_layer_mean_start": float(top.iloc[0]),
        "top_layer_saturated_at_step": float(saturated_at),
        "top_layer_mean_highest_after": float(top[top.index >= saturated_row].max()) if len(below) else math.nan,
        "lower_layers_mean_lowest": float(hidden[hidden["layer"] < GLOROT_SIGMOID.depth]["act_mean"].min()),
        "standard_delta_per_layer": per_layer(standard, "delta_rms"),
        "standard_weight_grad_per_layer": per_layer(standard, "weight_grad_norm"),
        "normalized_delta_per_layer": per_layer(normalized, "delta_rms"),
    }
    # early: in the first fifth of training; and it stays there
    saturates = (
        saturated_at <= GLOROT_SIGMOID.steps // 5
        and numbers["top_layer_mean_highest_after"] < 1.5 * SATURATED_MEAN
        and numbers["lower_layers_mean_lowest"] > 0.4
    )
    # backpropagated: loses over 30% per layer; weights' gradients: within 25% per layer
    shrinks = numbers["standard_delta_per_layer"] < 0.7 and 0.75 < numbers["standard_weight_grad_per_layer"] < 1.33
    flat = numbers["normalized_delta_per_layer"] > 0.8  # within 20% per layer
    reproduced = saturates and shrinks and flat
    highest = numbers["top_layer_mean_highest_after"]
    highest_said = math.ceil(highest * 1e4) / 1e4 if math.isfinite(highest) else highest  # rounded up: still true
    because = (
        f"the top sigmoid layer's mean output fell from {top.iloc[0]:.2f} below {SATURATED_MEAN} by step "
        f"{saturated_at} of {GLOROT_SIGMOID.steps} and stayed at or below "
        f"{highest_said:g}, "
        f"while the lower layers' stayed above {numbers['lower_layers_mean_lowest']:.2f}. With tanh and the "
        f"standard init, each layer passes down ×{numbers['standard_delta_per_layer']:.2f} of the backpropagated "
        f"gradient but ×{numbers['standard_weight_grad_per_layer']:.2f} of the weight gradient; with the "
        f"normalized init, ×{numbers['normalized_delta_per_layer']:.2f} (1 = flat)."
    )
    return Outcome(
        reproduced,
        _verdict(reproduced, because),
        numbers,
        {"activations": hidden, "profiles": pd.concat(profiles, ignore_index=True)},
    )


# ---- He et al. 2015 ----------------------------------------------------------------

HE_INITS = {"xavier_normal": "Xavier", "he_normal": "He: std √(2/n)"}


def he(seed: int) -> Outcome:
    metrics, profiles, numbers = [], [], {}
    for init, name in HE_INITS.items():
        trainer = Trainer(HE_30.replace(init=init, seed=seed), record_every=HE_30.steps)  # layers at step 0
        trainer.step(HE_30.steps)
        metrics.append(trainer.metrics.assign(init=name))
        start = trainer.layers[trainer.layers["step"] == 0]
        profiles.append(start.assign(init=name))
        deltas = start.set_index("layer")["delta_rms"]
        tested = trainer.metrics.dropna(subset=["test_loss"])
        numbers[f"{init}_first_loss"] = float(tested["test_loss"].iloc[0])
        numbers[f"{init}_final_loss"] = float(tested["test_loss"].iloc[-1])
        numbers[f"{init}_final_accuracy"] = float(tested["test_accuracy"].iloc[-1])
        numbers[f"{init}_gradient_ratio"] = float(deltas[1] / deltas[HE_30.depth])
    stalls = numbers["xavier_normal_final_loss"] > 0.9 * numbers["xavier_normal_first_loss"]
    trains = numbers["he_normal_final_accuracy"] > 0.7
    vanishes = numbers["xavier_normal_gradient_ratio"] < 1e-3 and numbers["he_normal_gradient_ratio"] > 0.3
    reproduced = stalls and trains and vanishes
    because = (
        f"after {HE_30.steps} steps Xavier's test loss is {numbers['xavier_normal_final_loss']:.2f} "
        f"(from {numbers['xavier_normal_first_loss']:.2f}), test error "
        f"{percent(1 - numbers['xavier_normal_final_accuracy'])}; He's is {numbers['he_normal_final_loss']:.2f}, "
        f"test error {percent(1 - numbers['he_normal_final_accuracy'])}. At step 1 (the initial weights) layer 1 gets "
        f"{number(numbers['xavier_normal_gradient_ratio'])} of the top layer's backpropagated gradient (RMS dL/dz) "
        "with Xavier, "
        f"{numbers['he_normal_gradient_ratio']:.2f} with He."
    )
    return Outcome(
        reproduced,
        _verdict(reproduced, because),
        numbers,
        {"metrics": pd.concat(metrics, ignore_index=True), "profiles": pd.concat(profiles, ignore_index=True)},
    )


# ---- Ioffe & Szegedy 2015 ----------------------------------------------------------

IOFFE_TARGET = 0.9  # test accuracy: how many steps each run takes to reach it


@torch.no_grad()
def _unit_inputs(model: Network, x: torch.Tensor) -> torch.Tensor:
    """What the last hidden layer's nonlinearities receive for a batch x, as during
    training (batch norm with x's own statistics; its running statistics kept):
    examples × units."""
    with frozen_running_statistics(model):
        for block in model.blocks[:-1]:
            x = block(x)
        last = model.blocks[-1]
        z = last.linear(x)
        return last.norm_before(z) if last.norm_before is not None else z


def ioffe(seed: int) -> Outcome:
    curves, percentiles, drift, to_target, drawn = [], [], {}, {}, {}
    for norm, name in (("none", "without BN"), ("batchnorm_before", "with BN")):
        trainer = Trainer(IOFFE.replace(norm=norm, seed=seed), record_every=IOFFE.steps)  # no per-layer history
        x_test = trainer.data.x_test
        rows = []
        for checkpoint in range(IOFFE_CHECKPOINTS + 1):
            target = checkpoint * IOFFE.steps // IOFFE_CHECKPOINTS
            trainer.step(target - trainer.step_count)
            inputs = _unit_inputs(trainer.model, x_test)
            quantiles = torch.quantile(inputs, torch.tensor([p / 100 for p in PERCENTILES]), dim=0)  # 3 × units
            _, accuracy = trainer.evaluate()
            rows.append((target, accuracy, quantiles))
        steps = [r[0] for r in rows]
        curves.append(pd.DataFrame({"step": steps, "test_accuracy": [r[1] for r in rows], "run": name}))
        stacked = torch.stack([r[2] for r in rows])  # checkpoints × 3 × units
        # how far each unit's percentiles wander, in units of its initial 15-85 spread
        spread = (stacked[0, 2] - stacked[0, 0]).clamp_min(1e-6)
        wander = (stacked.amax(0) - stacked.amin(0)).amax(0) / spread
        drift[name] = float(wander.median())
        reached = [step for step, accuracy, _ in rows if accuracy >= IOFFE_TARGET]
        to_target[name] = float(reached[0]) if reached else float("inf")
        # the chart draws one unit, as the paper's figure does: the one whose wander is the
        # median's (the verdict's number), not the first (the chart disagreed with its verdict)
        typical = int((wander - wander.median()).abs().argmin())
        unit = stacked[:, :, typical].numpy()
        drawn[name] = (float(wander[typical] * spread[typical]), float(spread[typical]))  # as the chart reads
        percentiles.append(
            pd.DataFrame(
                {
                    "step": steps,
                    **{f"p{p}": unit[:, i] for i, p in enumerate(PERCENTILES)},
                    "run": name,
                    "unit": typical,
                }
            )
        )
    numbers = {
        "drift_without_bn": drift["without BN"],
        "drift_with_bn": drift["with BN"],
        "steps_to_target_without_bn": to_target["without BN"],
        "steps_to_target_with_bn": to_target["with BN"],
    }
    reproduced = (
        numbers["drift_with_bn"] < 0.5 < 2 < numbers["drift_without_bn"]
        and numbers["steps_to_target_with_bn"] < IOFFE.steps
        and numbers["steps_to_target_with_bn"] <= 0.5 * numbers["steps_to_target_without_bn"]
    )

    because = (
        f"test accuracy reaches {IOFFE_TARGET:.0%} after {_steps(to_target['with BN'], IOFFE.steps)} with BN and "
        f"{_steps(to_target['without BN'], IOFFE.steps)} "
        f"without; a last-layer sigmoid's 15th/50th/85th percentiles wander by {drift['with BN']:.2f} of their "
        f"initial spread with BN and {drift['without BN']:.1f} without (median over the layer's 100 units; "
        # (the chart's shared axis shows how far, not the initial spreads: a wander of 1.9 read 26 there)
        # (in the panels' order, each named: unnamed, the with-BN unit's came first, beside the panels' without)
        f"the drawn units' percentiles wander, without BN, by {number(drawn['without BN'][0])} against an initial "
        f"spread of {number(drawn['without BN'][1])}, and with BN by {number(drawn['with BN'][0])} against "
        f"{number(drawn['with BN'][1])})."
    )
    return Outcome(
        reproduced,
        _verdict(reproduced, because),
        numbers,
        {"curves": pd.concat(curves, ignore_index=True), "percentiles": pd.concat(percentiles, ignore_index=True)},
    )


# ---- Lu et al. 2019 ----------------------------------------------------------------

DYING_SERIES = (("relu", 2), ("relu", 3), ("relu", 4), ("leaky_relu", 2))


@torch.no_grad()
def _dead_by_depth(model: Network, x: torch.Tensor) -> np.ndarray:
    """For each depth D: whether the first D hidden layers include one whose every
    unit is 0 on every input (then the network's output ignores its input)."""
    dead = np.zeros(len(model.blocks), dtype=bool)
    for i, block in enumerate(model.blocks):
        x = block(x)
        dead[i] = (i > 0 and dead[i - 1]) or bool((x == 0).all())
    return dead


def dying(seed: int) -> Outcome:
    # Weights are drawn layer by layer from the seed, so the first D layers of a
    # 50-layer network are the D-layer network: one network per trial gives every depth.
    base = ExperimentConfig(depth=DYING_DEPTH, init="he_normal", dataset="spirals")
    data = make_dataset(base)
    rows = []
    for activation, width in DYING_SERIES:
        model = build_model(base.replace(activation=activation, width=width))
        trials = []
        for trial in range(DYING_TRIALS):
            reinitialize(model, seed + trial)  # = build_model with seed + trial
            trials.append(_dead_by_depth(model, data.x_train))
        dead = np.mean(trials, axis=0)
        name = f"{'Leaky ReLU' if activation == 'leaky_relu' else 'ReLU'}, width {width}"
        rows.append(pd.DataFrame({"depth": np.arange(1, DYING_DEPTH + 1), "dead": dead, "series": name}))
    frame = pd.concat(rows, ignore_index=True)
    relu2 = frame[frame["series"] == "ReLU, width 2"].set_index("depth")["dead"]
    wider = frame[frame["series"] == "ReLU, width 4"].set_index("depth")["dead"]
    leaky = frame[frame["series"].str.startswith("Leaky")]["dead"]
    numbers = {
        "dead_width2_depth5": float(relu2[5]),
        "dead_width2_depth10": float(relu2[10]),
        "dead_width2_depth50": float(relu2[DYING_DEPTH]),
        "dead_width4_depth10": float(wider[10]),
        "dead_width4_depth50": float(wider[DYING_DEPTH]),
        "dead_leaky": float(leaky.max()),
    }
    reproduced = (
        numbers["dead_width2_depth50"] > numbers["dead_width2_depth5"] + 0.3
        and numbers["dead_width4_depth50"] > numbers["dead_width4_depth10"] + 0.3
        and numbers["dead_width4_depth10"] < 0.5 * numbers["dead_width2_depth10"]  # wider dies later
        and numbers["dead_leaky"] == 0
    )
    because = (
        f"of {DYING_TRIALS} width-2 ReLU networks, {percent(numbers['dead_width2_depth5'])} are dead at initialization "
        f"at depth 5 and {percent(numbers['dead_width2_depth50'])} at depth {DYING_DEPTH}; width 4: "
        f"{percent(numbers['dead_width4_depth10'])} at depth 10 "
        f"(width 2: {percent(numbers['dead_width2_depth10'])}) and {percent(numbers['dead_width4_depth50'])} at "
        f"depth {DYING_DEPTH}; Leaky ReLU: {percent(numbers['dead_leaky'])} at every depth (its output is never "
        "exactly 0)."
    )
    return Outcome(reproduced, _verdict(reproduced, because), numbers, {"dead": frame})


# ---- Klambauer et al. 2017 ---------------------------------------------------------

SELU_CONTRASTS = (("selu", "SELU"), ("relu", "ReLU"), ("tanh", "tanh"))


def selu(seed: int) -> Outcome:
    profiles = []
    for activation, name in SELU_CONTRASTS:
        stats = at_initialization(SELU_NET.replace(activation=activation, seed=seed))
        stats = stats[stats["layer"] <= SELU_NET.depth]
        profiles.append(stats.assign(run=f"{name}, LeCun normal", act_var=stats["act_std"] ** 2))
    frame = pd.concat(profiles, ignore_index=True)
    self_normalizing = profiles[0]
    numbers = {
        "largest_abs_mean": float(self_normalizing["act_mean"].abs().max()),
        "variance_low": float(self_normalizing["act_var"].min()),
        "variance_high": float(self_normalizing["act_var"].max()),
        "relu_variance_last": float(profiles[1]["act_var"].iloc[-1]),
    }
    reproduced = numbers["largest_abs_mean"] < 0.1 and 0.85 < numbers["variance_low"] <= numbers["variance_high"] < 1.15
    # the bounds rounded outwards: still true as printed (1.0623 read "between 0.94 and 1.06")
    mean_said = outward(numbers["largest_abs_mean"], 3)
    low_said, high_said = outward(numbers["variance_low"], 2, up=False), outward(numbers["variance_high"], 2)
    because = (
        f"through {SELU_NET.depth} SELU layers the activations' mean stays within ±{mean_said:.3f} "
        f"of 0 and their variance between {low_said:.2f} and {high_said:.2f}; "
        f"ReLU with the same init ends at variance {number(numbers['relu_variance_last'])}."
    )
    return Outcome(reproduced, _verdict(reproduced, because), numbers, {"profiles": frame})


def long_range_memory(seed: int) -> Outcome:
    """A plain tanh RNN and an LSTM (forget bias 1) on the adding problem as T grows.

    Each run stops once its test MSE is under MEMORY_SUCCESS_MSE (measured every 50
    steps) or after MEMORY_RUN.steps steps. Frames: `accuracy` (T, cell, test_loss,
    test_accuracy, steps, solved) and `gradients` (T, cell, t, relative_grad: dL/dh_t
    over dL/dh_T at step 0).

    Why the adding problem and not "remember the first symbol": there every answer lies
    T − 1 steps back, with nothing shorter to learn from first. In our runs (Adam,
    learning rate 0.01, 32 units) the LSTM with forget bias 1, whose memory fades ×σ(1)
    ≈ 0.73 a step at the start (0.73⁴⁹ ≈ 2e-7 over T = 50), stayed at chance at T = 20,
    30 and 50 for 3000 to 6000 steps, while the tanh RNN reached test accuracies of 0.65
    to 0.96 at T = 20 and 0.74 at T = 30 within a few hundred steps (presumably latching
    the symbol in saturated units, which keep their sign): the textbook contrast
    reversed. On the adding problem the second marked number lies 0 to T/2 steps back;
    learning to hold it opens the LSTM's forget gates before the first number matters."""
    rows, profiles = [], []
    for length in MEMORY_LENGTHS:
        for cell, name in MEMORY_CELLS.items():
            config = MEMORY_RUN.replace(cell=cell, length=length, forget_bias=1, seed=seed)
            # dL/dh_t at step 0 and the last. (A plain RNN's recorded steps take another path
            # through the arithmetic, so this run is not, to the last bit, the one a page would
            # train at this config: docs/architecture.md, "The engine's contract".)
            trainer = RecurrentTrainer(config, record_every=config.steps)
            trainer.step(1)  # step 0, whose test loss is measured
            while not trainer.done:
                trainer.step(trainer.eval_every)  # ends with a step whose test loss is measured
                if trainer.metrics["test_loss"].iloc[-1] < MEMORY_SUCCESS_MSE:
                    break
            tested = trainer.metrics.dropna(subset=["test_loss"]).iloc[-1]
            solved = bool(tested["test_loss"] < MEMORY_SUCCESS_MSE)
            rows.append((length, name, tested["test_loss"], tested["test_accuracy"], trainer.step_count, solved))
            start = trainer.time_gradients.query("step == 0")
            relative = start["grad_rms"].to_numpy() / start["grad_rms"].iloc[-1]
            profiles.append(pd.DataFrame({"T": length, "cell": name, "t": start["t"], "relative_grad": relative}))
    accuracy = pd.DataFrame(rows, columns=["T", "cell", "test_loss", "test_accuracy", "steps", "solved"])
    gradients = pd.concat(profiles, ignore_index=True)

    def at(cell: str, length: int, column: str) -> float:
        row = accuracy[(accuracy["cell"] == MEMORY_CELLS[cell]) & (accuracy["T"] == length)]
        return float(row[column].iloc[0])

    def longest_solved(cell: str) -> float:
        solved = accuracy[(accuracy["cell"] == MEMORY_CELLS[cell]) & accuracy["solved"]]["T"]
        return float(solved.max()) if len(solved) else 0.0

    longest = MEMORY_LENGTHS[-1]
    first_step = gradients[(gradients["T"] == longest) & (gradients["t"] == 1)].set_index("cell")["relative_grad"]
    numbers = {
        "rnn_longest_solved": longest_solved("rnn"),
        "lstm_longest_solved": longest_solved("lstm"),
        "rnn_loss_longest": at("rnn", longest, "test_loss"),
        "lstm_loss_longest": at("lstm", longest, "test_loss"),
        "rnn_accuracy_longest": at("rnn", longest, "test_accuracy"),
        "lstm_accuracy_longest": at("lstm", longest, "test_accuracy"),
        "lstm_steps_longest": at("lstm", longest, "steps"),
        "rnn_first_gradient_longest": float(first_step[MEMORY_CELLS["rnn"]]),
        "lstm_first_gradient_longest": float(first_step[MEMORY_CELLS["lstm"]]),
    }
    reproduced = (
        numbers["lstm_longest_solved"] == longest
        and numbers["rnn_longest_solved"] < longest
        and numbers["rnn_loss_longest"] > 1 / 12  # it does not even use the first number
    )
    because = (
        f"on the adding problem at T = {longest} the LSTM (forget bias 1) got its test squared error down to "
        f"{numbers['lstm_loss_longest']:.3f} in {numbers['lstm_steps_longest']:.0f} steps "
        f"({percent(numbers['lstm_accuracy_longest'])} of its sums within ±{ADDING_TOLERANCE:g}), while the plain tanh "
        f"RNN stayed at {numbers['rnn_loss_longest']:.3f} after {MEMORY_RUN.steps} "
        f"({percent(numbers['rnn_accuracy_longest'])} within ±{ADDING_TOLERANCE:g}; answering 1 every time: squared "
        f"error {GUESS_LOSS['adding']:.3f}, {GUESS_WITHIN:.0%} within it). Longest T solved (test squared error under "
        f"{MEMORY_SUCCESS_MSE}) of {', '.join(map(str, MEMORY_LENGTHS))}: RNN {numbers['rnn_longest_solved']:.0f}, "
        f"LSTM {numbers['lstm_longest_solved']:.0f} (0 = none). Untrained, dL/dh_1 is "
        f"{number(numbers['rnn_first_gradient_longest'])} of dL/dh_{longest} in the RNN and "
        f"{number(numbers['lstm_first_gradient_longest'])} in the LSTM."
    )
    return Outcome(
        reproduced,
        ("Reproduced: " if reproduced else "Not reproduced: ") + because,
        numbers,
        {"accuracy": accuracy, "gradients": gradients},
    )


# ---- Yang et al. 2019 ----------------------------------------------------------------


def _growth_per_layer(relative: pd.Series) -> float:
    """The factor by which dL/dz grows per layer toward the input: exp of minus the
    least-squares slope of ln(RMS of dL/dz) against the layer, leaving out BN_FIT_EDGE
    layers at either end (the first layer's inputs are the data, not batch-normalized; the
    top layer's gradient comes straight from the loss)."""
    inner = relative.loc[BN_FIT_EDGE + 1 : len(relative) - BN_FIT_EDGE]
    slope = np.polyfit(inner.index.to_numpy(dtype=float), np.log(inner.to_numpy()), 1)[0]
    return float(math.exp(-slope))


def bn_init(seed: int) -> Outcome:
    def profile(config: ExperimentConfig) -> pd.Series:
        """RMS of dL/dz per hidden layer at initialization, ÷ the top hidden layer's."""
        stats = at_initialization(config.replace(seed=seed), BN_EXAMPLES)
        hidden = stats[stats["layer"] <= config.depth].set_index("layer")["delta_rms"]
        return hidden / hidden[config.depth]

    by_depth = {depth: profile(BN_INIT.replace(depth=depth)) for depth in BN_DEPTHS}
    deepest = BN_INIT.depth
    variants = {}
    for name, (activation, init, residual) in BN_VARIANTS.items():
        config = BN_INIT.replace(activation=activation, init=init, residual=residual)
        variants[name] = by_depth[deepest] if config == BN_INIT else profile(config)
    plain = [name for name, (_, _, residual) in BN_VARIANTS.items() if not residual]
    (residual_name,) = (name for name in BN_VARIANTS if name not in plain)
    rates = {name: _growth_per_layer(variants[name]) for name in plain}
    predicted = {name: theory.batchnorm_gradient_growth(BN_VARIANTS[name][0]) for name in plain}
    ratios = [float(by_depth[depth][1]) for depth in BN_DEPTHS]
    numbers = {
        **{f"ratio_depth{depth}": ratio for depth, ratio in zip(BN_DEPTHS, ratios, strict=True)},
        **{f"{name.lower()}_growth_per_layer": rates[name] for name in plain},
        **{f"{name.lower()}_predicted": predicted[name] for name in plain},
        "residual_ratio": float(variants[residual_name][1]),
    }
    reproduced = (
        all(abs(rates[name] / predicted[name] - 1) < 0.03 for name in ("ReLU", "tanh"))  # the rate, within 3%
        and rates["ReLU"] > rates["tanh"] > 1.05  # whatever the nonlinearity
        and rates["linear"] < rates["tanh"]  # the nearer linear, the slower
        and all(a < b for a, b in itertools.pairwise(ratios))  # the deeper, the larger
        and numbers["residual_ratio"] < 1e-3 * ratios[-1]
    )

    def rate(name: str, of: dict[str, float] = rates) -> str:  # (four digits: ×1.205 against the theory's ×1.211)
        return number(of[name], 4)

    because = (
        f"with batch norm and ReLU, layer 1's dL/dz is ×{number(ratios[0])} the top hidden layer's at depth "
        f"{BN_DEPTHS[0]} and ×{number(ratios[-1])} at depth {deepest}. Away from the first and last "
        f"{BN_FIT_EDGE} layers (the data's, and the loss's), it grows ×{rate('ReLU')} a layer (a line fitted "
        f"to its log), where the theory says ×{rate('ReLU', predicted)} = √(π/(π−1)). tanh: ×{rate('tanh')} "
        f"a layer (theory ×{rate('tanh', predicted)}); linear: ×{rate('linear')} (theory "
        f"×{rate('linear', predicted)}). With residual connections, ×{number(numbers['residual_ratio'])} over the "
        f"same {deepest} ReLU layers."
    )

    def label(name: str) -> str:
        if name in rates:
            return f"{name}: ×{rate(name)} a layer (theory ×{rate(name, predicted)})"
        return f"{name}: ×{number(numbers['residual_ratio'])} in all"

    depths = pd.concat(
        [
            pd.DataFrame({"below_top": depth - p.index, "relative": p.to_numpy(), "series": f"{depth} layers"})
            for depth, p in reversed(by_depth.items())  # the deepest first: the others are drawn over it
        ],
        ignore_index=True,
    )
    below = np.arange(deepest)
    prediction = pd.DataFrame({"below_top": below, "relative": predicted["ReLU"] ** below})
    variant_frame = pd.concat(
        [pd.DataFrame({"layer": p.index, "relative": p.to_numpy(), "run": label(n)}) for n, p in variants.items()],
        ignore_index=True,
    )
    return Outcome(
        reproduced,
        _verdict(reproduced, because),
        numbers,
        {"depths": depths, "prediction": prediction, "variants": variant_frame},
    )


# ---- Saxe et al. 2013; Pennington et al. 2017 ----------------------------------------

# singular values under this share of the largest are 0 to float64's precision (ReLU: directions
# lost to units that are off; a deep Gaussian product: directions shrunk beyond it)
NEGLIGIBLE_SINGULAR = 1e-12


def _jacobian_singular_values(config: ExperimentConfig) -> np.ndarray:
    """Singular values of the untrained network's input-output Jacobian (the last hidden
    layer's output with respect to the input) at each of the first ISOMETRY_EXAMPLES
    training inputs, in float64 (a deep Gaussian network's smallest ones lie below
    float32's resolution). Each input is repeated once per output unit, and backprop of
    the unit vectors gives the Jacobian's rows, all in one pass."""
    model = build_model(config).double()
    x = make_dataset(config).x_train[:ISOMETRY_EXAMPLES].double()
    inputs = x.repeat_interleave(config.width, 0).requires_grad_(True)
    h = inputs
    for block in model.blocks:
        h = block(h)
    basis = torch.eye(config.width, dtype=torch.float64).repeat(len(x), 1)
    (rows,) = torch.autograd.grad(h, inputs, basis)
    jacobians = rows.view(len(x), config.width, -1)
    return torch.linalg.svdvals(jacobians).flatten().numpy()


def _decades(values: np.ndarray) -> float:
    """How many powers of ten the middle half of `values` spans."""
    low, high = np.percentile(np.log10(values), [25, 75])
    return float(high - low)


def _steps_to_accuracy(trainer: Trainer, target: float, every: int) -> pd.DataFrame:
    """Train until the test accuracy, measured every `every` steps, reaches `target` (or
    the run ends): a frame of step and test_accuracy."""
    rows = [(0, trainer.evaluate()[1])]
    while not trainer.done and rows[-1][1] < target:
        trainer.step(every)
        rows.append((trainer.step_count, trainer.evaluate()[1]))
    return pd.DataFrame(rows, columns=["step", "test_accuracy"])


def isometry(seed: int) -> Outcome:
    spectra, curves, numbers = [], [], {}
    for key, (name, activation, init, scale) in ISOMETRY_INITS.items():
        config = ISOMETRY.replace(activation=activation, init=init, weight_scale=scale, seed=seed)
        values = _jacobian_singular_values(config)
        negligible = values < NEGLIGIBLE_SINGULAR * values.max()
        numbers[f"{key}_decades"] = _decades(values[~negligible])
        numbers[f"{key}_median"] = float(np.median(values))
        numbers[f"{key}_negligible"] = float(negligible.mean())
        shown = f"{name} ({percent(negligible.mean())} under 10⁻¹²)" if negligible.any() else name
        spectra.append(pd.DataFrame({"log10_singular_value": np.log10(values[~negligible]), "init": shown}))
        if key in ISOMETRY_TRAINED:
            trainer = Trainer(config, record_every=config.steps)  # no per-layer history
            curve = _steps_to_accuracy(trainer, ISOMETRY_TARGET, ISOMETRY_EVERY)
            curves.append(curve.assign(init=shown))  # named as in the histogram: one legend entry for both
            reached = curve["test_accuracy"].iloc[-1] >= ISOMETRY_TARGET
            numbers[f"{key}_steps_to_target"] = float(curve["step"].iloc[-1]) if reached else math.inf
    reproduced = (
        numbers["tanh_orthogonal_decades"] < 1 < 3 < numbers["tanh_gaussian_decades"]
        and numbers["relu_orthogonal_negligible"] > 0.25  # orthogonal weights do not help ReLU
        and numbers["relu_orthogonal_decades"] > 3 * numbers["tanh_orthogonal_decades"]
        and numbers["tanh_orthogonal_steps_to_target"] <= 0.5 * numbers["tanh_gaussian_steps_to_target"]
    )

    def after(key: str) -> str:
        return _steps(numbers[f"{key}_steps_to_target"], ISOMETRY.steps)

    because = (
        f"through {ISOMETRY.depth} tanh layers the middle half of the Jacobian's singular values spans "
        f"{numbers['tanh_orthogonal_decades']:.2f} decades with orthogonal weights (median "
        f"{numbers['tanh_orthogonal_median']:.2f}) and at least {numbers['tanh_gaussian_decades']:.1f} with Gaussian "
        f"ones, {percent(numbers['tanh_gaussian_negligible'])} of which are under 10⁻¹² of the largest; test accuracy "
        f"reaches {ISOMETRY_TARGET:.0%} after {after('tanh_orthogonal')} (orthogonal) and {after('tanh_gaussian')} "
        f"(Gaussian). With ReLU and orthogonal weights, {percent(numbers['relu_orthogonal_negligible'])} of the "
        f"singular values are 0 (under 10⁻¹²) and the middle half of the rest spans "
        f"{numbers['relu_orthogonal_decades']:.1f} decades."
    )
    return Outcome(
        reproduced,
        _verdict(reproduced, because),
        numbers,
        {"spectra": pd.concat(spectra, ignore_index=True), "curves": pd.concat(curves, ignore_index=True)},
    )


# ---- Balduzzi et al. 2017 ------------------------------------------------------------


@torch.no_grad()
def _hold_batch_statistics(model: Network, x: torch.Tensor) -> None:
    """Put the model in eval mode with each batch norm's running statistics set to those of
    the batch x (as in training), so that each input's gradient is its own: in training
    mode the batch's mean and variance would tie every input's output to all the others."""
    model.eval()
    for block in model.blocks:
        if block.norm_before is not None:
            z = block.linear(x)
            block.norm_before.running_mean.copy_(z.mean(0))
            block.norm_before.running_var.copy_(z.var(0, correction=0))
        x = block(x)


def _neighbour_correlation(values: np.ndarray) -> float:
    """The correlation between a sequence's neighbouring values (lag 1)."""
    return float(np.corrcoef(values[:-1], values[1:])[0, 1])


def _line_gradients(config: ExperimentConfig) -> np.ndarray:
    """d(output)/dt along the segment SHATTERED_SEGMENT (t from 0 to 1), at
    SHATTERED_POINTS evenly spaced points, for the network of each depth 1..config.depth:
    the first hidden layers of `config`'s network and its output layer's first unit.
    Depths × points. Every depth's derivative at once, by differentiating backprop's
    gradient J^T v (linear in v) with respect to v along the segment's direction: J u,
    without forward-mode autograd, whose first use imports seconds of PyTorch."""
    model = build_model(config)
    (x0, y0), (x1, y1) = SHATTERED_SEGMENT
    start, direction = torch.tensor([x0, y0]), torch.tensor([x1 - x0, y1 - y0])
    x = start + torch.linspace(0, 1, SHATTERED_POINTS)[:, None] * direction
    _hold_batch_statistics(model, x)
    x.requires_grad_(True)
    outputs, h = [], x
    for block in model.blocks:
        h = block(h)
        outputs.append(h @ model.head.weight[0])
    outputs = torch.stack(outputs)  # depths × points
    v = torch.zeros_like(outputs, requires_grad=True)
    (backprop,) = torch.autograd.grad(outputs, x, v, create_graph=True)  # J^T v
    (along,) = torch.autograd.grad(backprop, v, direction.expand_as(x))  # J u
    return along.detach().numpy()


def shattered(seed: int) -> Outcome:
    kinds = {"plain": False, "residual": True}
    correlations, lines = [], []
    for name, residual in kinds.items():
        per_network = []
        for network in range(SHATTERED_NETWORKS):
            # (wrapped: a seed near the largest a config takes would otherwise pass it)
            config = SHATTERED.replace(residual=residual, seed=(SHATTERED_NETWORKS * seed + network) % (MAX_SEED + 1))
            gradients = _line_gradients(config)
            per_network.append([_neighbour_correlation(g) for g in gradients])
            if network == 0:
                last = gradients[-1]
                position = np.linspace(0, 1, SHATTERED_POINTS)
                lines.append(pd.DataFrame({"position": position, "gradient": last / last.std(), "run": name}))
        mean = np.mean(per_network, axis=0)
        depths = np.arange(1, SHATTERED.depth + 1)
        correlations.append(pd.DataFrame({"depth": depths, "correlation": mean, "run": name}))
    frame = pd.concat(correlations, ignore_index=True)
    at = frame.set_index(["run", "depth"])["correlation"]
    checked = (1, 10, 20, SHATTERED.depth)
    numbers = {f"{name}_depth{depth}": float(at[name, depth]) for name in kinds for depth in checked}
    below = frame[(frame["run"] == "plain") & (frame["correlation"] < 0.5)]["depth"]
    numbers["plain_half_at_depth"] = float(below.iloc[0]) if len(below) else math.inf
    deep = SHATTERED.depth
    reproduced = (
        numbers[f"plain_depth{deep}"] < 0.2 < 0.8 < numbers[f"residual_depth{deep}"]  # white noise; still smooth
        and numbers["residual_depth20"] - numbers["plain_depth20"] > 0.5
    )
    because = (
        f"neighbouring inputs' gradients correlate {fixed(numbers['plain_depth1'])} after one layer; in the plain "
        f"network {fixed(numbers['plain_depth10'])} after 10 layers, {fixed(numbers['plain_depth20'])} after 20 and "
        f"{fixed(numbers[f'plain_depth{deep}'])} after {deep} (white noise: 0); with residual connections "
        f"{fixed(numbers['residual_depth10'])}, {fixed(numbers['residual_depth20'])} and "
        f"{fixed(numbers[f'residual_depth{deep}'])} (mean of {SHATTERED_NETWORKS} random networks each)."
    )
    return Outcome(
        reproduced,
        _verdict(reproduced, because),
        numbers,
        {"correlation": frame, "gradients": pd.concat(lines, ignore_index=True)},
    )


# ---- Hanin 2018 ----------------------------------------------------------------------

OFF_BY = 10  # a network whose |J u|² is over this factor above or below the mean "explodes" or "vanishes"


def _random_layers(
    config: ExperimentConfig, fan_in: int, networks: int, gen: torch.Generator
) -> Iterator[torch.Tensor]:
    """The hidden layers' weights of `networks` random networks of config's shape, one layer
    at a time (all of them at once would take a gigabyte), drawn by the engine's
    `initialize`: all networks' rows of a layer as one Linear, whose rule reads the fan-in,
    the same for every row. Each: networks × fan_in × fan_out."""
    for n_in, n_out in itertools.pairwise([fan_in] + [config.width] * config.depth):
        layers = uninitialized_linear(n_in, networks * n_out)
        initialize(layers, config.init, gen)
        weight = layers.weight.detach().mul_(config.weight_scale)
        yield weight.view(networks, n_out, n_in).transpose(1, 2)


@torch.no_grad()
def _relu_jacobian_sizes(layers: Iterable[torch.Tensor], x: torch.Tensor, direction: torch.Tensor) -> np.ndarray:
    """|J_d u|² at every depth d for a stack of ReLU networks without biases (`layers` as
    `_random_layers` draws them): J_d is the Jacobian of hidden layer d's output with
    respect to the input x (one example), u = `direction` carried up through each layer (W
    times it, kept where the unit is on). Networks × depths."""
    h, step, sizes = x, direction, []
    for weight in layers:
        z = h @ weight
        on = z > 0
        h, step = z * on, (step @ weight) * on
        sizes.append(step.square().sum((1, 2)))
    return torch.stack(sizes, 1).double().numpy()


def width(seed: int) -> Outcome:
    gen = torch.Generator().manual_seed(seed)
    x = make_dataset(WIDTH_NET).x_train[:1]
    direction = torch.randn(x.shape, generator=gen)
    direction /= direction.norm()
    depths = np.arange(1, WIDTH_NET.depth + 1)
    rows = []
    for units in WIDTHS:
        # He's init keeps the mean of |J u|² at (units)/(inputs) at every depth: 1 after this
        layers = _random_layers(WIDTH_NET.replace(width=units), x.shape[1], WIDTH_TRIALS, gen)
        relative = _relu_jacobian_sizes(layers, x, direction) * x.shape[1] / units
        alive = relative > 0  # a layer with every unit off cuts it to 0 (a chance of 2^-width)
        spread = [np.var(np.log(r[a]), ddof=1) for r, a in zip(relative.T, alive.T, strict=True)]
        rows.append(
            pd.DataFrame(
                {
                    "width": units,
                    "depth": depths,
                    "beta": depths / units,
                    "spread": spread,
                    "predicted": depths * theory.relu_jacobian_log_variance(units),
                    "off": ((relative < 1 / OFF_BY) | (relative > OFF_BY)).mean(0),
                    "zero": (~alive).sum(0),
                }
            )
        )
    frame = pd.concat(rows, ignore_index=True)
    deepest = frame[frame["depth"] == WIDTH_NET.depth].set_index("width")

    def per_beta(rows: pd.DataFrame) -> float:  # the spread per unit of β, least squares through 0
        return float((rows["beta"] * rows["spread"]).sum() / (rows["beta"] ** 2).sum())

    numbers = {
        **{f"spread_width{w}": float(deepest.loc[w, "spread"]) for w in WIDTHS},
        **{f"predicted_width{w}": float(deepest.loc[w, "predicted"]) for w in WIDTHS},
        **{f"off_width{w}": float(deepest.loc[w, "off"]) for w in WIDTHS},
        # each width's own slope (one fit over every width said "about 6.5·β over every width" beside
        # width 64's and 128's points on the 5·β line)
        **{f"spread_per_beta_width{w}": per_beta(frame[frame["width"] == w]) for w in WIDTHS},
        "networks_cut_to_zero": float(deepest["zero"].sum()),
    }
    spread = [numbers[f"spread_width{w}"] for w in WIDTHS]
    narrow, wide = WIDTHS[0], WIDTHS[-1]
    reproduced = (
        all(a > b for a, b in itertools.pairwise(spread))  # the narrower, the wider the spread
        and all(abs(numbers[f"spread_width{w}"] / numbers[f"predicted_width{w}"] - 1) < 0.35 for w in WIDTHS)
        and numbers[f"off_width{narrow}"] > 2 * numbers[f"off_width{wide}"]
    )
    because = (
        f"at depth {WIDTH_NET.depth}, the variance of ln |J u|² over {WIDTH_TRIALS} random networks is "
        + ", ".join(f"{numbers[f'spread_width{w}']:.1f}" for w in WIDTHS)
        + f" at widths {', '.join(map(str, WIDTHS))} (theory: "
        + ", ".join(f"{numbers[f'predicted_width{w}']:.1f}" for w in WIDTHS)
        + "); over every depth, per unit of β = depth/width, "
        + ", ".join(f"{numbers[f'spread_per_beta_width{w}']:.1f}·β at width {w}" for w in WIDTHS)
        + " (theory: "
        + ", ".join(f"{theory.relu_jacobian_log_variance(w) * w:.1f}" for w in WIDTHS)
        + "). "
        f"{percent(numbers[f'off_width{narrow}'])} of the width-{narrow} networks are off their mean by over "
        f"×{OFF_BY} either way, {percent(numbers[f'off_width{wide}'])} of the width-{wide} ones."
    )
    return Outcome(reproduced, _verdict(reproduced, because), numbers, {"spread": frame})


RUNS: dict[str, Callable[[int], Outcome]] = {
    "glorot": glorot,
    "he": he,
    "ioffe": ioffe,
    "dying": dying,
    "selu": selu,
    "lstm": long_range_memory,
    "bn_init": bn_init,
    "isometry": isometry,
    "shattered": shattered,
    "width": width,
}
CLASSICS: tuple[Classic, ...] = tuple(Classic(paper, RUNS[paper.key]) for paper in PAPERS)
CLASSIC_BY_KEY = {c.key: c for c in CLASSICS}
