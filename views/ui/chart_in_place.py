"""A Plotly chart that the page's reruns redraw in place (`chart_in_place.js`, a
Streamlit custom component): st.plotly_chart mounts a new chart for every new figure,
three times what Chromium takes to update one (docs/performance.md)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import plotly
import plotly.graph_objects as go
import plotly.io
import streamlit as st

STATIC = Path(__file__).parents[2] / "static"  # served at app/static/ (server.enableStaticServing)
# the plotly.js that plotly.py writes its figures for (as st.plotly_chart's own would be)
PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"

_component = st.components.v2.component(
    "vangrad_chart", js=Path(__file__).with_suffix(".js").read_text(), isolate_styles=False
)


@st.cache_resource
def serve_plotly_js() -> None:
    """plotly.py's plotly.min.js in the static folder, once per process (copied under
    another name, then renamed: replicas may start together)."""
    served = STATIC / PLOTLY_JS.name
    if not served.exists() or served.read_bytes() != PLOTLY_JS.read_bytes():
        partial = served.with_suffix(f".{os.getpid()}.partial")
        shutil.copyfile(PLOTLY_JS, partial)
        os.replace(partial, served)


def figure_json(figure: go.Figure) -> str:
    """`figure` as the page draws it: its JSON without Streamlit's Plotly template
    (3.7 kB a chart, where placeholders stand for the theme's colours), which
    chart_in_place.js replaces by the theme's own."""
    spec = figure.to_dict()
    spec["layout"].pop("template", None)
    return plotly.io.to_json(spec, validate=False)


def chart_in_place(spec: str, key: str) -> None:
    """The figure of `spec` (its JSON), drawn where the chart of `key` is (the same
    element from rerun to rerun: its identity is its key alone)."""
    serve_plotly_js()
    _component(data=spec.encode(), key=key, width="stretch")
