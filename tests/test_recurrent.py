"""vangrad_core.recurrent: the config and its links, the tasks, dL/dh_t against autograd
on an unrolled network written out here, divergence and clipping, determinism, the
theory's bound, and the issue's claims on trained runs."""

from __future__ import annotations

import itertools
import math
import threading

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from tests.conftest import ANYTHING, valid_settings
from vangrad_core.experiments import long_range_memory
from vangrad_core.lessons import MEMORY_LENGTHS
from vangrad_core.recurrent import (
    ADDING_TOLERANCE,
    ALPHABET,
    CELLS,
    GUESS_LOSS,
    GUESS_WITHIN,
    MAX_TIME_ROWS,
    TIME_COLUMNS,
    RecurrentConfig,
    RecurrentTrainer,
    build_recurrent_model,
    make_task,
    pascanu_bound,
    time_record_every,
    training_batches,
)

torch.set_num_threads(1)


# ---- the config and its links ------------------------------------------------------


@given(valid_settings(RecurrentConfig))
def test_query_params_round_trip(config):
    params = config.to_query_params()
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in params.items())
    again, warnings = RecurrentConfig.from_query_params(params)
    assert again == config
    assert warnings == []


@settings(max_examples=200)
@given(st.dictionaries(st.one_of(st.sampled_from(list(RecurrentConfig().to_dict())), st.text()), ANYTHING))
def test_hostile_params_never_raise(params):
    config, warnings = RecurrentConfig.from_query_params(params)
    assert isinstance(config, RecurrentConfig)
    for warning in warnings:
        assert "<" not in warning and ">" not in warning and len(warning) < 300


@pytest.mark.parametrize(
    "field, value",
    [
        ("cell", "transformer"),
        ("activation", "gelu"),
        ("length", 1),
        ("length", 201),
        ("hidden", 257),
        ("init", "xavier"),
        ("spectral_radius", 3.5),
        ("forget_bias", 2),
        ("forget_bias", 0.5),
        ("grad_clip", -1),
        ("optimizer", "rmsprop"),
        ("learning_rate", 0.0),
        ("batch_size", 0),
        ("steps", 20001),
        ("task", "copy"),
        ("seed", -1),
    ],
)
def test_constructor_names_the_field_and_what_it_accepts(field, value):
    with pytest.raises(ValueError, match=field) as error:
        RecurrentConfig(**{field: value})
    assert "got" in str(error.value)


def test_fields_a_cell_does_not_use_are_kept_not_refused():
    config = RecurrentConfig(cell="lstm", activation="relu", init="orthogonal", spectral_radius=2.5)
    again, warnings = RecurrentConfig.from_query_params(config.to_query_params())
    assert again == config and warnings == []


def test_memory_rule_gives_way_on_the_batch_size():
    with pytest.raises(ValueError, match="batch size"):
        RecurrentConfig(length=200, hidden=256, batch_size=1024)
    config, warnings = RecurrentConfig.from_query_params({"length": "200", "hidden": "256", "batch_size": "1024"})
    assert (config.length, config.hidden, config.batch_size) == (200, 256, RecurrentConfig().batch_size)
    assert len(warnings) == 1 and "batch size" in warnings[0]


def test_prefixed_links_leave_other_keys_as_unknown():
    config, warnings = RecurrentConfig.from_query_params({"r.cell": "gru", "r.length": "7", "depth": "3"}, prefix="r.")
    assert (config.cell, config.length) == ("gru", 7)
    assert warnings == ["unknown URL parameter 'depth' ignored"]


# ---- tasks ---------------------------------------------------------------------------


def test_first_symbol_task_labels_the_first_symbol():
    config = RecurrentConfig(task="first_symbol", length=9, batch_size=16)
    x, y = next(training_batches(config))
    assert x.shape == (9, 16, ALPHABET) and x.dtype == torch.float32
    assert torch.equal(x.sum(2), torch.ones(9, 16))  # one-hot
    assert torch.equal(x[0].argmax(1), y)
    task = make_task(config)
    assert task.x_test.shape == (9, 512, ALPHABET) and task.chance_accuracy == 1 / ALPHABET


@pytest.mark.parametrize("length", [2, 3, 50])
def test_adding_task_marks_one_number_in_each_half_and_sums_them(length):
    config = RecurrentConfig(task="adding", length=length, batch_size=64)
    x, y = next(training_batches(config))
    values, markers = x[..., 0], x[..., 1]
    assert ((values >= 0) & (values <= 1)).all()
    assert torch.equal(markers[: length // 2].sum(0), torch.ones(64))
    assert torch.equal(markers[length // 2 :].sum(0), torch.ones(64))
    assert torch.allclose((values * markers).sum(0), y)


def test_answering_the_average_scores_what_the_pages_say():
    """Answering 1 to every adding problem of the test set: its squared error is about
    GUESS_LOSS (1/6, the variance of a sum of two uniform numbers) and about GUESS_WITHIN
    of its answers are within the tolerance (sampling noise of 512 sequences allowed)."""
    task = make_task(RecurrentConfig(task="adding"))
    error = (task.y_test - 1).square().mean().item()
    within = ((task.y_test - 1).abs() < ADDING_TOLERANCE).double().mean().item()
    assert error == pytest.approx(GUESS_LOSS["adding"], abs=0.03) and within == pytest.approx(GUESS_WITHIN, abs=0.04)


def test_tasks_are_the_same_for_the_same_config_and_differ_by_seed():
    config = RecurrentConfig(task="adding", length=20)
    first, again, other = make_task(config), make_task(config), make_task(config.replace(seed=1))
    assert torch.equal(first.x_test, again.x_test) and torch.equal(first.y_test, again.y_test)
    assert not torch.equal(first.x_test, other.x_test)
    batches = [x for x, _ in itertools.islice(training_batches(config), 3)]
    assert torch.equal(batches[0], next(training_batches(config))[0])
    assert not torch.equal(batches[0], batches[1])
    assert not torch.equal(batches[0], first.x_test[:, :32])  # the test split is not a training batch


# ---- dL/dh_t against autograd on an unrolled network written out here ----------------


def reference_pass(config: RecurrentConfig, weights: list[torch.Tensor], x: torch.Tensor, y: torch.Tensor):
    """The network unrolled with plain tensor ops in float64, from the equations (PyTorch's
    gate order), and what the trainer's columns mean, by their definitions: a frame with
    t, grad_rms (dL/dh_t by autograd on every h_t), mean_derivative (φ' by autograd),
    jacobian_gain (the Jacobian diag(φ'(a_t)) W_hh formed per sequence, its Frobenius
    norm over √H), forget_gate, update_gate, most_open_gate (the gate's batch mean in the
    unit where it is largest)."""
    # the weights require grad so that every h_t is a node of the graph
    w_ih, w_hh, b_ih, b_hh, w_out, b_out = (w.detach().double().requires_grad_() for w in weights)
    x = x.double()
    T, B = x.shape[:2]
    H = w_hh.shape[1]
    phi = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "relu": torch.relu}[config.activation]

    h, c = torch.zeros(B, H, dtype=torch.float64), torch.zeros(B, H, dtype=torch.float64)
    hs, columns = [], {name: [] for name in TIME_COLUMNS[3:]}
    for t in range(T):
        pre = x[t] @ w_ih.T + b_ih
        rec = h @ w_hh.T + b_hh
        if config.cell == "rnn":
            a = (pre + rec).detach().requires_grad_()
            (derivative,) = torch.autograd.grad(phi(a).sum(), a)
            jacobians = derivative[:, :, None] * w_hh.detach()  # B × H × H: row i of W_hh times φ'(a_i)
            columns["mean_derivative"].append(float(derivative.mean()))
            columns["jacobian_gain"].append(float((torch.linalg.matrix_norm(jacobians) / math.sqrt(H)).mean()))
            h = phi(pre + rec)
        elif config.cell == "lstm":
            i, f, g, o = (pre + rec).chunk(4, 1)
            i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
            c = f * c + i * g
            h = o * torch.tanh(c)
            columns["forget_gate"].append(f.mean().item())
            columns["most_open_gate"].append(f.mean(0).max().item())
        else:
            (pre_r, pre_z, pre_n), (rec_r, rec_z, rec_n) = pre.chunk(3, 1), rec.chunk(3, 1)
            r, z = torch.sigmoid(pre_r + rec_r), torch.sigmoid(pre_z + rec_z)
            n = torch.tanh(pre_n + r * rec_n)
            h = (1 - z) * n + z * h
            columns["update_gate"].append(z.mean().item())
            columns["most_open_gate"].append(z.mean(0).max().item())
        hs.append(h)
    prediction = h @ w_out.T + b_out
    if config.task == "first_symbol":
        loss = nn.functional.cross_entropy(prediction, y)
    else:
        loss = nn.functional.mse_loss(prediction[:, 0], y.double())
    gradients = torch.autograd.grad(loss, hs)
    frame = pd.DataFrame({"t": np.arange(1, T + 1)})
    frame["grad_rms"] = [g.square().mean().sqrt().item() for g in gradients]
    for name, values in columns.items():
        frame[name] = values if values else np.nan
    return frame, loss.item()


def batch_at(config: RecurrentConfig, step: int):
    return next(itertools.islice(training_batches(config), step, None))


def assert_matches_reference(trainer: RecurrentTrainer, step: int, rtol: float = 1e-3) -> pd.DataFrame:
    """Train to `step`, keep the weights, run that step, compare its rows with the reference."""
    trainer.step(step - trainer.step_count)
    weights = [p.detach().clone() for p in trainer.model.parameters()]
    trainer.step(1)
    expected, loss = reference_pass(trainer.config, weights, *batch_at(trainer.config, step))
    ours = trainer.time_gradients
    ours = ours[ours["step"] == step].reset_index(drop=True)
    assert list(ours["t"]) == list(expected["t"])
    assert trainer.metrics["loss"][step] == pytest.approx(loss, rel=rtol / 10)
    for column in TIME_COLUMNS[2:]:
        assert ours[column].isna().equals(expected[column].isna()), column
        both = ~expected[column].isna()
        np.testing.assert_allclose(ours[column][both], expected[column][both], rtol=rtol, atol=0, err_msg=column)
    return ours


REFERENCE_CASES = {
    "rnn tanh": RecurrentConfig(cell="rnn", activation="tanh", length=12, hidden=16, batch_size=8),
    "rnn sigmoid, first symbol": RecurrentConfig(
        cell="rnn", activation="sigmoid", length=12, hidden=16, batch_size=8, task="first_symbol"
    ),
    "rnn relu": RecurrentConfig(cell="rnn", activation="relu", length=12, hidden=16),
    "lstm, first symbol": RecurrentConfig(cell="lstm", length=12, hidden=16, batch_size=8, task="first_symbol"),
    "lstm, forget bias 0, sgd": RecurrentConfig(cell="lstm", forget_bias=0, optimizer="sgd", learning_rate=0.5),
    "gru": RecurrentConfig(cell="gru", length=12, hidden=16, batch_size=8),
    "gru, first symbol": RecurrentConfig(cell="gru", length=12, hidden=16, batch_size=8, task="first_symbol"),
    "batch 1": RecurrentConfig(cell="lstm", length=8, hidden=8, batch_size=1),
    "hidden 2": RecurrentConfig(cell="rnn", activation="tanh", length=8, hidden=2, batch_size=4),
    "T = 2": RecurrentConfig(cell="gru", length=2, hidden=8, batch_size=4, task="first_symbol"),
}


@pytest.mark.parametrize("config", REFERENCE_CASES.values(), ids=REFERENCE_CASES.keys())
def test_time_gradients_are_autograds_on_an_unrolled_reference(config):
    trainer = RecurrentTrainer(config.replace(steps=5, length=min(config.length, 20)))
    for step in (0, 3):  # untrained, and after three updates
        assert_matches_reference(trainer, step)


def test_saturated_tanh_units_match_the_reference_and_pass_little_gradient():
    """Input weights ×50 drive most tanh units into saturation (1 − h² near 0, computed in
    float32 from h near ±1: hence the looser tolerance)."""
    config = RecurrentConfig(task="first_symbol", length=16, hidden=32, batch_size=8, steps=2)
    trainer = RecurrentTrainer(config)
    with torch.no_grad():
        trainer.model.weight_ih.mul_(50)
    ours = assert_matches_reference(trainer, 0, rtol=1e-2)
    assert ours["mean_derivative"].max() < 0.2
    assert ours["grad_rms"].iloc[0] < 1e-10 * ours["grad_rms"].iloc[-1]


def test_two_hundred_steps_match_the_reference():
    """T = 200: an LSTM (its gradient fades ×~0.7 a step, still within float32's range at t = 1)."""
    config = RecurrentConfig(cell="lstm", length=200, hidden=8, batch_size=4, steps=2)
    ours = assert_matches_reference(RecurrentTrainer(config), 0, rtol=1e-2)
    assert ours["grad_rms"].iloc[0] < 1e-12 * ours["grad_rms"].iloc[-1]


@pytest.mark.parametrize("cell", CELLS)
def test_training_updates_equal_a_plain_loop_on_pytorchs_own_module(cell):
    """The probe changes no number of the training itself: three clipped Adam steps of the
    trainer and of nn.RNN / nn.LSTM / nn.GRU loaded with the same initial weights."""
    config = RecurrentConfig(cell=cell, length=10, hidden=12, batch_size=8, grad_clip=0.5, steps=3, task="first_symbol")
    trainer = RecurrentTrainer(config)
    module = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}[cell](ALPHABET, 12)
    head = nn.Linear(12, ALPHABET)
    ours = list(trainer.model.parameters())
    with torch.no_grad():
        for theirs, mine in zip([*module.parameters(), *head.parameters()], ours, strict=True):
            theirs.copy_(mine)
    parameters = [*module.parameters(), *head.parameters()]
    optimizer = torch.optim.Adam(parameters, lr=config.learning_rate)
    for x, y in itertools.islice(training_batches(config), 3):
        loss = nn.functional.cross_entropy(head(module(x)[0][-1]), y)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(parameters, 0.5)
        optimizer.step()
    trainer.step(3)
    for theirs, mine in zip(parameters, ours, strict=True):
        torch.testing.assert_close(mine, theirs, rtol=1e-4, atol=1e-6)


def test_columns_that_do_not_apply_are_nan():
    for cell, present in (("rnn", {"mean_derivative", "jacobian_gain"}), ("lstm", {"forget_gate", "most_open_gate"})):
        trainer = RecurrentTrainer(RecurrentConfig(cell=cell, length=5, hidden=4, steps=1))
        trainer.step(1)
        frame = trainer.time_gradients
        assert list(frame.columns) == list(TIME_COLUMNS) and list(frame["t"]) == [1, 2, 3, 4, 5]
        assert frame.attrs["record_every"] == 1
        for column in TIME_COLUMNS[3:]:
            assert frame[column].notna().all() == (column in present), (cell, column)


# ---- divergence and clipping ---------------------------------------------------------


def test_exploding_relu_rnn_stops_with_a_reason_and_keeps_only_finite_rows():
    """ReLU with identity W_hh and plain SGD: the first update makes W_hh's spectral radius
    exceed 1 and the next step's state (and loss) overflow."""
    config = RecurrentConfig(activation="relu", init="identity", optimizer="sgd", learning_rate=0.1, task="adding")
    trainer = RecurrentTrainer(config.replace(steps=50))
    assert trainer.step(50) < 50 and trainer.done
    s = trainer.diverged_at
    assert s is not None and trainer.step_count == s
    reason = trainer.divergence_reason
    assert reason.startswith("the loss became NaN (not a number): the hidden states or the weights blew up")
    assert "before that step's update" in reason
    assert len(trainer.metrics) == s and np.isfinite(trainer.metrics["loss"]).all()
    frame = trainer.time_gradients
    assert set(frame["step"]) == set(range(s)) and np.isfinite(frame["grad_rms"]).all()
    assert trainer.step(5) == 0


def test_a_gradient_that_overflows_with_a_finite_loss_stops_the_run_at_step_0():
    """ReLU with spectral radius 3 over 100 steps: the logits are huge but finite, and the
    cross-entropy too; the gradient through time overflows."""
    config = RecurrentConfig(
        activation="relu", init="scaled_normal", spectral_radius=3.0, length=100, steps=5, task="first_symbol"
    )
    trainer = RecurrentTrainer(config)
    trainer.step(5)
    assert trainer.diverged_at == 0 and "gradient" in trainer.divergence_reason
    assert trainer.metrics.empty and trainer.time_gradients.empty
    assert list(trainer.time_gradients.columns) == list(TIME_COLUMNS)


EXTREMES = {
    "lr 10, relu, identity, T 200, batch 1": RecurrentConfig(
        activation="relu", init="identity", optimizer="sgd", learning_rate=10.0, length=200, batch_size=1
    ),
    "sigmoid, hidden 2, T 2, batch 1024": RecurrentConfig(activation="sigmoid", hidden=2, length=2, batch_size=1024),
    "lstm, hidden 256, spectral radius 3, adam lr 10": RecurrentConfig(
        cell="lstm", hidden=256, length=20, init="scaled_normal", spectral_radius=3.0, learning_rate=10.0
    ),
    "gru, momentum lr 10, clip 1e6": RecurrentConfig(
        cell="gru", optimizer="momentum", learning_rate=10.0, grad_clip=1e6, length=30, task="first_symbol"
    ),
}


@pytest.mark.parametrize("config", EXTREMES.values(), ids=EXTREMES.keys())
def test_extreme_configs_run_or_stop_with_a_reason_and_never_raise(config):
    trainer = RecurrentTrainer(config.replace(steps=6))
    trainer.step(6)
    assert trainer.done and (trainer.diverged_at is None) == (trainer.step_count == 6)
    assert (trainer.divergence_reason is None) == (trainer.diverged_at is None)
    assert np.isfinite(trainer.metrics["loss"]).all()
    frame = trainer.time_gradients
    assert np.isfinite(frame["grad_rms"]).all() and not np.isinf(frame.iloc[:, 3:].to_numpy()).any()
    assert len(trainer.spectrum) == 2 * len(trainer.spectrum.query("step == 0"))


def test_clipping_turns_the_diverging_run_into_one_that_finishes():
    """Claim (c): the run above diverges at step 1; clipped at norm 1 it does all 200 steps."""
    config = RecurrentConfig(
        activation="relu", init="identity", optimizer="sgd", learning_rate=0.1, task="adding", steps=200
    )
    unclipped, clipped = RecurrentTrainer(config), RecurrentTrainer(config.replace(grad_clip=1.0))
    unclipped.step(200)
    clipped.step(200)
    assert unclipped.diverged_at is not None and unclipped.diverged_at < 10
    assert clipped.diverged_at is None and clipped.step_count == 200
    assert np.isfinite(clipped.metrics["loss"]).all() and np.isfinite(clipped.time_gradients["grad_rms"]).all()
    assert clipped.metrics["loss"].iloc[-20:].mean() < 0.5


# ---- determinism, memory ---------------------------------------------------------------


def frames(trainer: RecurrentTrainer) -> list[pd.DataFrame]:
    return [trainer.metrics, trainer.time_gradients, trainer.spectrum]


def test_same_config_same_frames_whatever_else_the_process_does():
    """Claim (d): identical frames twice, the second time with the global RNG reseeded and
    another run training in a thread meanwhile."""
    config = RecurrentConfig(cell="lstm", length=20, hidden=16, steps=60)
    first = RecurrentTrainer(config)
    first.step(60)
    stop = threading.Event()

    def other() -> None:
        trainer = RecurrentTrainer(RecurrentConfig(cell="gru", length=10, steps=20000, seed=5))
        while not stop.is_set():
            trainer.step(1)

    thread = threading.Thread(target=other)
    thread.start()
    try:
        torch.manual_seed(1234)
        torch.rand(100)
        second = RecurrentTrainer(config)
        for _ in range(6):
            second.step(10)
            torch.rand(7)
    finally:
        stop.set()
        thread.join()
    for a, b in zip(frames(first), frames(second), strict=True):
        pd.testing.assert_frame_equal(a, b)


def test_long_runs_keep_every_kth_step_and_a_few_megabytes():
    config = RecurrentConfig(length=200, steps=20000, batch_size=8, hidden=8)
    assert time_record_every(config) == 80
    trainer = RecurrentTrainer(config)
    kept = trainer._time.nbytes + trainer._metrics.nbytes + trainer._recorded_steps.nbytes
    assert kept < 4 * 2**20
    assert (trainer._time.shape[0] - 1) * 200 <= MAX_TIME_ROWS + 200
    short = RecurrentTrainer(config.replace(steps=600))  # every 3rd step
    short.step(7)
    frame = short.time_gradients
    assert frame.attrs["record_every"] == 3 and sorted(set(frame["step"])) == [0, 3, 6]
    assert frame.memory_usage().sum() < 200 * 3 * 8 * 8 * 1.1


# ---- the spectrum and the theory's bound ---------------------------------------------


def test_identity_init_has_spectral_radius_1_and_orthogonal_all_singular_values_1():
    """Claim (e), for each gate's block of an LSTM and a GRU too."""
    for cell in CELLS:
        identity = build_recurrent_model(RecurrentConfig(cell=cell, init="identity", hidden=16))
        orthogonal = build_recurrent_model(RecurrentConfig(cell=cell, init="orthogonal", hidden=16))
        for block in range(len(identity.weight_hh) // 16):
            rows = slice(16 * block, 16 * (block + 1))
            eigenvalues = torch.linalg.eigvals(identity.weight_hh[rows].detach().double())
            assert eigenvalues.abs().max().item() == pytest.approx(1.0, abs=1e-12)
            singular = torch.linalg.svdvals(orthogonal.weight_hh[rows].detach().double())
            torch.testing.assert_close(singular, torch.ones(16, dtype=torch.float64), rtol=0, atol=1e-5)
    trainer = RecurrentTrainer(RecurrentConfig(cell="lstm", init="identity", hidden=16))
    assert trainer.spectrum["spectral_radius"].tolist() == pytest.approx([1.0] * 4)
    assert (trainer.spectrum["step"] == 0).all()


def test_scaled_normal_has_the_chosen_spectral_radius_and_inits_zero_the_biases():
    model = build_recurrent_model(RecurrentConfig(init="scaled_normal", spectral_radius=1.7, hidden=32))
    radius = torch.linalg.eigvals(model.weight_hh.detach().double()).abs().max().item()
    assert radius == pytest.approx(1.7, rel=1e-5)
    assert not model.bias_hh.any() and not model.bias_ih.any()
    lstm = build_recurrent_model(RecurrentConfig(cell="lstm", init="orthogonal", forget_bias=1, hidden=8))
    assert lstm.bias_ih.tolist() == [0.0] * 8 + [1.0] * 8 + [0.0] * 16 and not lstm.bias_hh.any()
    default = build_recurrent_model(RecurrentConfig(cell="lstm", forget_bias=0, hidden=8))
    assert not default.bias_ih[8:16].any() and default.bias_ih[:8].abs().min() > 0  # the rest stays PyTorch's


def test_tanh_gradients_lie_under_pascanus_bound_and_vanish_by_step_1():
    """Claim (a), on the default config (the page's first demo): at step 0, T = 50, the
    gradient at step 1 is under 1e-3 of the one at step 50 (measured: ~1e-10); and every
    t lies under (γ ‖W_hh‖₂)^(T−t) times the gradient at T."""
    config = RecurrentConfig()
    trainer = RecurrentTrainer(config)
    bound = pascanu_bound(trainer.model, config.length)
    trainer.step(1)
    measured = trainer.time_gradients["grad_rms"].to_numpy()
    ratio = measured / measured[-1]
    assert ratio[0] < 1e-3
    assert (ratio <= bound["bound"].to_numpy() * (1 + 1e-4)).all()
    assert list(bound["t"]) == list(range(1, 51)) and bound["bound"].iloc[-1] == 1.0
    assert bound.attrs["gamma"] == 1.0 and bound.attrs["spectral_norm"] > bound.attrs["spectral_radius"]


def test_pascanus_bound_is_attained_by_a_linear_network():
    """ReLU units that are all active are linear; with W_hh = 0.9 I, non-negative input
    weights and zero biases they stay active, the Jacobian is 0.9 I at every step and
    dL/dh_t = 0.9^(T−t) dL/dh_T exactly: the bound, with γ = 1 and ‖W_hh‖₂ = 0.9."""
    config = RecurrentConfig(activation="relu", init="identity", length=30, hidden=8, steps=1)
    trainer = RecurrentTrainer(config)
    with torch.no_grad():
        trainer.model.weight_hh.mul_(0.9)
        trainer.model.weight_ih.abs_()
    bound = pascanu_bound(trainer.model, config.length)
    trainer.step(1)
    frame = trainer.time_gradients
    measured = frame["grad_rms"].to_numpy()
    np.testing.assert_allclose(measured / measured[-1], 0.9 ** (30 - np.arange(1, 31)), rtol=1e-5)
    np.testing.assert_allclose(bound["bound"], 0.9 ** (30 - np.arange(1, 31)), rtol=1e-6)
    assert (frame["mean_derivative"] == 1).all()
    np.testing.assert_allclose(frame["jacobian_gain"], 0.9, rtol=1e-6)  # every singular value of 0.9 I is 0.9


def test_bound_is_for_the_plain_rnn_only():
    with pytest.raises(ValueError, match="plain RNN"):
        pascanu_bound(build_recurrent_model(RecurrentConfig(cell="gru")), 10)
    sigmoid = pascanu_bound(build_recurrent_model(RecurrentConfig(activation="sigmoid")), 50)
    assert sigmoid.attrs["gamma"] == 0.25


# ---- the claim (b) and the classic experiment: one run of it, shared ---------------


@pytest.fixture(scope="module")
def memory_outcome():
    return long_range_memory(0)


def test_lstm_learns_the_adding_problem_at_T_50_while_the_tanh_rnn_stays_at_chance(memory_outcome):
    """Claim (b), on the adding problem: on the first-symbol task the LSTM with forget
    bias 1 stays at chance from T ≈ 20 on (see `long_range_memory`). At T = 50, Adam
    (learning rate 0.05), 32 units, batches of 64, at most 600 steps: the LSTM with forget
    bias 1 gets its test error under 0.04 (so it uses the first marked number: knowing
    only the second leaves 1/12), the tanh RNN stays at the error of answering 1 always
    (1/6) and at chance accuracy (0.08 ± 0.04). Seed 0: the LSTM needs 451 steps (~5 s of
    one thread here), the RNN's 600 take ~7 s; seeds 1–3: 351, 501, 351 steps."""
    numbers = memory_outcome.numbers
    assert numbers["lstm_loss_longest"] < 0.04 and numbers["lstm_steps_longest"] <= 600
    assert numbers["lstm_accuracy_longest"] > 0.16  # twice chance, at the first measurement under 0.04
    assert numbers["rnn_loss_longest"] > 0.15
    assert abs(numbers["rnn_accuracy_longest"] - 0.078) < 0.04


def test_classic_experiment_reproduces_and_its_frames_hold_what_the_chart_draws(memory_outcome):
    assert memory_outcome.reproduced, memory_outcome.verdict
    assert memory_outcome.verdict.startswith("Reproduced: ") and "T = 50" in memory_outcome.verdict
    accuracy = memory_outcome.frames["accuracy"]
    assert list(accuracy.columns) == ["T", "cell", "test_loss", "test_accuracy", "steps", "solved"]
    assert len(accuracy) == 2 * len(MEMORY_LENGTHS) and accuracy["solved"].dtype == bool
    lstm = accuracy[accuracy["cell"].str.startswith("LSTM")]
    assert lstm["solved"].all()
    gradients = memory_outcome.frames["gradients"]
    at_50 = gradients[(gradients["T"] == 50) & (gradients["t"] == 1)].set_index("cell")["relative_grad"]
    assert at_50["plain tanh RNN"] < 1e-8 < 1e-6 < at_50["LSTM, forget bias 1"]  # at step 0
