"""The teaching pages through AppTest: every claim they show, checked by a run."""

from __future__ import annotations

import re

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import (
    CLASSICS_GROUP,
    assert_clean,
    chart_of,
    charts_shown,
    decoded,
    finish_run,
    open_page,
    read_number,
    run_of,
)
from vangrad_core import ACTIVATION_TABLE, ExperimentConfig
from vangrad_core.activations import at as activation_at
from vangrad_core.experiments import CLASSIC_BY_KEY
from vangrad_core.lessons import BATCHNORM_QUESTION, COMPARISONS
from vangrad_core.live import pause_together
from vangrad_core.summary import at_step, range_words
from vangrad_core.writing import number
from views.ui.state import CompareState, ThroughTimeState


def page(path: str, query: dict | None = None) -> AppTest:
    return open_page(path, query)


# ---- why sigmoid vanishes ----------------------------------------------------------


def test_why_sigmoid_shows_the_quarter_ceiling_and_the_measured_factor():
    at = page("views/why_sigmoid.py")
    assert_clean(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Steepest slope of sigmoid"] == "0.25"
    assert metrics["Upper bound from the slope alone: 0.25 per layer"].endswith(f"= {number(0.25**19)}")
    factor = read_number(metrics["Measured, per layer (this network, at initialization)"].split("×")[1])
    assert 0.05 < factor < 0.25  # each layer passes back less than the slope's ceiling


@pytest.mark.parametrize("depth", [2, 20, 40])
def test_why_sigmoid_chain_rule_line_falls_straight_at_the_measured_factor(depth):
    """ "The measured line falls straight on a log scale ... exponential in depth", beside a
    slider from 2 to 40 layers: at each depth the line is straight (within a fifth of a
    decade of a fitted one) and falls by the factor the page prints, every layer."""
    at = page("views/why_sigmoid.py")
    at.slider(key="why_depth").set_value(depth).run()
    assert_clean(at)
    line = next(t for t in charts_shown(at)["why:chain"]["data"] if t["name"].startswith("measured"))
    layers, decades = np.asarray(decoded(line["x"]), float), np.log10(np.asarray(decoded(line["y"]), float))
    slope, intercept = np.polyfit(layers, decades, 1)
    assert np.abs(decades - (slope * layers + intercept)).max() < 0.2
    printed = next(m.value for m in at.metric if m.label.startswith("Measured, per layer"))
    assert 10**slope == pytest.approx(1 / read_number(printed.split("×")[1]), rel=0.15) and 10**slope > 4


def test_why_sigmoid_input_slider_shows_a_small_output_change_on_the_flat_part():
    at = page("views/why_sigmoid.py")
    at.slider(key="why_x0").set_value(5.0).run()
    at.slider(key="why_delta").set_value(3.0).run()
    change = read_number(next(m for m in at.metric if m.label == "Output change").value)
    assert 0 < change < 0.01  # from 5 to 8 the sigmoid barely moves
    at.slider(key="why_x0").set_value(-1.0).run()
    assert read_number(next(m for m in at.metric if m.label == "Output change").value) > 0.4
    # out to x = 16: the chart reaches it (fixed at ±8, the change ran off it), and its legend
    # writes the change as the number does ("0.0000" beside "1.42e-07" for tanh)
    at.slider(key="why_x0").set_value(8.0).run()
    at.slider(key="why_delta").set_value(8.0).run()
    assert_clean(at)
    chart = charts_shown(at)["why:change"]
    assert chart["layout"]["xaxis"]["range"][1] >= 16
    said = next(m for m in at.metric if m.label == "Output change").value
    assert f"output change {said}" in [t["name"] for t in chart["data"]]
    assert said == "3.35e−4" and "e-" not in said  # (3 digits, trailing zeros off; a minus sign, as every number)
    # the caption says what the chart shows: sigmoid's flat part here; linear has none
    caption = next(c.value for c in at.info if c.value.startswith("**What to notice:** Here the output changes"))
    assert f"changes by {number(read_number(said) / 8, 3)}× the input's" in caption and "flat" in caption
    at.button_group(key="why_activation").set_value("linear").run()
    caption = next(c.value for c in at.info if c.value.startswith("**What to notice:** Here the output changes"))
    assert "changes by 1× the input's" in caption and "The linear function has no flat part" in caption
    # GELU's dip: its output falls as the input rises, and the caption keeps the sign the number has
    at.slider(key="why_x0").set_value(-8.0).run()
    at.slider(key="why_delta").set_value(0.5).run()
    at.button_group(key="why_activation").set_value("gelu").run()
    said = next(m for m in at.metric if m.label == "Output change").value
    caption = next(c.value for c in at.info if c.value.startswith("**What to notice:** Here the output"))
    assert said.startswith("−")
    low, high = activation_at("gelu", [-8.0, -7.5])
    assert f"changes by {number((low - high) / 0.5, 3)}× the input's change, the other way" in caption
    # ReLU's flat part: no change at all, not "barely"
    at.button_group(key="why_activation").set_value("relu").run()
    assert next(m for m in at.metric if m.label == "Output change").value == "0"
    caption = next(c.value for c in at.info if c.value.startswith("**What to notice:** Here the output"))
    assert caption.startswith("**What to notice:** Here the output does not change at all.") and "barely" not in caption
    assert any(c.value.startswith("This section and the next are about sigmoid") for c in at.caption)


def test_why_sigmoid_keeps_its_sliders_in_the_link_and_across_pages():
    """A lecturer's L = 40 opened as L = 20 from the link, and came back as 20 after
    another page (only the activation was in the link)."""
    link = {"activation": "tanh", "x": "5.5", "change": "3.0", "layers": "40", "learning_rate": "10.0", "layer": "9"}
    at = page("views/why_sigmoid.py", link)
    assert_clean(at)
    assert not at.warning  # (a good link: nothing to say)
    values = {key: at.slider(key=key).value for key in ("why_x0", "why_delta", "why_depth", "why_layer")}
    assert values == {"why_x0": 5.5, "why_delta": 3.0, "why_depth": 40, "why_layer": 9}
    assert at.segmented_control(key="why_lr").value == 10.0
    assert at.query_params["layers"] == "40" and at.query_params["activation"] == "tanh"
    at.slider(key="why_depth").set_value(30).run()
    assert at.query_params["layers"] == "30"
    at.switch_page("views/batchnorm.py").run()
    at.switch_page("views/why_sigmoid.py").run()
    assert_clean(at)
    assert at.slider(key="why_depth").value == 30 and at.slider(key="why_layer").value == 9


def test_why_sigmoid_batch_norm_answers_the_question_with_runs_that_differ():
    at = page("views/why_sigmoid.py")
    assert_clean(at)

    def saturated() -> list[float]:
        return [float(m.value.rstrip("%<")) / 100 for m in at.metric if m.label == "Saturated, all layers"]

    without, with_bn = saturated()
    assert without > 0.5 and with_bn < 0.05  # the claims of lessons.BATCHNORM_QUESTION[1.0], as shown
    caption = next(c.value for c in at.caption if "weights N(0, 4.4²)" in c.value)
    assert BATCHNORM_QUESTION[1.0].notice in caption
    ranges = [spec["layout"]["xaxis"]["range"] for spec in list(charts_shown(at).values())[-2:]]
    assert ranges[0] == ranges[1] and ranges[0][1] > 20  # side by side on one scale, wide enough for both
    shares = [spec["layout"]["yaxis2"]["range"] for spec in list(charts_shown(at).values())[-2:]]
    assert shares[0] == shares[1] and shares[0][1] > 0  # and one share axis
    at.segmented_control(key="why_lr").set_value(10.0).run()
    assert_clean(at)
    assert saturated()[1] > 0.5  # a learning rate of 10 pushes BN's sigmoid inputs onto the tails


@pytest.mark.parametrize("activation", ["tanh", "relu", "leaky_relu", "gelu", "selu", "elu", "linear"])
def test_why_sigmoid_every_activation(activation):
    at = page("views/why_sigmoid.py")
    at.pills(key="why_activation").set_value(activation).run()
    assert_clean(at)
    # named as the lecture names it ("ReLU", "Leaky ReLU"), not by its key in a link
    label = ACTIVATION_TABLE[activation].label
    assert any(m.label == f"Steepest slope of {label}" for m in at.metric)
    assert "ReLU" in at.pills(key="why_activation").options and "relu" not in at.pills(key="why_activation").options


# ---- compare ---------------------------------------------------------------------


def train_both(at: AppTest, steps: int) -> AppTest:
    next(b for b in at.button if b.label == "Train both").click().run()
    a, b = run_of(at, "compare:a"), run_of(at, "compare:b")
    while (a.playing or b.playing) and a.step_count < steps:
        at.run()
    pause_together((a, b))
    return at.run()


@pytest.mark.parametrize(
    "page, pair",
    [("views/compare.py", "Default vs small init"), ("views/through_time.py", "Plain RNN vs LSTM (T = 50)")],
)
def test_a_pair_page_reads_from_its_title_down_and_presenting_keeps_the_screen_for_the_runs(page, pair):
    at = open_page(page, {"pair": pair})
    kinds = [type(element).__name__ for element in at.main.children.values()]
    assert kinds[:2] == ["Title", "Caption"] and at.selectbox[0].value == pair  # the picker under them
    at.toggle(key="presenter_toggle").set_value(True).run()
    assert_clean(at)
    assert [type(element).__name__ for element in at.main.children.values()][:2] == ["Title", "Info"]
    assert at.title[0].value == pair  # the pair's name, its notice, then the runs
    assert at.sidebar.selectbox[0].label == "Comparison"  # the picker and the forms wait in the sidebar
    assert not at.main.selectbox


@pytest.mark.parametrize("comparison", COMPARISONS, ids=lambda c: c.name)
def test_every_ready_comparison_trains_in_step(comparison):
    at = page("views/compare.py", {"pair": comparison.name})
    assert_clean(at)
    a, b = run_of(at, "compare:a"), run_of(at, "compare:b")
    assert a.config == comparison.a[1] and b.config == comparison.b[1]
    train_both(at, 40)
    assert_clean(at)
    assert a.step_count > 0
    if a.trainer.diverged_at is None and b.trainer.diverged_at is None:
        assert a.step_count == b.step_count  # in step
    assert len(charts_shown(at)) == 3


def test_sigmoid_vs_relu_shows_the_difference():
    at = page("views/compare.py", {"pair": "Sigmoid vs ReLU (20 layers)"})
    train_both(at, 10)  # the live view ticks both
    finish_run(at, "compare:a")
    finish_run(at, "compare:b")
    ratios = [m.value for m in at.metric if m.label.startswith("dL/dz: layer 1 ÷ layer ")]
    sigmoid, relu = (read_number(r) for r in ratios)
    assert sigmoid < 1e-10 < 1e-3 < relu


def test_a_compared_run_that_diverged_says_when_its_test_accuracy_was_measured():
    """B at the largest learning rate diverged on its 3rd step, and its "Test accuracy 50.0%"
    read as now (a browser walk): it is step 1's, as the playground says."""
    at = page("views/compare.py", {"b.learning_rate": "10", "a.steps": "40"})  # B: the first pair's ReLU network
    finish_run(at, "compare:a")
    finish_run(at, "compare:b")
    assert_clean(at)
    run_b = run_of(at, "compare:b")
    assert run_b.trainer.diverged_at is not None
    tested = run_b.trainer.metrics["step"][run_b.trainer.metrics["test_accuracy"].notna()]
    accuracies = [m for m in at.metric if m.label == "Test accuracy"]
    assert [m.delta for m in accuracies] == ["", f"at step {int(tested.iloc[-1]) + 1}"]  # (A has none)


def test_both_configs_in_the_url_and_shared_data():
    a = ExperimentConfig(depth=3, width=8, activation="tanh", seed=4)
    b = ExperimentConfig(depth=5, width=8, activation="relu", seed=999, dataset="circles")
    query = {f"a.{k}": v for k, v in a.to_query_params().items()} | {
        f"b.{k}": v for k, v in b.to_query_params().items()
    }
    at = page("views/compare.py", query)
    assert_clean(at)
    run_a, run_b = run_of(at, "compare:a"), run_of(at, "compare:b")
    assert run_a.config == a
    assert run_b.config.depth == 5 and run_b.config.activation == "relu"
    assert run_b.config.seed == a.seed and run_b.config.dataset == a.dataset  # same data, same seed


def test_a_batch_of_one_that_b_cannot_share_is_said_not_hidden():
    """A trains on single examples, B has batch norm (which needs two): B keeps its own
    batch size, and the page says the runs no longer see the same batches."""
    at = page("views/compare.py", {"a.batch_size": "1", "b.norm": "batchnorm_before"})
    assert_clean(at)
    assert run_of(at, "compare:a").config.batch_size == 1 and run_of(at, "compare:b").config.batch_size == 64
    assert any("Run B keeps its own batch size 64" in w.value and "batch norm" in w.value for w in at.warning)
    captions = [c.value for c in at.caption]
    assert "Both runs take the same steps. Changing a setting restarts both." in captions
    assert not any("same batches" in c for c in captions)
    shared = page("views/compare.py", {"b.norm": "batchnorm_before"})
    assert not shared.warning and any("on the same batches" in c.value for c in shared.caption)


def test_changing_one_runs_setting_restarts_both_in_step_and_training():
    at = page("views/compare.py", {"pair": "Sigmoid vs ReLU (20 layers)"})
    at.session_state["a.steps"] = 20000  # (still playing when the setting changes: 500 steps take under a second)
    next(b for b in at.button if b.label == "Train both").click().run()
    at.run()
    at.selectbox(key="b.activation").set_value("tanh").run()  # B's own setting
    a, b = run_of(at, "compare:a"), run_of(at, "compare:b")
    assert b.config.activation == "tanh" and a.playing and b.playing  # both new, both training at once
    pause_together((a, b))
    assert a.step_count == b.step_count
    assert_clean(at)


def test_a_finished_pair_trains_on_in_step():
    small = {"depth": "3", "width": "8"}
    at = page(
        "views/compare.py",
        {f"a.{k}": v for k, v in (small | {"steps": "20"}).items()}
        | {f"b.{k}": v for k, v in (small | {"activation": "relu"}).items()},
    )
    finish_run(at, "compare:a")
    finish_run(at, "compare:b")
    next(b for b in at.button if b.label == "Train both on").click().run()
    a, b = run_of(at, "compare:a"), run_of(at, "compare:b")
    while a.playing or b.playing:
        at.run()
    assert a.step_count == b.step_count == 40
    assert_clean(at)


def widget_fallbacks(at: AppTest, forms: tuple[str, str]) -> dict[str, tuple]:
    """Each settings widget's default (what Streamlit's frontend falls back on when it
    holds no value for the widget, and then sends back as the user's), beside its value."""
    fallbacks = {}
    for w in [*at.slider, *at.select_slider, *at.selectbox, *at.toggle, *at.number_input]:
        if not (w.key or "").startswith(tuple(f"{form}." for form in forms)):
            continue
        default = w.proto.default
        if w.type == "slider":
            fallbacks[w.key] = (default[0], w.value)
        elif w.type == "select_slider":  # indices into the options, shown as f"{v:g}"
            fallbacks[w.key] = (w.proto.options[int(default[0])], f"{w.value:g}")
        elif w.type == "selectbox":
            fallbacks[w.key] = (default, w.index)
        else:
            fallbacks[w.key] = (default, w.value)
    return fallbacks


@pytest.mark.parametrize(
    "state, link, forms, change",
    [
        (
            CompareState,
            {"a.depth": "7", "a.seed": "5", "a.activation": "relu", "a.width": "16", "a.residual": "1"},
            ("a", "b"),
            ("b.depth", 12),
        ),
        (ThroughTimeState, {}, ("ta", "tb"), ("tb.hidden", 16)),
    ],
    ids=lambda v: v.PAGE if isinstance(v, type) else None,
)
def test_a_browser_without_a_widgets_value_falls_back_on_the_value_not_the_minimum(state, link, forms, change):
    """After a link and after a change, every settings widget's default is its value
    now, not its range's minimum or its first choice."""
    at = page(f"views/{state.PAGE}.py", link)
    key, value = change
    next(w for w in [*at.slider, *at.select_slider] if w.key == key).set_value(value).run()
    fallbacks = widget_fallbacks(at, forms)
    assert len(fallbacks) == 2 * len(state.CONFIG.FIELDS) - len(state.SHARED)
    assert {key: pair for key, pair in fallbacks.items() if pair[0] != pair[1]} == {}
    assert at.session_state[key] == value  # the change took
    assert_clean(at)


def test_compare_bad_link_warns():
    at = page("views/compare.py", {"a.depth": "<b>x</b>", "pair": "nope", "zzz": "1"})
    assert_clean(at)
    text = " ".join(w.value for w in at.warning)
    assert "depth" in text and "zzz" in text and "comparison" in text and "<b>" not in text
    first = COMPARISONS[0]  # nothing usable in the link: the first ready pair, not two equal networks
    assert (run_of(at, "compare:a").config, run_of(at, "compare:b").config) == (first.a[1], first.b[1])
    assert at.selectbox(key="compare:pair").value == first.name
    assert run_of(page("views/compare.py"), "compare:b").config == first.b[1]


def test_a_custom_pair_says_everything_b_changes_from_a():
    """A hand-written link that set B's optimizer and rate also gave B the first ready
    pair's He init (what a link leaves out is that pair's), and nothing said so: the page
    now lists every difference."""
    link = {"a.depth": "15", "a.optimizer": "adam", "b.depth": "15", "b.optimizer": "momentum"}
    at = page("views/compare.py", link)
    assert_clean(at)
    a, b = run_of(at, "compare:a").config, run_of(at, "compare:b").config
    said = next(c.value for c in at.caption if c.value.startswith("B differs from A in its "))
    for name, field in a.FIELDS.items():  # every field that differs is named, and no other
        assert (field.label.split(" (")[0].lower() in said.lower()) == (getattr(a, name) != getattr(b, name)), name
    assert "initialization, He (Kaiming) normal (A: PyTorch default)" in said
    same = page("views/compare.py", {"a.depth": "15", "b.depth": "15", "b.activation": "sigmoid", "b.init": "default"})
    assert any(c.value.startswith("A and B are the same network") for c in same.caption)
    ready = page("views/compare.py")  # a ready pair: its notice says what it changes
    assert not any(c.value.startswith(("B differs", "A and B are the same")) for c in ready.caption)


# ---- batch norm from the inside --------------------------------------------------------


def train_page_run(at: AppTest) -> object:
    finish_run(at, page="batchnorm")
    return run_of(at, "batchnorm").trainer


@pytest.mark.parametrize(
    "preset",
    [
        "Sigmoid, batch norm before it",
        "Sigmoid, batch norm after it",
        "ReLU after batch norm (the follow-up question)",
        "Sigmoid, batch norm, learning rate 10",
    ],
)
def test_batchnorm_page_every_preset(preset):
    at = page("views/batchnorm.py")
    at.selectbox(key="bn_network").set_value(preset).run()
    trainer = train_page_run(at)
    assert trainer.done
    stages = trainer.norm_stages(5)
    standardized = stages.loc[stages["stage"] == "standardized", "value"]
    assert abs(standardized.mean()) < 1e-4 and standardized.std(ddof=0) == pytest.approx(1, abs=1e-3)
    running, batch = (float(m.value.rstrip("%")) / 100 for m in at.metric if m.label.startswith("Test accuracy, "))
    # the page's two numbers are the run's (as printed: to a whole per cent, halves up)
    assert (running, batch) == pytest.approx(trainer.test_accuracy_modes(), abs=0.005 + 1e-9)
    modes = next(c.value for c in at.caption if c.value.startswith("While training, batch norm"))
    assert ("they agree" in modes) == (running == batch)  # the sentence follows the two numbers, as written
    shape = next(c.value for c in at.caption if "beyond ±2" in c.value)
    assert "clip" in shape and "mean" in shape
    assert len(charts_shown(at)) == 3
    layers = trainer.layers
    gamma = layers[layers["layer"] <= trainer.config.depth]["norm_gamma_mean"]
    assert gamma.iloc[: trainer.config.depth].eq(1).all()  # gamma starts at 1


def test_batchnorm_page_before_training_says_nothing_has_caught_up_and_its_means_read_like_the_charts():
    """At step 0 it said "the running averages have caught up with the batches", and
    "mean 6.5e-8" under a histogram headed "mean 0.00"."""
    at = page("views/batchnorm.py")
    modes = next(c.value for c in at.caption if c.value.startswith("While training, batch norm"))
    assert "Before the first step they hold their starting values" in modes and "caught up" not in modes
    shape = next(c.value for c in at.caption if "beyond ±2" in c.value)
    said = re.search(r"mean \u2212?\d+\.\d\d, std \d+\.\d\d now", shape)
    titles = chart_of(at, "bn:stages").layout.annotations
    assert said and said.group(0).removesuffix(" now") == titles[-1].text.split("<br>")[1]


def test_batchnorm_page_paused_between_evaluations_shows_one_test_accuracy():
    """Paused at a step with no test evaluation of its own, the headline's test accuracy
    is the weights' as they stand: the same as section 3's, in eval mode."""
    at = page("views/batchnorm.py")
    run_of(at, "batchnorm").step(57)  # (tested every 50 steps)
    at.run()
    assert_clean(at)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Test accuracy"] == metrics["Test accuracy, running statistics (eval mode)"]


def test_batchnorm_page_says_where_gamma_and_beta_are_from_the_run():
    """After one Step it said "mean gamma runs from 1 to 1 and their mean beta from 0 to
    0" (a browser walk): at step 1 they are still their initial values."""
    at = page("views/batchnorm.py")
    live = run_of(at, "batchnorm")
    live.step(1)
    at.run()
    assert any(c.value.endswith("At step 1 they have not moved yet: a step's are read before its update.")
               for c in at.caption)  # fmt: skip
    live.step(29)
    at.run()
    last = at_step(live.trainer.layers, "end")
    gamma, beta = last["norm_gamma_mean"].dropna(), last["norm_beta_mean"].dropna()
    assert gamma.min() < gamma.max() and beta.min() < beta.max()
    said = (
        f"At step 30 the layers' mean gamma is {range_words(gamma.min(), gamma.max(), 3)}, "
        f"their mean beta {range_words(beta.min(), beta.max())}."
    )
    assert any(c.value.endswith(said) for c in at.caption), said


def test_relu_after_batch_norm_answers_the_follow_up_question():
    at = page("views/batchnorm.py")
    at.selectbox(key="bn_network").set_value("ReLU after batch norm (the follow-up question)").run()
    train_page_run(at)
    metrics = {m.label: m.value for m in at.metric}
    below_zero = float(metrics["Inputs below 0 (ReLU outputs 0)"].rstrip("%")) / 100
    dead = float(metrics["Units dead for the whole batch"].rstrip("%")) / 100
    assert 0.3 < below_zero < 0.7  # about half of the standardized inputs are negative
    assert dead < below_zero  # but far fewer units are dead for the whole batch
    assert metrics["Mean learned beta"] != "–"


def test_large_learning_rate_saturates_again():
    at = page("views/batchnorm.py")
    at.selectbox(key="bn_network").set_value("Sigmoid, batch norm, learning rate 10").run()
    trainer = train_page_run(at)
    layers = trainer.layers
    last = layers[layers["step"] == layers["step"].max()]
    assert last["saturation"].max() > 0.5


@pytest.mark.parametrize(
    "path, query, state_key, expected",
    [
        ("views/why_sigmoid.py", {"activation": "tanh"}, "why_activation", "tanh"),
        (
            "views/batchnorm.py",
            {"network": "Sigmoid, batch norm after it"},
            "bn_network",
            "Sigmoid, batch norm after it",
        ),
        ("views/classics.py", {"experiment": "dying"}, "classic", "dying"),
    ],
)
def test_pages_open_from_a_link(path, query, state_key, expected):
    at = page(path, query)
    assert_clean(at)
    assert not at.warning
    assert at.session_state[state_key] == expected


@pytest.mark.parametrize("path", ["views/why_sigmoid.py", "views/batchnorm.py", "views/classics.py"])
def test_pages_warn_about_a_bad_link(path):
    at = page(path, {"activation": "<script>x</script>", "network": "**nope**", "experiment": "**nope**", "junk": "1"})
    assert_clean(at)
    text = " ".join(w.value for w in at.warning)
    assert "junk" in text and "<script>" not in text and "**nope**" not in text


# ---- classic experiments -----------------------------------------------------------


@CLASSICS_GROUP
def test_classic_experiment_runs_and_shows_its_verdict_and_charts():
    at = page("views/classics.py", {"experiment": "selu"})
    assert_clean(at)
    assert any("Press **Run**" in i.value for i in at.info)
    next(b for b in at.button if b.label == "Run").click().run()
    assert_clean(at)
    assert at.success and at.success[0].value.startswith("Reproduced: through 40 SELU layers")
    assert len(charts_shown(at)) == 1
    # another seed shows the old run until Run is pressed again
    at.number_input(key="classic_seed").set_value(3).run()
    assert any("press Run for seed 3" in c.value for c in at.caption)
    next(b for b in at.button if b.label == "Run").click().run()
    assert at.success and not any("press Run for seed" in c.value for c in at.caption)
    # switching experiment keeps the URL in step, and the seed
    at.segmented_control(key="classic").set_value("dying").run()
    assert_clean(at)
    assert at.query_params["experiment"] in ("dying", ["dying"])
    assert at.number_input(key="classic_seed").value == 3


@CLASSICS_GROUP
def test_presenting_a_classic_shows_its_verdict_and_chart_first_and_then_what_the_paper_found():
    """On a projector the verdict and its chart make the first screen; under the paper's
    finding and this run's setup (up to ten lines of large text) every chart began at its foot."""
    at = page("views/classics.py", {"experiment": "selu", "presenter": "1"})
    next(b for b in at.button if b.label == "Run").click().run()
    assert_clean(at)
    order = [node.type for node in at.main if node.type in ("success", "bidi_component", "markdown")]
    assert order == ["success", "bidi_component", "markdown"]
    assert at.markdown[0].value.startswith(f"**{CLASSIC_BY_KEY['selu'].paper.paper}")


@pytest.mark.parametrize("key", list(CLASSIC_BY_KEY))
def test_every_classic_opens_from_its_link(key):
    at = page("views/classics.py", {"experiment": key})
    assert_clean(at)
    assert not at.warning
    assert at.session_state["classic"] == key
    assert at.header[0].value == CLASSIC_BY_KEY[key].paper.title


@pytest.mark.parametrize(
    "key, verdict, charts",
    [
        ("bn_init", "Reproduced: with batch norm and ReLU, layer 1's dL/dz is", 2),
        ("isometry", "Reproduced: through 32 tanh layers", 1),
        ("shattered", "Reproduced: neighbouring inputs' gradients correlate", 1),
        ("width", "Reproduced: at depth 50, the variance of ln |J u|²", 1),
    ],
)
@CLASSICS_GROUP
def test_classics_at_initialization_run_on_the_page(key, verdict, charts):
    at = page("views/classics.py", {"experiment": key})
    next(b for b in at.button if b.label == "Run").click().run()
    assert_clean(at)
    assert at.success and at.success[0].value.startswith(verdict)
    assert len(charts_shown(at)) == charts
    assert any(c.value.startswith("Computed in ") for c in at.caption)
    # the deciding numbers as the verdict prints them: e-notation's sign a minus sign, keys in words
    table = at.dataframe[0].value
    assert not table["value"].str.contains("e-").any() and not table["number"].str.contains("_").any()
    # capitalised (but a function's name: "tanh Gaussian decades"), numbers apart ("width 16", not "width16")
    first_words = table["number"].str.split().str[0]
    assert (table["number"].str[0].str.isupper() | first_words.isin(["tanh", "sigmoid"])).all()
    assert not table["number"].str.contains(r"Relu|gaussian|[a-z]\d").any()
