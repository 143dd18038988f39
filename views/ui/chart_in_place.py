"""A Plotly chart that the page's reruns redraw in place (`chart_in_place.js`, a
Streamlit custom component): st.plotly_chart mounts a new chart for every new figure,
three times what Chromium takes to update one (docs/performance.md)."""

from __future__ import annotations

from pathlib import Path

import plotly.graph_objects as go
import plotly.io
import streamlit as st

# Served at app/static/ (server.enableStaticServing): the chart theme, and plotly.js as
# plotly.py ships it (the version its figures are written for; tests/test_robustness.py
# checks it is the installed one). Kept in the repository: Community Cloud promises to
# serve the repository's static files, not files an app writes as it runs.
STATIC = Path(__file__).parents[2] / "static"

_component = st.components.v2.component(
    "vangrad_chart", js=Path(__file__).with_suffix(".js").read_text(), isolate_styles=False
)


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
    _component(data=spec.encode(), key=key, width="stretch")
