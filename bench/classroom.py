"""A lecture hall on one server, without browsers: N protocol clients train at once.

Like bench/load.py, but each student is a `StreamlitClient` (tests/st_client.py):
it speaks Streamlit's websocket protocol as the browser does (the same rerun
messages, widget values, fragment timers and message cache) and draws nothing, so
forty of them cost the machine little and the server is what is measured.

For each N: a fresh server (unless --url), one warm-up session in each of its
processes (imports and shared caches are not counted per session), N sessions opened
on the playground, each with a different scenario (cycling through the lecture's;
--scenario NAME: all on that one, as a class told "now everyone try it");
once their first runs have finished and a sweep of the server has handed the heap
freed back (views/ui/live.py: every SWEEP_SECONDS), the idle memory per session; then Train is
pressed in all of them at the same moment, and each session records the time to its
first live update (the step count leaving 0; "updated" counts the sessions that had
one), the time to finished, and the intervals between updates: their median, and the
longest a session saw its run stand still while it trained ("longest gap": the
median and the worst of the sessions'). Steps/s is the class's training throughput
(all sessions' steps until the last one finished, or the timeout, over that time).
The server's RSS and CPU are sampled every 0.5 s (bench.load's Sampler) while they
train. A session counts as an error if it received an exception element, lost its
connection, or found no Train button. Beside each row, the floor under its finish
times: the same N runs trained by the engine alone, one after another on one core
(each scenario timed once, before any server starts, in a process of its own).

    python -m bench.classroom [--sessions 10 20 40 80] [--timeout 300] [--json PATH] [--url URL] [--scenario NAME]
    python -m bench.classroom --sessions 10 20 40 --serve 1 2
    python -m bench.classroom --url http://127.0.0.1:8500 --replicas .run/serve-8500/replicas

Replicas behind nginx (scripts/serve.sh): --serve R1 R2 ... starts a fresh serve.sh
with R1 replicas, then R2, ..., for each N in turn (side by side, so that a busy
machine's noise falls on both); --url with --replicas (the file serve.sh writes,
"port pid" a line) uses a running one. Each replica is warmed up at its own port,
RSS and CPU are summed over the replicas, and each row says how many sessions each
replica got (nginx keeps a session on one replica by a cookie naming it, which the
clients send back).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import math
import re
import statistics
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Sequence
from typing import Any

import psutil

from bench.load import Sampler, server_pid, server_processes
from tests.browser import replicas_server, serve_run, streamlit_server
from tests.st_client import StreamlitClient
from vangrad_core.lessons import SCENARIOS
from views.ui.live import SWEEP_SECONDS

# ---- what the page shows; change these if its text changes --------------------------
SCENARIO_NAMES = [s.name for s in SCENARIOS]  # the scenarios the class opens, in turn
TRAIN_LABELS = ("Train", "Train both")  # playground; compare page
STEP_METRIC_LABEL = "Step"
STEP_METRIC = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")  # the metric's value, "N / M"
STATUS_LINE = re.compile(r"\*\*(\d+) / (\d+) steps\*\*, (.+)")  # "**N / M steps**, training…"
PAIR_LINE = re.compile(r"^\*\*[^*]+\*\*: (\d+) / (\d+) steps$")  # compare page: "**A: …**: N / M steps"
DONE_STATUSES = ("finished", "stopped")  # "finished", "stopped: diverged at step K"

KEYS = (
    "replicas",
    "sessions",
    "finished",
    "errors",
    "updated",
    "first_update_median_s",
    "first_update_worst_s",
    "median_finish_s",
    "worst_finish_s",
    "refresh_interval_median_s",
    "longest_gap_median_s",
    "longest_gap_worst_s",
    "class_steps_per_s",
    "peak_rss_mb",
    "mean_cpu_pct",
    "machine_cpu_pct",
    "idle_mb_per_session",
    "sessions_per_replica",
    "one_core_training_s",
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
    def gaps(self) -> list[float]:
        """Seconds between one update and the next, from the first to the last."""
        return [b - a for a, b in zip(self.updates, self.updates[1:], strict=False)]

    @property
    def median_interval(self) -> float | None:
        return statistics.median(self.gaps) if self.gaps else None

    @property
    def longest_gap(self) -> float | None:
        """The longest this student saw the run stand still while it trained."""
        return max(self.gaps, default=None)


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


@dataclasses.dataclass(frozen=True)
class Replica:
    """One server process on this machine: where it listens, its pid."""

    port: int
    pid: int


def read_replicas(path: str) -> list[Replica]:
    """The replicas scripts/serve.sh started ("port pid" a line)."""
    with open(path) as lines:
        return [Replica(int(port), int(pid)) for port, pid in (line.split() for line in lines if line.strip())]


def rss_mb(replicas: list[Replica]) -> float:
    """The server's memory now (MB): its replicas' and their training workers' RSS."""
    if not replicas:
        return math.nan
    return sum(p.memory_info().rss for p in server_processes(*(r.pid for r in replicas))) / 2**20


def _sessions_on(replica: Replica) -> int:
    """Websockets (or any connections) open to this replica now."""
    connections = psutil.Process(replica.pid).net_connections("tcp")
    return sum(c.status == psutil.CONN_ESTABLISHED and c.laddr.port == replica.port for c in connections)


async def classroom(
    n: int, url: str, timeout: float, replicas: list[Replica], scenarios: Sequence[str] = SCENARIO_NAMES
) -> dict[str, Any]:
    """One row: N sessions on the server at `url` (made of these local processes, if known)."""
    # warm each process up at its own address: through a front, one session reaches one replica
    warm = [ClassroomClient(f"http://127.0.0.1:{r.port}") for r in replicas] or [ClassroomClient(url)]
    await asyncio.gather(*(c.connect() for c in warm))
    await asyncio.gather(*(c.wait_first_run(180) for c in warm))
    await asyncio.sleep(SWEEP_SECONDS + 1)  # as the idle memory below is read: after a sweep
    base_rss = rss_mb(replicas)
    clients = [ClassroomClient(url, scenarios[i % len(scenarios)]) for i in range(n)]
    opened = await asyncio.gather(*(c.connect() for c in clients), return_exceptions=True)
    idle = await asyncio.gather(*(c.wait_first_run(max(180, 3 * n)) for c in clients), return_exceptions=True)
    not_ready = sum(isinstance(r, BaseException) for r in (*opened, *idle))
    await asyncio.sleep(SWEEP_SECONDS + 1)  # at rest: a sweep has handed back what drawing them freed
    idle_rss = rss_mb(replicas)
    split = [_sessions_on(r) - 1 for r in replicas]  # less each one's warm-up session

    sampler = Sampler(*(r.pid for r in replicas)) if replicas else None
    if sampler:
        sampler.start()
    cpu_start, wall_start = time.process_time(), time.monotonic()
    psutil.cpu_percent()  # the whole machine's, from here: other people's work shows in it
    # press Train everywhere at (nearly) the same moment
    await asyncio.gather(*(c.press_train() for c in clients))
    try:
        await asyncio.wait_for(asyncio.gather(*(c.finished.wait() for c in clients)), timeout)
    except TimeoutError:
        pass
    trained_s = time.monotonic() - wall_start
    own_cpu = (time.process_time() - cpu_start) / trained_s * 100
    steps = sum(c.step.step for c in clients if c.step)  # each run's step count as its page shows it
    machine_cpu = psutil.cpu_percent() * (psutil.cpu_count() or 1)  # 100% = one core
    if sampler:
        sampler.stop.set()
        sampler.join()
    await asyncio.gather(*(c.close() for c in (*clients, *warm)), return_exceptions=True)

    firsts = [c.first_update_s for c in clients if c.first_update_s is not None]
    finishes = [c.finished_s for c in clients if c.finished_s is not None]
    intervals = [c.median_interval for c in clients if c.median_interval is not None]
    longest_gaps = [c.longest_gap for c in clients if c.longest_gap is not None]
    row = {
        "replicas": len(replicas) or None,
        "sessions": n,
        "finished": len(finishes),
        "errors": sum(c.failed for c in clients),
        "updated": len(firsts),  # sessions whose step count moved at all
        "first_update_median_s": _median(firsts),
        "first_update_worst_s": max(firsts, default=math.nan),
        "median_finish_s": _median(finishes),
        "worst_finish_s": max(finishes, default=math.nan),
        "refresh_interval_median_s": _median(intervals),
        "longest_gap_median_s": _median(longest_gaps),
        "longest_gap_worst_s": max(longest_gaps, default=math.nan),
        "class_steps_per_s": steps / trained_s,
        "peak_rss_mb": max(sampler.rss or [idle_rss]) if sampler else math.nan,
        "mean_cpu_pct": statistics.mean(sampler.cpu) if sampler and sampler.cpu else math.nan,
        "machine_cpu_pct": machine_cpu,
        "idle_mb_per_session": (idle_rss - base_rss) / n,
        "sessions_per_replica": split,
    }
    notes = {
        "exceptions": sum(bool(c.exceptions) for c in clients),
        "disconnects": sum(c.disconnected for c in clients),
        "no Train button": sum(c.press_error is not None for c in clients),
        "first run not finished": not_ready,
        "client errors": sum(c.client_error is not None for c in clients),
    }
    row["_notes"] = ", ".join(f"{count} {what}" for what, count in notes.items() if count)
    closed = [f"connection closed: {c.close_reason}" for c in clients if c.close_reason]
    messages = [m for c in clients for m in (c.client_error, c.press_error, *c.exceptions) if m] + closed
    if messages:
        row["_notes"] += f"; the first: {messages[0][:200]}"
    row["_client_cpu_pct"] = own_cpu
    return row


def local_server(url: str) -> list[Replica]:
    """The server's process if it listens on this machine (for RSS and CPU)."""
    parts = urllib.parse.urlsplit(url)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1") or parts.port is None:
        return []
    try:
        return [Replica(parts.port, server_pid(parts.port))]
    except (RuntimeError, psutil.AccessDenied):
        return []


# The class's training alone: each scenario's run trained to its end with nothing else
# running, in a fresh process on one thread (the engine's time, no drawing, no worker),
# in one core's CPU seconds. A class of N needs the sum over its sessions' scenarios on
# one core: the floor under "worst finish" with one training worker.
TRAINING_ALONE = """
import json, time, torch
torch.set_num_threads(1)
from vangrad_core.lessons import SCENARIOS
from vangrad_core.trainer import Trainer
seconds = {}
for scenario in SCENARIOS:
    trainer = Trainer(scenario.config)
    start = time.thread_time()
    trainer.step(scenario.config.steps)
    seconds[scenario.name] = time.thread_time() - start
print(json.dumps(seconds))
"""


def training_alone_seconds() -> dict[str, float]:
    """One core's seconds to train each scenario's run, alone (`TRAINING_ALONE`)."""
    out = subprocess.run([sys.executable, "-c", TRAINING_ALONE], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def one_load(
    n: int,
    timeout: float,
    url: str | None = None,
    replicas: str | None = None,
    serve: int | None = None,
    scenarios: Sequence[str] = SCENARIO_NAMES,
) -> dict[str, Any]:
    """One row: on the server at `url` (its replicas listed in the file `replicas`), or on
    a fresh scripts/serve.sh with `serve` replicas, or on a fresh `streamlit run`; the
    sessions open `scenarios` in turn."""
    if url:
        local = read_replicas(replicas) if replicas else local_server(url)
        return asyncio.run(classroom(n, url, timeout, local, scenarios))
    if serve:
        with replicas_server(serve) as front:
            listed = serve_run(urllib.parse.urlsplit(front).port or 80) / "replicas"
            return asyncio.run(classroom(n, front, timeout, read_replicas(str(listed)), scenarios))
    with streamlit_server() as fresh:
        return asyncio.run(classroom(n, fresh, timeout, local_server(fresh), scenarios))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[10, 20, 40, 80])
    parser.add_argument("--timeout", type=float, default=300, help="seconds to wait for every run to finish")
    parser.add_argument("--json", metavar="PATH", help="also write the rows to this file")
    parser.add_argument("--url", help="a running server to use (default: a fresh one for each N)")
    parser.add_argument("--replicas", metavar="FILE", help="the replicas behind --url, as scripts/serve.sh lists them")
    parser.add_argument(
        "--serve",
        type=int,
        nargs="+",
        metavar="R",
        help="for each N: a fresh scripts/serve.sh with R replicas, each R in turn",
    )
    parser.add_argument(
        "--scenario",
        choices=SCENARIO_NAMES,
        metavar="NAME",
        help="every session opens this scenario (a lecture's 'now everyone try it'), not each its own",
    )
    args = parser.parse_args()
    scenarios = [args.scenario] if args.scenario else SCENARIO_NAMES
    if args.replicas and not args.url:
        parser.error("--replicas needs --url (the nginx in front of them)")
    if args.serve and args.url:
        parser.error("--serve starts its own servers; leave out --url")
    print(
        f"{time.strftime('%Y-%m-%d')}, {psutil.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GB; protocol clients (no browser) on the same machine"
    )
    print(
        f"{'replicas':>8} {'sessions':>8} {'finished':>9} {'errors':>7} {'updated':>8} "
        f"{'1st update med':>15} {'worst':>7} {'finish med':>11} {'worst':>7} {'refresh med':>12} "
        f"{'longest gap med':>16} {'worst':>7} {'steps/s':>8} {'peak RSS MB':>12} {'CPU %':>6} {'idle MB/session':>16}"
    )
    alone = training_alone_seconds()  # before any server starts: nothing else running
    rows = []
    for n, serve in ((n, serve) for n in args.sessions for serve in args.serve or [None]):
        r = one_load(n, args.timeout, args.url, args.replicas, serve, scenarios)
        r["one_core_training_s"] = sum(alone[scenarios[i % len(scenarios)]] for i in range(n))
        print(
            f"{r['replicas'] or '-':>8} {r['sessions']:8d} {r['finished']:9d} {r['errors']:7d} {r['updated']:8d} "
            f"{r['first_update_median_s']:14.2f}s "
            f"{r['first_update_worst_s']:6.2f}s {r['median_finish_s']:10.2f}s {r['worst_finish_s']:6.2f}s "
            f"{r['refresh_interval_median_s']:11.2f}s {r['longest_gap_median_s']:15.2f}s "
            f"{r['longest_gap_worst_s']:6.2f}s {r['class_steps_per_s']:8.1f} "
            f"{r['peak_rss_mb']:12.0f} {r['mean_cpu_pct']:6.0f} "
            f"{r['idle_mb_per_session']:16.1f}"
        )
        print(
            f"{'':17} (while training, the clients used {r['_client_cpu_pct']:.0f}% of a core, "
            f"the whole machine {r['machine_cpu_pct']:.0f}%; these {n} runs alone, one after another on one "
            f"core: {r['one_core_training_s']:.1f} s"
            + (f"; sessions per replica {'+'.join(map(str, r['sessions_per_replica']))}" if r["replicas"] else "")
            + (f"; {r['_notes']})" if r["_notes"] else ")"),
            flush=True,
        )
        rows.append({key: None if isinstance(r[key], float) and math.isnan(r[key]) else r[key] for key in KEYS})
        if args.json:  # after every row: a long run stopped half-way keeps what it measured
            with open(args.json, "w") as out:
                json.dump(rows, out, indent=2)


if __name__ == "__main__":
    main()
