"""What each playground chart costs the browser to redraw, printed side by side.

While a run trains, the browser, not the server, limits how often the live view
refreshes here (README, "Performance"): Plotly.js lays out and draws each chart again
at every refresh. This times that alone, chart by chart: the "Deep sigmoid stalls"
run's figures at two moments, 20 steps apart, built as the page builds them and sent
as Streamlit sends them, redrawn alternately with `Plotly.react` (a live update) in
headless Chromium (no GPU), with the plotly.js that the plotly package ships (the
page's is Streamlit's own build). Beside each, interleaved in the same rounds, the
same figure with Plotly's default tick labels (`ticklabeloverflow` unset: the browser
measures every tick label to hide those past the chart's edge), the layout before
`figures.style.TICK_LABEL_OVERFLOW`.

    python -m bench.render [--rounds 5]
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time
from pathlib import Path

import plotly
import plotly.io as pio
import torch
from playwright.sync_api import sync_playwright

from tests.browser import launch
from vangrad_core.lessons import SCENARIO_BY_NAME
from vangrad_core.live import LiveTrainer
from views.ui import run_charts

SCENARIO = "Deep sigmoid stalls"
LIVE = {  # the live view's charts, redrawn at every refresh
    "network": run_charts.network,
    "profile": run_charts.profile,
    "heatmap": run_charts.heatmap,
    "curves": run_charts.curves,
}
DETAILS = {  # some of the detailed views', redrawn every few seconds
    "ridges": run_charts.ridges,
    "saturation": run_charts.saturation,
    "updates": run_charts.updates,
    "boundary": run_charts.boundary,
}
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"

# Median milliseconds of `redraws` Plotly.react calls, alternating two figures.
REDRAW = """async ([a, b, redraws]) => {
  const div = document.getElementById('chart');
  await Plotly.newPlot(div, a.data, a.layout);
  const times = [];
  for (let i = 0; i < redraws; i++) {
    const f = JSON.parse(JSON.stringify(i % 2 ? a : b)), start = performance.now();
    await Plotly.react(div, f.data, f.layout);
    await new Promise(done => requestAnimationFrame(() => setTimeout(done, 0)));  // painted
    times.push(performance.now() - start);
  }
  Plotly.purge(div);
  times.sort((x, y) => x - y);
  return times[Math.floor(times.length / 2)];
}"""


def sent(figure) -> dict:
    """The figure as Streamlit sends it to the browser."""
    return json.loads(pio.to_json(figure.to_dict(), validate=False))


def default_tick_labels(spec: dict) -> dict:
    spec = copy.deepcopy(spec)
    for name, axis in spec["layout"].items():
        if name.startswith(("xaxis", "yaxis")):
            axis.pop("ticklabeloverflow", None)
    return spec


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--redraws", type=int, default=8)
    args = parser.parse_args()
    torch.set_num_threads(1)
    run = LiveTrainer(SCENARIO_BY_NAME[SCENARIO].config)
    run.step(200)
    before = run.snapshot(decision=True)
    run.step(20)
    after = run.snapshot(decision=True)
    charts = {name: [sent(build(snap)) for snap in (before, after)] for name, build in {**LIVE, **DETAILS}.items()}
    variants = {
        "now": charts,
        "default ticks": {name: [default_tick_labels(spec) for spec in pair] for name, pair in charts.items()},
    }
    times: dict[tuple[str, str], list[float]] = {}
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1600, "height": 1200})
        page.set_content("<div id='chart' style='width: 760px'></div>")  # a half-width chart at 1600 px
        page.add_script_tag(path=str(PLOTLY_JS))
        for _ in range(args.rounds):  # interleaved, so that both variants see the same machine
            for variant, specs in variants.items():
                for name, (a, b) in specs.items():
                    times.setdefault((name, variant), []).append(page.evaluate(REDRAW, [a, b, args.redraws]))
        browser.close()
    median = {key: statistics.median(values) for key, values in times.items()}
    print(f"{time.strftime('%Y-%m-%d')}: scenario '{SCENARIO}', one redraw of each chart (ms, median of {args.rounds})")
    print(f"{'chart':12} {'now':>7} {'default ticks':>14} {'ratio':>6}")
    for group, names in (("live view", LIVE), ("details", DETAILS)):
        for name in names:
            now, old = median[(name, "now")], median[(name, "default ticks")]
            print(f"{name:12} {now:7.0f} {old:14.0f} {old / now:6.2f}")
        now, old = (sum(median[(name, variant)] for name in names) for variant in variants)
        print(f"{group + ', all':12} {now:7.0f} {old:14.0f} {old / now:6.2f}")


if __name__ == "__main__":
    main()
