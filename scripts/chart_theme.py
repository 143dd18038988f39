"""Writes static/streamlit-plotly-theme.json: Streamlit's chart theme for Plotly, as
st.plotly_chart applies it with this app's theme (.streamlit/config.toml), read from a
chart drawn in headless Chromium. The app's charts (static/chart_in_place.js) set it
on every figure, as st.plotly_chart would. Run it again after upgrading Streamlit or
changing the app's theme:

    python scripts/chart_theme.py
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.browser import launch, streamlit_server
from views.ui.chart_in_place import STATIC

CHART = """
import plotly.graph_objects as go
import streamlit as st

st.plotly_chart(go.Figure(go.Scatter(y=[1, 2]), layout={"title": "theme"}))
"""
# The trace types the app draws (and those plotly.js's cartesian bundle holds).
TRACE_TYPES = ("scatter", "bar", "heatmap", "contour", "histogram", "histogram2d")


def main() -> None:
    with tempfile.NamedTemporaryFile("w", suffix=".py") as script:
        script.write(CHART)
        script.flush()
        # (run in the app's folder: its .streamlit/config.toml, its theme)
        with streamlit_server(script=script.name) as url, sync_playwright() as playwright:
            browser = launch(playwright)
            page = browser.new_page()
            page.goto(url)
            page.wait_for_selector('[data-testid="stPlotlyChart"] .main-svg', timeout=60_000)
            template = page.evaluate("() => document.querySelector('.js-plotly-plot').layout.template")
            browser.close()
    theme = {"data": {kind: template["data"][kind] for kind in TRACE_TYPES if kind in template["data"]}}
    theme["layout"] = template["layout"]
    (STATIC / "streamlit-plotly-theme.json").write_text(json.dumps(theme, separators=(",", ":")))
    print(f"wrote {STATIC / 'streamlit-plotly-theme.json'}: {len(json.dumps(theme))} characters")


if __name__ == "__main__":
    main()
