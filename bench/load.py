"""A lecture hall on one server: N browser sessions train at once.

Starts the app, opens N pages in one headless Chromium (each a different scenario,
cycling through the lecture's), lets them sit idle to measure what an idle session
costs, then presses Train in all of them together and reports: sessions that
finished without an error, time from Train to the first chart (median and worst),
the server's peak memory (RSS) and mean CPU.

    python -m bench.load [--sessions 10 20 40] [--timeout 300]

Students' browsers run on their own laptops; here they would run on the server's
two cores, and drawing forty pages of Plotly charts would take most of them. So by
default the load-test browser does not load the chart-drawing code (the server still
builds and sends every figure, as for a real class); `--draw-charts` draws them too.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
import urllib.parse

import psutil
from playwright.sync_api import sync_playwright

from tests.browser import launch, streamlit_server, wait_for_app
from vangrad_core.lessons import SCENARIOS

# Presses Train and times the first live update (the Step metric leaves 0).
FIRST_UPDATE = """
() => new Promise(resolve => {
  const step = () => document.querySelector('[data-testid="stMetricValue"]')?.innerText || '';
  const start = performance.now();
  const tick = () => {
    if (/^[1-9]/.test(step())) return resolve((performance.now() - start) / 1000);
    if (performance.now() - start > 120000) return resolve(null);
    setTimeout(tick, 20);
  };
  document.querySelectorAll('button').forEach(b => { if (b.innerText.trim().endsWith('Train')) b.click(); });
  tick();
})
"""


def server_processes(*pids: int) -> list[psutil.Process]:
    """The server's processes: each of `pids` (one, or each replica behind
    scripts/serve.sh's nginx) and its training workers (vangrad_core.workers)."""
    processes = [psutil.Process(pid) for pid in pids]
    return processes + [child for process in processes for child in process.children(recursive=True)]


class Sampler(threading.Thread):
    """Samples the server's RSS (MB) and CPU (100% = one core) every half second,
    summed over its processes (`server_processes`)."""

    def __init__(self, *pids: int):
        super().__init__(daemon=True)
        self.processes = server_processes(*pids)
        self.rss: list[float] = []
        self.cpu: list[float] = []
        self.stop = threading.Event()

    def run(self) -> None:
        for process in self.processes:
            process.cpu_percent()
        while not self.stop.wait(0.5):
            self.rss.append(sum(p.memory_info().rss for p in self.processes) / 2**20)
            self.cpu.append(sum(p.cpu_percent() for p in self.processes))


def server_pid(port: int) -> int:
    for conn in psutil.net_connections("tcp"):
        if conn.laddr and conn.laddr.port == port and conn.status == psutil.CONN_LISTEN:
            return conn.pid
    raise RuntimeError("server process not found")


def one_load(n: int, timeout: float, draw_charts: bool) -> dict:
    with streamlit_server() as url, sync_playwright() as p:
        pid = server_pid(int(url.rsplit(":", 1)[1]))
        browser = launch(p)
        # one session first, so that imports and shared caches are not counted per session
        warm = browser.new_context().new_page()
        warm.goto(url)
        wait_for_app(warm)
        time.sleep(1)
        base_rss = sum(p.memory_info().rss for p in server_processes(pid)) / 2**20
        pages = []
        for i in range(n):
            page = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
            if not draw_charts:
                # the charts' plotly.js (static/), which chart_in_place.js loads for every chart
                page.route("**/plotly-cartesian.min.js*", lambda route: route.abort())
            scenario = SCENARIOS[i % len(SCENARIOS)].name
            page.goto(f"{url}/?scenario={urllib.parse.quote(scenario)}")
            pages.append(page)
        for page in pages:
            wait_for_app(page, timeout_ms=120_000)
        time.sleep(2)
        idle_rss = sum(p.memory_info().rss for p in server_processes(pid)) / 2**20
        sampler = Sampler(pid)
        sampler.start()
        # press Train everywhere at (nearly) the same moment
        handles = [page.evaluate_handle(FIRST_UPDATE) for page in pages]
        first = [h.json_value() for h in handles]
        deadline = time.monotonic() + timeout
        finished = 0
        errors = 0
        for page in pages:
            remaining = max(1, deadline - time.monotonic()) * 1000
            try:
                page.get_by_text("steps, finished").or_(page.get_by_text("stopped: diverged")).first.wait_for(
                    timeout=remaining
                )
                finished += 1
            except Exception:
                pass
            errors += page.locator('[data-testid="stException"]').count() > 0
        sampler.stop.set()
        sampler.join()
        browser.close()
    firsts = [f for f in first if f is not None]
    return {
        "sessions": n,
        "finished": finished,
        "errors": errors,
        "first_median": statistics.median(firsts) if firsts else float("nan"),
        "first_worst": max(firsts) if firsts else float("nan"),
        "peak_rss_mb": max(sampler.rss or [idle_rss]),
        "mean_cpu": statistics.mean(sampler.cpu) if sampler.cpu else float("nan"),
        "idle_per_session_mb": (idle_rss - base_rss) / n,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, nargs="+", default=[10, 20, 40])
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--draw-charts", action="store_true", help="let the test browser draw the charts too")
    args = parser.parse_args()
    print(
        f"{time.strftime('%Y-%m-%d')}, {psutil.cpu_count()} cores, "
        f"{psutil.virtual_memory().total / 2**30:.0f} GB; browser and server on the same machine"
    )
    print(
        f"{'sessions':>8} {'finished':>9} {'errors':>7} {'1st update med':>15} {'worst':>7} "
        f"{'peak RSS MB':>12} {'CPU %':>6} {'idle MB/session':>16}"
    )
    for n in args.sessions:
        r = one_load(n, args.timeout, args.draw_charts)
        print(
            f"{r['sessions']:8d} {r['finished']:9d} {r['errors']:7d} {r['first_median']:14.2f}s "
            f"{r['first_worst']:6.2f}s {r['peak_rss_mb']:12.0f} {r['mean_cpu']:6.0f} {r['idle_per_session_mb']:16.1f}"
        )


if __name__ == "__main__":
    main()
