"""Physics, determinism, every combination, divergence, memory, the command line."""

from __future__ import annotations

import itertools
import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch

from tests.crowd import others_training
from vangrad_core import (
    ACTIVATIONS,
    DATASETS_2D,
    INITS,
    NORMS,
    ExperimentConfig,
    Trainer,
    build_model,
    layer_stats,
    make_dataset,
    run_experiment,
)
from vangrad_core import recurrent as vangrad_recurrent
from vangrad_core import trainer as vangrad_trainer
from vangrad_core.__main__ import main as command_line
from vangrad_core.cost import GRID_RESOLUTION, grid_resolution
from vangrad_core.lessons import SCENARIO_BY_NAME
from vangrad_core.live import LiveTrainer
from vangrad_core.measure import LAYER_COLUMNS
from vangrad_core.measure_fast import raw_dtype
from vangrad_core.recurrent import RecurrentConfig, RecurrentTrainer
from vangrad_core.summary import BLOWN_UP_LOSS, doomed_from_the_start, headline
from vangrad_core.trainer import HISTORY_BYTES, layer_record_every, not_finite_words
from vangrad_core.writing import number


def first_over_last_hidden(config: ExperimentConfig) -> float:
    model, data = build_model(config), make_dataset(config)
    stats = layer_stats(model, data.x_train[:256], data.y_train[:256])
    return stats["delta_rms"].iloc[0] / stats["delta_rms"].iloc[config.depth - 1]  # the pages' measure


# ---- physics -------------------------------------------------------------------


def test_sigmoid_derivative_never_exceeds_a_quarter():
    result = run_experiment(ExperimentConfig(depth=8, width=32, steps=60, learning_rate=1.0))
    hidden = result.layers.dropna(subset=["mean_derivative"])
    assert (hidden["mean_derivative"] <= 0.25).all()
    assert hidden["mean_derivative"].max() > 0.2  # near the peak at init, not trivially small


def test_deep_sigmoid_gradients_vanish_toward_the_input():
    ratio = first_over_last_hidden(ExperimentConfig(depth=20, activation="sigmoid"))
    assert ratio < 1e-10  # many orders of magnitude, layer 1 vs layer 20


@pytest.mark.parametrize(
    "config",
    [
        ExperimentConfig(depth=20, activation="sigmoid", norm="batchnorm_before"),
        ExperimentConfig(depth=20, activation="relu", init="he_normal"),
    ],
    ids=["sigmoid+batchnorm", "relu+he"],
)
def test_the_fixes_keep_gradient_scale(config):
    ratio = first_over_last_hidden(config)
    assert 1e-2 < ratio < 1e2


def second_moment_ratio(init: str) -> float:
    """E[x²] of layer 30's pre-activations over layer 2's, in a ReLU net at init."""
    config = ExperimentConfig(depth=30, width=256, activation="relu", init=init, dataset="teacher")
    model, data = build_model(config), make_dataset(config)
    stats = layer_stats(model, data.x_train[:512], data.y_train[:512]).iloc[:-1]
    second_moment = stats["act_input_std"] ** 2 + stats["act_input_mean"] ** 2
    return second_moment.iloc[-1] / second_moment.iloc[1]


def test_relu_with_he_init_keeps_activation_scale():
    """He et al.: with std sqrt(2/n), E[x²] stays constant through ReLU layers (up to
    finite-width noise); Xavier's std sqrt(1/n) halves it every layer: 2^-28 in 28."""
    assert 0.1 < second_moment_ratio("he_normal") < 10
    assert second_moment_ratio("xavier_normal") == pytest.approx(2.0**-28, rel=0.9)


def test_dying_relu_shows_dead_units_and_leaky_relu_has_none():
    config = ExperimentConfig(
        depth=6, width=16, activation="relu", init="he_normal", learning_rate=3.0, steps=80, seed=1
    )
    relu = run_experiment(config)
    leaky = run_experiment(config.replace(activation="leaky_relu"))
    assert relu.layers["dead_fraction"].max() > 0.2
    assert leaky.layers["dead_fraction"].max() == 0


# ---- determinism ---------------------------------------------------------------


def test_same_config_gives_identical_frames():
    config = ExperimentConfig(depth=5, width=16, steps=40, norm="batchnorm_before", seed=3)
    a, b = run_experiment(config), run_experiment(config)
    pd.testing.assert_frame_equal(a.layers, b.layers)
    pd.testing.assert_frame_equal(a.metrics, b.metrics)


def test_identical_while_other_threads_train_and_touch_the_global_rng():
    config = ExperimentConfig(depth=5, width=16, steps=40, seed=11)
    alone = run_experiment(config)

    def noisy_step(other: Trainer) -> None:
        torch.manual_seed(other.config.seed)  # global state, which the engine must never use
        torch.rand(3)
        other.step(1)

    others = [ExperimentConfig(depth=4, width=24, seed=seed, steps=20000) for seed in (1, 2, 3)]
    with others_training(others, noisy_step):
        crowded = run_experiment(config)
    pd.testing.assert_frame_equal(alone.layers, crowded.layers)
    pd.testing.assert_frame_equal(alone.metrics, crowded.metrics)


def test_datasets_are_deterministic_and_standardized():
    for name in ("spirals", "circles", "moons", "xor", "gaussians", "digits", "teacher"):
        config = ExperimentConfig(dataset=name, seed=5)
        a, b = make_dataset(config), make_dataset(config)
        assert torch.equal(a.x_train, b.x_train) and torch.equal(a.y_test, b.y_test)
        assert a.x_train.dtype == torch.float32 and a.y_train.dtype == torch.int64
        assert a.x_train.mean(0).abs().max() < 1e-4
        assert len(a.x_test) > 100 and a.y_train.unique().numel() >= 2
    digits = make_dataset(ExperimentConfig(dataset="digits"))
    assert digits.x_train.shape[1] == 64 and digits.n_classes == 10


# ---- every combination -----------------------------------------------------------


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_activation_init_norm_trains(activation):
    for init, norm in itertools.product(INITS, NORMS):
        config = ExperimentConfig(
            depth=3, width=6, activation=activation, init=init, norm=norm, steps=3, residual=norm == "none"
        )
        trainer = Trainer(config)
        trainer.step(3)
        assert trainer.step_count == 3 or trainer.diverged_at is not None, (init, norm)
        assert list(trainer.layers.columns) == list(LAYER_COLUMNS)
        assert len(trainer.layers) == trainer.step_count * 4


def test_incremental_steps_equal_one_run():
    config = ExperimentConfig(depth=4, width=8, steps=50)
    trainer = Trainer(config)
    while not trainer.done:
        trainer.step(7)
    pd.testing.assert_frame_equal(trainer.layers, run_experiment(config).layers)
    assert trainer.step(5) == 0  # done: nothing more runs


# ---- divergence ----------------------------------------------------------------


def test_a_loss_that_is_no_longer_a_number_is_said_in_words():
    """What a student reads says "NaN (not a number)" or "infinite", not Python's nan or inf."""
    words = [not_finite_words(v) for v in (math.nan, math.inf, -math.inf)]
    assert words == ["NaN (not a number)", "infinite", "infinite"]
    config = SCENARIO_BY_NAME["Exploding gradients"].config
    trainer = Trainer(config)
    trainer.step(config.steps)
    assert trainer.divergence_reason.startswith("the loss became NaN (not a number); the updates had grown")


def test_a_run_whose_initial_weights_blew_the_loss_up_blames_them_not_its_updates():
    """Depth-50 residual ReLU with He init: the first loss is 1.8e11 and the first update
    blows up, at a learning rate of 1e-4 as at 0.1; the page said "the updates had grown
    the weights" and advised a smaller learning rate (a browser walk)."""
    config = ExperimentConfig(depth=50, activation="relu", init="he_normal", residual=True, dataset="teacher", steps=5)
    for rate in (0.1, 1e-4):
        result = run_experiment(config.replace(learning_rate=rate))
        first = result.metrics["loss"].iat[0]
        assert result.diverged_at == 1 and first > BLOWN_UP_LOSS
        assert result.divergence_reason.endswith(
            f"; the initial weights already gave a loss of {number(first)}: its gradient made the first update "
            "large enough to blow the weights up"
        )
        assert doomed_from_the_start(result.diverged_at, first)
    # a run that starts sane and whose updates blow up is told so (the Exploding scenario: 6.3 at step 1)
    assert not doomed_from_the_start(3, 6.3) and doomed_from_the_start(0, math.nan)


def test_the_advice_after_a_divergence_names_only_what_could_help_and_the_run_lacks():
    """The banner said "try gradient clipping or batch norm" to a run with both, and to a
    recurrent run that clipped and diverged before its first update (browser walks)."""
    from vangrad_core.recurrent import RecurrentConfig
    from vangrad_core.summary import divergence_advice, time_divergence_advice

    plain, both = ExperimentConfig(), ExperimentConfig(norm="batchnorm_before", grad_clip=1.0)
    assert divergence_advice(plain, 0, 1.0) == "Try a smaller weight scale, another initialization or batch norm."
    assert divergence_advice(both, 0, 1.0) == "Try a smaller weight scale or another initialization."
    assert divergence_advice(plain, 3, 6.3) == (
        "Try a smaller learning rate, a smaller weight scale, gradient clipping or batch norm."
    )
    assert divergence_advice(both, 3, 6.3) == (
        "Try a smaller learning rate, a smaller weight scale or a clipping threshold below 1."
    )
    rnn, clipped = RecurrentConfig(), RecurrentConfig(init="scaled_normal", spectral_radius=3.0, grad_clip=1.0)
    assert time_divergence_advice(rnn, 4, 1.0) == "Try a smaller learning rate or gradient clipping."
    assert time_divergence_advice(clipped, 4, 1.0) == "Try a smaller learning rate or a clipping threshold below 1."
    assert time_divergence_advice(clipped, 0, 1.0) == (
        "Try a smaller spectral radius or another initialization of the recurrent weights."
    )
    assert time_divergence_advice(rnn, 0, 1.0) == "Try another initialization of the recurrent weights."


def test_a_comparison_says_where_each_run_has_dead_units_now():
    from vangrad_core.summary import dead_units_words

    def layers(dead_now: list[float]) -> pd.DataFrame:  # two steps of 3 hidden layers and the output layer
        rows = [
            {"step": step, "layer": layer, "saturation": 0.5 if layer <= 3 else math.nan, "dead_fraction": dead}
            for step, deads in ((0, [0.0, 0.0, 0.0, math.nan]), (1, [*dead_now, math.nan]))
            for layer, dead in enumerate(deads, start=1)
        ]
        return pd.DataFrame(rows)

    assert dead_units_words(layers([0.0, 0.0, 0.0])) == "no dead unit now"
    assert dead_units_words(layers([0.0, 0.25, 0.62])) == "dead units in 2 of 3 hidden layers now, up to 62% of a layer"
    assert dead_units_words(layers([0.0, 0.0, 0.0]).iloc[:0]) == ""


def test_huge_learning_rate_diverges_and_keeps_finite_history():
    config = ExperimentConfig(depth=10, width=32, activation="relu", init="large_normal", learning_rate=10.0, steps=200)
    result = run_experiment(config)
    assert result.diverged_at is not None
    # (N(0, 1) weights: the first loss is already 2.4e5, and the reason says so)
    assert result.diverged_at > 0 and "blow the weights up" in result.divergence_reason
    at_init = run_experiment(config.replace(depth=30, weight_scale=10.0, steps=3))
    assert at_init.diverged_at == 0 and "before any update" in at_init.divergence_reason
    assert len(result.metrics) == result.diverged_at
    assert np.isfinite(result.metrics["loss"]).all()
    numeric = result.layers.drop(columns=["norm_gamma_mean", "norm_beta_mean"])
    hidden = numeric[numeric["layer"] <= config.depth]
    assert np.isfinite(hidden.to_numpy()).all()


def test_outputs_that_overflowed_have_no_test_accuracy():
    """The first update overflows the outputs: the test after it has no accuracy (NaN),
    not the 50% that the largest of NaNs scored; the headline then shows none, as the
    chart draws no test point."""
    config = ExperimentConfig(depth=20, activation="relu", init="large_normal", weight_scale=10, dataset="moons")
    result = run_experiment(config)
    assert result.diverged_at == 1
    assert math.isnan(result.metrics["test_loss"].iat[0]) and math.isnan(result.metrics["test_accuracy"].iat[0])
    assert math.isnan(headline(result.metrics, result.layers, config).test_accuracy)


# ---- memory --------------------------------------------------------------------


def test_largest_run_keeps_bounded_history():
    config = ExperimentConfig(depth=100, width=512, steps=20000)
    every = layer_record_every(config)
    records = config.steps // every + 2
    history_bytes = records * ((config.depth + 1) * len(LAYER_COLUMNS) * 8 + raw_dtype(config.depth).itemsize)
    assert every > 1
    assert history_bytes + config.steps * 5 * 8 <= 50 * 2**20
    assert HISTORY_BYTES <= 50 * 2**20


def test_a_large_networks_decision_grid_has_fewer_points_and_the_lessons_keep_the_finest():
    """A snapshot's decision grid is a forward pass of resolution² points: 60 a side for
    every lesson's network on 2-D data, 20 for the largest network (3600 points of a
    depth-100 × width-512 network cost 12 of its training steps at batch 64)."""
    lessons = [s.config for s in SCENARIO_BY_NAME.values() if s.config.dataset in DATASETS_2D]
    assert lessons and {grid_resolution(c) for c in lessons} == {GRID_RESOLUTION[1]}
    largest = ExperimentConfig(depth=100, width=512)
    assert grid_resolution(largest) == GRID_RESOLUTION[0]
    sizes = [grid_resolution(ExperimentConfig(depth=20, width=w)) for w in (32, 64, 128, 256, 512)]
    assert sizes == sorted(sizes, reverse=True) and len(set(sizes)) > 2  # fewer as the network grows
    run = LiveTrainer(ExperimentConfig(depth=8, width=256, dataset="moons"))
    grid, points = run.snapshot(decision=True).decision  # the grid a page draws
    side = grid_resolution(run.config)
    assert GRID_RESOLUTION[0] < side < GRID_RESOLUTION[1] and len(grid) == side**2
    assert grid["p1"].between(0, 1).all() and len(points) == len(run.trainer.data.y_test)


def test_long_run_records_every_kth_step_and_says_so():
    config = ExperimentConfig(depth=100, width=2, steps=20000)
    trainer = Trainer(config)
    trainer.step(3 * trainer.record_every)
    assert trainer.record_every > 1
    assert trainer.layers.attrs["record_every"] == trainer.record_every
    assert sorted(trainer.layers["step"].unique()) == [0, trainer.record_every, 2 * trainer.record_every]
    rows = sum(column.nbytes for column in trainer._columns.values())
    kept = rows + trainer._records.nbytes  # rows, and the raw records they are made from
    assert kept <= HISTORY_BYTES + 2 * ((config.depth + 1) * len(LAYER_COLUMNS) * 8 + raw_dtype(config.depth).itemsize)
    assert kept + trainer._metrics.nbytes <= 50 * 2**20


@pytest.mark.parametrize(
    "config",
    [
        ExperimentConfig(depth=6, width=16, norm="batchnorm_before", steps=120),
        ExperimentConfig(depth=4, width=12, activation="gelu", norm="layernorm_before", residual=True, steps=60),
        ExperimentConfig(depth=4, width=8, activation="relu", init="he_normal", optimizer="adam", steps=60),
    ],
    ids=["batchnorm", "layernorm-residual", "adam"],
)
def test_a_run_asked_to_record_only_its_ends_trains_the_same_numbers(config):
    """`Trainer(config, record_every=config.steps)` (the classic experiments that read
    no per-layer history) keeps `layers` at step 0 and the last step only, and its
    training, losses and tests are the fully recorded run's."""
    full, ends = Trainer(config), Trainer(config, record_every=config.steps)
    full.step(config.steps), ends.step(config.steps)
    assert ends.record_every == config.steps and sorted(ends.layers["step"].unique()) == [0, config.steps - 1]
    pd.testing.assert_frame_equal(ends.metrics, full.metrics)
    kept = full.layers[full.layers["step"].isin([0, config.steps - 1])].reset_index(drop=True)
    pd.testing.assert_frame_equal(ends.layers, kept)
    assert all(torch.equal(a, b) for a, b in zip(ends.model.parameters(), full.model.parameters(), strict=True))
    assert Trainer(ExperimentConfig(depth=100, width=2, steps=20000), record_every=1).record_every > 1  # the budget


def test_a_run_that_records_seldom_diverges_where_a_recorded_one_does():
    """A step not recorded decides "the weights are finite" as a recorded one does (the
    same compiled pass): a weight of 1e20, whose float32 norm a plain torch norm
    overflowed, is finite both ways, and the runs train alike."""
    config = ExperimentConfig(depth=4, width=8, steps=6)
    full, ends = Trainer(config), Trainer(config, record_every=config.steps)
    for trainer in (full, ends):
        with torch.no_grad():
            trainer.model.blocks[1].linear.weight[0, 0] = 1e20  # a saturated sigmoid: the loss stays finite
        trainer.step(config.steps)
    assert full.diverged_at is None and ends.diverged_at is None
    pd.testing.assert_frame_equal(ends.metrics, full.metrics)


@pytest.mark.parametrize("make", [Trainer, RecurrentTrainer], ids=["feedforward", "recurrent"])
def test_a_run_that_records_its_ends_trains_on_past_them(make):
    """Extended, a finished run keeps its last step's record (off the new grid) and
    has room for the new last one; a run extended before it finishes, twice, keeps the
    room it had."""
    config = (ExperimentConfig(depth=2, width=4) if make is Trainer else RecurrentConfig(length=5, hidden=4)).replace(
        steps=10
    )
    trainer = make(config, record_every=10)
    trainer.step(10)
    trainer.extend(5)
    assert trainer.step(5) == 5 and trainer.done
    frame = trainer.layers if make is Trainer else trainer.time_gradients
    assert sorted(frame["step"].unique()) == [0, 9, 10, 14]  # four records, where 15 // 10 + 2 had room for three
    midway = make(config.replace(steps=42), record_every=10)
    midway.step(33), midway.extend(11), midway.step(16), midway.extend(4)
    assert midway.step(100) == 8 and midway.done
    frame = midway.layers if make is Trainer else midway.time_gradients
    assert sorted(frame["step"].unique()) == [0, 10, 20, 30, 40, 50, 56]


@pytest.mark.parametrize(
    "config",
    [
        SCENARIO_BY_NAME["Exploding gradients"].config,
        ExperimentConfig(depth=10, width=32, activation="relu", init="large_normal", learning_rate=10.0, steps=200),
        ExperimentConfig(depth=30, width=32, activation="relu", init="large_normal", weight_scale=10.0, steps=3),
    ],
    ids=["exploding", "huge-learning-rate", "at-init"],
)
def test_a_diverging_run_stops_at_the_same_step_however_often_it_records(config):
    full, ends = Trainer(config), Trainer(config, record_every=config.steps)
    full.step(config.steps), ends.step(config.steps)
    assert full.diverged_at is not None
    assert (ends.diverged_at, ends.divergence_reason) == (full.diverged_at, full.divergence_reason)
    pd.testing.assert_frame_equal(ends.metrics, full.metrics)


# ---- command line --------------------------------------------------------------


def test_command_line_prints_a_summary_and_writes_csv(tmp_path, capsys):
    assert command_line(["--depth", "6", "--steps", "30", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "RMS of dL/dz), layer 1 / last hidden layer" in printed and "test accuracy" in printed
    layers = pd.read_csv(tmp_path / "layers.csv")
    assert list(layers.columns) == list(LAYER_COLUMNS) and len(layers) == 30 * 7
    assert len(pd.read_csv(tmp_path / "metrics.csv")) == 30


def test_command_line_rejects_bad_values_with_a_message(tmp_path, capsys):
    assert command_line(["--depth", "0", "--out", str(tmp_path)]) == 2
    message = capsys.readouterr().err
    assert "depth" in message and "1 to 100" in message and "Traceback" not in message


def test_the_module_runs_as_a_command(tmp_path):
    """`python -m vangrad_core` is the same entry point, in a process of its own."""
    run = subprocess.run(
        [sys.executable, "-m", "vangrad_core", "--depth", "2", "--steps", "3", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "layers.csv").exists()


def test_headline_ratio_matches_the_frame():
    from vangrad_core.summary import headline

    result = run_experiment(ExperimentConfig(depth=6, steps=20))
    head = headline(result.metrics, result.layers, result.config)
    last = result.layers[result.layers["step"] == 19].set_index("layer")
    assert head.step == 20
    assert head.gradient_ratio == pytest.approx(last["delta_rms"][1] / last["delta_rms"][6])
    assert head.per_layer == pytest.approx(head.gradient_ratio ** (1 / 5))
    assert 1 <= head.flat_layer <= 6 and head.flat_word == "saturated"
    assert not math.isnan(head.test_accuracy)


def test_the_loss_sentence_says_stalled_only_when_the_accuracy_is_at_chance_too():
    """One hidden sigmoid layer after 50 steps: a loss of 0.686, 1% under ln 2, while the
    test accuracy had reached 62% and climbed; it said "learning has stalled"."""
    from vangrad_core.summary import loss_sentence

    begun = run_experiment(ExperimentConfig(depth=1, steps=50))
    assert abs(begun.metrics["loss"].iloc[-20:].mean() - math.log(2)) < 0.05 * math.log(2)
    said = loss_sentence(begun.metrics, 2)
    accuracy = begun.metrics["test_accuracy"].dropna().iloc[-1]
    assert accuracy > 0.6 and f"the test accuracy, {accuracy:.0%}, is above chance (50%)" in said
    assert "stalled" not in said
    stalled = run_experiment(SCENARIO_BY_NAME["Deep sigmoid stalls"].config.replace(steps=200))
    assert stalled.metrics["test_accuracy"].dropna().iloc[-1] < 0.6
    assert loss_sentence(stalled.metrics, 2).endswith("no better than guessing: learning has stalled.")
    worse = pd.DataFrame({"loss": [2.56] * 20, "test_accuracy": [0.5] * 20})  # a loss over ln 2: not "above guessing"
    assert loss_sentence(worse, 2).endswith("worse than guessing.")
    # batches of one example (a browser walk): a mean 6% under ln 10 within its own noise,
    # the test accuracy at 14%, was "below guessing: the network is learning"
    noisy = run_experiment(
        ExperimentConfig(depth=10, activation="sigmoid", batch_size=1, steps=200, dataset="teacher")
    ).metrics
    losses = noisy["loss"].iloc[-20:]
    assert 0.05 * math.log(10) < math.log(10) - losses.mean() < 2 * losses.std() / math.sqrt(20)
    assert noisy["test_accuracy"].dropna().iloc[-1] < 0.2
    assert loss_sentence(noisy, 10).endswith("no better than guessing: learning has stalled.")
    above = pd.DataFrame({"loss": [2.0, 3.1] * 10, "test_accuracy": [0.1] * 20})  # as noisy, 11% over ln 10
    assert loss_sentence(above, 10).endswith("worse than guessing.")  # (the noise widens the band below only)
    # in its first steps a run has not stalled: "Batch norm rescues deep sigmoid" was "stalled" at steps 1-5,
    # and its loss fell below guessing from step 6 (a browser walk)
    rescued = run_experiment(SCENARIO_BY_NAME["Batch norm rescues deep sigmoid"].config.replace(steps=30)).metrics
    first = f"Loss now {number(rescued['loss'].iloc[0], 3)} (its first batch); guessing among 2 classes"
    assert loss_sentence(rescued.iloc[:1], 2).startswith(first)
    assert loss_sentence(rescued.iloc[:3], 2).endswith(
        "(mean of the 3 batches so far); guessing among 2 classes scores ln 2 ≈ 0.69: no better than guessing yet."
    )
    assert "below guessing: the network is learning" in loss_sentence(rescued, 2)


def test_dead_layers_are_named_with_the_step_their_death_began():
    """ReLU at learning rate 10 (a browser walk): layer 8 died within a few steps and the
    page never said when. The step named is the first of the streak that lasts to now."""
    from vangrad_core.summary import dead_layers_sentence

    layers = run_experiment(
        ExperimentConfig(depth=8, width=32, activation="relu", learning_rate=10.0, dataset="spirals", steps=60)
    ).layers
    eight = layers[layers["layer"] == 8].set_index("step")["dead_fraction"]
    began = int(eight[eight < 1].index.max()) + 1  # the recorded step after its last living one
    assert (eight.loc[began:] >= 1).all() and began > 0
    assert dead_layers_sentence(layers).startswith(f"Layer 8 is dead, since step {began + 1}: ")
    thinned = layers[(layers["step"] % 4 == 0) | (layers["step"] == layers["step"].max())]  # a long run's rows
    first = int(thinned.loc[(thinned["layer"] == 8) & (thinned["step"] >= began), "step"].min())
    assert first - 1 not in set(thinned["step"])  # the step before it was not recorded: "by", not "since"
    assert dead_layers_sentence(thinned).startswith(f"Layer 8 is dead, by step {first + 1}: ")
    assert dead_layers_sentence(run_experiment(ExperimentConfig(depth=4, steps=20)).layers) == ""
    # a skip connection carries the gradient on past a dead layer (not past the first, which has none)
    assert dead_layers_sentence(layers, residual=True).endswith(
        "the skip connection around it carries the gradient on back."
    )
    first_dead = layers.assign(dead_fraction=np.where(layers["layer"] == 1, 1.0, 0.0))
    assert dead_layers_sentence(first_dead, residual=True).endswith("so nothing passes back through it.")
    # a step whose share is unknown does not extend a streak, and a frame without hidden layers says nothing
    gap = first_dead.assign(dead_fraction=lambda f: f["dead_fraction"].where(f["step"] != 30, np.nan))
    assert f"since step {31 + 1}:" in dead_layers_sentence(gap)
    assert dead_layers_sentence(layers[layers["layer"] == 9]) == ""


def test_a_factor_near_one_is_said_with_the_digits_that_tell_its_direction():
    from vangrad_core.summary import passed_back

    assert passed_back(1.08, 20, "layer 1", "layer 20", "layer") == (
        "Now layer 1 gets 1.1 times what layer 20 gets: on its way back the gradient grows ×1.004 a layer on average."
    )
    assert "shrinks ×0.996 a layer" in passed_back(0.93, 20, "layer 1", "layer 20", "layer")
    assert "grows ×1.0004 a layer" in passed_back(1.0004**19, 20, "layer 1", "layer 20", "layer")
    assert "shrinks ×0.14 a layer" in passed_back(0.14**19, 20, "layer 1", "layer 20", "layer")
    # 30 ReLU layers whose layer 1 gets 5.7 times layer 30's: ×1.1 would multiply out to 16
    assert "grows ×1.06 a layer" in passed_back(5.7, 30, "layer 1", "layer 30", "layer")


@pytest.mark.parametrize("count", [2, 20, 30, 50, 100])
def test_a_factor_multiplied_out_over_its_layers_gives_back_the_ratio_beside_it(count):
    """A student who multiplies the factor out gets the headline's ratio to within a fifth:
    30 ReLU layers whose layer 1 gets 5.7 times layer 30's grow ×1.06 a layer, not ×1.1
    (1.1²⁹ is 16)."""
    from vangrad_core.summary import factor_number

    for ratio in np.geomspace(1e-40, 1e40, 321):
        shown = float(factor_number(ratio ** (1 / (count - 1)), steps=count - 1).replace("\u2212", "-"))
        assert shown ** (count - 1) == pytest.approx(ratio, rel=0.2), (ratio, shown)


def test_a_number_prints_its_minus_signs_as_minus_signs_not_hyphens():
    """The exponent's sign is a minus sign: a browser broke a caption after a hyphen, "1e-" | "17";
    a negative number's too, so that a caption never mixes the two ("-1.1e−3", a browser walk)."""

    values = (6.7e-17, 3e20, 0.14, 1600, -2.5e-5, -0.0721, -5000)
    assert [number(v) for v in values] == ["6.7e−17", "3e20", "0.14", "1600", "−2.5e−5", "−0.072", "−5000"]


def test_a_range_reads_both_ends_to_the_same_decimals():
    """Gamma "between 0.997 and 1" where the chart showed 1.005 (a browser walk)."""
    from vangrad_core.summary import range_words

    assert range_words(0.997, 1.005, 3) == "between 0.997 and 1.005"
    assert range_words(-5.21, 1.0) == "between −5.2 and 1.0"
    assert range_words(1.0001, 1.0002, 3) == "1 in every layer"
    # one end small, the other not: both in decimals (a batch-norm caption read "between −1.8e−4 and 0.039"),
    # the larger to the smaller's places where it needs them ("1.004", not "1"), padded with no zeros
    assert range_words(-1.8e-4, 0.039) == "between −0.00018 and 0.039"
    assert range_words(1e-4, 0.5) == "between 0.0001 and 0.5" == range_words(9.9999e-5, 0.5)
    assert range_words(0.0012, 1.004, 3) == "between 0.0012 and 1.004"
    assert range_words(-2e-3, 1e-3) == "between −0.002 and 0.001"
    assert range_words(3e-5, 0.5) == "between 0.00003 and 0.5"
    # past five places, large, or not a number: as `number` writes them (it raised on 2e4, NaN and Inf)
    assert range_words(3e-6, 0.5) == "between 3e−6 and 0.5"
    assert range_words(0.5, 2e4) == "between 0.5 and 2e4"
    assert range_words(0.5, math.nan) == range_words(0.5, math.inf) == "between 0.5 and –"


def test_where_a_run_diverged_is_said_as_the_step_counter_counts():
    from vangrad_core.summary import divergence_words, ordinal

    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "111th"
    ]  # fmt: skip
    assert divergence_words(3, "why") == "after 3 steps, on the 4th: why"  # the counter reads 3 / 500
    assert divergence_words(1, "why") == "after 1 step, on the 2nd: why"
    assert divergence_words(0, "why") == "on its first step: why"


def test_a_gradient_through_time_that_fell_to_0_is_not_said_to_be_cut():
    """Through time no dead unit is counted: a plain RNN's t = 1 at 0 of t = 100 may have
    underflowed (a tanh RNN's did), and the page said "it was cut to 0"."""
    from vangrad_core.summary import time_sentence

    rows = pd.DataFrame({"step": 5, "t": [1, 2, 3], "grad_rms": [0.0, 1e-30, 1e-3]})
    assert time_sentence(rows) == "Now t = 1 gets no gradient at all: on its way back from t = 3 it fell to exactly 0."
    rows["grad_rms"] = [1e-4, 1e-3, 1e-2]
    assert time_sentence(rows).startswith(
        "Now t = 1 gets 0.01 of what t = 3 gets: on its way back the gradient shrinks"
    )


def test_headline_when_a_dead_layer_cuts_the_gradient():
    """A dead layer between them: layer 1 gets exactly 0 of what the last hidden layer
    gets, and the page says so. The last hidden layer dead too (Dying ReLU's end): there
    is no ratio (it said "0" and "on its way back from layer 3 it was cut to 0" beside a
    profile with layer 3 on the floor too), and the sentence says where the gradient is 0."""
    from vangrad_core.summary import gradient_sentence, headline

    result = run_experiment(ExperimentConfig(depth=3, width=4, steps=2))
    layers = result.layers.copy()
    hidden = layers["saturation"].notna()
    below_the_last = hidden & (layers["layer"] < 3)
    layers.loc[below_the_last, "delta_rms"] = 0.0  # layers 1 and 2 get nothing ...
    head = headline(result.metrics, layers, result.config)
    assert head.gradient_ratio == 0
    # ... with no dead layer on the way: it underflowed (a depth-100 sigmoid's, said "cut" before)
    assert gradient_sentence(head, 3) == (
        "Now layer 1 gets no gradient at all: on its way back from layer 3 it shrank below float32's smallest "
        "number, to 0."
    )
    layers.loc[hidden & (layers["layer"] == 2), "dead_fraction"] = 1.0  # ... layer 2 dead: it cuts the gradient
    head = headline(result.metrics, layers, result.config)
    assert head.gradient_ratio == 0 and head.dead_layers == 1
    assert (
        gradient_sentence(head, 3)
        == "Now layer 1 gets no gradient at all: on its way back from layer 3 it was cut to 0 at layer 2."
    )
    layers.loc[hidden, "delta_rms"] = 0.0  # every hidden layer gets nothing, the last one too
    head = headline(result.metrics, layers, result.config)
    assert math.isnan(head.gradient_ratio) and math.isnan(head.per_layer)
    assert (
        gradient_sentence(head, 3)
        == "Now no gradient reaches the hidden layers: it is 0 at layer 3, the last hidden layer, and at layer 1."
    )
    residual = layers.copy()
    residual.loc[hidden & (residual["layer"] == 1), "delta_rms"] = 0.02  # carried past layer 3 by the skips
    head = headline(result.metrics, residual, result.config)
    assert math.isnan(head.gradient_ratio)
    assert gradient_sentence(head, 3) == (
        "Now layer 3, the last hidden layer, gets no gradient at all; layer 1 gets 0.02 (RMS of dL/dz), "
        "by the skip connections."
    )
    # a residual network with dead layers 1 and 4 of 6: the skips carry the gradient to layers 2 and 3, so it
    # was cut at layer 1 itself, not at layer 4 (the highest layer at 0)
    deep = run_experiment(ExperimentConfig(depth=6, width=4, steps=2, residual=True))
    cut = deep.layers.copy()
    end, hidden6 = cut["step"] == cut["step"].max(), cut["saturation"].notna()
    cut.loc[end & hidden6, "delta_rms"] = cut.loc[end & hidden6, "layer"].map({1: 0.0, 4: 0.0}).fillna(1e-3)
    cut.loc[end & hidden6 & cut["layer"].isin([1, 4]), "dead_fraction"] = 1.0
    head = headline(deep.metrics, cut, deep.config)
    assert head.gradient_ratio == 0 and head.cut_at == 1
    assert gradient_sentence(head, 6).endswith("on its way back from layer 6 it was cut to 0 at layer 1.")
    # one hidden layer: nothing to compare (it said "layer 1 ÷ layer 1 = 1")
    one = run_experiment(ExperimentConfig(depth=1, width=4, steps=2))
    head = headline(one.metrics, one.layers, one.config)
    assert math.isnan(head.gradient_ratio) and gradient_sentence(head, 1) == ""


@pytest.mark.parametrize(
    "config",
    [
        ExperimentConfig(depth=4, width=8, steps=30),
        ExperimentConfig(depth=3, width=8, steps=30, norm="batchnorm_before"),
    ],
)
def test_a_run_extended_past_its_steps_is_the_longer_run(config):
    """Train on: 30 steps, then 20 more, is the 50-step run (its layers with their
    percentiles, units and losses; the only difference is the extra test evaluation at
    step 30's end)."""
    extended = Trainer(config)
    extended.step(30)
    assert extended.done and extended.max_extension == 20000 - 30
    extended.extend(20)
    assert not extended.done and extended.config.steps == 50
    assert extended.step(100) == 20 and extended.done
    longer = Trainer(config.replace(steps=50))
    longer.step(50)
    pd.testing.assert_frame_equal(extended.layers, longer.layers)
    pd.testing.assert_frame_equal(extended.units(), longer.units())
    columns = ["step", "loss", "train_accuracy"]
    pd.testing.assert_frame_equal(extended.metrics[columns], longer.metrics[columns])
    assert extended.metrics.dropna()["step"].tolist() == [0, 29, 49]


def test_a_run_extended_past_its_history_budget_records_as_the_longer_run_would(monkeypatch):
    """Train on keeps the history within its budget: a run recorded at every step that
    goes on to three times its steps keeps every third step's record, as the longer run
    trained straight does (its layers equal; the budget shrunk to 40 records)."""
    config = ExperimentConfig(depth=3, width=8, steps=30)
    bytes_per_step = (config.depth + 1) * len(LAYER_COLUMNS) * 8 + raw_dtype(config.depth).itemsize
    monkeypatch.setattr(vangrad_trainer, "HISTORY_BYTES", 40 * bytes_per_step)
    extended = Trainer(config)
    extended.step(30)
    assert extended.record_every == 1 and len(extended.layers) == 30 * 4
    extended.extend(60)
    extended.step(60)
    longer = Trainer(config.replace(steps=90))
    longer.step(90)
    assert extended.record_every == longer.record_every == 3
    pd.testing.assert_frame_equal(extended.layers, longer.layers)
    assert extended.layers["step"].unique().tolist() == [*range(0, 90, 3), 89]
    monkeypatch.setattr(vangrad_recurrent, "MAX_TIME_ROWS", 20 * 10)  # 20 records of T = 10
    recurrent = RecurrentTrainer(RecurrentConfig(steps=20, length=10))
    recurrent.step(20)
    recurrent.extend(40)
    recurrent.step(40)
    longer_recurrent = RecurrentTrainer(RecurrentConfig(steps=60, length=10))
    longer_recurrent.step(60)
    pd.testing.assert_frame_equal(recurrent.time_gradients, longer_recurrent.time_gradients)
    assert recurrent.time_gradients["step"].unique().tolist() == [*range(0, 60, 3), 59]


def test_a_recurrent_run_extended_is_the_longer_run_and_a_diverged_run_cannot_go_on():
    extended = RecurrentTrainer(RecurrentConfig(steps=20, length=10))
    extended.step(20)
    extended.extend(10)
    assert extended.step(50) == 10
    longer = RecurrentTrainer(RecurrentConfig(steps=30, length=10))
    longer.step(30)
    pd.testing.assert_frame_equal(extended.time_gradients, longer.time_gradients)
    exploding = Trainer(SCENARIO_BY_NAME["Exploding gradients"].config)  # diverges within a few steps
    exploding.step(exploding.config.steps)
    steps = exploding.config.steps
    assert exploding.diverged_at is not None and exploding.max_extension == 0
    exploding.extend(100)
    assert exploding.config.steps == steps and exploding.done
    capped = Trainer(ExperimentConfig(depth=2, width=4, steps=19990))
    capped.extend(500)
    assert capped.config.steps == 20000  # the largest step count a config takes


@pytest.mark.parametrize(
    "run",
    [
        lambda: Trainer(ExperimentConfig(depth=3, width=4, steps=2)),
        lambda: RecurrentTrainer(RecurrentConfig(length=5, hidden=4, steps=2)),
    ],
    ids=["feed-forward", "recurrent"],
)
def test_a_run_flushes_subnormals_while_it_steps_and_only_then(run):
    """A gradient fading away (a deep sigmoid network, a plain RNN back through time)
    passes through float32's subnormal numbers, on which a processor is many times
    slower (a depth-100 sigmoid step 10x, the lesson's T = 50 RNN 3x): a run's steps
    flush them to 0. The thread's arithmetic is as before once they return."""

    def survives() -> bool:  # 1e-38 × 0.01 is 1e-40, a subnormal: kept, or flushed to 0
        return bool((torch.tensor([1e-38]) * torch.tensor([0.01])).item() != 0)

    assert survives()
    with vangrad_trainer.subnormals_flushed():
        assert not survives()
    assert survives()
    trainer = run()
    trainer.step(2)
    trainer.test_at_rest()
    assert survives()


def test_a_deep_sigmoid_gradient_too_small_for_float32_is_0():
    """Layer 1 of a 100-layer sigmoid network gets a gradient under float32's smallest
    normal number: 0 in the run (flushed), not a subnormal measured as if it were one."""
    trainer = Trainer(ExperimentConfig(depth=100, width=16, steps=1))
    trainer.step(1)
    delta = trainer.layers["delta_rms"]
    assert delta.iloc[0] == 0 and ((delta == 0) | (delta >= 1.2e-38)).all()
