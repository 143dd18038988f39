"""The statistics: the readable reference (measure.py) on cases whose answer is known,
and the trainer's fast path (measure_fast.py, kernels.py) equal to the reference on
adversarial cases: saturated and dead units, exact zeros, NaN and Inf, batch 1,
width 2, GELU, residual, every normalization."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from tests.engine_cases import batch, poisoned
from vangrad_core import (
    ACTIVATION_TABLE,
    ExperimentConfig,
    Trainer,
    batch_indices,
    build_model,
    kernels,
    make_dataset,
    measure_fast,
)
from vangrad_core.backprop import Backprop
from vangrad_core.measure import LAYER_COLUMNS, UNIT_COLUMNS, layer_rows, layer_stats, record_pass, unit_rows
from vangrad_core.measure_fast import FastMeasure
from vangrad_core.packing import pack_parameters


def fast_measure(model, x, y) -> tuple[FastMeasure, np.ndarray]:
    """One pass measured by the trainer's fast path (on a copy of the model): the
    measure and its record."""
    twin = copy.deepcopy(model)
    packed = pack_parameters(twin)
    passes, measure = Backprop(twin), FastMeasure(twin, packed)
    record = measure.new_records(1)
    _, recorded = passes.training_pass(x, y)
    measure.measure_weights(record[0])
    measure.measure_pass(record[0], recorded, 0, updated=False)
    measure.sort_samples()
    return measure, record


def fast_rows(model, x, y) -> pd.DataFrame:
    """One pass's `layers` rows, measured by the trainer's fast path."""
    measure, record = fast_measure(model, x, y)
    columns = measure.table(record)
    return pd.DataFrame({c: columns[c].ravel() for c in LAYER_COLUMNS}).astype({"step": "int64", "layer": "int64"})


def fast_units(model, x, y) -> pd.DataFrame:
    """One pass's per-unit rows, measured by the trainer's fast path."""
    return pd.DataFrame(fast_measure(model, x, y)[0].units())


def reference_units(model, x, y) -> pd.DataFrame:
    twin = copy.deepcopy(model)
    return unit_rows(twin, record_pass(twin, x, y))


def assert_units_equal(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert list(got.columns) == list(UNIT_COLUMNS) and len(got) == len(expected)
    for column in UNIT_COLUMNS:
        a, b = got[column].to_numpy(float), expected[column].to_numpy(float)
        assert (np.isnan(a) == np.isnan(b)).all(), column
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=0, err_msg=column)  # NaN and Inf where the other has them


def assert_rows_equal(got: pd.DataFrame, expected: pd.DataFrame, columns=None, rtol=2e-4) -> None:
    for column in columns or LAYER_COLUMNS:
        if column in ("update_ratio",):
            continue
        np.testing.assert_allclose(
            got[column].to_numpy(float), expected[column].to_numpy(float), rtol=rtol, atol=1e-7, err_msg=column
        )


# ---- the reference, on cases whose answer is known ----------------------------------


def test_reference_columns_are_their_definitions():
    config = ExperimentConfig(depth=3, width=8, activation="tanh")
    model = build_model(config)
    x, y = batch(config, 32)
    rows = layer_stats(model, x, y)
    assert list(rows.columns) == list(LAYER_COLUMNS) and len(rows) == config.depth + 1
    # dL/dz of the output layer is (softmax - onehot) / batch
    probabilities = torch.softmax(model(x), 1)
    delta = (probabilities - nn.functional.one_hot(y, probabilities.shape[1])) / len(y)
    assert rows["delta_rms"].iloc[-1] == pytest.approx(delta.pow(2).mean().sqrt().item(), rel=1e-5)
    assert rows["update_ratio"].isna().all() and (rows["distance_from_init"] == 0).all()
    assert rows.iloc[-1][["act_input_mean", "saturation", "dead_fraction"]].isna().all()


def set_hidden_unit(model, layer: int, unit: int, bias: float) -> None:
    """Make one hidden unit's pre-activation `bias` for every input."""
    with torch.no_grad():
        linear = model.blocks[layer - 1].linear
        linear.weight[unit] = 0
        linear.bias[unit] = bias


@pytest.mark.parametrize(
    "activation, bias, dead",
    [
        ("relu", -5.0, True),  # output 0 and derivative 0 for every example
        ("relu", 5.0, False),
        ("sigmoid", 100.0, True),  # stuck at 1: derivative exactly 0 in float32
        ("sigmoid", -200.0, True),  # stuck at 0
        ("tanh", 50.0, True),  # stuck at 1
        ("elu", -200.0, True),  # stuck at -1: derivative exp(-200) = 0
        ("gelu", -60.0, True),  # output 0, derivative 0
        ("selu", -200.0, True),
        ("leaky_relu", -5.0, False),  # slope 0.01: never dead
        ("linear", 0.0, True),  # output 0 for every example: its weights get no gradient
        ("tanh", 3.0, False),  # saturated but not dead
    ],
)
def test_dead_means_no_gradient_for_the_whole_batch_whichever_the_cause(activation, bias, dead):
    config = ExperimentConfig(depth=3, width=4, activation=activation, init="xavier_normal")
    model = build_model(config)
    set_hidden_unit(model, 2, 1, bias)
    rows = layer_stats(model, *batch(config, 16))
    assert rows["dead_fraction"][1] == (0.25 if dead else 0.0)
    np.testing.assert_allclose(fast_rows(model, *batch(config, 16))["dead_fraction"], rows["dead_fraction"])


def test_saturation_counts_inputs_where_the_slope_is_under_a_tenth_of_its_peak():
    config = ExperimentConfig(depth=2, width=4, activation="tanh", init="xavier_normal")
    model = build_model(config)
    set_hidden_unit(model, 1, 0, 2.0)  # tanh'(2) = 0.07 < 0.1: saturated
    set_hidden_unit(model, 1, 1, 1.5)  # tanh'(1.5) = 0.18: not
    rows = layer_stats(model, *batch(config, 16))
    expected = (ACTIVATION_TABLE["tanh"].derivative(record_pass(model, *batch(config, 16)).act_inputs[0]) < 0.1).float()
    assert rows["saturation"][0] == pytest.approx(expected.mean().item())
    assert rows["saturation"][0] >= 0.25


# ---- the fast path equals the reference -----------------------------------------------


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
    ExperimentConfig(depth=4, width=2, activation="relu", init="he_normal"),  # width 2: whole layers die
    ExperimentConfig(depth=5, width=16, activation="tanh", init="large_normal", weight_scale=3.0),  # saturated
    ExperimentConfig(depth=5, width=16, activation="sigmoid", init="large_normal", weight_scale=5.0),
    ExperimentConfig(depth=5, width=16, activation="elu", init="large_normal", weight_scale=4.0),
    ExperimentConfig(depth=5, width=16, activation="gelu", init="large_normal", weight_scale=4.0),
]


@pytest.mark.parametrize("n_examples", [64, 8, 1], ids=["batch64", "batch8", "batch1"])
@pytest.mark.parametrize("config", CASES, ids=lambda c: f"{c.activation}-{c.norm}-{c.init}-w{c.width}")
def test_fast_path_equals_the_reference(config, n_examples):
    if n_examples == 1 and config.norm.startswith("batchnorm"):
        pytest.skip("batch norm needs two examples (the config refuses batch 1)")
    model = build_model(config)
    x, y = batch(config, n_examples)
    assert_rows_equal(fast_rows(model, x, y), layer_stats(model, x, y))


@pytest.mark.parametrize("chunk_layers", [None, 2], ids=["one-chunk", "chunks-of-2"])
@pytest.mark.parametrize("config", [*CASES[:2], ExperimentConfig(depth=5, width=128)], ids=lambda c: f"w{c.width}")
def test_the_histograms_sample_is_what_each_nonlinearity_received(config, chunk_layers, monkeypatch):
    """`histogram_sample` (the kernel copies it): each hidden layer's nonlinearity inputs
    for the batch's first examples (HISTOGRAM_SAMPLE values a layer: 16 of 64 examples at
    width 128), as the reference pass records them, the layers measured in one compiled
    pass or in chunks."""
    if chunk_layers:
        monkeypatch.setattr(measure_fast, "CHUNK_BYTES", chunk_layers * 4 * 64 * config.width)
    model = build_model(config)
    x, y = batch(config, 64)
    sample = fast_measure(model, x, y)[0].histogram_sample()
    examples = min(64, measure_fast.HISTOGRAM_SAMPLE // config.width)
    expected = torch.stack(record_pass(copy.deepcopy(model), x, y).act_inputs)[:, :examples]
    assert sample.shape == (config.depth, examples, config.width)
    torch.testing.assert_close(sample, expected, rtol=0, atol=0)


def test_weight_sums_says_whether_every_norm_is_finite():
    """Its answer is the divergence check: False for a NaN gradient, an Inf weight, or a
    row whose norm overflows float32 though its numbers do not; padding past a row's
    count is not read."""

    def finite(values, grads, counts=(3, 3)):
        out, before = np.zeros((len(kernels.WEIGHT_SUMS), 2), np.float32), np.zeros_like(values)
        return kernels.weight_sums(values, grads, np.zeros_like(values), np.array(counts), out, before)

    ones = np.ones((2, 3), np.float32)
    assert finite(ones, ones)
    assert not finite(ones, np.array([[1, np.nan, 1], [1, 1, 1]], np.float32))
    assert not finite(np.array([[1, 1, 1], [np.inf, 1, 1]], np.float32), ones)
    assert not finite(np.array([[3e38, 3e38, 0], [1, 1, 1]], np.float32), ones)  # a norm of 4.2e38
    assert finite(np.array([[1, 1, np.nan], [1, 1, 1]], np.float32), ones, counts=(2, 3))


@pytest.mark.parametrize("config", CASES, ids=lambda c: f"{c.activation}-{c.norm}-{c.init}-w{c.width}")
def test_per_unit_values_equal_the_reference(config):
    model = build_model(config)
    x, y = batch(config, 32 if config.norm.startswith("batchnorm") else 16)
    assert_units_equal(fast_units(model, x, y), reference_units(model, x, y))


def test_the_per_unit_reference_is_plain_autograd_and_adds_up_to_the_layer():
    """dL/dz by torch.autograd on a plain forward pass (not the trainer's), per unit: the
    RMS over the batch; its mean square over a layer's units is the layer's delta_rms."""
    config = ExperimentConfig(depth=3, width=6, activation="tanh", init="xavier_normal")
    model = build_model(config)
    set_hidden_unit(model, 2, 4, 30.0)  # stuck at 1: dead, every input saturated
    set_hidden_unit(model, 1, 0, 2.0)  # tanh'(2) = 0.07: every input saturated, not dead
    x, y = batch(config, 16)
    zs, h = [], x
    for block in model.blocks:
        zs.append(block.linear(h))
        h = torch.tanh(zs[-1])
    zs.append(model.head(h))
    deltas = torch.autograd.grad(nn.functional.cross_entropy(zs[-1], y), zs)
    units = reference_units(model, x, y)
    expected = torch.cat([d.double().pow(2).mean(0).sqrt() for d in deltas]).numpy()
    np.testing.assert_allclose(units["delta_rms"], expected, rtol=1e-6)
    assert units.query("layer == 2 and unit == 4")[["delta_rms", "saturation", "dead"]].values.tolist() == [[0, 1, 1]]
    assert units.query("layer == 1 and unit == 0")[["saturation", "dead"]].values.tolist() == [[1, 0]]
    assert units["dead"].sum() == 1 and units.query("layer == 4")[["saturation", "dead"]].isna().all().all()
    layers = layer_stats(model, x, y)
    by_layer = units.groupby("layer")["delta_rms"].apply(lambda r: np.sqrt((r**2).mean()))
    np.testing.assert_allclose(by_layer, layers["delta_rms"], rtol=1e-5)
    np.testing.assert_allclose(units.groupby("layer")["dead"].mean()[:3], layers["dead_fraction"][:3])
    assert_units_equal(fast_units(model, x, y), units)


@pytest.mark.parametrize(
    "activation, bias",
    [("relu", -5.0), ("sigmoid", 100.0), ("sigmoid", -200.0), ("gelu", -60.0), ("elu", -200.0), ("linear", 0.0)],
)
def test_a_dead_unit_is_dead_per_unit_too(activation, bias):
    config = ExperimentConfig(depth=3, width=4, activation=activation, init="xavier_normal")
    model = build_model(config)
    set_hidden_unit(model, 2, 1, bias)
    x, y = batch(config, 16)
    units = fast_units(model, x, y)
    assert units.query("layer == 2")["dead"].tolist() == [0, 1, 0, 0]
    assert_units_equal(units, reference_units(model, x, y))


def test_a_gradient_too_small_to_square_in_float32_keeps_its_size_per_unit():
    """Deep sigmoid: layer 1's dL/dz is ~1e-20, whose square underflows float32."""
    config = ExperimentConfig(depth=30, width=8)
    model = build_model(config)
    x, y = batch(config, 16)
    units, expected = fast_units(model, x, y), reference_units(model, x, y)
    assert 0 < expected.query("layer == 1")["delta_rms"].max() < 1e-19
    assert_units_equal(units, expected)


@pytest.mark.parametrize("poison", [float("nan"), float("inf")])
def test_nan_and_inf_reach_the_same_units(poison):
    model, x, y = poisoned(poison)
    units = fast_units(model, x, y)
    assert units["delta_rms"].isna().any()  # NaN reaches units of several layers
    assert_units_equal(units, reference_units(model, x, y))


def test_trainer_units_are_the_last_recorded_steps_and_empty_before_the_first():
    config = ExperimentConfig(depth=3, width=5, steps=4, learning_rate=0.5)
    trainer = Trainer(config)
    empty = trainer.units()
    assert empty.empty and list(empty.columns) == list(UNIT_COLUMNS)
    trainer.step(4)
    units = trainer.units()
    assert (units["step"] == 3).all() and len(units) == 3 * 5 + 2
    model = build_model(config)  # a plain loop to the same step
    data = make_dataset(config)
    optimizer = torch.optim.SGD(model.parameters(), lr=config.learning_rate)
    batches = batch_indices(config, len(data.x_train))
    for _ in range(4):
        idx = next(batches)
        x, y = data.x_train[idx], data.y_train[idx]
        expected = unit_rows(model, record_pass(model, x, y), step=3)
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()
    assert_units_equal(units, expected)
    layers = trainer.layers.query("step == 3")
    by_layer = units.groupby("layer")["delta_rms"].apply(lambda r: np.sqrt((r**2).mean()))
    np.testing.assert_allclose(by_layer, layers["delta_rms"], rtol=1e-5)


def test_saturated_tanh_units_count_as_dead_in_both():
    """The case that hid a wrong rule: saturated tanh units, batch 8, large init x3."""
    config = ExperimentConfig(depth=6, width=32, activation="tanh", init="large_normal", weight_scale=3.0)
    model = build_model(config)
    x, y = batch(config, 8)
    reference = layer_stats(model, x, y)
    assert reference["dead_fraction"].max() > 0.05
    np.testing.assert_allclose(fast_rows(model, x, y)["dead_fraction"], reference["dead_fraction"])


@pytest.mark.parametrize("poison", [float("nan"), float("inf")])
def test_nan_and_inf_propagate_the_same_way(poison):
    model, x, y = poisoned(poison)
    got, expected = fast_rows(model, x, y), layer_stats(model, x, y)
    for column in LAYER_COLUMNS:
        a, b = got[column].to_numpy(float), expected[column].to_numpy(float)
        assert (np.isnan(a) == np.isnan(b)).all(), column
        np.testing.assert_allclose(a[~np.isnan(a)], b[~np.isnan(b)], rtol=2e-4, atol=1e-7, err_msg=column)


@pytest.mark.parametrize(
    "config",
    [
        ExperimentConfig(depth=4, width=12, steps=6, learning_rate=0.5),
        ExperimentConfig(depth=3, width=12, steps=6, optimizer="momentum", norm="batchnorm_before"),
        ExperimentConfig(depth=3, width=12, steps=6, optimizer="adam", learning_rate=0.01),
        ExperimentConfig(depth=3, width=12, steps=6, grad_clip=0.01, activation="relu"),
        ExperimentConfig(depth=3, width=8, steps=6, activation="gelu", residual=True, optimizer="momentum"),
        # SGD's -lr x gradient under half a float32 step of the weights near the input:
        # they do not change, and their update is 0, not the step asked for
        ExperimentConfig(depth=20, width=16, steps=3, activation="sigmoid"),
    ],
    ids=["sgd", "momentum-bn", "adam", "clipped", "gelu-residual", "sgd-vanishing"],
)
def test_training_steps_equal_a_plain_loop_measured_by_the_reference(config):
    """Every row of Trainer.layers equals the reference's measurement of a plain
    torch.optim loop on the unpacked model (same weights, same batches)."""
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
    initial = [linear.weight.detach().clone() for linear in model.linears]
    batches = batch_indices(config, len(data.x_train))
    for step in range(config.steps):
        idx = next(batches)
        x, y = data.x_train[idx], data.y_train[idx]
        recorded = record_pass(model, x, y)
        before = [linear.weight.detach().clone() for linear in model.linears]
        gammas = [(n.weight.detach().clone(), n.bias.detach().clone()) for n in model.norms]
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        if config.grad_clip:
            nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()
        after = [linear.weight.detach().clone() for linear in model.linears]
        recorded.weights = before
        expected = layer_rows(model, recorded, step, weights_after=after, initial_weights=initial)
        if gammas:  # the norms' parameters this step used, not the updated ones
            hidden = expected.index[: config.depth]
            expected.loc[hidden, "norm_gamma_mean"] = [g.mean().item() for g, _ in gammas]
            expected.loc[hidden, "norm_beta_mean"] = [b.mean().item() for _, b in gammas]
        row = layers[layers["step"] == step].reset_index(drop=True)
        assert_rows_equal(row, expected, rtol=1e-4)
        np.testing.assert_allclose(row["update_ratio"], expected["update_ratio"], rtol=1e-3, atol=1e-12)
        assert ((row["update_ratio"] == 0) == (expected["update_ratio"] == 0)).all()  # (atol hides a 1e-13)
        assert trainer.metrics["loss"][step] == pytest.approx(loss.item(), rel=1e-5)


def test_percentiles_stay_exact_across_many_steps():
    """The percentiles' samples are sorted many steps at a time (and when the frame is
    asked for): every step's p15/p50/p85 still match the reference's."""
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
            expected = layer_stats(model, x, y)
            row = layers[layers["step"] == step].reset_index(drop=True)
            assert_rows_equal(row[:-1], expected[:-1], ["act_input_p15", "act_input_p50", "act_input_p85"])
        optimizer.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        optimizer.step()


# ---- the kernels' boundary ---------------------------------------------------------


def kernel_arguments(dtype=np.float32, shape=(2, 4, 3)):
    """activation_sums' arguments: x, y, delta, slope (empty: computed), coefficients,
    cutoff, out, sample, units_out, histogram, for `shape` (layers, batch, units)."""
    x = np.ones(shape, dtype)
    out = np.zeros((shape[0], len(kernels.ACTIVATION_SUMS)), np.float32)
    units = np.zeros((shape[0], len(kernels.UNIT_SUMS), shape[2]), np.float32)
    return [x, x.copy(), x.copy(), np.empty((0, 0, 0), np.float32), np.zeros(6, np.float32), 0.1, out,
            np.zeros((shape[0], 4), np.float32), units, np.zeros((shape[0], 8), np.float32)]  # fmt: skip


@pytest.mark.parametrize("dtype", [np.float16, np.float64])
def test_kernels_refuse_other_precisions(dtype):
    with pytest.raises(TypeError):
        kernels.activation_sums(*kernel_arguments(dtype))
    values = np.zeros((2, 3), dtype)
    with pytest.raises(TypeError):
        kernels.weight_sums(values, values, values, np.array([3, 3]), np.zeros((5, 2), np.float32), values)
    with pytest.raises(TypeError):
        kernels.update_sums(values, values, np.array([3, 3]), np.zeros(2, np.float32), np.zeros(2, np.float32))
    with pytest.raises(TypeError):
        kernels.output_norm(values, np.zeros((2, 3), np.float32))


def test_kernels_refuse_strided_arrays_and_mismatched_shapes():
    arguments = kernel_arguments()
    arguments[0] = np.ones((2, 3, 4), np.float32).transpose(0, 2, 1)  # not C-contiguous
    with pytest.raises(TypeError):
        kernels.activation_sums(*arguments)
    arguments = kernel_arguments()
    arguments[1] = np.ones((2, 4, 2), np.float32)
    with pytest.raises(ValueError):
        kernels.activation_sums(*arguments)
    arguments = kernel_arguments()
    arguments[7] = np.zeros((2, 13), np.float32)  # a sample larger than the layer
    with pytest.raises(ValueError):
        kernels.activation_sums(*arguments)
    arguments = kernel_arguments()
    arguments[8] = np.zeros((2, len(kernels.UNIT_SUMS), 4), np.float32)  # more units than the layer has
    with pytest.raises(ValueError):
        kernels.activation_sums(*arguments)
    arguments = kernel_arguments()
    arguments[9] = np.zeros((2, 13), np.float32)  # a histogram larger than the layer
    with pytest.raises(ValueError):
        kernels.activation_sums(*arguments)
    values = np.zeros((2, 3), np.float32)
    with pytest.raises(ValueError):
        kernels.weight_sums(values, values, values, np.array([3, 4]), np.zeros((5, 2), np.float32), values)
    with pytest.raises(ValueError):
        kernels.weight_sums(
            values, values, np.zeros((2, 2), np.float32), np.array([3, 3]), np.zeros((5, 2), np.float32), values
        )
    with pytest.raises(ValueError):  # `before` of another shape
        kernels.weight_sums(values, values, values, np.array([3, 3]), np.zeros((5, 2), np.float32), values[:1])
    sums = np.zeros(2, np.float32)
    with pytest.raises(ValueError):
        kernels.update_sums(values, values, np.array([3, 4]), sums, sums)
    with pytest.raises(ValueError):
        kernels.update_sums(values, np.zeros((2, 2), np.float32), np.array([3, 3]), sums, sums)
    with pytest.raises(TypeError):
        kernels.update_sums(values, np.zeros((3, 2), np.float32).T, np.array([3, 3]), sums, sums)  # strided
    with pytest.raises(ValueError):
        kernels.output_norm(values, np.zeros((3, 2), np.float32))


@pytest.mark.parametrize("dtype", [torch.float16, torch.float64])
def test_a_model_in_another_precision_raises_a_python_error(dtype):
    config = ExperimentConfig(depth=2, width=4)
    model = build_model(config).to(dtype)
    x, y = batch(config, 8)
    with pytest.raises((TypeError, RuntimeError)):
        fast_rows(model, x.to(dtype), y)


def test_a_run_only_looked_at_holds_no_optimizer_state():
    """Adam's moments are made at the first step, as torch.optim's: a page opened on a
    large network that is never trained holds the network only (depth 100 × width 512:
    210 MB less). The steps after are torch.optim.Adam's (the test above)."""
    trainer = Trainer(ExperimentConfig(depth=3, width=12, steps=6, optimizer="adam", learning_rate=0.01))
    assert trainer.optimizer.exp_avgs == [] and trainer.optimizer.exp_avg_sqs == []
    trainer.step(1)
    assert [m.shape for m in trainer.optimizer.exp_avgs] == [p.shape for p in trainer.optimizer.params]
