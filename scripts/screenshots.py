"""Re-take docs/screenshots: every page after training, 1440 px wide and tall enough
for the whole page (Streamlit scrolls inside its own container, so a tall window is
what shows everything: 3000 px, the Playground 4000), and in presenter mode at
1280×720 and 1920×1080: the projector's first screen, what a lecturer sees without
scrolling.

    .venv/bin/python scripts/screenshots.py [out-dir [name ...]]
    (names: only those shots, at every size; or one size: tour-step-1-presenter-1920)
"""

from __future__ import annotations

import re
import sys
import urllib.parse
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.browser import CHART, launch, streamlit_server, wait_for_app

SHOTS = (  # file name, path and query, the button that trains (if any)
    ("playground-deep-sigmoid", "?scenario=" + urllib.parse.quote("Deep sigmoid stalls"), "Train"),
    ("playground-batchnorm-rescue", "?scenario=" + urllib.parse.quote("Batch norm rescues deep sigmoid"), "Train"),
    ("playground-depth-100", "?depth=100&width=512&steps=3", "Train"),  # the largest network, three steps
    ("playground-saturation", "?scenario=" + urllib.parse.quote("Sigmoid saturates (large init)"), "Train"),
    ("playground-exploding", "?scenario=" + urllib.parse.quote("Exploding gradients"), "Train"),
    ("playground-thirty-relu-xavier", "?scenario=" + urllib.parse.quote("30 ReLU layers, Xavier init"), "Train"),
    ("tour-step-1", "tour?step=1", "Train"),
    ("tour-step-7", "tour?step=7", "Train"),
    ("compare", "compare?pair=" + urllib.parse.quote("Default vs small init"), "Train both"),
    ("through-time", "through_time", "Train both"),
    ("tour-step-14", "tour?step=14", "Train"),
    ("why-sigmoid", "why_sigmoid", None),
    ("classics-lstm", "classics?experiment=lstm", "Run"),
    ("classics-bn_init", "classics?experiment=bn_init", "Run"),
    ("classics-isometry", "classics?experiment=isometry", "Run"),
    ("classics-shattered", "classics?experiment=shattered", "Run"),
    ("classics-width", "classics?experiment=width", "Run"),
    ("batchnorm", "batchnorm?network=" + urllib.parse.quote("Sigmoid, batch norm, learning rate 10"), "Train"),
)
EVERY_CHART_DRAWN = f"""() => {{
    const charts = [...document.querySelectorAll('{CHART}')];
    return charts.length > 0 && charts.every(chart => chart.querySelector('svg.main-svg'));
}}"""
SIZES = (
    ("", {"width": 1440, "height": 3000}, ""),
    ("-presenter", {"width": 1280, "height": 720}, "presenter=1"),
    ("-presenter-1920", {"width": 1920, "height": 1080}, "presenter=1"),
)
PLAYGROUND_HEIGHT = 4000  # the Playground at 1440 px, down to its activation histograms under the live charts


def main(out: Path, only: list[str]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with streamlit_server() as server, sync_playwright() as playwright:
        browser = launch(playwright)
        for suffix, viewport, flag in SIZES:
            for name, target, train in SHOTS:
                if only and name not in only and f"{name}{suffix}" not in only:
                    continue
                tall = name.startswith("playground") and not flag
                page = browser.new_page(viewport={**viewport, "height": PLAYGROUND_HEIGHT} if tall else viewport)
                joiner = "&" if "?" in target else "?"
                page.goto(f"{server}/{target}{joiner + flag if flag else ''}")
                wait_for_app(page)
                if train:
                    page.get_by_role("button", name=train).click()
                    page.get_by_text(
                        re.compile(r"(500 / 500|300 / 300|600 / 600) steps|stopped|diverged|finished|Reproduced")
                    ).first.wait_for(timeout=180_000)
                    page.wait_for_timeout(2500)  # the last redraw, and the details' slower one
                page.wait_for_function(EVERY_CHART_DRAWN, timeout=120_000)  # a busy machine draws late
                # off the button it pressed, and out of its focus: its tooltip would cover the page
                page.mouse.move(1, 1)
                page.evaluate("() => document.activeElement?.blur()")
                page.wait_for_timeout(500)
                page.screenshot(path=out / f"{name}{suffix}.png")
                print(out / f"{name}{suffix}.png", flush=True)
                page.close()
        browser.close()


if __name__ == "__main__":
    main(
        Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "docs" / "screenshots",
        sys.argv[2:],
    )
