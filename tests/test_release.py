"""Memory comes back: the runs of closed and reloaded tabs are released.

A real server (its release window shortened to 1 s) and protocol clients
(tests/st_client.py, as bench.classroom uses): tabs open a link with a sizeable
network, train, and close, in cycles; a reload is a tab closed and the same link
opened again. After each cycle the server must say that no run is live, and its
memory must stop growing.
"""

from __future__ import annotations

import asyncio
import gc
import weakref

import plotly.graph_objects as go
import pytest

from bench.classroom import ClassroomClient, local_server, rss_mb
from tests.browser import releases, server_log, streamlit_server, wait_released
from tests.conftest import open_page, train_for
from vangrad_core import ExperimentConfig
from vangrad_core.live import LiveTrainer, Snapshot
from vangrad_core.recurrent import RecurrentConfig
from views.ui import live as live_module
from views.ui.live import SessionRuns

QUERY = "depth=40&width=256&batch_size=512&steps=3"  # about 60 MB a run while it trains
TABS = 3
CYCLES = 3  # the first warms caches; the last two must hold the same memory


async def open_train_close(url: str) -> list[ClassroomClient]:
    tabs = [ClassroomClient(url) for _ in range(TABS)]
    for tab in tabs:
        tab.query_string = QUERY
    await asyncio.gather(*(tab.connect() for tab in tabs))
    await asyncio.gather(*(tab.wait_first_run(300) for tab in tabs))
    await asyncio.gather(*(tab.press_train() for tab in tabs))
    await asyncio.wait_for(asyncio.gather(*(tab.finished.wait() for tab in tabs)), 600)
    await asyncio.gather(*(tab.close() for tab in tabs))
    return tabs


@pytest.mark.browser  # a live server: run with the other live-app tests, one at a time (see pyproject.toml)
def test_closed_tabs_give_their_runs_and_memory_back():
    with streamlit_server(env={"VANGRAD_RELEASE_AFTER_SECONDS": "1"}) as url:
        log = server_log(url)
        server = local_server(url)
        held_mb = []
        for _ in range(CYCLES):
            released = sum(count for count, _ in releases(log))
            tabs = asyncio.run(open_train_close(url))
            assert not any(tab.failed for tab in tabs), [tab.exceptions for tab in tabs]
            assert all(tab.finished_s is not None for tab in tabs)
            wait_released(log, released + TABS)
            held_mb.append(rss_mb(server))
    assert sum(count for count, _ in releases(log)) >= CYCLES * TABS
    # the first cycle warms caches (imports, compiled kernels, datasets); after it, flat
    assert held_mb[-1] <= held_mb[1] * 1.1, held_mb


def test_what_a_closed_tab_drew_goes_with_its_runs():
    """Its figures and the snapshots they were drawn from (`live.drawings`) are let go
    when its runs are released, not two minutes later when Streamlit drops the session
    (11 MB a reload on the largest network, bench.reloads); an open tab keeps its own."""
    runs = SessionRuns()
    drawn = {tab: {"charts": {"profile": ("stamp", "figure")}, "snapshots": {"run:x": "snapshot"}} for tab in "ab"}
    for tab in "ab":
        runs.keep(tab, "run:playground", LiveTrainer(ExperimentConfig(depth=2, steps=1)), drawn[tab])
    a_is_open = lambda session: session == "a"  # noqa: E731
    assert runs.sweep(a_is_open, now=0.0) == 0 and drawn["b"]["charts"]  # gone a moment: kept
    assert runs.sweep(a_is_open, now=1e6) == 1
    assert drawn["b"] == {} and drawn["a"]["charts"] and drawn["a"]["snapshots"]


def test_a_reloaded_tab_counts_once_for_the_budget():
    """A reload leaves the old session's runs held until the sweep releases them (15 s);
    counted as another open tab, it halved the reloaded page's share of memory and
    refused the network the page had just offered (a browser walk): tabs are counted
    among the connected sessions."""
    runs = SessionRuns()
    for tab in ("old", "new"):
        runs.keep(tab, "run:playground", LiveTrainer(ExperimentConfig(depth=2, steps=1)), {})
    assert runs.sessions() == 2 and runs.sessions(is_active=lambda session: session == "new") == 1


def test_a_sweep_at_rest_hands_the_freed_heap_back(monkeypatch):
    """Pages drawn at once leave glibc's heaps holding what they freed (ten at once:
    77-519 MB for good), whether or not a tab closes: a sweep gives it back when no
    run plays, or when it released runs (docs/performance.md, "An idle session's
    memory"); not while runs train, which would soon fault it in again."""
    calls = []
    monkeypatch.setattr(live_module, "give_memory_back", lambda: calls.append(1))
    runs = SessionRuns()
    live = LiveTrainer(ExperimentConfig(depth=2, steps=1))
    runs.keep("a", "run:playground", live, {})
    assert runs.sweep(lambda session: True, now=0.0) == 0 and len(calls) == 1  # nothing closed, at rest
    live.playing = True
    assert runs.sweep(lambda session: True, now=0.0) == 0 and len(calls) == 1  # a run trains
    live.playing = False
    assert runs.sweep(lambda session: False, now=0.0) == 0 and len(calls) == 2  # closed a moment
    assert runs.sweep(lambda session: False, now=1e6) == 1 and len(calls) == 3  # released


def test_a_page_keeps_its_figures_and_snapshots_where_the_sweep_empties_them():
    """No figure (or its JSON) or snapshot of a trained page's runs is held in the
    session outside `live.drawings`, the one dict that goes when the tab does (above)."""
    at = train_for(open_page(), 3)

    def heavy(value: object) -> bool:
        items = value.values() if isinstance(value, dict) else value if isinstance(value, (tuple, list)) else ()
        figure_json = isinstance(value, str) and len(value) > 1000 and value.startswith('{"data":')
        return isinstance(value, (go.Figure, Snapshot)) or figure_json or any(heavy(item) for item in items)

    assert not [key for key, value in at.session_state.items() if key != "drawings" and heavy(value)]
    assert heavy(at.session_state["drawings"]["charts"]) and heavy(at.session_state["drawings"]["snapshots"])


@pytest.mark.parametrize(
    "config",
    [
        ExperimentConfig(depth=6, width=32, norm="batchnorm_before", dataset="spirals", steps=20),
        ExperimentConfig(depth=100, width=512, batch_size=1024, steps=20),  # heavy: rests on a snapshot, untrained
        RecurrentConfig(length=10, steps=20),
    ],
    ids=["trained", "resting", "recurrent"],
)
def test_a_released_run_is_freed_without_a_collection(config):
    """Releasing a run (and `LiveTrainer._rest`, dropping a heavy run's trainer) frees
    its memory at once with no garbage collection, which held the interpreter lock for
    0.13-0.2 s, every student's run waiting (`give_memory_back`): nothing a run or its
    snapshot holds is in a reference cycle. (Figures are: the sweep collects them.)"""
    gc.collect()
    gc.disable()
    try:
        live = LiveTrainer(config)
        trainer = [weakref.ref(live.trainer), weakref.ref(live.trainer.model)]
        heavy = isinstance(config, ExperimentConfig) and config.depth == 100
        if not heavy:
            assert live.step(3) == 3
        snap = live.snapshot(decision=True)
        if heavy:  # it rests on its snapshot: its trainer is gone already
            assert live.resting and [ref() for ref in trainer] == [None, None]
        refs = [*trainer, weakref.ref(snap), weakref.ref(snap.metrics), weakref.ref(snap.layers)]
        live.release()
        del live, snap
        assert [ref() for ref in refs] == [None] * len(refs)
    finally:
        gc.enable()
