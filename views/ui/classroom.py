"""Presenter mode and hidden controls: what a lecturer at a projector needs."""

from __future__ import annotations

import streamlit as st

from views.ui import session

PRESENTER_CSS = """
<style>
html { font-size: 21px; }
[data-testid="stMetricValue"] { font-size: 2.6rem; }
</style>
"""


def presenter_toggle() -> bool:
    """The sidebar's presenter toggle (larger text and charts, for a projector);
    applies presenter mode's style. Returns whether it is on."""
    on = session.classroom().presenter
    with st.sidebar:
        st.toggle(
            "Presenter mode",
            value=on,
            key="presenter_toggle",
            on_change=lambda: session.set_presenter(st.session_state["presenter_toggle"]),
            help="Larger text and charts for a projector.",
        )
    if session.classroom().presenter:
        st.html(PRESENTER_CSS)
    return session.classroom().presenter


def presenting() -> bool:
    return session.classroom().presenter


def shown(control: str) -> bool:
    """Whether a hideable control is shown (not listed in the link's ?hide=)."""
    return session.classroom().shows(control)
