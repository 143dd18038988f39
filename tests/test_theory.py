"""The theory's predictions: against closed forms, Monte Carlo, and the network itself."""

from __future__ import annotations

import math
import threading

import numpy as np
import pytest
import torch

from vangrad_core import ACTIVATION_TABLE, ExperimentConfig, at_initialization, theory
from vangrad_core.config import INITS
from vangrad_core.model import initialize


@pytest.mark.parametrize("q", [1e-6, 0.3, 1.0, 7.0, 400.0])
def test_gaussian_mean_matches_closed_forms(q):
    assert float(theory.gaussian_mean(lambda x: x * x, q)) == pytest.approx(q, rel=1e-9)
    assert float(theory.gaussian_mean(lambda x: torch.relu(x) ** 2, q)) == pytest.approx(q / 2, rel=1e-9)
    # a kink at 0 (ReLU's derivative): exactly half the mass
    assert float(theory.gaussian_mean(lambda x: (x > 0).double(), q)) == pytest.approx(0.5, abs=1e-12)
    # E|x| = √(2q/π): a kink that symmetry does not cancel costs O(step²), ~2e-3
    assert float(theory.gaussian_mean(torch.abs, q)) == pytest.approx(math.sqrt(2 * q / math.pi), rel=3e-3)


@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "elu", "gelu", "selu"])
def test_gaussian_mean_matches_monte_carlo(activation):
    phi = ACTIVATION_TABLE[activation]
    z = torch.randn(2_000_000, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    for q in (0.5, 3.0):
        for function in (lambda x: phi.function(x) ** 2, lambda x: phi.derivative(x) ** 2):
            monte_carlo = float(function(math.sqrt(q) * z).mean())
            assert float(theory.gaussian_mean(function, q)) == pytest.approx(monte_carlo, rel=3e-3)


@pytest.mark.parametrize("sigma_w2", [0.5, 1.0, 2.0, 3.5])
@pytest.mark.parametrize("sigma_b2", [0.0, 0.2])
def test_chi1_closed_forms_for_relu_and_linear(sigma_w2, sigma_b2):
    assert float(theory.chi1("relu", sigma_w2, sigma_b2)) == pytest.approx(sigma_w2 / 2, rel=1e-9)
    assert float(theory.chi1("linear", sigma_w2, sigma_b2)) == pytest.approx(sigma_w2, rel=1e-9)
    leaky = (1 + 0.01**2) / 2 * sigma_w2
    assert float(theory.chi1("leaky_relu", sigma_w2, sigma_b2)) == pytest.approx(leaky, rel=1e-9)


def test_tanh_without_bias_is_critical_at_unit_weight_variance():
    below, at, above = (float(theory.chi1("tanh", w, 0.0)) for w in (0.95, 1.0, 1.05))
    assert below < 1 < above
    assert at == pytest.approx(1.0, abs=0.005)  # q* → 0 slowly at the critical point
    # a bias moves the edge of chaos to larger weights
    assert float(theory.chi1("tanh", 1.05, 0.1)) < 1


def test_sigmoid_chi1_is_capped_by_its_quarter_slope():
    sigma_w2 = torch.tensor([0.5, 1.0, 4.0, 16.0])
    chi = theory.chi1("sigmoid", sigma_w2, 0.0)
    assert torch.all(chi <= sigma_w2 / 16)


@pytest.mark.parametrize("init", [i for i in INITS])
def test_weight_variance_is_what_initialize_draws(init):
    gen = torch.Generator().manual_seed(1)
    for fan_in, fan_out in ((256, 256), (64, 512), (512, 64)):
        linear = torch.nn.Linear(fan_in, fan_out)
        initialize(linear, init, gen)
        expected = theory.weight_variance(init, fan_in, fan_out)
        assert float(linear.weight.detach().var()) == pytest.approx(expected, rel=0.03)
        assert float(linear.bias.detach().var()) == pytest.approx(
            theory.bias_variance(init, fan_in), rel=0.3, abs=1e-12
        )


def test_gradient_in_words():
    assert theory.gradient_in_words(0.001) == (
        "each layer multiplies the gradient by ×0.0316: more than tenfold smaller at every layer"
    )
    assert (
        theory.gradient_in_words(0.1) == "each layer multiplies the gradient by ×0.316: tenfold smaller every 2 layers"
    )
    assert "tenfold larger every" in theory.gradient_in_words(1.5)
    assert "more than tenfold larger at every layer" in theory.gradient_in_words(400.0)
    assert theory.gradient_in_words(0.0115).endswith("×0.107: about tenfold smaller at every layer")
    assert theory.gradient_in_words(1.008).startswith("each layer multiplies the gradient by ×1.004: tenfold larger")
    assert "critical" in theory.gradient_in_words(1.0)
    # a factor under 0.01 as every number on the page: e-notation, its sign a minus sign (one line)
    assert "×3.16e\u22124: more than" in theory.gradient_in_words(1e-7)


def test_applies_only_to_plain_stacks():
    assert theory.applies(ExperimentConfig())
    assert not theory.applies(ExperimentConfig(norm="batchnorm_before"))
    assert not theory.applies(ExperimentConfig(residual=True))


CASES = [(a, i) for a in ("sigmoid", "tanh", "relu") for i in ("default", "xavier_normal", "he_normal")]


@pytest.mark.parametrize(("activation", "init"), CASES)
def test_predicted_gradient_profile_lies_on_the_measured_one(activation, init):
    """The playground's promise: dashed theory on the measured dL/dz at step 0, in a
    20-layer network whose gradients span up to 18 orders of magnitude."""
    config = ExperimentConfig(depth=20, width=64, activation=activation, init=init)
    measured = at_initialization(config)
    predicted = theory.predict_layers(config)
    relative = measured["delta_rms"] / measured["delta_rms"].iloc[-1]
    decades_off = np.abs(np.log10(relative / predicted["delta_rms_relative"]))
    assert decades_off.max() < 0.35, decades_off.round(2).tolist()


@pytest.mark.parametrize(
    ("activation", "width", "decades"), [("sigmoid", 64, 0.35), ("tanh", 64, 0.35), ("relu", 256, 0.7)]
)
@pytest.mark.parametrize("init", ["default", "xavier_normal", "he_normal"])
def test_predicted_forward_variance_matches_the_network(activation, init, width, decades):
    """The variance of what each nonlinearity receives at step 0. ReLU's wanders most
    from the prediction: a product of 20 random factors per layer (Hanin & Rolnick
    2018), whose spread shrinks with width; at width 64 it reaches a decade."""
    config = ExperimentConfig(depth=20, width=width, activation=activation, init=init)
    measured = at_initialization(config)
    predicted = theory.predict_layers(config)
    variance_off = np.abs(np.log10(measured["act_input_std"] ** 2 / predicted["preact_var"]))[:-1]
    assert variance_off.max() < decades, variance_off.round(2).tolist()


def test_he_keeps_relu_variance_and_xavier_halves_it():
    he = theory.predict_layers(ExperimentConfig(depth=30, width=64, activation="relu", init="he_normal"))
    xavier = theory.predict_layers(ExperimentConfig(depth=30, width=64, activation="relu", init="xavier_normal"))
    hidden = slice(1, 30)  # layer 1 depends on the input's width
    np.testing.assert_allclose(he["preact_var"][hidden], he["preact_var"][1], rtol=1e-9)
    np.testing.assert_allclose(np.diff(np.log2(xavier["preact_var"][hidden])), -1, atol=1e-9)


def test_phase_diagram_for_tanh_has_an_edge_of_chaos():
    phases = theory.phase_diagram("tanh")
    assert phases["chi1"].min() < 0.2 and phases["chi1"].max() > 1.2
    no_bias = phases[phases["sigma_b2"] == 0].sort_values("sigma_w2")
    crossing = no_bias[no_bias["chi1"] > 1]["sigma_w2"].min()
    assert 1.0 <= crossing <= 1.15  # (within a cell and a half of 1: near it, the fixed point settles slowly)
    assert np.all(np.diff(no_bias["chi1"]) > 0)


def test_exploding_networks_stay_finite():
    """Huge weights on 100 wide layers: the prediction grows enormously but stays a number."""
    for activation in ("relu", "selu", "linear", "tanh"):
        config = ExperimentConfig(depth=100, width=512, activation=activation, init="large_normal", weight_scale=10)
        predicted = theory.predict_layers(config)
        assert np.isfinite(predicted[["preact_var", "delta_rms_relative"]].to_numpy()).all()
        assert predicted["delta_rms_relative"].iloc[-1] == 1
    relu = theory.predict_layers(
        ExperimentConfig(depth=30, width=64, activation="relu", init="he_normal", weight_scale=3)
    )
    assert relu["preact_var"].iloc[29] > 1e20  # ×9 per layer, not capped


def test_batchnorm_growth_closed_forms_and_at_least_one():
    # Yang et al.'s ReLU rate, and the Gaussian Poincaré inequality: 1 only for a linear φ
    assert theory.batchnorm_gradient_growth("relu") == pytest.approx(math.sqrt(math.pi / (math.pi - 1)), rel=1e-3)
    assert theory.batchnorm_gradient_growth("linear") == pytest.approx(1, rel=1e-9)
    for activation in ACTIVATION_TABLE:
        assert theory.batchnorm_gradient_growth(activation) >= 1 - 1e-9


@pytest.mark.parametrize("width", [4, 16, 64])
def test_relu_jacobian_log_variance_matches_monte_carlo(width):
    # one layer's factor on |J u|²: 2/fan-in times a χ² with K ~ Binomial(width, ½) degrees of freedom
    rng = np.random.default_rng(0)
    units_on = rng.binomial(width, 0.5, 400_000)
    units_on = units_on[units_on > 0]
    log_chi2 = np.log(rng.chisquare(units_on))
    assert theory.relu_jacobian_log_variance(width) == pytest.approx(log_chi2.var(), rel=0.02)


def test_relu_jacobian_log_variance_is_five_over_width_for_wide_layers():
    assert theory.relu_jacobian_log_variance(1024) * 1024 == pytest.approx(5, rel=0.02)


@pytest.mark.parametrize(
    "function, args",
    [
        (theory.phase_diagram, ("elu", 3.0, 0.5, 9)),
        (theory.predict_layers, (ExperimentConfig(depth=7, width=24, activation="elu"),)),
        (theory.chi1_at, (ExperimentConfig(depth=7, width=24, activation="elu"),)),
    ],
)
def test_a_theory_asked_for_by_a_whole_class_at_once_is_computed_once(function, args):
    """lru_cache alone let each of eight callers compute a phase diagram (10.5 s for
    all, against 1.7 s); a class's first page asks for the same few theories at once."""
    before = function.cache_info().misses
    results = []
    callers = [threading.Thread(target=lambda: results.append(function(*args))) for _ in range(8)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join()
    assert function.cache_info().misses == before + 1
    assert len(results) == 8 and all(result is results[0] for result in results)


def test_the_forward_signal_captions_initialization_rules_are_the_theorys():
    """`run_charts.VARIANCE_RULES`, read under the forward-signal chart, as the theory the
    chart's dashed line draws says it (hidden-to-hidden layers, equal widths)."""
    from views.ui.run_charts import VARIANCE_RULES

    def per_layer(activation: str, init: str) -> np.ndarray:
        variance = theory.predict_layers(ExperimentConfig(depth=8, width=64, activation=activation, init=init))
        variance = variance["preact_var"].to_numpy()
        return variance[1:8] / variance[:7]

    assert "He's init keeps a ReLU network's variance flat" in VARIANCE_RULES["relu"]
    assert per_layer("relu", "he_normal") == pytest.approx(1.0, abs=1e-3)
    assert "Xavier's halves it at every layer" in VARIANCE_RULES["relu"]
    assert per_layer("relu", "xavier_normal") == pytest.approx(0.5, abs=1e-3)
    assert per_layer("leaky_relu", "he_normal") == pytest.approx(1.0, abs=1e-3)  # "nearly ReLU's"
    assert per_layer("linear", "xavier_normal") == pytest.approx(1.0, abs=1e-3)
    falls = per_layer("tanh", "xavier_normal")  # "still falls, slowly"
    assert (falls < 1).all() and (falls > 0.85).all()
