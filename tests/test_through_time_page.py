"""The Through-time page: recurrent runs side by side, from its ready pairs or a link."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest

from tests.conftest import assert_clean, button, chart_of, charts_shown, downloads_hold, finish_run, open_page, run_of
from vangrad_core.lessons import TIME_COMPARISON_BY_NAME, TIME_COMPARISONS
from vangrad_core.live import pause_together
from vangrad_core.recurrent import RecurrentConfig
from vangrad_core.summary import share_words, time_ratio, time_sentence
from views.ui.charts import data_files

PAGE = "views/through_time.py"


def page(query: dict | None = None):
    return open_page(PAGE, query)


def test_opens_on_the_first_pair_with_its_text():
    at = page()
    assert_clean(at)
    first = TIME_COMPARISONS[0]
    assert at.info[0].value == first.notice
    assert run_of(at, "through_time:a").config == first.a[1] and run_of(at, "through_time:b").config == first.b[1]
    assert at.query_params["pair"] in ([first.name], first.name)


@pytest.mark.parametrize("name", list(TIME_COMPARISON_BY_NAME))
def test_each_pair_opens_from_a_link(name):
    at = page({"pair": name})
    assert_clean(at)
    pair = TIME_COMPARISON_BY_NAME[name]
    assert at.info[0].value == pair.notice
    assert (run_of(at, "through_time:a").config, run_of(at, "through_time:b").config) == (pair.a[1], pair.b[1])


def test_training_both_keeps_them_in_step_and_the_sentences_follow_the_runs():
    at = page({"pair": "Exploding RNN, without and with clipping"})
    button(at, "Train both").click().run()
    assert any("these views are redrawn every" in c.value for c in at.caption)  # not maps saying "Press Train"
    at.run()
    a, b = run_of(at, "through_time:a"), run_of(at, "through_time:b")
    pause_together((a, b))
    assert a.step_count == b.step_count > 0
    finish_run(at, "through_time:a")
    finish_run(at, "through_time:b")
    assert_clean(at)
    assert a.trainer.diverged_at is not None and b.trainer.diverged_at is None  # the pair's claim, on the page
    banner = next(e.value for e in at.error if "diverged" in e.value)
    assert "the loss became infinite" in banner and banner.endswith("Try a smaller learning rate or gradient clipping.")
    # A's test numbers say the step they were measured at (it showed 0.925 as if now, step 1's)
    tested = a.trainer.metrics.dropna(subset=["test_loss"])
    when = f"at step {int(tested['step'].iloc[-1]) + 1}"
    assert [m.delta for m in at.metric if m.label.startswith("Test ")][:2] == [when, when]
    assert button(at, "Stopped").disabled  # A cannot go on: the pair is over
    rows = b.trainer.time_gradients
    expected = time_sentence(rows[rows["step"] == rows["step"].max()])
    assert expected and any(m.value.startswith(expected) for m in at.markdown)
    # under each run's map, what it shows now: A's t = 1 got nothing once it diverged, B's a share
    for label, run in (("A", a), ("B", b)):
        rows = run.trainer.time_gradients
        ratio = time_ratio(rows[rows["step"] == rows["step"].max()])
        said = [
            c.value for c in at.caption if c.value.startswith(f"{label}: ") and "column is a training step" in c.value
        ]
        # "0.15 of what", "115 times what"; for 0 the headline's words ("0 of what" read as a share)
        now = "no gradient at all" if ratio == 0 else f"{share_words(ratio)} t = {run.config.length} gets"
        last = f"In its last column, step {int(rows['step'].max()) + 1},"  # (its step: maps lag the numbers)
        assert len(said) == 1 and said[0].endswith(f"{last} t = 1 gets {now}."), said
        assert label != "A" or ratio == 0  # (A diverged: the case is met)
    assert len(charts_shown(at)) == 5
    maps = [chart_of(at, f"time:heatmap:{side}").data[0] for side in "AB"]  # one colour scale for both
    assert maps[0].zmin == maps[1].zmin and maps[0].zmax == maps[1].zmax
    both = pd.concat([a.trainer.time_gradients, rows])["grad_rms"]
    assert maps[0].zmax == pytest.approx(np.log10(both.max()))
    at.toggle(key="presenter_toggle").set_value(True).run()  # on a projector: in A's heading, no banner under it
    assert not [e for e in at.error if "diverged" in e.value]
    steps = f"after {a.trainer.diverged_at} of {a.config.steps} steps"
    headings = [m.value for m in at.markdown if m.value.startswith("**A: ") or m.value.startswith("**B: ")]
    assert headings == [
        f"**A: spectral radius 3**: :red-background[**diverged** {steps}]",
        f"**B: spectral radius 3, clipped at 1**: {b.step_count} / {b.config.steps} steps",
    ]


def test_custom_settings_go_into_the_link_and_a_bad_link_warns():
    at = page({"a.cell": "gru", "a.length": "20", "b.cell": "lstm", "b.length": "20", "b.forget_bias": "0"})
    assert_clean(at)
    a, b = run_of(at, "through_time:a").config, run_of(at, "through_time:b").config
    assert (a.cell, b.cell, b.forget_bias) == ("gru", "lstm", 0) and a.length == b.length == 20
    assert at.query_params["a.cell"] in (["gru"], "gru")
    bad = page({"a.cell": "<b>transformer</b>", "b.length": "100000"})
    assert_clean(bad)
    assert bad.warning and "<b>" not in bad.warning[0].value
    assert run_of(bad, "through_time:a").config.cell == RecurrentConfig().cell


def test_downloads_are_made_when_asked_from_both_runs_at_one_step():
    at = page()
    assert not at.get("download_button")  # made on request only (each costs a CSV of every step)
    button(at, "Step").click().run()
    button(at, "Download the data").click().run()
    assert_clean(at)
    a, b = run_of(at, "through_time:a"), run_of(at, "through_time:b")
    assert any(c.value == "A at step 1 of 600, B at step 1 of 600: a file for each button." for c in at.caption)
    files = data_files(a.snapshot(), "A") + data_files(b.snapshot(), "B")
    assert downloads_hold(at, files)
    assert [(label, name) for label, _, name, _ in files] == [
        (f"{side}: {what}", f"vangrad-{side.lower()}-{file}")
        for side in "AB"
        for what, file in (
            ("Gradient through time (CSV)", "time.csv"),
            ("Loss and accuracy (CSV)", "metrics.csv"),
            ("Settings (JSON)", "config.json"),
        )
    ]
    times = pd.read_csv(io.StringIO(files[3][1]))
    pd.testing.assert_frame_equal(times, b.trainer.time_gradients.reset_index(drop=True), check_dtype=False)
    assert RecurrentConfig(**json.loads(files[5][1])) == b.config
    at.run()  # a full run of the page: the buttons go with their files
    assert not at.get("download_button")
