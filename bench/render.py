"""What each playground chart costs the browser to redraw, printed side by side.

While a run trains, the browser, not the server, limits how often the live view
refreshes here (docs/performance.md, "One person in a browser"): Plotly.js draws
each chart again at every refresh. This times that alone, chart by chart: the "Deep
sigmoid stalls" run's figures at two moments, 20 steps apart, built as the page
builds them and sent as Streamlit sends them, drawn alternately in headless Chromium
(no GPU), with the plotly.js that the plotly package ships (the page's is
Streamlit's own build), in three ways, interleaved in the same rounds:
- "react": `Plotly.react` on the chart in place, the cheapest live update;
- "default ticks": the same with Plotly's default tick labels (`ticklabeloverflow`
  unset: the browser measures every tick label to hide those past the chart's edge),
  the layout before `figures.style.TICK_LABEL_OVERFLOW`;
- "remounted": what the page really does. Streamlit names a Plotly element by a hash
  of its figure, so a changed figure is a new element: a new chart is drawn
  (`Plotly.newPlot`), drawn again once mounted (Streamlit's theming pass hands it a
  deep copy of the figure: new arrays, a full redraw) and the old one purged.

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

# Median milliseconds of `redraws` updates of a chart, alternating two figures, each
# until painted: with `Plotly.react` in place, or `remounted` as Streamlit does.
REDRAW = """async ([a, b, redraws, remounted]) => {
  const host = document.getElementById('charts'), times = [];
  const mount = () => {
    const div = document.createElement('div');
    div.style.width = '760px';
    return host.appendChild(div);
  };
  let div = mount();
  await Plotly.newPlot(div, a.data, a.layout);
  for (let i = 0; i < redraws; i++) {
    const f = JSON.parse(JSON.stringify(i % 2 ? a : b)), start = performance.now();
    if (remounted) {
      const old = div;
      div = mount();
      await Plotly.newPlot(div, f.data, f.layout);
      const themed = JSON.parse(JSON.stringify(f));
      await Plotly.react(div, themed.data, themed.layout);
      Plotly.purge(old);
      old.remove();
    } else {
      await Plotly.react(div, f.data, f.layout);
    }
    await new Promise(done => requestAnimationFrame(() => setTimeout(done, 0)));  // painted
    times.push(performance.now() - start);
  }
  Plotly.purge(div);
  div.remove();
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
    default_ticks = {name: [default_tick_labels(spec) for spec in pair] for name, pair in charts.items()}
    variants = {  # name: (figures, remounted)
        "react": (charts, False),
        "default ticks": (default_ticks, False),
        "remounted": (charts, True),
    }
    times: dict[tuple[str, str], list[float]] = {}
    with sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1600, "height": 1200})
        page.set_content("<div id='charts'></div>")  # each chart half of a 1600-px page
        page.add_script_tag(path=str(PLOTLY_JS))
        for _ in range(args.rounds):  # interleaved, so that every variant sees the same machine
            for variant, (specs, remounted) in variants.items():
                for name, (a, b) in specs.items():
                    redraw = page.evaluate(REDRAW, [a, b, args.redraws, remounted])
                    times.setdefault((name, variant), []).append(redraw)
        browser.close()
    median = {key: statistics.median(values) for key, values in times.items()}
    print(f"{time.strftime('%Y-%m-%d')}: scenario '{SCENARIO}', one redraw of each chart (ms, median of {args.rounds})")
    print(f"{'chart':16} {'react':>6} {'default ticks':>14} {'ratio':>6} {'remounted':>10} {'ratio':>6}")
    for group, names in (("live view", LIVE), ("details", DETAILS)):
        for label, keys in [*((name, [name]) for name in names), (f"{group}, all", list(names))]:
            react, ticks, again = (sum(median[(key, variant)] for key in keys) for variant in variants)
            print(f"{label:16} {react:6.0f} {ticks:14.0f} {ticks / react:6.2f} {again:10.0f} {again / react:6.2f}")


if __name__ == "__main__":
    main()
