"""The classic experiments: each reproduces its paper's finding at seed 0, decided by
the numbers (asserted here, not only the verdict string)."""

from __future__ import annotations

import pytest

from vangrad_core.experiments import CLASSIC_BY_KEY, CLASSICS


def outcome(key: str):
    result = CLASSIC_BY_KEY[key].run(0)
    assert result.reproduced, result.verdict
    assert result.verdict.startswith("Reproduced: ")
    return result


def test_glorot_top_sigmoid_saturates_and_normalized_init_keeps_gradients():
    numbers = outcome("glorot").numbers
    assert numbers["top_layer_mean_start"] == pytest.approx(0.5, abs=0.05)
    assert numbers["top_layer_saturated_at_step"] <= 300  # early: in the first fifth of 1500 steps
    assert numbers["top_layer_mean_highest_after"] < 0.15  # and it stays near 0
    assert numbers["lower_layers_mean_lowest"] > 0.4  # the lower layers stay near 0.5
    assert numbers["standard_delta_per_layer"] < 0.7  # backpropagated gradient shrinks toward the input
    assert 0.75 < numbers["standard_weight_grad_per_layer"] < 1.33  # weight gradients roughly level
    assert numbers["normalized_delta_per_layer"] > 0.8


def test_he_thirty_relu_layers_xavier_stalls_he_trains():
    numbers = outcome("he").numbers
    assert numbers["xavier_normal_final_loss"] > 0.95 * numbers["xavier_normal_first_loss"]
    assert numbers["xavier_normal_final_accuracy"] < 0.2  # ten classes: chance is 10%
    assert numbers["he_normal_final_accuracy"] > 0.7
    assert numbers["xavier_normal_gradient_ratio"] < 1e-3 < 0.3 < numbers["he_normal_gradient_ratio"]


def test_ioffe_batch_norm_learns_faster_and_keeps_sigmoid_inputs_steady():
    result = outcome("ioffe")
    numbers = result.numbers
    assert numbers["steps_to_target_with_bn"] <= 200
    assert numbers["steps_to_target_without_bn"] >= 2 * numbers["steps_to_target_with_bn"]
    assert numbers["drift_with_bn"] < 0.5 < 10 < numbers["drift_without_bn"]
    percentiles = result.frames["percentiles"]
    assert (percentiles["p15"] <= percentiles["p50"]).all() and (percentiles["p50"] <= percentiles["p85"]).all()


def test_dying_relu_grows_with_depth_and_leaky_never_dies():
    result = outcome("dying")
    numbers = result.numbers
    assert numbers["dead_width2_depth5"] < 0.7 < 0.95 < numbers["dead_width2_depth50"]
    assert numbers["dead_width4_depth10"] < 0.3 < 0.8 < numbers["dead_width2_depth10"]  # narrower dies sooner
    assert numbers["dead_width4_depth50"] > 0.8
    assert numbers["dead_leaky"] == 0
    dead = result.frames["dead"]
    for _, series in dead.groupby("series"):
        assert series["dead"].is_monotonic_increasing  # dead at depth D stays dead deeper


def test_selu_keeps_mean_zero_and_variance_one():
    numbers = outcome("selu").numbers
    assert numbers["largest_abs_mean"] < 0.05
    assert 0.9 < numbers["variance_low"] <= numbers["variance_high"] < 1.1
    assert numbers["relu_variance_last"] < 1e-6  # the same init without self-normalization fades


def test_every_classic_says_what_it_is():
    assert [c.key for c in CLASSICS] == ["glorot", "he", "ioffe", "dying", "selu", "lstm"]  # lstm: test_recurrent
    for classic in CLASSICS:
        assert classic.paper.paper and classic.paper.finding and classic.paper.setup
