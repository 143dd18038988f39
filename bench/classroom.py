"""A lecture hall on one server, without browsers: N protocol clients train at once.

Like bench/load.py, but each student is a `StreamlitClient` (tests/st_client.py):
it speaks Streamlit's websocket protocol as the browser does (the same rerun
messages, widget values, fragment timers and message cache) and draws nothing, so
forty of them cost the machine little and the server is what is measured.

For each N: a fresh server (unless --url), one warm-up session (imports and shared
caches are not counted per session), N sessions opened on the playground, each with
a different scenario (cycling through the lecture's); once their first runs have
finished, the idle memory per session; then Train is pressed in all of them at the
same moment, and each session records the time to its first live update (the step
count leaving 0), the time to finished, and the intervals between updates. The
server's RSS and CPU are sampled every 0.5 s (bench.load's Sampler) while they train.
A session counts as an error if it received an exception element, lost its
connection, or found no Train button.

    python -m bench.classroom [--sessions 10 20 40 80] [--timeout 300] [--json PATH] [--url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import math
import re
import statistics
import time
import urllib.parse
from typing import Any

import psutil

from bench.load import Sampler, server_pid
from tests.browser import streamlit_server
from tests.st_client import StreamlitClient
from vangrad_core.lessons import SCENARIOS

# ---- what the page shows; change these if its text changes --------------------------
SCENARIO_NAMES = [s.name for s in SCENARIOS]  # the scenarios the class opens, in turn
TRAIN_LABELS = ("Train", "Train both")  # playground; compare page
STEP_METRIC_LABEL = "Step"
STEP_METRIC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")  # the metric's value, "N / M"
STATUS_LINE = re.compile(r"\*\*(\d+) / (\d+) steps\*\*, (.+)")  # "**N / M steps**, training…"
PAIR_LINE = re.compile(r"^\*\*[^*]+\*\*: (\d+) / (\d+) steps$")  # compare page: "**A: …**: N / M steps"
DONE_STATUSES = ("finished", "stopped")  # "finished", "stopped: diverged at step K"

KEYS = (
    "sessions",
    "finished",
    "errors",
    "first_update_median_s",
    "first_update_worst_s",
    "median_finish_s",
    "worst_finish_s",
    "refresh_interval_median_s",
    "peak_rss_mb",
    "mean_cpu_pct",
    "idle_mb_per_session",
)


@dataclasses.dataclass(frozen=True)
class Progress:
    step: int
    steps: int
    status: str | None  # None where the page shows no status (the metric, the compare page)

    @property
    def done(self) -> bool:
        return self.step >= self.steps or (self.status is not None and self.status.startswith(DONE_STATUSES))


def parse_progress(kind: str, element: Any) -> Progress | None:
    """The run's progress if this element shows it."""
    if kind == "metric" and element.label == STEP_METRIC_LABEL:
        match = STEP_METRIC.match(element.body)
        return Progress(int(match[1]), int(match[2]), None) if match else None
    if kind == "markdown":
        if match := STATUS_LINE.search(element.body):
            return Progress(int(match[1]), int(match[2]), match[3].strip())
        if match := PAIR_LINE.match(element.body.strip()):
            return Progress(int(match[1]), int(match[2]), None)
    return None


def scenario_query(scenario: str) -> str:
    return "scenario=" + urllib.parse.quote(scenario)


class ClassroomClient(StreamlitClient):
    """A student: opens a scenario, presses Train, and times what comes back."""

    def __init__(self, url: str, scenario: str | None = None, page: str = ""):
        super().__init__(url, page, scenario_query(scenario) if scenario else "")
        self.scenario = scenario
        self.progress: dict[tuple[int, ...], Progress] = {}  # by where it is drawn
        self.pressed_at: float | None = None
        self.press_error: str | None = None
        self.first_update_s: float | None = None
        self.finished_s: float | None = None
        self.updates: list[float] = []  # seconds after Train at which the step count changed
        self.finished = asyncio.Event()
        self._last_step: int | None = None

    @property
    def step(self) -> Progress | None:
        """The run's progress as the page shows it now (on the compare page, the slower run)."""
        shown = list(self.progress.values())
        with_status = [p for p in shown if p.status is not None]
        return min(with_status or shown, key=lambda p: (p.done, p.step), default=None)

    async def press_train(self) -> None:
        self.pressed_at = time.monotonic()
        self._last_step = self.step.step if self.step else None
        try:
            await self.press(TRAIN_LABELS)
        except LookupError as error:
            self.press_error = str(error)
            self.finished.set()

    def on_element(self, path: tuple[int, ...], element: Any, kind: str) -> None:
        progress = parse_progress(kind, element) if element is not None else None
        if progress is None:
            self.progress.pop(path, None)  # whatever was drawn there is gone
            return
        self.progress[path] = progress
        if self.pressed_at is None or self.finished_s is not None:
            return
        now = time.monotonic() - self.pressed_at
        current = self.step
        assert current is not None
        if current.step != self._last_step:
            self._last_step = current.step
            self.updates.append(now)
            if current.step >= 1 and self.first_update_s is None:
                self.first_update_s = now
        if current.done:
            self.finished_s = now
            self.finished.set()

    def _lost(self) -> None:
        super()._lost()
        if self.disconnected:
            self.finished.set()  # nothing more will come

    @property
    def failed(self) -> bool:
        return bool(self.exceptions) or self.disconnected or self.press_error is not None or bool(self.client_error)

    @property
    def median_interval(self) -> float | None:
        gaps = [b - a for a, b in zip(self.updates, self.updates[1:], strict=False)]
        return statistics.median(gaps) if gaps else None


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


def _rss_mb(process: psutil.Process | None) -> float:
    return process.memory_info().rss / 2**20 if process else math.nan


async def classroom(n: int, url: str, timeout: float, pid: int | None) -> dict[str, Any]:
    """One row: N sessions on the server at `url` (its process `pid`, if local)."""
    process = psutil.Process(pid) if pid else None
    warm = ClassroomClient(url)
    await warm.connect()
    await warm.wait_first_run(180)
    await asyncio.sleep(1)
    base_rss = _rss_mb(process)
    clients = [ClassroomClient(url, SCENARIO_NAMES[i % len(SCENARIO_NAMES)]) for i in range(n)]
    opened = await asyncio.gather(*(c.connect() for c in clients), return_exceptions=True)
    idle = await asyncio.gather(*(c.wait_first_run(max(180, 3 * n)) for c in clients), return_exceptions=True)
    not_ready = sum(isinstance(r, BaseException) for r in (*opened, *idle))
    await asyncio.sleep(2)
    idle_rss = _rss_mb(process)

    sampler = Sampler(pid) if pid else None
    if sampler:
        sampler.start()
    cpu_start, wall_start = time.process_time(), time.monotonic()
    # press Train everywhere at (nearly) the same moment
    await asyncio.gather(*(c.press_train() for c in clients))
    try:
        await asyncio.wait_for(asyncio.gather(*(c.finished.wait() for c in clients)), timeout)
    except TimeoutError:
        pass
    own_cpu = (time.process_time() - cpu_start) / (time.monotonic() - wall_start) * 100
    if sampler:
        sampler.stop.set()
        sampler.join()
    await asyncio.gather(*(c.close() for c in (*clients, warm)), return_exceptions=True)

    firsts = [c.first_update_s for c in clients if c.first_update_s is not None]
    finishes = [c.finished_s for c in clients if c.finished_s is not None]
    intervals = [c.median_interval for c in clients if c.median_interval is not None]
    row = {
        "sessions": n,
        "finished": len(finishes),
        "errors": sum(c.failed for c in clients),
        "first_update_median_s": _median(firsts),
        "first_update_worst_s": max(firsts, default=math.nan),
        "median_finish_s": _median(finishes),
        "worst_finish_s": max(finishes, default=math.nan),
        "refresh_interval_median_s": _median(intervals),
        "peak_rss_mb": max(sampler.rss or [idle_rss]) if sampler else math.nan,
        "mean_cpu_pct": statistics.mean(sampler.cpu) if sampler and sampler.cpu else math.nan,
        "idle_mb_per_session": (idle_rss - base_rss) / n,
    }
    notes = {
        "exceptions": sum(bool(c.exceptions) for c in clients),
        "disconnects": sum(c.disconnected for c in clients),
        "no Train button": sum(c.press_error is not None for c in clients),
        "first run not finished": not_ready,
        "client errors": sum(c.client_error is not None for c in clients),
    }
    row["_notes"] = ", ".join(f"{count} {what}" for what, count in notes.items() if count)
    messages = [m for c in clients for m in (c.client_error, c.press_error, *c.exceptions) if m]
    if messages:
        row["_notes"] += f"; the first: {messages[0][:200]}"
    row["_client_cpu_pct"] = own_cpu
    return row


def local_pid(url: str) -> int | None:
    """The server's process if it listens on this machine (for RSS and CPU)."""
    parts = urllib.parse.urlsplit(url)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1") or parts.port is None:
        return None
    try:
        return server_pid(parts.port)
    except (RuntimeError, psutil.AccessDenied):
        return None


def one_load(n: int, timeout: float, url: str | None = None) -> dict[str, Any]:
    if url:
        return asyncio.run(classroom(n, url, timeout, local_pid(url)))
    with streamlit_server() as fresh:
        return asyncio.run(classroom(n, fresh, timeout, local_pid(fresh)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[10, 20, 40, 80])
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for every run to finish")
    parser.add_argument("--json", metavar="PATH", help="also write the rows to this file")
    parser.add_argument("--url", help="a running server to use (default: a fresh one for each N)")
    args = parser.parse_args()
    print(
        f"{time.strftime('%Y-%m-%d')}, {psutil.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GB; protocol clients (no browser) on the same machine"
    )
    print(
        f"{'sessions':>8} {'finished':>9} {'errors':>7} {'1st update med':>15} {'worst':>7} "
        f"{'finish med':>11} {'worst':>7} {'refresh med':>12} {'peak RSS MB':>12} {'CPU %':>6} {'idle MB/session':>16}"
    )
    rows = []
    for n in args.sessions:
        r = one_load(n, args.timeout, args.url)
        print(
            f"{r['sessions']:8d} {r['finished']:9d} {r['errors']:7d} {r['first_update_median_s']:14.2f}s "
            f"{r['first_update_worst_s']:6.2f}s {r['median_finish_s']:10.2f}s {r['worst_finish_s']:6.2f}s "
            f"{r['refresh_interval_median_s']:11.2f}s {r['peak_rss_mb']:12.0f} {r['mean_cpu_pct']:6.0f} "
            f"{r['idle_mb_per_session']:16.1f}"
        )
        print(
            f"{'':8} (the clients used {r['_client_cpu_pct']:.0f}% of a core while training"
            + (f"; {r['_notes']})" if r["_notes"] else ")"),
            flush=True,
        )
        rows.append({key: None if isinstance(r[key], float) and math.isnan(r[key]) else r[key] for key in KEYS})
    if args.json:
        with open(args.json, "w") as out:
            json.dump(rows, out, indent=2)


if __name__ == "__main__":
    main()
