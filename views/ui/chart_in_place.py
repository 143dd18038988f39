"""A Plotly chart that the page's reruns redraw in place (a Streamlit custom component,
`static/chart_in_place.js`): st.plotly_chart mounts a new chart for every new figure,
three times what Chromium takes to update one (docs/architecture.md, "Charts redrawn in
place")."""

from __future__ import annotations

import hashlib
from pathlib import Path

import plotly.graph_objects as go
import plotly.io
import streamlit as st

# Served at app/static/ (server.enableStaticServing): the chart theme, and plotly.js's
# cartesian bundle (1.5 MB of the whole 4.8: every trace type the app draws), of the
# version plotly.py writes its figures for (tests/test_robustness.py checks both). Kept
# in the repository: Community Cloud promises to serve the repository's static files,
# not files an app writes as it runs.
STATIC = Path(__file__).parents[2] / "static"
PLOTLY_JS = STATIC / "plotly-cartesian.min.js"

# The files' version, in their URLs: a browser that kept an older one (nginx in
# scripts/serve.sh lets it keep them a day) fetches the new ones after an upgrade.
VERSION = hashlib.sha256(b"".join(path.read_bytes() for path in sorted(STATIC.iterdir()))).hexdigest()[:12]
# Every element carries its component's code: this loader. The chart's module (10 kB)
# comes from the static folder, once a page; an import that failed is tried again at the
# next render (a failed import stays failed), and a render waits through a few failures
# (Streamlit shows its own error for a render that fails). (Over lines: Streamlit takes a
# one-line string with a "/" for a file's path.)
LOADER = f"""
const url = new URL("app/static/chart_in_place.js?v={VERSION}", document.baseURI);
let chart = null;
export default async (render) => {{
  for (let wait = 500; ; wait *= 2) {{
    try {{
      chart ??= import(url).catch((error) => {{ chart = null; throw error; }});
      return (await chart).default(render);
    }} catch (error) {{
      if (wait > 16000) throw error;
      await new Promise((again) => setTimeout(again, wait));
    }}
  }}
}};
"""
_component = st.components.v2.component("vangrad_chart", js=LOADER, isolate_styles=False)


def figure_json(figure: go.Figure) -> str:
    """`figure` as the page draws it: its JSON without Streamlit's Plotly template
    (3.7 kB a chart, where placeholders stand for the theme's colours), which
    static/chart_in_place.js replaces by the theme's own."""
    spec = figure.to_dict()
    spec["layout"].pop("template", None)
    return plotly.io.to_json(spec, validate=False)


def chart_in_place(spec: str, key: str) -> None:
    """The figure of `spec` (its JSON), drawn where the chart of `key` is (the same
    element from rerun to rerun: its identity is its key alone)."""
    _component(data=spec.encode(), key=key, width="stretch")
