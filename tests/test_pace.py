"""How often the live views redraw as the server gets busier (views/ui/live.py).

The headline (step count, numbers) at every refresh, never slower than every 2 s
(and faster than that for a class of forty, whose refreshes draw the numbers alone);
the charts at every refresh while the server has time, else as often as all playing
tabs' charts fit in CHART_CORES of a core, and on a busy server (the numbers every
second or slower) at least a step slower than the numbers, a view keeping its charts'
pace while the load asks for one within PACE_MARGIN of it; a view laid out anew after
its session's own while; the detailed views every 5 s for a few tabs, in steps beyond.
These are the rules docs/architecture.md states.
"""

from __future__ import annotations

import contextlib
import statistics
import threading
import time
from collections.abc import Callable
from types import SimpleNamespace

import pytest

from vangrad_core import ExperimentConfig
from vangrad_core.live import LiveTrainer
from views.ui import charts, live


@pytest.fixture
def tabs(monkeypatch):
    """Set how many tabs have a run playing, and what a redraw of the charts costs."""

    def set_load(playing: int, chart_cost_seconds: float = 0.1) -> None:
        monkeypatch.setattr(live, "playing_tabs", lambda: playing)
        monkeypatch.setattr(live.chart_cost, "seconds", chart_cost_seconds)

    return set_load


def test_one_tab_refreshes_fast_and_a_class_never_waits_more_than_two_seconds(tabs):
    paces = []
    for playing in (1, 2, 5, 10, 20, 40, 80, 400):
        tabs(playing)
        paces.append(live.refresh_seconds())
    assert paces[0] == live.REFRESH_SECONDS[0] == 0.15
    assert paces == sorted(paces) and max(paces) == 2.0
    tabs(4)  # where it can, the pace keeps the live views' redraws within DRAWS_PER_SECOND together
    assert live.refresh_seconds() < live.SEPARATE_CHARTS_SECONDS and 4 / live.refresh_seconds() <= live.DRAWS_PER_SECOND


def test_a_class_of_forty_sees_its_numbers_move_more_often_than_every_two_seconds(tabs):
    """Refreshes that draw the numbers alone are cheap: a class may ask for up to
    NUMBER_DRAWS_PER_SECOND of them together before the slowest step, every 2 s."""
    tabs(40)
    assert live.refresh_seconds() == 1.2 >= live.SEPARATE_CHARTS_SECONDS
    assert 40 / 1.2 <= live.NUMBER_DRAWS_PER_SECOND
    tabs(80)
    assert live.refresh_seconds() == 2.0  # 67 a second at 1.2 s: eighty trained slower and waited longer


def test_charts_redraw_with_the_numbers_while_the_server_has_time_and_share_half_a_core_when_busy(tabs):
    tabs(1, chart_cost_seconds=0.05)
    assert live.paces()[1] == live.refresh_seconds() == 0.15
    tabs(40, chart_cost_seconds=0.1)
    assert live.refresh_seconds() == 1.2  # the numbers still move more often than every 2 s
    assert live.paces()[1] == pytest.approx(40 * 0.1 / live.CHART_CORES)  # 8 s: 40 redraws in 0.5 core
    tabs(4, chart_cost_seconds=0.01)
    assert live.paces()[1] == live.refresh_seconds() == 0.6  # cheap charts keep up with the numbers
    tabs(40, chart_cost_seconds=0.01)
    # on a busy server, however cheap, a step slower: in a fragment of their own, whatever
    # a redraw costs (a layout that followed the cost laid out forty tabs anew at once)
    assert live.paces() == (1.2, 2.0) and 1.2 >= live.SEPARATE_CHARTS_SECONDS


def test_a_view_keeps_its_charts_pace_while_the_cost_of_a_redraw_wavers(tabs):
    """Forty tabs at 0.1 s a redraw ask for 8 s; a view at 8 s stays there while the
    measured cost wavers within PACE_MARGIN, and one at 15 s stays there too, so that a
    cost near a step's edge does not swing every tab (each swing a full rerun)."""
    at_8, at_15 = (1.2, 8.0), (1.2, 15.0)
    tabs(40, chart_cost_seconds=0.1)
    assert live.paces() == at_8
    for cost in (0.105, 0.14, 0.0875):  # 8.4, 11.2 and 7.0 s wanted
        tabs(40, chart_cost_seconds=cost)
        assert live.paces(at_8) == at_8
    tabs(40, chart_cost_seconds=0.105)
    assert live.paces() == at_15  # a view laid out now takes the step the load asks for
    tabs(40, chart_cost_seconds=0.1)
    assert live.paces(at_15) == at_15
    tabs(40, chart_cost_seconds=0.16)  # 12.8 s: beyond 8 s by more than the margin
    assert live.paces(at_8) == at_15
    tabs(40, chart_cost_seconds=0.06)  # 4.8 s: 15 s is over a step slower than needed
    assert live.paces(at_15) == at_8
    tabs(1, chart_cost_seconds=0.05)  # alone again: the numbers' pace changes, and the charts' with it
    assert live.paces(at_8) == (0.15, 0.15)


def test_details_slow_down_in_steps_at_least_in_proportion_beyond_a_few_tabs(tabs):
    """Steps, not the count itself: each change of a pace is a full rerun of the tab."""
    for playing in range(1, live.DETAIL_TABS + 1):
        tabs(playing)
        assert live.detail_seconds() == live.DETAIL_SECONDS
    paces = []
    for playing in range(live.DETAIL_TABS, 100):
        tabs(playing)
        paces.append(live.detail_seconds())
        assert paces[-1] >= live.DETAIL_SECONDS * playing / live.DETAIL_TABS or paces[-1] == live.DETAIL_STEPS[-1]
    assert paces == sorted(paces) and set(paces) == set(live.DETAIL_STEPS)
    tabs(36)
    assert live.detail_seconds() == 60.0  # 45 s in proportion


def test_the_cost_of_a_redraw_follows_what_drawing_took_and_ignores_charts_sent_again():
    cost = live.ChartCost(seconds=0.1)
    with cost.timed(drawn=False):
        time.sleep(0.01)
        sum(range(200_000))
    assert cost.seconds == 0.1
    with cost.timed(drawn=True):
        busy = time.thread_time()
        while time.thread_time() - busy < 0.03:
            pass
    assert cost.seconds == pytest.approx(0.03, abs=0.01)  # the first redraw timed replaces the guess
    for _ in range(30):
        with cost.timed(drawn=True):
            time.sleep(0.05)  # waiting (as for the GIL) is not the server's processor time
    assert cost.seconds < 0.02
    for _ in range(30):
        with cost.timed(drawn=True):
            busy = time.thread_time()
            while time.thread_time() - busy < 0.03:
                pass
    assert cost.seconds == pytest.approx(0.03, abs=0.01)


def test_the_status_beside_a_step_count_says_what_that_snapshot_shows():
    """A worker's playing flag can be a moment older than the newest snapshot: at
    500 / 500 the status says finished, not "training…"."""
    trainer = LiveTrainer(ExperimentConfig(depth=2, width=4, steps=3))
    trainer.step(3)
    finished = trainer.snapshot()
    still_playing = SimpleNamespace(playing=True, live=SimpleNamespace(waiting=False))
    assert live.run_status(still_playing, finished, line=False) == "finished"
    trainer.train_on(3)
    going_on = trainer.snapshot()
    assert live.run_status(still_playing, going_on, line=False) == "training…"


def fragments_declared(monkeypatch) -> list[tuple[Callable[[], None], float]]:
    """Stands in for `live._fragment`: each fragment a view declares, as what its body
    runs at a tick (`first()`, then `tick()` in its drawing turn) and its pace."""
    declared = []

    def declare(runs, tick, pace, setup=None, first=None, turn=None) -> None:
        def body() -> None:
            if first is not None:
                first()
            with (turn or live.drawing_turns.turn)():
                tick()

        declared.append((body, pace()))

    monkeypatch.setattr(live, "_fragment", declare)
    return declared


@pytest.mark.parametrize("playing, cost, charts_apart", [(1, 0.05, False), (1, 0.2, False), (40, 0.05, True)])
def test_under_load_the_numbers_refresh_without_sending_the_charts_again(
    tabs, monkeypatch, playing, cost, charts_apart
):
    """One fragment draws the numbers and the charts while the numbers refresh often
    (alone, even when the charts take longer: a session runs one script at a time, and
    two fragments on fast timers would take turns); on a busy server the charts get a fragment of their own, at their
    slower pace, and a refresh of the numbers draws no chart (re-sending unchanged
    charts was most of its work)."""
    tabs(playing, chart_cost_seconds=cost)
    declared = fragments_declared(monkeypatch)  # (what a fragment draws at a tick, its pace)
    monkeypatch.setattr(live.st, "session_state", {})
    drawn = []
    snapshot = LiveTrainer(ExperimentConfig(depth=2, width=4, steps=3)).snapshot()
    run = SimpleNamespace(key="run:test", playing=True, live=SimpleNamespace(playing=True, step_count=3))
    live.live_view(
        (run,), lambda charts: snapshot, lambda snap: drawn.append("numbers"), lambda s: drawn.append("charts")
    )
    ticks = []
    for tick, pace in declared:
        drawn.clear()
        tick()
        ticks.append((tuple(drawn), pace))
    refresh, charts = live.paces()
    if charts_apart:
        assert (refresh, charts) == (1.2, 4.0)
        assert ticks == [(("numbers",), 1.2), (("charts",), 4.0)]
    else:
        assert ticks == [(("numbers", "charts"), 0.15)]
        assert charts == (0.15 if cost == 0.05 else 0.6)  # (then drawn from a snapshot at most 0.6 s old)


def in_session(monkeypatch, session_id: str) -> None:
    """Script runs of the session `session_id` (what `spread` reads)."""
    monkeypatch.setattr(live, "get_script_run_ctx", lambda: SimpleNamespace(session_id=session_id))


def test_a_class_that_pressed_train_together_redraws_its_charts_apart(tabs, monkeypatch):
    """Each session's charts timer runs slower or faster than the pace by its own share
    of CHART_TIMER_SPREAD, the same at every rerun, so that forty timers started in
    the same second drift apart; the charts' snapshot is taken anew at that timer's
    ticks (a snapshot younger than the pace would leave a faster timer's ticks idle)."""
    timers = []
    for n in range(40):
        in_session(monkeypatch, f"session-{n}")
        timers.append(live.spread(8.0))
        assert live.spread(8.0) == timers[-1]
    assert all(8.0 * (1 - live.CHART_TIMER_SPREAD) <= t < 8.0 * (1 + live.CHART_TIMER_SPREAD) for t in timers)
    assert len({round(t, 1) for t in timers}) >= 20 and 7.5 < statistics.mean(timers) < 8.5

    fastest = min(range(40), key=lambda n: timers[n])
    in_session(monkeypatch, f"session-{fastest}")
    tabs(40, chart_cost_seconds=0.05)  # (1.2, 4.0)
    declared = fragments_declared(monkeypatch)
    monkeypatch.setattr(live.st, "session_state", {})
    kept = {}
    monkeypatch.setattr(live, "drawings", lambda kind=None: kept)
    now = [100.0]
    monkeypatch.setattr(live.time, "monotonic", lambda: now[0])
    taken = []
    snapshot = LiveTrainer(ExperimentConfig(depth=2, width=4, steps=3)).snapshot()
    run = SimpleNamespace(key="run:test", playing=True, live=SimpleNamespace(playing=True, step_count=3))
    live.live_view((run,), lambda charts: taken.append(charts) or snapshot, lambda snap: None, lambda snap: None)
    (_, numbers_pace), (charts_tick, charts_pace) = declared
    assert (numbers_pace, charts_pace) == (1.2, live.spread(4.0)) and charts_pace < 0.9 * 4.0
    charts_tick()
    now[0] += charts_pace  # the timer's next tick
    charts_tick()
    assert taken == [True, True]


def test_the_playing_tabs_are_counted_once_for_many_refreshes(monkeypatch):
    """Every refresh of every tab asks for the count; the runs are asked at most every
    PLAYING_SECONDS (a class's script threads queued for it at every refresh)."""
    asked = []

    class Run:
        def __init__(self, playing: bool):
            self._playing = playing

        @property
        def playing(self) -> bool:
            asked.append(self)
            return self._playing

    clock = SimpleNamespace(now=0.0)
    monkeypatch.setattr(live, "time", SimpleNamespace(monotonic=lambda: clock.now))
    runs = live.SessionRuns()
    for session, playing in enumerate((True, True, False)):
        runs.keep(f"tab {session}", "run:playground", Run(playing), {})
    assert [runs.playing() for _ in range(50)] == [2] * 50
    assert len(asked) == 3  # each run asked once
    runs.keep("tab 3", "run:playground", Run(True), {})
    clock.now += live.PLAYING_SECONDS
    assert runs.playing() == 2  # (counted PLAYING_SECONDS ago)
    clock.now += 0.01
    assert runs.playing() == 3


def test_a_run_that_starts_to_play_is_counted_at_once(monkeypatch):
    """A class pressing Train at once: the pages that lay out the first views count the
    runs started since the last count, even one started while a count was under way
    (else forty views took a lone tab's pace, and were laid out anew together 1.5-3 s
    later, holding every tab's numbers 1-2 s)."""
    clock = SimpleNamespace(now=100.0)
    monkeypatch.setattr(live, "time", SimpleNamespace(monotonic=lambda: clock.now))
    runs = live.SessionRuns()
    monkeypatch.setattr(live, "session_runs", lambda: runs)
    monkeypatch.setattr(live, "Runtime", SimpleNamespace(exists=lambda: True))  # (a server's count)
    played = []
    monkeypatch.setattr(live, "training_pool", lambda: SimpleNamespace(play=played.append))
    tab_runs = [SimpleNamespace(playing=False) for _ in range(3)]
    for n, run in enumerate(tab_runs):
        runs.keep(f"tab {n}", "run:playground", run, {})
    assert runs.playing() == 0
    for n, run in enumerate(tab_runs[:2], 1):
        clock.now += 0.01  # (well within PLAYING_SECONDS)
        run.playing = True  # (what the pool's play does)
        live.start_playing([run])
        assert runs.playing() == n
    assert played == [[run] for run in tab_runs[:2]]

    class PressedDuringTheCount:
        """The third tab's run: Train pressed there while another page counts."""

        @property
        def playing(self) -> bool:
            clock.now += 0.01
            tab_runs[2].playing = True
            runs.started()
            return True

    runs.keep("tab 3", "run:playground", PressedDuringTheCount(), {})
    clock.now += live.PLAYING_SECONDS + 0.01
    assert runs.playing() == 3  # (the count began before the third tab's press: not the last word)
    assert runs.playing() == 4


def test_new_settings_while_a_run_plays_start_the_new_run_counted_at_once(monkeypatch):
    """A run replaced while it plays (a slider moved mid-run) starts through
    `start_playing`, so that the server counts it at once; a first run rests."""
    monkeypatch.setattr(live.st, "session_state", {})
    monkeypatch.setattr(live, "budget_refusal", lambda runs: None)
    made = []

    def new(config: ExperimentConfig, affinity: str) -> SimpleNamespace:
        made.append(SimpleNamespace(config=config, released=False, playing=False, release=lambda: None))
        return made[-1]

    monkeypatch.setattr(live, "training_pool", lambda: SimpleNamespace(new=new))
    started = []
    monkeypatch.setattr(live, "start_playing", started.append)
    run = live.LiveRun("run:test")
    assert not live.ensure_runs((run,), (ExperimentConfig(depth=2, width=4, steps=9),))
    assert started == []
    made[-1].playing = True
    assert live.ensure_runs((run,), (ExperimentConfig(depth=3, width=4, steps=9),))
    assert started == [(made[-1],)]


class Rerun(Exception):
    """What st.rerun(scope="app") would do: end the fragment's run for a full rerun."""


# a session's share, and when it then lays its view out anew: busier, quieter
@pytest.mark.parametrize("share, busier, quieter", [(0.0, 1.0, 5.0), (0.9, 1.9, 9.5)])
@pytest.mark.parametrize(
    "then, now, rerun",
    [
        ((0.15, 0.15), (2.0, 8.0), "busier"),  # a class pressed Train: slow down soon
        ((2.0, 8.0), (0.15, 0.15), "quieter"),  # the class finished: no hurry
        ((0.6, 4.0), (0.3, 8.0), "quieter"),  # numbers faster, charts slower: no hurry
        ((2.0, 8.0), (2.0, 8.0), None),  # the same pace: the timers stay
    ],
)
def test_a_busier_server_slows_a_live_view_within_two_seconds_and_a_quieter_one_speeds_it_up_later(
    monkeypatch, then, now, rerun, share, busier, quieter
):
    """The first tabs of a class that presses Train at once may count few playing and
    take the fastest pace: they must slow down within RESTEP_BUSIER_SECONDS, not flood the
    server for RESTEP_SECONDS while the others wait for their first update. Each session
    waits up to twice as long by its own share (`session_share`), so that forty views do
    not all rerun their pages in the same second."""
    monkeypatch.setattr(live, "session_share", lambda: share)
    clock = SimpleNamespace(now=0.0)
    monkeypatch.setattr(live, "time", SimpleNamespace(monotonic=lambda: clock.now))
    bodies = []
    monkeypatch.setattr(live.st, "fragment", lambda body, run_every: bodies.append(body) or (lambda: None))
    monkeypatch.setattr(live.st, "rerun", lambda scope: (_ for _ in ()).throw(Rerun(scope)))
    layout = {"paces": then}
    drawn = []
    live._fragment(
        (SimpleNamespace(playing=True),),
        lambda: drawn.append(True),
        lambda: layout["paces"][0],
        lambda: layout["paces"],
    )
    layout["paces"] = now

    def reruns_at(seconds: float) -> bool:
        """Whether a tick at `seconds` reruns the page (having drawn nothing first)."""
        clock.now = seconds
        drawn.clear()
        try:
            bodies[0]()
        except Rerun:
            assert not drawn
            return True
        assert drawn
        return False

    assert (live.RESTEP_BUSIER_SECONDS, live.RESTEP_SECONDS) == (1.0, 5.0)  # (the cases' times)
    ticks = [0.5, busier - 0.05, busier + 0.05, quieter - 0.05, quieter + 0.05]
    after = {"busier": busier, "quieter": quieter, None: None}[rerun]
    assert [reruns_at(t) for t in ticks] == [after is not None and t > after for t in ticks]


def test_a_tick_that_finds_its_runs_stopped_reruns_the_page_before_drawing(monkeypatch):
    """The runs finished (or were paused from another view) since the last tick: the
    page is laid out at rest at once, without waiting for a drawing turn to draw numbers
    that the full rerun's start would drop before they were sent (a class's last updates
    came 2-3 s after the one before). Runs that stop during a tick rerun it after."""
    bodies = []
    monkeypatch.setattr(live.st, "fragment", lambda body, run_every: bodies.append(body) or (lambda: None))
    monkeypatch.setattr(live.st, "rerun", lambda scope: (_ for _ in ()).throw(Rerun(scope)))
    run = SimpleNamespace(playing=True)
    ticks, turns = [], []

    def tick() -> None:
        ticks.append(run.playing)
        run.playing = len(ticks) < 2  # it finishes during the second tick

    live._fragment((run,), tick, lambda: 1.0, turn=lambda: turns.append(1) or contextlib.nullcontext())
    bodies[0]()
    with pytest.raises(Rerun):
        bodies[0]()
    assert ticks == [True, True] and len(turns) == 2
    with pytest.raises(Rerun):
        bodies[0]()
    assert ticks == [True, True] and len(turns) == 2  # nothing drawn, no turn taken


def test_a_full_rerun_under_load_sends_the_charts_again_instead_of_building_them(tabs, monkeypatch):
    """Forty tabs pressing Train, then laying their views out for a busier server, each
    rerun the whole page: the charts come from the snapshot they were last drawn from
    while it is younger than their pace (sent again, not built), and from a new one
    after it."""
    tabs(40, chart_cost_seconds=0.1)  # numbers every 2 s, charts every 8 s, each in a fragment
    clock = SimpleNamespace(now=100.0)
    monkeypatch.setattr(live, "time", SimpleNamespace(monotonic=lambda: clock.now, thread_time=time.thread_time))
    monkeypatch.setattr(live.st, "session_state", {})
    declared = fragments_declared(monkeypatch)
    snapshots = [LiveTrainer(ExperimentConfig(depth=2, width=4, steps=3)).snapshot() for _ in range(3)]
    taken, drawn = [], []

    def snapshot(charts: bool):
        if charts:
            taken.append(snapshots[len(taken)])
            return taken[-1]
        return snapshots[0]

    def full_rerun(at: float) -> None:
        clock.now = at
        declared.clear()
        run = SimpleNamespace(key="run:test", playing=True, live=SimpleNamespace(playing=True, step_count=3))
        live.live_view((run,), snapshot, lambda s: None, drawn.append)
        for tick, _ in declared:
            tick()

    _, charts = live.paces()
    assert charts == 8.0
    full_rerun(100.0)  # Train pressed
    full_rerun(101.5)  # laid out anew a moment later
    full_rerun(100.0 + charts)  # the charts' own pace has passed
    assert drawn == [snapshots[0], snapshots[0], snapshots[1]]
    assert len(taken) == 2


class Starting:
    """A run that plays and takes its first step after `polls` looks at its step count."""

    def __init__(self, polls: int):
        self.polls, self.playing = polls, True

    @property
    def step_count(self) -> int:
        self.polls -= 1
        return 0 if self.polls >= 0 else 1


@pytest.fixture
def clock(monkeypatch):
    """`live`'s time: sleeping moves it on; `clock.slept` counts the sleeps."""
    clock = SimpleNamespace(now=0.0, slept=0)

    def sleep(seconds: float) -> None:
        clock.now += seconds
        clock.slept += 1

    monkeypatch.setattr(
        live, "time", SimpleNamespace(monotonic=lambda: clock.now, sleep=sleep, thread_time=time.thread_time)
    )
    return clock


def test_waiting_for_a_first_step_ends_with_it_or_at_its_deadline(clock):
    """Runs that just started are waited for until they have stepped, at most
    FIRST_STEP_SECONDS; runs that moved, or do not play, keep nobody waiting."""
    quick = Starting(3)
    live.first_steps((quick,))
    assert quick.polls == -1 and clock.slept == 3  # asked until it had stepped, and no more
    clock.slept = 0
    live.first_steps((Starting(10**9),))
    waited, poll = clock.slept * live.FIRST_STEP_POLL_SECONDS, live.FIRST_STEP_POLL_SECONDS
    assert 0 <= waited - live.FIRST_STEP_SECONDS <= poll + 1e-9  # (a float clock: the deadline passed within a poll)
    clock.slept = 0
    paused = SimpleNamespace(playing=False, step_count=0)
    live.first_steps((paused, SimpleNamespace(playing=True, step_count=7)))
    assert clock.slept == 0


def test_only_the_first_view_after_a_start_waits_for_the_first_step(clock, tabs, monkeypatch):
    """The view drawn as the runs start waits for their first step; later refreshes do
    not, even while a slow first step is still to come; runs started anew (Reset, new
    settings) are waited for again. Until the numbers have shown a step, they draw in
    urgent turns (ahead of a class's other views); the charts always in ordinary ones."""
    tabs(1)
    declared = fragments_declared(monkeypatch)
    monkeypatch.setattr(live.st, "session_state", {})
    trainer = LiveTrainer(ExperimentConfig(depth=2, width=4, steps=3))
    at_start = trainer.snapshot()
    trainer.step(1)
    moved = trainer.snapshot()
    shown = [at_start]
    run = SimpleNamespace(key="run:test", playing=True, live=Starting(10**9))
    live.live_view((run,), lambda charts: shown[0], lambda snap: None, lambda snap: None)
    ((tick, _),) = declared
    turns = []  # each view's turns, urgent or not: its numbers', then its charts'
    real_turn = live.drawing_turns.turn
    monkeypatch.setattr(live.drawing_turns, "turn", lambda urgent=False: turns.append(urgent) or real_turn(urgent))
    waits = []
    # the first step late (the view shows step 0), then two refreshes showing it, then a new run
    for live_now, snap in ((run.live, at_start), (run.live, moved), (run.live, moved), (Starting(10**9), at_start)):
        run.live, shown[0], clock.slept = live_now, snap, 0
        tick()
        waits.append(clock.slept > 0)
    assert waits == [True, False, False, True]
    assert turns == [True, False, True, False, False, False, True, False]


def test_on_a_busy_server_the_numbers_alone_always_take_urgent_turns(clock, tabs, monkeypatch):
    """A class of forty: the numbers refresh in a fragment of their own, in an urgent turn
    at every tick (a short one, ahead of the class's charts: in ordinary turns, the worst
    gap between updates of nine interleaved classes was 2.06-2.59 s, median 2.25 s,
    against 1.57-3.05 s, median 2.06 s), and the charts in ordinary turns at their own
    pace."""
    tabs(40, chart_cost_seconds=0.1)
    declared = fragments_declared(monkeypatch)
    monkeypatch.setattr(live.st, "session_state", {})
    trainer = LiveTrainer(ExperimentConfig(depth=2, width=4, steps=9))
    trainer.step(1)
    run = SimpleNamespace(key="run:test", playing=True, live=trainer)
    live.live_view((run,), lambda charts: trainer.snapshot(), lambda snap: None, lambda snap: None)
    (numbers, every), (charts, charts_every) = declared
    assert every < charts_every
    turns = []
    real_turn = live.drawing_turns.turn
    monkeypatch.setattr(live.drawing_turns, "turn", lambda urgent=False: turns.append(urgent) or real_turn(urgent))
    for tick in (numbers, numbers, charts, numbers):
        trainer.step(1)
        tick()
    assert turns == [True, True, False, True]


def test_with_views_queued_a_view_refreshes_its_numbers_and_keeps_its_charts_a_while(clock, tabs, monkeypatch):
    """A class that pressed Train together: the tabs' charts queue for the drawing turns.
    A view that refreshes its numbers and charts together and finds views queued draws
    its numbers from the newest moment and sends its charts again as they were (no
    snapshot of the whole frames, which a worker pickles, nothing to build, no turn
    taken), instead of holding its next refresh behind the class's charts (a class's
    gaps of 2.1-3.0 s after the first update); for KEPT_WHILE_QUEUED_SECONDS at most,
    and never a run replaced meanwhile (new settings while it plays). With nobody
    queued, the charts move with the numbers as before."""
    tabs(1)
    declared = fragments_declared(monkeypatch)
    monkeypatch.setattr(live.st, "session_state", {})
    queued, turns_taken = [False], []
    real_turn = live.drawing_turns.turn
    monkeypatch.setattr(live.drawing_turns, "queued", lambda: queued[0])
    monkeypatch.setattr(live.drawing_turns, "turn", lambda urgent=False: turns_taken.append(1) or real_turn(urgent))
    trainer = LiveTrainer(ExperimentConfig(depth=2, width=4, steps=9))
    run = SimpleNamespace(key="run:test", playing=True, live=trainer)
    trainer.step(1)
    taken, numbers, charts_drawn = [], [], []

    def snapshot(whole: bool):
        taken.append(whole)
        return run.live.snapshot()

    def headline(snap) -> None:
        numbers.append(snap.step_count)

    live.live_view((run,), snapshot, headline, lambda snap: charts_drawn.append(snap.step_count))
    ((tick, _),) = declared

    def refresh(steps: int, seconds: float) -> tuple[bool, int, int, int]:
        """A refresh `seconds` after the last, the run `steps` further: what it took,
        showed and drew, and the turns it took."""
        run.live.step(steps)
        clock.now += seconds
        turns_taken.clear()
        tick()
        return taken[-1], numbers[-1], charts_drawn[-1], len(turns_taken)

    assert refresh(0, 0) == (True, 1, 1, 2)  # nobody queued: the numbers' turn, then the charts'
    queued[0] = True
    assert refresh(2, 1.0) == (False, 3, 1, 1)  # the numbers' turn only; the charts as they were
    assert refresh(1, 0.9) == (False, 4, 1, 1)
    assert refresh(1, 0.2) == (True, 5, 5, 2)  # kept 2.1 s: past KEPT_WHILE_QUEUED_SECONDS
    run.live = LiveTrainer(ExperimentConfig(depth=2, width=4, steps=9, seed=1))  # new settings, playing
    assert refresh(1, 0.1) == (True, 1, 1, 2)  # never the last run's charts
    queued[0] = False
    assert refresh(1, 1.0) == (True, 2, 2, 2)  # (past the charts' pace)


def test_views_queued_for_the_drawing_turns_are_counted():
    turns = live.DrawingTurns(1)
    assert not turns.queued()
    held, release = threading.Event(), threading.Event()

    def hold(urgent: bool) -> None:
        with turns.turn(urgent):
            held.set()
            release.wait(10)

    holder = threading.Thread(target=hold, args=(False,))
    holder.start()
    held.wait(10)
    assert not turns.queued()  # a turn held, nobody waiting
    waiting = [threading.Thread(target=hold, args=(urgent,)) for urgent in (False, True)]
    for thread in waiting:
        thread.start()
    wait_until(lambda: turns._ordinary_waiting == 1 and turns._urgent_waiting == 1)
    assert turns.queued()
    release.set()
    for thread in (holder, *waiting):
        thread.join(10)
    assert not turns.queued()


def test_at_most_drawers_views_draw_at_once_and_one_waiting_for_its_first_step_takes_no_turn(monkeypatch):
    """A class's live views take turns to draw (forty script threads drawing at once
    starve the one that sends their messages); a view waiting for its runs' first step
    (`first`) waits outside the turns, so the others draw meanwhile."""
    bodies = []
    monkeypatch.setattr(live.st, "fragment", lambda body, run_every: bodies.append(body) or (lambda: None))
    lock, drawing, most = threading.Lock(), [0], [0]

    def tick() -> None:
        with lock:
            drawing[0] += 1
            most[0] = max(most[0], drawing[0])
        time.sleep(0.02)
        with lock:
            drawing[0] -= 1

    first_step = threading.Event()
    at_rest = (SimpleNamespace(playing=False),)  # (no rerun after a tick)
    live._fragment(at_rest, lambda: None, lambda: 1.0, first=first_step.wait)
    for _ in range(4 * live.DRAWERS):
        live._fragment(at_rest, tick, lambda: 1.0)
    threads = [threading.Thread(target=body) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads[1:]:
        thread.join(10)
    assert not any(thread.is_alive() for thread in threads[1:]) and threads[0].is_alive()
    assert most[0] == live.DRAWERS
    first_step.set()
    threads[0].join(10)


def turn_order(turns: live.DrawingTurns, waiting: list[tuple[bool, str]]) -> list[str]:
    """The order in which `waiting` views (urgent or not, by name) take their turns, each
    coming while the first holds the only turn."""
    held, order = threading.Event(), []

    def take(urgent: bool, name: str) -> None:
        with turns.turn(urgent):
            order.append(name)
            held.wait(10)  # (the first holds the only turn until released; the rest pass)

    threads = []
    for urgent, name in waiting:
        threads.append(threading.Thread(target=take, args=(urgent, name)))
        threads[-1].start()
        time.sleep(0.05)  # (waiting for the turn by now)
    held.set()
    for thread in threads:
        thread.join(10)
    return order


def test_an_urgent_turn_goes_before_the_others_waiting():
    """A class pressing Train at once: each tab's first step count (numbers not yet shown
    moving) goes before the other views waiting for a turn (else the last tab saw its
    run move seconds late); a turn left by an exception is free again."""
    turns = live.DrawingTurns(1)
    views = [(False, f"view {i}") for i in range(6)]
    for _ in range(2):  # (a turn order by chance would pass once in seven, not twice)
        order = turn_order(turns, [(False, "holder"), *views, (True, "first")])
        assert order[:2] == ["holder", "first"] and sorted(order[2:]) == [name for _, name in views]
    with pytest.raises(RuntimeError), turns.turn():
        raise RuntimeError("a view's drawing failed")
    assert turn_order(turns, [(False, "after")]) == ["after"]  # the failed view's turn was given back


def wait_until(condition: Callable[[], bool], seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_tabs_that_draw_the_same_chart_together_build_it_once():
    """`SharedCharts`: a class that trains one scenario builds each of its charts once,
    even when the tabs ask for it at the same moment; a key's chart is kept until the
    bytes kept pass the bound, the least recently used let go first."""
    shared = charts.SharedCharts(max_bytes=100)
    builds, started, go_on = [], threading.Event(), threading.Event()

    def slow_build() -> str:
        builds.append(threading.current_thread().name)
        started.set()
        go_on.wait(5)
        return "x" * 40

    got = {}
    first = threading.Thread(target=lambda: got.setdefault("first", shared.spec(("a",), slow_build)))
    first.start()
    started.wait(5)
    second = threading.Thread(target=lambda: got.setdefault("second", shared.spec(("a",), slow_build)))
    second.start()
    wait_until(lambda: shared.waiting == 1)  # the second waits for the first's build
    go_on.set()
    first.join(5), second.join(5)
    assert len(builds) == 1 and got["first"] is got["second"] and shared.waiting == 0
    shared.spec(("b",), lambda: "y" * 40)
    shared.spec(("a",), lambda: pytest.fail("kept"))  # used last: "b" goes first
    shared.spec(("c",), lambda: "z" * 40)  # 120 bytes: over the bound
    assert len(shared) == 2
    assert shared.spec(("b",), lambda: "rebuilt") == "rebuilt"


def test_a_chart_whose_build_failed_is_built_again_and_a_tab_that_waited_for_it_builds_its_own():
    shared = charts.SharedCharts(max_bytes=1000)
    started, go_on = threading.Event(), threading.Event()

    def failing() -> str:
        started.set()
        go_on.wait(5)
        raise RuntimeError("stopped mid-build")

    errors, got = [], {}

    def first() -> None:
        try:
            shared.spec(("a",), failing)
        except RuntimeError as error:
            errors.append(error)

    builder = threading.Thread(target=first)
    builder.start()
    started.wait(5)
    waiter = threading.Thread(target=lambda: got.setdefault("waiter", shared.spec(("a",), lambda: "its own")))
    waiter.start()
    wait_until(lambda: shared.waiting == 1)
    go_on.set()
    builder.join(5), waiter.join(5)
    assert len(errors) == 1 and got["waiter"] == "its own"
    assert shared.spec(("a",), lambda: "again") == "again"  # nothing kept of the failure
