"""The classic experiments: each reproduces its paper's finding at seed 0, decided by
the numbers (asserted here, not only the verdict string)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch

from tests.conftest import CLASSICS_GROUP
from vangrad_core import build_model, experiments, make_dataset, theory
from vangrad_core.config import MAX_SEED
from vangrad_core.experiments import CLASSIC_BY_KEY, CLASSICS
from vangrad_core.lessons import (
    BN_DEPTHS,
    ISOMETRY,
    ISOMETRY_EXAMPLES,
    SHATTERED,
    SHATTERED_POINTS,
    SHATTERED_SEGMENT,
    WIDTH_NET,
    WIDTHS,
)
from vangrad_core.writing import MINUS

pytestmark = CLASSICS_GROUP


def outcome(key: str):
    result = CLASSIC_BY_KEY[key].run(0)
    assert result.reproduced, result.verdict
    assert result.verdict.startswith("Reproduced: ")
    return result


def test_glorot_top_sigmoid_saturates_and_normalized_init_keeps_gradients():
    result = outcome("glorot")
    numbers = result.numbers
    assert numbers["top_layer_mean_start"] == pytest.approx(0.5, abs=0.05)
    assert numbers["top_layer_saturated_at_step"] <= 300  # early: in the first fifth of 1500 steps
    assert numbers["top_layer_mean_highest_after"] < 0.15  # and it stays near 0
    said = re.search(r"stayed at or below ([\d.]+)", result.verdict)[1]  # (rounded, it was under)
    assert numbers["top_layer_mean_highest_after"] <= float(said)
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
    # the unit drawn is the one whose drift is the verdict's (the median over the layer's units)
    for run, drift in (("without BN", numbers["drift_without_bn"]), ("with BN", numbers["drift_with_bn"])):
        drawn = percentiles[percentiles["run"] == run]
        spread = drawn["p85"].iloc[0] - drawn["p15"].iloc[0]
        wander = max(drawn[p].max() - drawn[p].min() for p in ("p15", "p50", "p85")) / spread
        assert wander == pytest.approx(drift, rel=1e-4)


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


def test_bn_init_gradient_grows_at_the_papers_rate_and_residual_connections_tame_it():
    result = outcome("bn_init")
    numbers = result.numbers
    # Yang et al.'s rate for ReLU with batch norm: √(π/(π−1)) a layer, within 3%
    assert numbers["relu_predicted"] == pytest.approx(math.sqrt(math.pi / (math.pi - 1)), rel=1e-3)
    assert numbers["relu_growth_per_layer"] == pytest.approx(numbers["relu_predicted"], rel=0.03)
    assert numbers["tanh_growth_per_layer"] == pytest.approx(numbers["tanh_predicted"], rel=0.03)
    assert numbers["tanh_growth_per_layer"] > 1.05  # whatever the nonlinearity
    assert numbers["linear_growth_per_layer"] == pytest.approx(1, abs=0.02)  # linear: (almost) none
    ratios = [numbers[f"ratio_depth{depth}"] for depth in BN_DEPTHS]
    assert ratios == sorted(ratios) and ratios[-1] > 1e7  # geometric: 1.2^99
    assert numbers["residual_ratio"] < 1e-3 * ratios[-1]
    # every depth on one line: as many layers below the top, the same gradient (layer 1 aside)
    depths = result.frames["depths"]
    five_below = depths[depths["below_top"] == 5]["relative"]
    assert len(five_below) == len(BN_DEPTHS) and five_below.max() / five_below.min() < 1.3


def test_isometry_orthogonal_tanh_keeps_singular_values_together_and_trains_faster():
    numbers = outcome("isometry").numbers
    assert numbers["tanh_orthogonal_decades"] < 1 < 3 < numbers["tanh_gaussian_decades"]
    assert numbers["tanh_orthogonal_median"] < 0.5  # "shrink together, below 1" (the setup)
    assert numbers["tanh_orthogonal_negligible"] == 0 < numbers["tanh_gaussian_negligible"]
    assert min(numbers["relu_gaussian_negligible"], numbers["relu_orthogonal_negligible"]) > 0.25
    assert numbers["tanh_orthogonal_steps_to_target"] <= 100
    assert numbers["tanh_gaussian_steps_to_target"] >= 2 * numbers["tanh_orthogonal_steps_to_target"]


def test_isometry_jacobian_of_a_linear_orthogonal_network_is_an_isometry():
    # a product of orthogonal matrices: every singular value is exactly 1
    values = experiments._jacobian_singular_values(ISOMETRY.replace(activation="linear", init="orthogonal"))
    assert len(values) == ISOMETRY_EXAMPLES * ISOMETRY.width
    np.testing.assert_allclose(values, 1, atol=1e-5)  # the weights are float32's orthogonal matrices


def test_shattered_plain_gradients_decorrelate_and_residual_ones_do_not():
    result = outcome("shattered")
    numbers = result.numbers
    deep = SHATTERED.depth
    assert numbers["plain_depth1"] > 0.95 and numbers["residual_depth1"] > 0.95  # one layer: smooth (the setup)
    assert abs(numbers[f"plain_depth{deep}"]) < 0.2 < 0.8 < numbers[f"residual_depth{deep}"]
    correlation = result.frames["correlation"].pivot(index="depth", columns="run", values="correlation")
    deeper = correlation.loc[20:]
    assert (deeper["plain"] < deeper["residual"] - 0.5).all()  # at every depth from 20 on
    # a negative correlation with a minus sign, as the page prints every number ("−0.09", not "-0.09")
    assert numbers["plain_depth20"] < 0 and f"{MINUS}0.09 after 20" in result.verdict


def test_shattered_gradient_is_each_inputs_own_and_matches_autograd():
    config = SHATTERED.replace(depth=6, residual=True)
    model = build_model(config)
    x = torch.randn(32, 2, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        trained = model.train()(x)
    experiments._hold_batch_statistics(model, x)
    with torch.no_grad():
        assert torch.allclose(model(x), trained, atol=1e-5)  # the batch's own statistics, held
    # one input's output no longer depends on the others
    alone = model(x[:1])
    assert torch.allclose(alone, model(x)[:1], atol=1e-5)


def test_shattered_line_gradients_equal_each_points_backprop():
    config = SHATTERED.replace(depth=5)
    gradients = experiments._line_gradients(config)
    model = build_model(config)
    (x0, y0), (x1, y1) = SHATTERED_SEGMENT
    direction = torch.tensor([x1 - x0, y1 - y0])
    x = torch.tensor([x0, y0]) + torch.linspace(0, 1, SHATTERED_POINTS)[:, None] * direction
    experiments._hold_batch_statistics(model, x)
    x.requires_grad_(True)
    h = x
    for block in model.blocks:
        h = block(h)
    (grad,) = torch.autograd.grad((h @ model.head.weight[0]).sum(), x)
    np.testing.assert_allclose(gradients[-1], (grad @ direction).numpy(), rtol=1e-3, atol=1e-5)  # float32


def test_width_spread_grows_with_the_sum_of_one_over_width():
    result = outcome("width")
    numbers = result.numbers
    spreads = [numbers[f"spread_width{w}"] for w in WIDTHS]
    assert spreads == sorted(spreads, reverse=True)  # at depth 50: the narrower, the wider
    for w in WIDTHS:
        assert numbers[f"spread_width{w}"] == pytest.approx(numbers[f"predicted_width{w}"], rel=0.35)
    for w in (16, 32, 64, 128):  # each width's slope, as the chart's lines: within 15% of the theory's
        assert numbers[f"spread_per_beta_width{w}"] == pytest.approx(theory.relu_jacobian_log_variance(w) * w, rel=0.15)
    assert numbers["off_width16"] > 0.8 and numbers["off_width128"] < 0.4
    spread = result.frames["spread"]
    for _, rows in spread.groupby("width"):
        by_depth = rows.set_index("depth")["spread"]
        assert by_depth[WIDTH_NET.depth] > 3 * by_depth[10]  # grows with depth too


def test_width_jacobian_sizes_match_the_engines_network():
    config = WIDTH_NET.replace(depth=6, width=16)
    x = make_dataset(config).x_train[:1]
    direction = torch.randn(x.shape, generator=torch.Generator().manual_seed(3))
    weights = list(experiments._random_layers(config, x.shape[1], 3, torch.Generator().manual_seed(4)))
    sizes = experiments._relu_jacobian_sizes(weights, x, direction)
    model = build_model(config)
    for network in range(3):
        with torch.no_grad():
            for block, weight in zip(model.blocks, weights, strict=True):
                block.linear.weight.copy_(weight[network].T)
        outputs = []
        for depth in range(1, config.depth + 1):

            def hidden(inputs, depth=depth):
                for block in model.blocks[:depth]:
                    inputs = block(inputs)
                return inputs

            jacobian = torch.autograd.functional.jacobian(hidden, x).reshape(config.width, -1)
            outputs.append(float((jacobian @ direction[0]).square().sum()))
        np.testing.assert_allclose(sizes[network], outputs, rtol=1e-4)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("key", ["bn_init", "isometry", "shattered", "width"])
def test_new_classics_reproduce_at_other_seeds(key, seed):
    result = CLASSIC_BY_KEY[key].run(seed)
    assert result.reproduced, result.verdict


def test_the_largest_seed_the_page_offers_runs_the_shattered_networks():
    """Their seeds are derived from the page's (SHATTERED_NETWORKS of them a seed), wrapped
    within what a config takes."""
    assert CLASSIC_BY_KEY["shattered"].run(MAX_SEED).verdict


def test_every_classic_says_what_it_is():
    keys = ["glorot", "he", "ioffe", "bn_init", "dying", "selu", "isometry", "shattered", "width", "lstm"]
    assert [c.key for c in CLASSICS] == keys  # lstm: test_recurrent
    for classic in CLASSICS:
        assert classic.paper.paper and classic.paper.finding and classic.paper.setup
