"""Timing in a real browser (docs/architecture.md, "Budgets"), printed side by side in one run.

Starts the app, opens the playground in headless Chromium, presses Train on the
"Deep sigmoid stalls" scenario (depth 20, 500 steps) and records, from the page:
the time from the click to the first redraw from the run, how often the live view
(headline numbers and its charts) refreshes while training, and the time until the
run has finished; and, between the browser's runs, a bare PyTorch loop (bench.engine's
BareLoop, one thread as the server's training) training the same 500 steps on the
same model and batches, so that the live run's time is compared with the bare loop's
measured beside it (budget: 1.5x). Chromium draws the charts on the same two cores,
in software (no GPU): what it takes, the server does not get. So it also prints the
processor seconds each part took from Train to finished: the server, its training
worker, Chromium (a student's browser runs on the student's machine).

    python -m bench.browser [--runs 3]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
import urllib.parse

import psutil
import torch
from playwright.sync_api import sync_playwright

from bench.engine import BareLoop
from bench.load import server_pid, server_processes
from tests.browser import launch, streamlit_server, wait_for_app
from vangrad_core.lessons import SCENARIO_BY_NAME

SCENARIO = "Deep sigmoid stalls"

# Reads the Step metric every animation frame, in the page (no round trip to
# Python): each new value is one refresh of the live view. (Reading the charts' SVG
# every frame instead would itself slow the page down.) Counts the charts' draws too
# (calls of Plotly.react, through which static/chart_in_place.js draws every
# figure, and the time they took), and the charts drawn anew in a new Plotly div.
WATCH = """
() => new Promise(resolve => {
  const start = performance.now();
  const step = () => document.querySelector('[data-testid="stMetricValue"]')?.innerText || '';
  const charts = new WeakSet(document.querySelectorAll('.js-plotly-plot'));
  let firstChart = null, refreshes = [], last = step(), mounted = 0, draws = 0, drawing = 0, done = null;
  const react = window.Plotly.react;
  window.Plotly.react = async function (...args) {
    const began = performance.now();
    try { return await react.apply(this, args); }
    finally { if (done === null) { draws++; drawing += performance.now() - began; } }
  };
  const finish = () => {
    window.Plotly.react = react;
    resolve({firstChart, refreshes, mounted, draws, drawing, done});
  };
  const tick = () => {
    const now = performance.now() - start, value = step();
    document.querySelectorAll('.js-plotly-plot').forEach(chart => {
      if (!charts.has(chart)) { charts.add(chart); mounted++; }
    });
    if (value !== last) { last = value; refreshes.push(now); if (firstChart === null) firstChart = now; }
    if (value.startsWith('500 /')) { done = now; finish(); return; }
    if (now > 60000) { finish(); return; }
    requestAnimationFrame(tick);
  };
  document.querySelectorAll('button').forEach(b => { if (b.innerText.trim().endsWith('Train')) b.click(); });
  requestAnimationFrame(tick);
})
"""


def bare_loop_seconds() -> float:
    """Wall time of a bare loop's 500 steps on the scenario's model and batches (one thread)."""
    loop = BareLoop(SCENARIO_BY_NAME[SCENARIO].config)
    start = time.perf_counter()
    loop.step(SCENARIO_BY_NAME[SCENARIO].config.steps)
    return time.perf_counter() - start


def processor_seconds(server: int) -> dict[str, float]:
    """Processor seconds used so far by the server (its process id), its training
    workers (`server_processes`: the server first) and Chromium (this process's)."""
    server_itself, *workers = server_processes(server)
    chromium = [p for p in psutil.Process().children(recursive=True) if "chrom" in p.name()]
    used = {}
    for kind, processes in (("server", [server_itself]), ("training worker", workers), ("Chromium", chromium)):
        used[kind] = 0.0
        for process in processes:
            with contextlib.suppress(psutil.Error):  # (a process that ended meanwhile)
                times = process.cpu_times()
                used[kind] += times.user + times.system
    return used


def one_run(page, url: str) -> dict:
    page.goto(f"{url}/?scenario={urllib.parse.quote(SCENARIO)}")
    # The page's first run done (a new page says "not running" before its script
    # starts, and a click then can land on a button about to be replaced).
    page.get_by_role("button", name="Train").wait_for()
    wait_for_app(page)
    page.wait_for_timeout(1000)
    server = server_pid(urllib.parse.urlsplit(url).port)
    before = processor_seconds(server)
    result = page.evaluate(WATCH)
    used = {kind: seconds - before[kind] for kind, seconds in processor_seconds(server).items()}
    gaps = [b - a for a, b in zip(result["refreshes"], result["refreshes"][1:], strict=False)]
    training = [r for r in result["refreshes"] if result["done"] is None or r <= result["done"]]
    span = (training[-1] - training[0]) / 1000 if len(training) > 1 else float("nan")
    return {
        "first_chart_s": result["firstChart"] / 1000 if result["firstChart"] is not None else float("nan"),
        "refreshes_per_s": (len(training) - 1) / span if span == span and span > 0 else float("nan"),
        "longest_gap_s": max(gaps) / 1000 if gaps else float("nan"),
        "run_500_steps_s": result["done"] / 1000 if result["done"] is not None else float("nan"),
        "chart_draws_per_refresh": result["draws"] / max(1, len(training)),
        "chart_draw_ms": result["drawing"] / max(1, result["draws"]),
        "charts_mounted_per_refresh": result["mounted"] / max(1, len(result["refreshes"])),
        "processor_seconds": used,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)  # as the server trains each run
    with streamlit_server() as url, sync_playwright() as p:
        browser = launch(p)
        page = browser.new_context(viewport={"width": 1600, "height": 1200}).new_page()
        one_run(page, url)  # warm up: imports, caches
        bare_loop_seconds()
        rows, bare = [], []
        for _ in range(args.runs):  # alternating, so that both see the same machine
            rows.append(one_run(page, url))
            bare.append(bare_loop_seconds())
        browser.close()
    budgets = {
        "first_chart_s": ("time from Train to the first chart", "<= 1.0 s", lambda v: v <= 1.0),
        "refreshes_per_s": ("live view refreshes per second while training", ">= 4", lambda v: v >= 4),
        "longest_gap_s": ("longest pause between refreshes", "(info)", lambda v: True),
        "run_500_steps_s": ("500-step depth-20 run, Train to finished", "(ratio below)", lambda v: True),
        "chart_draws_per_refresh": ("charts redrawn per refresh (4 live charts)", "(info)", lambda v: True),
        "chart_draw_ms": ("milliseconds a chart's redraw took", "(info)", lambda v: True),
        "charts_mounted_per_refresh": ("charts drawn anew per refresh", "(info)", lambda v: True),
    }
    print(f"{time.strftime('%Y-%m-%d')}: playground, scenario 'Deep sigmoid stalls', {args.runs} runs")
    print(f"{'measure':45} {'median':>8} {'worst':>8}  budget")
    for key, (label, budget, ok) in budgets.items():
        values = [r[key] for r in rows]
        worst = min(values) if key in ("refreshes_per_s", "chart_draws_per_refresh") else max(values)
        median = statistics.median(values)
        verdict = "ok" if ok(median) else "NOT MET"
        print(f"{label:45} {median:8.2f} {worst:8.2f}  {budget} {verdict}")
    print(f"{'bare loop, the same 500 steps':45} {statistics.median(bare):8.2f} {max(bare):8.2f}  (info)")
    per_run = [r["processor_seconds"] for r in rows]
    used = {kind: statistics.median(run[kind] for run in per_run) for kind in per_run[0]}
    print("processor seconds, Train to finished (median): " + ", ".join(f"{k} {v:.2f}" for k, v in used.items()))
    ratio = statistics.median(r["run_500_steps_s"] for r in rows) / statistics.median(bare)
    print(f"live run / bare loop: {ratio:.2f}  (budget <= 1.5: {'ok' if ratio <= 1.5 else 'NOT MET'})")


if __name__ == "__main__":
    main()
