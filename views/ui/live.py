"""A run trained live on a page: its controls and the fragment that redraws it.

`LiveRun` is the page's `LiveTrainer` (vangrad_core.live), kept in the session.
`run_controls` draws Train / Pause, Step and Reset; `live_fragment` draws a snapshot
of the run in a fragment that, while the run plays, trains a little and redraws a few
times a second. Compare's two runs use `pair_controls` and `pair_fragment`.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterator

import streamlit as st
import torch

from vangrad_core import ExperimentConfig
from vangrad_core.live import LiveTrainer, Snapshot, advance_together

# While a run plays, each tick of the live view trains for TRAIN_SECONDS_PER_TICK
# (with one of the server's training slots) and redraws. Measured with
# bench/browser.py: Streamlit starts a fragment's timer when its last run is done, so
# a refresh takes the tick's training + its drawing + TICK_SECONDS + the round trip.
TICK_SECONDS = 0.04
TRAIN_SECONDS_PER_TICK = 0.07
QUEUE_SECONDS = 1.0  # a run waits this long for a free training slot before it says it waits
DETAIL_SECONDS = 5.0  # building, sending and drawing seven more figures costs more than training


@st.cache_resource
def training_slots() -> threading.BoundedSemaphore:
    """How many runs may train at the same moment, for the whole server: one per
    core. Others wait their turn (and say so) instead of everyone slowing down."""
    return threading.BoundedSemaphore(max(1, os.cpu_count() or 1))


@st.cache_resource
def limit_torch_threads() -> None:
    """One torch thread per training call: sessions run side by side, not one
    session on every core (set once per process)."""
    torch.set_num_threads(1)


class LiveRun:
    """The page's LiveTrainer, kept in the session under `key`."""

    def __init__(self, key: str):
        self.key = key

    @property
    def live(self) -> LiveTrainer:
        return st.session_state[self.key]

    @property
    def playing(self) -> bool:
        return self.live.playing

    def ensure(self, config: ExperimentConfig) -> bool:
        """A LiveTrainer for `config`; a new, paused one if the settings changed.
        Returns whether an existing run was replaced."""
        old = st.session_state.get(self.key)
        if old is not None and old.config == config:
            return False
        if old is not None:
            old.pause()
        st.session_state[self.key] = LiveTrainer(config, slots=training_slots())
        return old is not None

    def snapshot_at_most_every(self, seconds: float, decision: bool = False) -> Snapshot:
        """A snapshot of the run; while it plays, the one taken less than `seconds` ago
        if there is one. (A view that does not train redraws nothing then: its charts
        are cached by snapshot. So the full rerun that Train starts leaves the slow views
        be, and the live view's first updates come sooner.)"""
        key = f"{self.key}:snapshot:{decision}"
        last = st.session_state.get(key)
        if not self.playing or last is None or time.monotonic() - last[0] >= seconds:
            last = st.session_state[key] = (time.monotonic(), self.live.snapshot(decision=decision))
        return last[1]

    def play(self, on: bool) -> None:
        if on:
            self.live.play()
        else:
            self.live.pause()

    def advance(self) -> int:
        return self.live.advance(TRAIN_SECONDS_PER_TICK, queue_seconds=QUEUE_SECONDS)

    def reset(self) -> None:
        self.live.pause()
        st.session_state[self.key] = LiveTrainer(self.live.config, slots=training_slots())


def run_controls(run: LiveRun, caption: str | None = None) -> None:
    """Train / Pause, Step, Reset (and a caption beside them)."""
    live = run.live
    cols = st.columns([1, 1, 1, 3])
    if run.playing:
        cols[0].button(
            "Pause", icon=":material/pause:", on_click=run.play, args=(False,), type="primary", width="stretch"
        )
    else:
        cols[0].button(
            "Train" if live.step_count == 0 else "Resume",
            icon=":material/play_arrow:",
            on_click=run.play,
            args=(True,),
            type="primary",
            width="stretch",
            disabled=live.done,
        )
    cols[1].button(
        "Step",
        icon=":material/skip_next:",
        on_click=live.step,
        disabled=live.done or run.playing,
        help="One optimizer step",
        width="stretch",
    )
    cols[2].button(
        "Reset",
        icon=":material/replay:",
        on_click=run.reset,
        help="Start this run again from its initial weights",
        width="stretch",
    )
    if caption:
        cols[3].caption(caption)


def run_status(run: LiveRun, snap: Snapshot, line: bool = True) -> str:
    """What the run is doing, in words; drawn as a line with the step count (inside the
    live view) if `line`, else only returned (presenting, the Step metric carries it)."""
    status = (
        "waiting for a free training slot (many people are training right now)…"
        if run.playing and run.live.waiting
        else "training…"
        if run.playing
        else "stopped by an error"
        if snap.failure is not None
        else f"stopped: diverged at step {snap.diverged_at}"
        if snap.diverged_at is not None
        else "finished"
        if snap.done
        else "paused"
        if snap.step_count
        else "ready: press Train"
    )
    if line:
        st.markdown(f"**{snap.step_count} / {snap.config.steps} steps**, {status}")
    if snap.failure is not None:
        what = snap.failure[:300].replace("`", "'")  # in a code span: nothing in it is Markdown
        st.error(
            f"This run stopped at step {snap.step_count} with an error: `{what}`. Change a setting or press Reset.",
            icon=":material/error:",
        )
    return status


@contextlib.contextmanager
def stopped_on_error(runs: tuple[LiveRun, ...]) -> Iterator[None]:
    """A live view that raises pauses its runs and reruns the page: the error shows
    once, with the fragment's timer off, instead of on every tick."""
    try:
        yield
    except Exception:
        if any(run.playing for run in runs):
            for run in runs:
                run.play(False)
            st.rerun(scope="app")
        raise


def live_fragment(
    run: LiveRun,
    draw: Callable[[Snapshot], None],
    every: float = TICK_SECONDS,
    trains: bool = True,
    decision: bool = False,
) -> None:
    """Draw a snapshot of the run in a fragment that, while the run plays, trains a
    little (if `trains`) and redraws every `every` seconds, and is still when
    paused. When the run stops by itself, a full rerun turns the timers off."""
    started_playing = run.playing

    def body() -> None:
        with stopped_on_error((run,)):
            tick()

    def tick() -> None:
        if trains:
            run.advance()
            draw(run.live.snapshot(decision=decision))
        else:
            draw(run.snapshot_at_most_every(every, decision))
        if started_playing and not run.playing:
            st.rerun(scope="app")

    st.fragment(body, run_every=every if started_playing else None)()


def pair_controls(runs: tuple[LiveRun, LiveRun]) -> None:
    """Train / Pause, Step, Reset for two runs at once."""
    playing = any(run.playing for run in runs)
    done = all(run.live.done for run in runs)

    def play(on: bool) -> None:
        for run in runs:
            run.play(on)

    def step() -> None:
        for run in runs:
            run.live.step(1)

    def reset() -> None:
        for run in runs:
            run.reset()

    cols = st.columns([1, 1, 1, 3])
    if playing:
        cols[0].button("Pause", icon=":material/pause:", on_click=play, args=(False,), type="primary", width="stretch")
    else:
        cols[0].button(
            "Train both",
            icon=":material/play_arrow:",
            on_click=play,
            args=(True,),
            type="primary",
            width="stretch",
            disabled=done,
        )
    cols[1].button("Step", icon=":material/skip_next:", on_click=step, disabled=playing or done, width="stretch")
    cols[2].button("Reset", icon=":material/replay:", on_click=reset, width="stretch")
    cols[3].caption("Both runs take the same steps on the same batches. Changing a setting restarts both.")


def pair_fragment(
    runs: tuple[LiveRun, LiveRun],
    draw: Callable[[tuple[Snapshot, Snapshot]], None],
    every: float = TICK_SECONDS,
    trains: bool = True,
) -> None:
    """Like `live_fragment`, for two runs kept in step: each tick trains them a step
    each in turn, with one training slot and one tick's time budget (if `trains`; a
    fragment that only draws redraws every `every` seconds)."""
    started_playing = any(run.playing for run in runs)

    def body() -> None:
        with stopped_on_error(runs):
            tick()

    def tick() -> None:
        if trains:
            advance_together([run.live for run in runs], TRAIN_SECONDS_PER_TICK, queue_seconds=QUEUE_SECONDS)
            draw((runs[0].live.snapshot(), runs[1].live.snapshot()))
        else:
            draw((runs[0].snapshot_at_most_every(every), runs[1].snapshot_at_most_every(every)))
        if started_playing and not any(run.playing for run in runs):
            st.rerun(scope="app")

    st.fragment(body, run_every=every if started_playing else None)()
