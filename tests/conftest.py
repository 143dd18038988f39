"""Shared helpers for driving the app's pages through Streamlit's AppTest.

The test modules import these (`from tests.conftest import open_page, ...`): one way
to open a page from a link, press a button, train a page's run and check that no
traceback reached the page.
"""

from __future__ import annotations

import base64
import functools
import json
import re
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import pytest
import streamlit.components.v2.manifest_scanner as manifest_scanner
import torch
from hypothesis import strategies as st
from streamlit.runtime.media_file_storage import MediaFileKind
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.runtime.scriptrunner import ScriptRunnerEvent
from streamlit.runtime.scriptrunner.script_cache import ScriptCache
from streamlit.testing.v1 import AppTest, app_test, local_script_runner

from vangrad_core.experiments import CLASSICS
from vangrad_core.live import LiveTrainer
from vangrad_core.settings import Field, Settings
from vangrad_core.workers import SWITCH_SECONDS
from views.ui import live
from views.ui.chart_in_place import PLOTLY_JS
from views.ui.charts import shared_charts
from views.ui.live import training_pool

# One torch thread, as the app uses: with more, a busy machine's threads wait on each
# other (a 4 x 256 network trained ten times slower beside other work).
torch.set_num_threads(1)
# Every new AppTest scans all installed packages for Streamlit components (0.3 s of the
# 0.6 s it takes to open a page here); the installed packages do not change during a
# test run, so scan once.
manifest_scanner.scan_component_manifests = functools.cache(manifest_scanner.scan_component_manifests)
# AppTest compiles app.py and the page anew for every run (a new ScriptCache each time,
# with Streamlit's "magic" rewrite of the source); a server compiles each script once.
# One cache for the test process, as the server has: a playground rerun at rest took
# 63 ms instead of 86 (interleaved, 6 x 15 reruns).
SCRIPTS = ScriptCache()
app_test.ScriptCache = local_script_runner.ScriptCache = lambda: SCRIPTS


def wait_for_script(runner: local_script_runner.LocalScriptRunner, timeout: float = 3) -> None:
    """Until AppTest's script thread is done: woken by its SHUTDOWN event, where AppTest
    itself polls every millisecond, each time taking the interpreter lock from the
    script it waits for to scan every event of the run (4-10% of the page tests' time)."""
    done = threading.Event()

    def on_event(sender: object, event: ScriptRunnerEvent, **kwargs: object) -> None:
        if event == ScriptRunnerEvent.SHUTDOWN:
            done.set()

    runner.on_event.connect(on_event, weak=False)
    # (and the runner's own record read every 50 ms: a SHUTDOWN sent while this handler
    # was being connected reaches the record but not the handler, and a run that ended
    # in that moment once waited out the whole timeout in CI)
    deadline = time.monotonic() + timeout
    while not (runner.script_stopped() or done.wait(0.05)):
        if time.monotonic() < deadline:
            continue  # still running
        runner.request_stop()  # as AppTest does: stop the script, then say so
        runner.join()
        raise RuntimeError(f"AppTest script run timed out after {timeout}(s)")


local_script_runner.require_widgets_deltas = wait_for_script

# AppTest runs the pages in this process and the tests read their runs' trainers: the
# runs train here, in threads (servers the tests start use worker processes), beside
# the thread that draws the page. Each torch op lets go of the interpreter lock and
# waits a switch interval to get it back from the drawing thread: at a worker's
# interval instead of Python's 5 ms, the playground's tests take a tenth less time.
live.TRAINING_WORKERS = 0
sys.setswitchinterval(SWITCH_SECONDS)
# ... in one thread, as a worker process trains: pytest-xdist already runs a test process
# on each core, and a second training thread only contended for the interpreter lock with
# the page's (the page tests took 117-147 s of CPU against 154-165 s with two threads,
# interleaved). Pools of several threads have their own tests (test_live.py).
live.TRAINING_THREADS = 1

# Each classic experiment runs once per test process for each seed, whichever test asks
# first: the engine's tests (test_experiments.py) and the classics page's
# (test_teaching_pages.py) ask for the same (experiment, seed), whose outcome is
# deterministic. Those tests share the xdist group CLASSICS_GROUP: one process.
for classic in CLASSICS:
    object.__setattr__(classic, "run", functools.cache(classic.run))  # (a frozen dataclass)
CLASSICS_GROUP = pytest.mark.xdist_group("classics")

APP = Path(__file__).resolve().parent.parent / "app.py"


@pytest.fixture(autouse=True)
def no_run_trains_after_its_test() -> Iterator[None]:
    """Runs train in the server's pool, in the background: a test that leaves one
    playing must not leave it training beside the next tests."""
    yield
    training_pool().pause_all()
    shared_charts().clear()  # (a test that patched how a chart is drawn must not pass its charts on)


TIMEOUT = 120


def open_page(path: str | None = None, query: dict | None = None) -> AppTest:
    """Open a page the way a pasted link does (the playground when `path` is None):
    with only its own parameters."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    if path is not None:
        # Before the first run AppTest names a page by its file, as st.Page names a page
        # without a url_path of its own (every page here): no playground run first.
        at.switch_page(path)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run()


def button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def run_of(at: AppTest, page: str = "playground") -> LiveTrainer:
    """The live run a page keeps in the session."""
    return at.session_state[f"run:{page}"]


@functools.cache
def bundled_trace_types() -> frozenset[str]:
    """The trace types the page's plotly.js bundle can draw (views/ui/chart_in_place.py)."""
    return frozenset(re.findall(r'moduleType:"trace",name:"(\w+)"', PLOTLY_JS.read_text()))


def charts_shown(at: AppTest) -> dict[str, dict]:
    """The charts on the page, in order: key -> the figure sent, as Plotly's JSON
    (views/ui/chart_in_place.py; an element's id ends with its key). Checks that the
    page's plotly.js draws every trace of them (it holds the cartesian ones only)."""
    shown = {chart.proto.id.split("-", 2)[-1]: json.loads(chart.proto.bytes) for chart in at.get("bidi_component")}
    types = {trace.get("type", "scatter") for spec in shown.values() for trace in spec["data"]}
    assert types <= bundled_trace_types(), types - bundled_trace_types()
    return shown


def decoded(spec: object) -> object:
    """Plotly's JSON with its typed arrays ({"dtype", "bdata", "shape"}) as NumPy arrays."""
    if isinstance(spec, dict) and "bdata" in spec and "dtype" in spec:
        array = np.frombuffer(base64.b64decode(spec["bdata"]), dtype=spec["dtype"])
        shape = spec.get("shape")
        return array.reshape([int(n) for n in str(shape).split(",")]) if shape else array
    if isinstance(spec, dict):
        return {key: decoded(value) for key, value in spec.items()}
    if isinstance(spec, list):
        return [decoded(value) for value in spec]
    return spec


def drawn_charts(at: AppTest) -> dict:
    """The charts a page keeps (views.ui.live.drawings): key -> (stamp, the JSON sent)."""
    return at.session_state["drawings"]["charts"]


def drawn_at_step(at: AppTest, key: str) -> int:
    """The step count of the run a kept chart was drawn from (its stamp: the run's
    `Snapshot.identity`, the variant, ...; the identity: the run's stamp, the steps it kept)."""
    ((run_stamp, _), *_), _ = drawn_charts(at)[key]
    return run_stamp[1]


def chart_of(at: AppTest, key: str) -> go.Figure:
    """The figure a page last showed under `key`."""
    return go.Figure(decoded(json.loads(drawn_charts(at)[key][1])))


def downloads_hold(at: AppTest, files: list[tuple[str, str, str, str]]) -> bool:
    """Whether the page's download buttons are these files (`charts.data_files`), in
    order: a file's URL is the hash of its bytes, type and name, so equal URLs are
    equal files (AppTest serves its media from memory, at /mock/media)."""
    storage = MemoryMediaFileStorage("/mock/media")
    urls = [
        storage.get_url(storage.load_and_get_id(text.encode(), mime, MediaFileKind.DOWNLOADABLE, name))
        for _, text, name, mime in files
    ]
    buttons = at.get("download_button")
    return [(b.proto.label, b.proto.url) for b in buttons] == [(f[0], url) for f, url in zip(files, urls, strict=True)]


def read_number(text: str) -> float:
    """A number as a page prints it (`summary.number`: a minus sign, not a hyphen, in its sign and exponent)."""
    return float(text.replace("\u2212", "-"))


def assert_clean(at: AppTest) -> None:
    assert not at.exception, [e.message for e in at.exception]


def train_for(at: AppTest, steps: int | None = None, page: str = "playground", seconds: float = 900) -> AppTest:
    """Press Train, then `play_out` the run."""
    button(at, "Train").click().run()
    return play_out(at, run_of(at, page), steps, seconds)


def play_out(at: AppTest, live: LiveTrainer, steps: int | None = None, seconds: float = 900) -> AppTest:
    """Redraw (each rerun is one tick of the live view) until the playing run has
    `steps` steps, or has stopped; pause it if it still plays."""
    deadline = time.monotonic() + seconds
    while live.playing and (steps is None or live.step_count < steps) and time.monotonic() < deadline:
        at.run()
    if live.playing:
        button(at, "Pause").click().run()
    else:  # it stopped by itself (finished, diverged) after the last redraw: the browser's timer draws it
        at.run()
    assert_clean(at)
    return at


def finish_run(at: AppTest, page: str = "playground", steps: int | None = None) -> AppTest:
    """Train a page's run to the end (or `steps` more steps) straight through the
    engine, then redraw the page once: what the page shows for a finished run, without
    the hundreds of reruns that the live view would take (`train_for` tests those)."""
    live = run_of(at, page)
    live.step(steps if steps is not None else live.config.steps)
    at.run()
    assert_clean(at)
    return at


# ---- hypothesis strategies for settings objects (their field tables say what is valid) ----


def accepted_values(field: Field) -> st.SearchStrategy:
    """Every value a field accepts, from its entry in the field table."""
    if field.kind == "choice":
        return st.sampled_from(field.choices)
    if field.kind == "bool":
        return st.booleans()
    if field.kind == "int":
        return st.integers(int(field.low), int(field.high))
    return st.floats(field.low, field.high)


def valid_settings(settings_class: type[Settings]) -> st.SearchStrategy:
    """Settings objects built from every field's accepted values (that obey the rules)."""
    fields = st.fixed_dictionaries({name: accepted_values(f) for name, f in settings_class.FIELDS.items()})
    values = fields.filter(lambda v: settings_class.from_values(v)[0] is not None)
    return values.map(lambda v: settings_class(**v))


class Unprintable:
    """A value whose str() raises: a URL parser must not."""

    def __str__(self) -> str:
        raise RuntimeError("no text for you")


# What a hostile link or caller can hand a parser: text, huge numbers, NaN, None, lists.
ANYTHING = st.one_of(
    st.text(max_size=300),
    st.integers(),
    st.integers(min_value=10**4400, max_value=10**4500),  # too many digits for str()
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.lists(st.text(max_size=20), max_size=3),
    st.just(Unprintable()),
)
