"""A run trained live on a page: its controls and the fragment that redraws it.

`LiveRun` is the page's run, kept in the session: a `WorkerRun` that trains in one of
the server's worker processes (vangrad_core.workers), or a `LiveTrainer` that trains
in its threads (vangrad_core.live; no workers, or AppTest). `run_controls` draws
Train / Pause, Step and Reset; Train hands the run to the server's pool, which trains
it in the background; `live_fragment` redraws a
snapshot of it, a few times a second when the server is quiet, less often when many
runs play. Compare's two runs use `pair_controls` and `pair_fragment`.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import math
import os
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple

import streamlit as st
import torch
from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx

from vangrad_core import ExperimentConfig
from vangrad_core.cost import Budget, duration, held_megabytes, run_cost
from vangrad_core.live import LiveTrainer, Snapshot, TrainingPool, give_memory_back
from vangrad_core.summary import diverged_when, steps_words
from vangrad_core.workers import WorkerGone, WorkerPool, WorkerRun, default_workers, machine_limits

Run = LiveTrainer | WorkerRun  # a run in this process, or in a worker process

# While runs play, the live view redraws every REFRESH_SECONDS[k] (Streamlit starts a
# fragment's timer when its last run is done, so a refresh also takes the drawing and
# a round trip): the first step at which the live views of all the playing tabs
# together ask for at most DRAWS_PER_SECOND redraws, so that drawing stays bounded and
# training keeps most of the CPU; never slower than the last (progress every 2 s).
REFRESH_SECONDS = (0.15, 0.3, 0.6, 1.2, 2.0)
DRAWS_PER_SECOND = 8.0
# ... except where a refresh redraws the numbers alone (at SEPARATE_CHARTS_SECONDS and
# slower: cheap), which all the tabs together may ask for up to this often before the
# last step: a refresh every 2 s cannot show progress every 2 s. (A class of forty at
# 1.2 s, 33 a second: the median longest gap 2.45 s against 2.85 s at 2 s, six rounds
# each; eighty at 1.2 s, 67 a second, trained slower and waited longer than at 2 s.)
NUMBER_DRAWS_PER_SECOND = 35.0
# The charts' paces: the refresh's, and slower steps on a busy server (a step, not any
# number: a live view whose pace changes reruns the whole page).
CHART_SECONDS = (*REFRESH_SECONDS, 4.0, 8.0, 15.0, 30.0)
# A view keeps its charts' pace while the pace the load asks for is within this factor
# of it. The cost of a redraw is measured over every tab's charts, a depth-5 run's and
# a depth-100 one's, and wavers: without a margin, a class of forty's charts swung
# between 8 and 15 s 175 times in one run (each swing a full rerun of the tab); with
# 1.25, 46 times.
PACE_MARGIN = 1.5
# The charts get a fragment of their own, a step slower (`paces`), only when the numbers
# refresh this seldom (`charts_apart`): a session runs one script at a time, and two
# fragments on fast timers would take turns (docs/architecture.md, "Drawing": one person
# keeps the single fragment).
SEPARATE_CHARTS_SECONDS = 1.0
# A live view speeds up (a full rerun, when the server got quieter) after 1-2 times this,
# by its session's own share (`session_share`), so that a class's views are not laid out
# anew in the same half second: that held every tab's numbers 1-2 s.
RESTEP_SECONDS = 5.0
# A live view that draws numbers and charts together keeps its charts up to this long
# while views queue for the drawing turns (`live_view`)
KEPT_WHILE_QUEUED_SECONDS = 2.0
# ... but slows down sooner (after 1-2 times this, by its share too): when a class
# presses Train at once, the first tabs may count few playing and take the fastest pace;
# for five seconds they flooded the server that the others' first updates were waiting for.
RESTEP_BUSIER_SECONDS = 1.0
# The first view drawn after runs start playing waits at most this long for their first
# step (the pool gives it ahead of its round): else a class pressing Train at once saw
# step 0 until the next refresh, 2 s later on a busy server. (1 s until views drew in
# turns, which brought the class's views to this wait sooner; a worker gave forty runs
# their first steps within 1.0 s with nothing else running, and a class's slowest
# first updates came at 3-4 s, as if they had given up after 1 s.)
FIRST_STEP_SECONDS = 2.5
FIRST_STEP_POLL_SECONDS = 0.05  # (a worker's statuses are asked for at most every 0.1 s)
DETAIL_SECONDS = 5.0  # building, sending and drawing seven more figures costs more than training
DETAIL_TABS = 4
# The details' paces beyond DETAIL_TABS: steps, like the charts' (in proportion to the
# count, every run that finished changed every other tab's pace, and each change is a
# full rerun: 27 of a class of forty's 68 layouts were the details' 46.25 -> 38.75 s).
DETAIL_STEPS = (DETAIL_SECONDS, 10.0, 20.0, 30.0, 60.0, 120.0)
# A class that pressed Train together would redraw its charts together: every tab's
# charts timer fired in the same second (forty at a pace of 8 s: at 8, 16, 24 s), and
# the server's one interpreter, busy with forty redraws, left every tab's numbers
# waiting. So each session's charts timer runs slower or faster than its pace by its
# own share of ±CHART_TIMER_SPREAD, the same for the session's life: the redraws drift
# apart. (One traced class of forty each way: 12 gaps over 2 s began between 5 and 25 s
# after Train, against 33; docs/performance.md.)
CHART_TIMER_SPREAD = 0.25
CHART_CORES = 0.5  # the share of a core that all live views' charts may take together
CORES = max(1, int(machine_limits()[0]))  # the container's, not the host's (Community Cloud: 2 of many)
TRAINING_THREADS = int(os.environ.get("VANGRAD_TRAINING_THREADS", 0)) or CORES
# Worker processes that train (vangrad_core.workers; default: one if the machine has a
# core and the memory for it); 0 trains in the server's own threads (TRAINING_THREADS).
TRAINING_WORKERS = int(os.environ.get("VANGRAD_TRAINING_WORKERS", default_workers()))
# A run whose tab has been gone this long is released (well within Streamlit's 120 s
# disconnected-session window, after which a returning tab gets a new session anyway).
RELEASE_AFTER_SECONDS = float(os.environ.get("VANGRAD_RELEASE_AFTER_SECONDS", 15))
SWEEP_SECONDS = min(5.0, RELEASE_AFTER_SECONDS / 3)
# Every refresh of every tab asks how many tabs play (it sets the pace), and counting
# asks each run: counted at most this often for the whole server. (Counted at every
# refresh, under a lock, a class of forty's script threads spent half their time
# waiting in line for the count.)
PLAYING_SECONDS = 0.5

# What a page's runs may cost (vangrad_core.cost estimates it before they train): a
# server's settings, from the environment (docs/deployment.md).
BUDGET = Budget(
    run_seconds=float(os.environ.get("VANGRAD_RUN_SECONDS", Budget.run_seconds)),
    tab_mb=float(os.environ.get("VANGRAD_TAB_MB", Budget.tab_mb)),
    server_mb=float(os.environ.get("VANGRAD_SERVER_MB", Budget.server_mb)),
)

# A run estimated to train longer than this (`run_cost`, on a free core) says so before it starts.
LONG_RUN_SECONDS = 30.0

log = logging.getLogger("vangrad")
LOST = (
    "The training process stopped (the server may have run out of memory), and this run with it: "
    "it starts again from step 0."
)


# Live views drawn at the same moment; the others wait their turn, off the interpreter:
# forty tabs' script threads drawing at once share one interpreter lock with the thread
# that sends every tab its messages, and with the one holding the worker's connection
# (a class of forty, interleaved with the code before: the median longest gap
# 3.9-5.7 s against 5.3-8.0; docs/performance.md).
DRAWERS = 2


class DrawingTurns:
    """At most `drawers` views draw at the same moment, the others waiting off the
    interpreter, each kind in the order it came. An `urgent` turn goes before every
    ordinary one waiting: a view's numbers until they first show its runs moving (a
    class pressing Train at once queued each tab's step count behind the other tabs'
    whole live views, charts sent again included: the last tab saw its run move 2-3 s
    after Train), and a busy server's numbers in a fragment of their own at every
    tick. Not numbers drawn with their charts in one fragment once they have moved:
    there, numbers first held each tab's next refresh behind its own charts, waiting
    longer for their turn (a class's worst gaps 4.8-7.3 s against 3.3-4.4 s)."""

    def __init__(self, drawers: int):
        lock = threading.Lock()
        self._urgent, self._ordinary = threading.Condition(lock), threading.Condition(lock)
        self._free = drawers
        self._urgent_waiting = self._ordinary_waiting = 0

    @contextlib.contextmanager
    def turn(self, urgent: bool = False) -> Iterator[None]:
        with self._urgent:  # (the lock both conditions share)
            try:
                if urgent:
                    self._urgent_waiting += 1
                    try:
                        self._urgent.wait_for(lambda: self._free)
                    finally:
                        self._urgent_waiting -= 1
                else:
                    self._ordinary_waiting += 1
                    try:
                        self._ordinary.wait_for(lambda: self._free and not self._urgent_waiting)
                    finally:
                        self._ordinary_waiting -= 1
            except BaseException:  # (a wake-up meant for it goes to the next)
                self._pass_on()
                raise
            self._free -= 1
            self._pass_on()  # (a turn still free: the ordinary waiting once no urgent one is)
        try:
            yield
        finally:
            with self._urgent:
                self._free += 1
                self._pass_on()

    def queued(self) -> bool:
        """Whether views wait for a turn now (one more would wait behind them)."""
        with self._urgent:
            return bool(self._urgent_waiting or self._ordinary_waiting)

    def _pass_on(self) -> None:
        """Wake the next waiter a free turn is for: an urgent one if any waits, else
        as many ordinary ones as there are free turns (one notify each, not all of them:
        forty script threads woken at every turn to look and wait again)."""
        if not self._free:
            return
        if self._urgent_waiting:
            self._urgent.notify(self._free)
        else:
            self._ordinary.notify(self._free)


drawing_turns = DrawingTurns(DRAWERS)


@st.cache_resource
def training_slots() -> threading.BoundedSemaphore:
    """How many classic experiments may run in the server at the same moment: one per
    core. Others wait their turn instead of everyone slowing down."""
    return threading.BoundedSemaphore(CORES)


@st.cache_resource
def training_pool() -> TrainingPool | WorkerPool:
    """Where every session's runs live and train, in turn: TRAINING_WORKERS worker
    processes, or (none, or under AppTest, which has no server) this process's threads."""
    if TRAINING_WORKERS and Runtime.exists():
        return WorkerPool(TRAINING_WORKERS)
    return TrainingPool(TRAINING_THREADS)


def playing_tabs() -> int:
    """Tabs of this server with a run that plays, counted at most PLAYING_SECONDS ago
    (1 under AppTest, which has no sweeper)."""
    return session_runs().playing() if Runtime.exists() else 1


def charts_apart(refresh: float) -> bool:
    """Whether a live view that refreshes every `refresh` seconds (a busy server's pace)
    draws its charts apart from its numbers: in a fragment of their own, at least a
    CHART_SECONDS step slower (`paces`)."""
    return refresh >= SEPARATE_CHARTS_SECONDS


def refresh_seconds(playing: int | None = None) -> float:
    """How often a live view redraws now: as often as REFRESH_SECONDS allows while
    the server is quiet, less often the more tabs have a run playing (`playing`,
    counted now if not given)."""
    playing = playing_tabs() if playing is None else playing

    def affordable(every: float) -> bool:
        """Whether every playing tab redrawing this often stays within what such redraws may cost."""
        return playing / every <= (NUMBER_DRAWS_PER_SECOND if charts_apart(every) else DRAWS_PER_SECOND)

    return next(filter(affordable, REFRESH_SECONDS), REFRESH_SECONDS[-1])


class ChartCost:
    """What redrawing a live view's charts costs this server: the processor time of
    the last redraws (an average that follows the load), for `paces`; `seconds` until
    the first redraw is timed (a guess kept longer would hold a lone tab's charts at
    a slower pace for its first runs: 0.1 s where they took 0.03 s)."""

    def __init__(self, seconds: float = 0.1):
        self.seconds = seconds
        self.timed_once = False

    @contextlib.contextmanager
    def timed(self, drawn: bool) -> Iterator[None]:
        """Time what the block draws, if `drawn` (new charts, not cached ones sent again)."""
        start = time.thread_time()  # this thread's processor time, not its wait for the GIL
        yield
        if drawn:
            took = time.thread_time() - start
            self.seconds += (0.2 if self.timed_once else 1.0) * (took - self.seconds)
            self.timed_once = True


chart_cost = ChartCost()


def step_at_least(wanted: float, steps: tuple[float, ...] = CHART_SECONDS) -> float:
    """The first of `steps` at least `wanted` seconds (or the last)."""
    return next((every for every in steps if every >= wanted - 1e-9), steps[-1])


def paces(keep: tuple[float, float] | None = None) -> tuple[float, float]:
    """How often a live view's numbers and its charts redraw now: the numbers at every
    refresh (`refresh_seconds`); the charts too while the server has time, else as often
    as all playing tabs' charts together fit in CHART_CORES of a core (a CHART_SECONDS
    step), and on a busy server (`charts_apart`) at least a step slower than the numbers.
    `keep`: the paces the view has, whose charts' pace stays while it is within
    PACE_MARGIN of what the load asks for (the cost of a redraw wavers, and each change
    of pace is a full rerun of the tab)."""
    playing = playing_tabs()  # (counted once: it walks every session's runs)
    refresh = refresh_seconds(playing)
    # Apart on a busy server whatever a redraw costs: a layout that followed the measured
    # cost changed with it, and a class's forty views were laid out anew at once.
    fastest = CHART_SECONDS[CHART_SECONDS.index(refresh) + 1] if charts_apart(refresh) else refresh
    wanted = max(fastest, playing * chart_cost.seconds / CHART_CORES)
    if (
        keep is not None
        and keep[0] == refresh
        and fastest <= keep[1]
        and wanted / PACE_MARGIN <= keep[1] <= step_at_least(wanted * PACE_MARGIN)
    ):
        return keep
    return refresh, step_at_least(wanted)


def session_share() -> float:
    """This session's own number in [0, 1), the same for its life (0.5 outside a session)."""
    ctx = get_script_run_ctx()
    return zlib.crc32(ctx.session_id.encode()) / 2**32 if ctx is not None else 0.5


def spread(seconds: float) -> float:
    """This session's charts timer for a pace of `seconds` (`CHART_TIMER_SPREAD`)."""
    return seconds * (1 + CHART_TIMER_SPREAD * (2 * session_share() - 1))


def detail_seconds() -> float:
    """How often the detailed views below the live view redraw while a run plays:
    every DETAIL_SECONDS while up to DETAIL_TABS tabs play, beyond that at the first
    DETAIL_STEPS step at least in proportion (they are below the fold, and cost more to
    draw than the live view)."""
    return step_at_least(DETAIL_SECONDS * playing_tabs() / DETAIL_TABS, DETAIL_STEPS)


@st.cache_resource
def limit_torch_threads() -> None:
    """One torch thread per training call: sessions run side by side, not one
    session on every core (set once per process)."""
    torch.set_num_threads(1)


@st.cache_resource
def freeze_imported_objects() -> None:
    """Once per server process, at its first page: the objects alive now (the imported
    modules', 330,000) live as long as the process, so the garbage collector stops walking
    them (`gc.freeze`). A full collection, which holds the one interpreter every tab
    waits for, took 150-280 ms every 8-10 s of a class of forty, and 30-50 ms after.
    (Not under AppTest, whose process runs the tests, not a server.)"""
    if Runtime.exists():
        gc.collect()  # (nothing that is garbage now is kept forever)
        gc.freeze()


class SessionRuns:
    """Every session's live runs, for the whole server, so that a closed or reloaded
    tab gives its memory back: a run whose session has been disconnected for
    RELEASE_AFTER_SECONDS is released, and what the session drew of its runs
    (`drawings`) is let go with it (Streamlit keeps a disconnected session's state
    for two minutes, and then only drops it lazily; with a maximal network that is
    half a gigabyte a tab, and its figures and snapshots 11 MB more)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.runs: dict[str, dict[str, Run]] = {}  # session id -> key -> run
        self.drawn: dict[str, dict] = {}  # session id -> its `drawings`
        self.gone_since: dict[str, float] = {}  # session id -> when it was first seen disconnected
        self._playing = (-math.inf, 0)  # (when, how many sessions had a run playing)
        self._started_at = -math.inf  # when a run last started to play

    def keep(self, session_id: str, key: str, live: Run, drawn: dict) -> None:
        """`live` is now the session's run under `key`; `drawn`, the session's `drawings`."""
        with self.lock:
            self.runs.setdefault(session_id, {})[key] = live
            self.drawn[session_id] = drawn

    def drop(self, session_id: str, key: str) -> None:
        """The session's run under `key` is gone (released by its page)."""
        with self.lock:
            self.runs.get(session_id, {}).pop(key, None)

    def count(self) -> int:
        """Runs not released yet."""
        with self.lock:
            return sum(len(runs) for runs in self.runs.values())

    def sessions(self, playing: bool = False, is_active: Callable[[str], bool] | None = None) -> int:
        """Sessions with runs (only those with a run that plays, if `playing`; only those
        `is_active` says are connected, if given)."""
        with self.lock:  # (the runs are asked outside it: a worker's answer can take a while)
            sessions = [list(runs.values()) for i, runs in self.runs.items() if is_active is None or is_active(i)]
        return sum(not playing or any(live.playing for live in runs) for runs in sessions)

    def playing(self) -> int:
        """Sessions with a run that plays, counted at most PLAYING_SECONDS ago, or
        since a run last started to play (`started`)."""
        counted_at, count = self._playing
        if time.monotonic() - counted_at > PLAYING_SECONDS or counted_at <= self._started_at:
            asked = time.monotonic()  # (a count begun before a run started does not count it)
            count = self.sessions(playing=True)
            self._playing = (asked, count)
        return count

    def started(self) -> None:
        """A run starts to play: the next page counts the playing sessions anew. (A
        class pressing Train at once laid out its views by a count taken before most
        presses, at a lone tab's pace, and laid them out again, all forty at once,
        1.5-3 s later.)"""
        self._started_at = time.monotonic()

    def sweep(self, is_active: Callable[[str], bool], now: float | None = None) -> int:
        """Pause the runs of disconnected sessions, and release them once the session
        has been gone for RELEASE_AFTER_SECONDS; hand the freed heap back to the system
        when runs were released or none plays. Returns how many runs were released."""
        now = time.monotonic() if now is None else now
        gone: list[Run] = []
        released: list[Run] = []
        drawn: list[dict] = []
        with self.lock:
            for session_id in list(self.runs):
                if is_active(session_id):
                    self.gone_since.pop(session_id, None)
                    continue
                gone += self.runs[session_id].values()
                if now - self.gone_since.setdefault(session_id, now) >= RELEASE_AFTER_SECONDS:
                    released += self.runs.pop(session_id).values()
                    drawn.append(self.drawn.pop(session_id, {}))
                    del self.gone_since[session_id]
        for live in gone:  # (outside the lock: a pause waits for a step under way)
            live.pause()
        for live in released:
            live.release()
        freed = bool(released) or any(drawn)  # (a tab whose runs all went before it closed still drew)
        for kept in drawn:  # emptied, not only forgotten: Streamlit holds the session's state for two minutes
            kept.clear()
        if freed:
            gc.collect()  # (Plotly's figures link their parts both ways: only a collection frees them)
        # pages drawn at once leave the heap their threads freed (`give_memory_back`): given
        # back at rest, not while runs train (they would soon fault it in again)
        if freed or not self.sessions(playing=True):
            give_memory_back()
        if released:
            log.info("released %d runs of closed tabs; %d runs live", len(released), self.count())
        return len(released)


def drawings(kind: str | None = None) -> dict:
    """What this session has drawn of its runs, in one dict: what `charts.cached` built
    (`kind` "charts": figures, and what some pages compute from a snapshot) and the
    snapshots they were drawn from ("snapshots": `kept_snapshot`). The server's sweep
    empties it when the tab is gone (`SessionRuns.sweep`); a tab that comes back draws
    anew."""
    drawn = st.session_state.setdefault("drawings", {})
    return drawn if kind is None else drawn.setdefault(kind, {})


@st.cache_resource
def session_runs() -> SessionRuns:
    """The server's SessionRuns, swept every SWEEP_SECONDS by a background thread
    (tabs that close run no script that could do it)."""
    runs = SessionRuns()
    if not log.handlers:  # Streamlit configures its own loggers only
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)

    def sweep_forever() -> None:
        while True:
            time.sleep(SWEEP_SECONDS)
            if Runtime.exists():  # not under AppTest
                try:
                    runs.sweep(Runtime.instance().is_active_session)
                except Exception:  # (logged; the thread must live on, or no closed tab's run is released)
                    log.exception("releasing the runs of closed tabs failed")

    threading.Thread(target=sweep_forever, name="vangrad-release-runs", daemon=True).start()
    return runs


def budget_refusal(runs: tuple[Run, ...]) -> str | None:
    """Why these runs (one page's) may not train on this server now, with what to
    change; None if they may. A run that already trains is never stopped."""
    if any(live.playing for live in runs):
        return None
    others = [v for v in st.session_state.values() if isinstance(v, Run) and not v.released and v not in runs]
    counted = session_runs() if Runtime.exists() else None  # AppTest: this tab alone
    # tabs open now: a reloaded tab's old session keeps its runs until the sweep releases
    # them, and counted as a second tab it halved the reloaded page's share (a browser walk)
    open_tabs = counted.sessions(is_active=Runtime.instance().is_active_session) if counted else 0
    return BUDGET.refusal(
        [run_cost(live.config) for live in runs],
        held_elsewhere_mb=sum(held_megabytes(live.config, live.step_count) for live in others),  # (a refused run rests)
        tabs=max(open_tabs, 1),
        training=counted.sessions(playing=True) if counted else 0,
    )


class LiveRun:
    """The page's run, kept in the session under `key` (and known to the
    server's SessionRuns, which releases it when the tab is gone)."""

    def __init__(self, key: str):
        self.key = key

    @property
    def live(self) -> Run:
        live = st.session_state[self.key]
        if live.lost and time.monotonic() - st.session_state.get("lost:toasted", -math.inf) > 1:  # (once for a pair)
            st.session_state["lost:toasted"] = time.monotonic()
            st.toast(LOST, icon=":material/restart_alt:")
        if live.released or live.lost:  # the tab was gone long enough to lose its run; or its worker died
            live = self._new(live.config)
        return live

    def _new(self, config: ExperimentConfig) -> Run:
        """A new run in place of the session's run under `key` (released: its memory
        goes now, not when the session ends)."""
        old = st.session_state.get(self.key)
        ctx = get_script_run_ctx()
        session_id = ctx.session_id if ctx is not None else ""
        live = st.session_state[self.key] = training_pool().new(config, affinity=session_id)
        if ctx is not None and Runtime.exists():  # a server (AppTest has none, and nothing to sweep)
            session_runs().keep(ctx.session_id, self.key, live, drawings())
        if old is not None:
            old.release()
        return live

    @property
    def playing(self) -> bool:
        return self.live.playing

    def ensure(self, config: ExperimentConfig, keep_playing: bool = False) -> bool:
        """A run for `config`; a new one if the settings changed, paused (or, with
        `keep_playing`, playing if the old one played and the new one is within the
        budget: a setting changed mid-run starts the new run at once). Returns whether
        an existing run was replaced."""
        return ensure_runs((self,), (config,), keep_playing)

    def reset(self) -> None:
        self._new(self.live.config)

    def release(self) -> None:
        """Let go of the run and its snapshots now (its page has moved on), a pair's too."""
        for held in (st.session_state, drawings("snapshots")):
            for key in [key for key in held if _concerns(key, self.key)]:
                live = held.pop(key)
                if isinstance(live, Run):
                    live.release()
        ctx = get_script_run_ctx()
        if ctx is not None and Runtime.exists():
            session_runs().drop(ctx.session_id, self.key)


def _concerns(key: str, run_key: str) -> bool:
    """Whether a session key is the run's (`run_key`) or one of its views' (a pair's
    views join their runs' keys with "+": "run:compare:a+run:compare:b:paces")."""
    return any(part == run_key or part.startswith(f"{run_key}:") for part in key.split("+"))


def _at_pace(runs: tuple[LiveRun, ...], draw: Callable, pace: Callable[[], float], decision: bool = False) -> None:
    """A detailed view: `draw` of the runs' snapshots at most `pace()` seconds old (one
    run's snapshot, or a pair's); while the runs train from snapshots of before their
    first step, which the view would draw as "Press Train to ...", a line that says when
    it comes instead."""
    seconds = pace()
    snaps = snapshots_at_most_every(runs, seconds, decision)
    if any(run.playing for run in runs) and all(snap.step_count == 0 for snap in snaps):
        st.caption(f"While training, these views are redrawn every {seconds:g} s: the next redraw shows the run.")
    else:
        draw(snaps if len(runs) > 1 else snaps[0])


def each_snapshot(snap: Snapshot | tuple[Snapshot, ...]) -> tuple[Snapshot, ...]:
    """A pair's snapshots, or one run's as a tuple of one."""
    return snap if isinstance(snap, tuple) else (snap,)


class KeptSnapshot(NamedTuple):
    """A snapshot a view keeps in its session (`kept_snapshot`)."""

    taken_at: float  # time.monotonic()
    lives: tuple  # the runs it is of
    at_rest: bool  # taken while they rested
    snapshot: object


def kept_snapshot(runs: tuple[LiveRun, ...], key: str, seconds: float, take: Callable[[], object]) -> object:
    """The snapshot of `runs` (a pair's: a tuple) kept in the session under `key` while
    it holds: it is of the same runs (a Reset or new settings make new ones, and a run
    started anew with new settings while playing is never shown with the last one's
    charts); while they play, until it is `seconds` old (one kept at rest, from when
    they started); at rest, while it shows where they are (at its step count, done or
    not, failed or not), so that a rerun of their page takes none (from a worker, a
    run's whole frames) and a Step, a Reset or a new run does. Else `take()`, kept."""
    kept = drawings("snapshots")
    last: KeptSnapshot | None = kept.get(key)
    lives = tuple(run.live for run in runs)
    same_runs = last is not None and last.lives == lives
    playing = any(run.playing for run in runs)
    if playing:
        if same_runs and last.at_rest:
            # kept at rest, and the runs have just started to play: it stays for one
            # more pace, so that the full rerun that Train starts (forty at once in a
            # class) builds no chart, and the views' first ticks draw the run moving
            last = kept[key] = KeptSnapshot(time.monotonic(), lives, False, last.snapshot)
        fresh = same_runs and time.monotonic() - last.taken_at < seconds
    else:
        fresh = (
            same_runs
            and last.at_rest
            and all(
                (snap.step_count, snap.done, snap.failure) == (live.step_count, live.done, live.failure)
                for live, snap in zip(lives, each_snapshot(last.snapshot), strict=True)
            )
        )
    if not fresh:
        last = kept[key] = KeptSnapshot(time.monotonic(), lives, not playing, take())
    return last.snapshot


def snapshots_at_most_every(runs: tuple[LiveRun, ...], seconds: float, decision: bool = False) -> tuple[Snapshot, ...]:
    """Snapshots of `runs` (a pair: at the same step) for a detailed view, kept while
    they are younger than `seconds` or the runs rest (`kept_snapshot`). (The view redraws
    nothing then: its charts are cached by snapshot. So the full rerun that Train starts
    leaves the slow views be, and the live view's first updates come sooner.)"""
    key = "+".join(run.key for run in runs) + f":snapshot:details:{decision}"
    return kept_snapshot(runs, key, seconds, lambda: training_pool().snapshot([run.live for run in runs], decision))


def run_controls(run: LiveRun, caption: str | None = None) -> None:
    """Train / Pause, Step, Reset (and a caption beside them) for a page's run."""
    _controls((run,), "Train" if run.live.step_count == 0 else "Resume", "Train on", caption)


def run_status(run: LiveRun, snap: Snapshot, line: bool = True) -> str:
    """What the run is doing, in words; drawn as a line with the step count (inside the
    live view) if `line`, else only returned in a word or two (presenting, the Step
    metric's label carries it, and the banners say more)."""
    # what the snapshot shows first: the run's playing flag can be a moment older than it
    # (a worker's statuses are cached 0.1 s), and "500 / 500, training…" is not true
    said, short = (
        ("stopped by an error", "error")
        if snap.failure is not None
        else (f"stopped: diverged {diverged_when(snap.diverged_at)}", "diverged")
        if snap.diverged_at is not None
        else ("finished", "finished")
        if snap.done
        else ("waiting for its turn (many people are training right now)…", "waiting…")
        if run.playing and run.live.waiting
        else ("training…", "training…")
        if run.playing
        else ("paused", "paused")
        if snap.step_count
        else ("over this server's budget (the note above says what to change)", "over budget")
        if budget_refusal((run.live,)) is not None  # (Train is off: "press Train" would not be true)
        else ("ready: press Train", "ready")
    )
    status = said if line else short
    if line:
        st.markdown(f"**{snap.step_count} / {snap.config.steps} steps**, {status}")
    if snap.failure is not None:
        what = snap.failure[:300].replace("`", "'")  # in a code span: nothing in it is Markdown
        st.error(
            f"This run stopped with an error after {steps_words(snap.step_count)}: `{what}`. "
            "Change a setting or press Reset.",
            icon=":material/error:",
        )
    return status


@contextlib.contextmanager
def stopped_on_error(runs: tuple[LiveRun, ...]) -> Iterator[None]:
    """A live view that raises pauses its runs and reruns the page: the error shows
    once, with the fragment's timer off, instead of on every tick."""
    try:
        yield
    except WorkerGone:  # the worker died under this tick: the page's next run replaces the runs (`LiveRun.live`)
        st.rerun(scope="app")
    except Exception:
        if any(run.playing for run in runs):
            training_pool().pause([run.live for run in runs])
            st.rerun(scope="app")
        raise


def live_fragment(
    run: LiveRun,
    draw: Callable[[Snapshot], None],
    pace: Callable[[], float] | None = None,
    decision: bool = False,
    headline: Callable[[Snapshot], None] | None = None,
) -> None:
    """Draw a snapshot of the run in a fragment that redraws while the run plays and
    is still when paused: the live view (`live_view`: `headline`, the step count and
    numbers, at every refresh, `draw`, its charts, at the charts' pace), or, given
    `pace` such as `detail_seconds`, a detailed view from a snapshot at most that old."""
    if pace is not None:
        _fragment((run,), lambda: _at_pace((run,), draw, pace, decision), pace)
    elif headline is None:
        _fragment((run,), lambda: draw(run.live.snapshot(decision=decision)))
    else:
        live_view(
            (run,), lambda charts: run.live.snapshot(decision and charts, latest=not charts), headline, draw, decision
        )


def before_first_step(live: Run) -> bool:
    """Whether a run plays and has not taken its first step yet."""
    return live.playing and live.step_count == 0


def first_steps(lives: tuple[Run, ...], seconds: float = FIRST_STEP_SECONDS) -> None:
    """Until every playing run of `lives` has taken a step, at most `seconds`."""
    deadline = time.monotonic() + seconds
    while any(map(before_first_step, lives)) and time.monotonic() < deadline:
        time.sleep(FIRST_STEP_POLL_SECONDS)


def live_view(
    runs: tuple[LiveRun, ...],
    snapshot: Callable[[bool], object],
    headline: Callable,
    draw: Callable,
    decision: bool = False,
) -> None:
    """A live view of `runs`: `headline(snapshot(False))` (the newest moment only:
    `Snapshot.latest`) at every refresh, and `draw(snapshot(True))`, its charts, at the
    charts' pace (`paces`). While the numbers refresh often, one fragment draws both
    (the charts from a snapshot at most the charts' pace old, or, while other views
    queue for the drawing turns, up to KEPT_WHILE_QUEUED_SECONDS old); on a busy server, where
    the charts must wait, they get a fragment and a timer of their own, so that a
    refresh of the numbers does not send the unchanged charts again (that was most of
    a refresh's work). On a busier server (looked at after 1-2 × RESTEP_BUSIER_SECONDS,
    by the session's share) or a quieter one (after 1-2 × RESTEP_SECONDS) the page
    reruns and the view is laid out anew (`_fragment`).
    `decision`: whether `snapshot(True)` holds the run's decision grid."""
    paces_key = "+".join(run.key for run in runs) + ":paces"
    refresh, charts = st.session_state[paces_key] = paces(st.session_state.get(paces_key))

    def paces_now() -> tuple[float, float]:
        """The view's paces now (its fragments rerun the page when they change)."""
        return paces((refresh, charts))

    drawn_key = "+".join(run.key for run in runs) + ":charts drawn"
    # (by what the snapshot holds: the tour's steps share a run, and some draw its decision grid)
    shown_key = "+".join(run.key for run in runs) + f":charts shown:{decision}"

    def draw_charts(snap) -> None:
        each = each_snapshot(snap)
        stamp = tuple(one.stamp for one in each)
        new = stamp != st.session_state.get(drawn_key)  # (else the cached charts are only sent again)
        with chart_cost.timed(new and any(one.step_count for one in each)):
            draw(snap)
        st.session_state[drawn_key] = stamp

    started_key = "+".join(run.key for run in runs) + ":started"
    moving_key = "+".join(run.key for run in runs) + ":shown moving"  # False until the numbers show a step

    def seen_moving() -> None:
        """The first view drawn after the runs start playing shows them moving: it
        waits for their first step (`first_steps`); no later one waits. Until a view's
        numbers show a step, they draw in urgent turns (`numbers_turn`; numbers in a
        fragment of their own always do)."""
        lives = tuple(run.live for run in runs)
        started = tuple(map(id, lives))
        if st.session_state.get(started_key) != started and any(live.playing for live in lives):
            st.session_state[started_key] = started
            st.session_state[moving_key] = False
            first_steps(lives)

    def numbers_turn() -> contextlib.AbstractContextManager[None]:
        """The drawing turn of numbers drawn with the charts, in one fragment: urgent
        while they have not shown the runs moving, then ordinary (numbers first there
        only held each tab's next refresh behind its own charts)."""
        return drawing_turns.turn(urgent=st.session_state.get(moving_key) is False)

    def draw_numbers(snap: object) -> None:
        """`headline(snap)`; once it shows a step, the runs have been seen moving."""
        headline(snap)
        if any(one.step_count for one in each_snapshot(snap)):
            st.session_state[moving_key] = True

    def chart_snapshot(take: Callable[[], object], keep: bool = False) -> object:
        """What the charts draw now: the snapshot they were last drawn from while it is
        younger than their pace and a run plays (a full rerun, such as forty tabs
        pressing Train or laying out their views anew, then sends them again instead
        of building them), or while the runs rest where it was taken, or (`keep`) up to
        KEPT_WHILE_QUEUED_SECONDS old; else a new one, `take()`. (0.9: a timer that
        fires a moment early still takes a new one.)"""
        return kept_snapshot(
            runs, shown_key, max(KEPT_WHILE_QUEUED_SECONDS, charts_every) if keep else 0.9 * charts_every, take
        )

    together = not charts_apart(refresh)
    charts_every = charts if together else spread(charts)  # (together: at the numbers' pace)
    if together:

        def both() -> None:
            with numbers_turn():
                playing = any(run.playing for run in runs)
                taken = []  # whether the charts took a new snapshot (the newest moment)
                # Views queued for the drawing turns (a class that pressed Train together):
                # the charts stay where they were for up to KEPT_WHILE_QUEUED_SECONDS, sent
                # again as built, so that this view's next refresh of its numbers does not
                # wait behind the class's charts.
                queued = playing and drawing_turns.queued()
                shown = chart_snapshot(lambda: taken.append(True) or snapshot(True), keep=queued)
                # playing, the numbers show the newest moment (only that, when the charts
                # keep theirs: Train's rerun in a class); at rest, the charts' snapshot is it
                draw_numbers(shown if taken or not playing else snapshot(False))
            # (kept: nothing to build, but for a chart whose setting a full rerun changed: one tab's)
            with contextlib.nullcontext() if queued and not taken else drawing_turns.turn():
                draw_charts(shown)

        # (it takes its own turns: its numbers', then its charts')
        _fragment(runs, both, lambda: refresh, setup=paces_now, first=seen_moving, turn=contextlib.nullcontext)
    else:
        _fragment(
            runs,
            lambda: draw_numbers(snapshot(False)),
            lambda: refresh,
            setup=paces_now,
            first=seen_moving,
            # Alone in their fragment, always urgent: a short tick, whose every wait
            # behind the class's charts is a wait in what the student sees.
            turn=lambda: drawing_turns.turn(urgent=True),
        )
        _fragment(
            runs,
            lambda: draw_charts(chart_snapshot(lambda: snapshot(True))),
            lambda: charts_every,
            setup=paces_now,
        )


def start_playing(lives: Sequence[Run]) -> None:
    """Train `lives` (a pair: in one turn), counted as playing from now on (`SessionRuns.started`)."""
    training_pool().play(lives)
    if Runtime.exists():  # (AppTest has no server, and counts one tab: `playing_tabs`)
        session_runs().started()


def ensure_runs(runs: tuple[LiveRun, ...], configs: tuple[ExperimentConfig, ...], keep_playing: bool = True) -> bool:
    """Runs for `configs`, kept in step: if any's settings changed, all start again from
    step 0 (with `keep_playing`, training at once if they were, within the budget).
    Returns whether existing runs were replaced."""
    old = [st.session_state.get(run.key) for run in runs]
    if all(live is not None and live.config == config for live, config in zip(old, configs, strict=True)):
        return False
    playing = any(live is not None and not live.released and live.playing for live in old)
    new = tuple(run._new(config) for run, config in zip(runs, configs, strict=True))
    if keep_playing and playing and budget_refusal(new) is None:
        start_playing(new)
    return any(live is not None for live in old)


def pair_controls(runs: tuple[LiveRun, LiveRun], same_batches: bool = True) -> None:
    """Train / Pause, Step, Reset for two runs at once, kept in step (on the same
    batches, unless B's settings refused A's data: `same_batches`)."""
    caption = (
        "Both runs take the same steps on the same batches." if same_batches else "Both runs take the same steps."
    ) + " Changing a setting restarts both."
    # (one of them can stop at step 0, diverged or failed, while the other trains on)
    train = "Resume both" if any(run.live.step_count for run in runs) else "Train both"
    _controls(runs, train, "Train both on", caption)


def _controls(runs: tuple[LiveRun, ...], train: str, train_on: str, caption: str | None) -> None:
    """The run buttons for `runs` (one, or a pair trained in step): `train` (or Pause
    while they train; `train_on` once they are finished and can go on; a disabled
    "Finished" or "Stopped" once they are over and cannot), Step, Reset; Train and Step
    off, and why, when the runs are over the server's budget."""
    lives = [run.live for run in runs]
    playing = any(run.playing for run in runs)
    done = all(live.done for live in lives)
    refusal = budget_refusal(tuple(lives))

    # (the buttons act on the runs as they are when pressed: `run.live` replaces a run
    # whose worker died since this was drawn)
    def play(on: bool) -> None:
        if on:
            start_playing([run.live for run in runs])  # a pair: one turn for both
        else:  # (ending on a recorded step: the charts show the step the counter says)
            training_pool().pause([run.live for run in runs], on_recorded_step=True)

    def go_on() -> None:  # as many steps again (a pair shares its step count)
        if all([run.live.train_on(run.live.config.steps) for run in runs]):
            play(True)

    def step() -> None:
        for run in runs:
            run.live.step(1)

    def reset() -> None:
        for run in runs:
            run.reset()

    cols = st.columns([1.3, 1, 1, 2.7])  # "Resume" whole beside the tour's Previous / Next
    primary = {"type": "primary", "width": "stretch"}
    if playing:
        cols[0].button("Pause", icon=":material/pause:", on_click=play, args=(False,), **primary)
    elif done and all(live.can_train_on() for live in lives):
        # no tooltip: it takes Pause's place under the pointer that pressed Train, and its
        # tooltip then covered the page's title on the projector until the pointer moved
        cols[0].button(
            train_on, icon=":material/fast_forward:", on_click=go_on, disabled=refusal is not None, **primary
        )
    elif done:  # over and unable to go on: not "Resume"
        # "Finished" at the longest run there is; "Stopped" when it diverged or failed short of its steps
        finished = all(live.failure is None and live.step_count >= live.config.steps for live in lives)
        over = "Finished" if finished else "Stopped"
        # (no tooltip: it takes Train's place under the pointer, and covered the notice under it)
        cols[0].button(over, icon=":material/stop:", disabled=True, **primary)
    else:
        cols[0].button(
            train, icon=":material/play_arrow:", on_click=play, args=(True,), disabled=refusal is not None, **primary
        )
    stuck = playing or done or refusal is not None
    cols[1].button(
        "Step", icon=":material/skip_next:", on_click=step, disabled=stuck, help="One optimizer step", width="stretch"
    )
    cols[2].button(
        "Reset", icon=":material/replay:", on_click=reset, help="Start again from the initial weights", width="stretch"
    )
    if caption:
        cols[3].caption(caption)
    if refusal:
        st.warning(refusal, icon=":material/hourglass_disabled:")
    elif not playing and not done:
        left = sum(  # (of the runs that will train: one of a pair may be over)
            run_cost(live.config).seconds_per_step * (live.config.steps - live.step_count)
            for live in lives
            if not live.done
        )
        if left > LONG_RUN_SECONDS:
            smaller = (
                "Fewer or narrower layers"
                if isinstance(lives[0].config, ExperimentConfig)
                else "A shorter sequence, fewer hidden units"
            )
            st.caption(
                f":material/hourglass_top: A long run: about {duration(left)} of training on a free processor "
                f"core (longer while many people train). {smaller}, a smaller batch or fewer steps train faster."
            )


def pair_fragment(
    runs: tuple[LiveRun, LiveRun],
    draw: Callable[[tuple[Snapshot, Snapshot]], None],
    pace: Callable[[], float] | None = None,
    headline: Callable[[tuple[Snapshot, Snapshot]], None] | None = None,
) -> None:
    """Like `live_fragment`, for two runs kept in step (their snapshots taken at the same step)."""
    if pace is not None:
        _fragment(runs, lambda: _at_pace(runs, draw, pace), pace)
        return

    def newest(charts: bool) -> tuple[Snapshot, ...]:
        return training_pool().snapshot([run.live for run in runs], latest=not charts)

    if headline is None:
        _fragment(runs, lambda: draw(newest(True)))
    else:
        live_view(runs, newest, headline, draw)


def _fragment(
    runs: tuple[LiveRun, ...],
    tick: Callable[[], None],
    pace: Callable[[], float] = refresh_seconds,
    setup: Callable[[], object] | None = None,
    first: Callable[[], None] | None = None,
    turn: Callable[[], contextlib.AbstractContextManager[None]] | None = None,
) -> None:
    """`tick()` in a fragment that reruns every `pace()` seconds while a run plays, in
    a drawing turn (`turn()`; an ordinary one of `drawing_turns` if not given), after
    `first()`, outside the turn (it may wait for the runs).
    When the runs stop by themselves, or the pace (or what `setup()` returns: how the
    view is laid out) has changed, a full rerun sets the timers anew: looked at before
    each tick draws (and whether the runs stopped, after it too), the pace after
    RESTEP_BUSIER_SECONDS if every pace is now slower (the server got busier), after
    RESTEP_SECONDS otherwise (quieter: no hurry), each stretched by the session's share."""
    started_playing = any(run.playing for run in runs)
    every = pace()
    laid_out = setup or pace  # what tells whether the view is to be laid out anew
    layout = laid_out()
    declared = time.monotonic()
    stretch = 1 + session_share()  # each session after its own while (RESTEP_SECONDS)
    busier_after, quieter_after = stretch * RESTEP_BUSIER_SECONDS, stretch * RESTEP_SECONDS

    def stopped() -> bool:
        """Whether the runs played when the view was laid out and stopped since."""
        return started_playing and not any(run.playing for run in runs)

    def laid_out_anew() -> bool:
        """Whether the view is to be laid out anew: its paces changed since it was laid out."""
        waited = time.monotonic() - declared
        if not started_playing or waited <= busier_after:
            return False
        now = laid_out()
        return now != layout and (waited > quieter_after or _all_slower(now, layout))

    def body() -> None:
        # Looked at before the tick draws: a full rerun's start drops the messages not sent
        # yet, so a tick's numbers drawn just before it (after a wait for a drawing turn)
        # mostly never reached the page.
        if stopped() or laid_out_anew():
            st.rerun(scope="app")
        with stopped_on_error(runs):
            if first is not None:
                first()
            with (turn or drawing_turns.turn)():
                tick()
        if stopped():
            st.rerun(scope="app")

    st.fragment(body, run_every=every if started_playing else None)()


def _all_slower(now: float | tuple[float, ...], then: float | tuple[float, ...]) -> bool:
    """Whether every pace in `now` is at least as slow as in `then` (one pace or a tuple)."""
    now, then = (now, then) if isinstance(now, tuple) else ((now,), (then,))
    return all(a >= b for a, b in zip(now, then, strict=True))
