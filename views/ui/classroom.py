"""Presenter mode and hidden controls: what a lecturer at a projector needs."""

from __future__ import annotations

import streamlit as st

from views.ui import session

# Presenter mode: text that reads from the back of a hall, and the lecture's first
# screen (controls, headline numbers, the two charts that tell the story) on one
# 1280×720 projector screen: less padding and smaller headings, not smaller text.
PRESENTER_CSS = """
<style>
html { font-size: 18px; }
/* the top row sits under the header bar, not behind it (where the bar takes its clicks) */
[data-testid="stMainBlockContainer"] { padding-top: 3.8rem; padding-bottom: 2rem; }
[data-testid="stVerticalBlock"] { gap: 0.4rem; }
h1 { font-size: 1.65rem !important; padding: 0 0 0.45rem 0 !important; }  /* the notice below clipped its descenders */
h2 { font-size: 1.45rem !important; padding: 0.1rem 0 0.5rem 0 !important; }  /* clear of what follows */
[data-testid="stMetricValue"] { font-size: 1.9rem; }
[data-testid="stAlert"] p { margin-bottom: 0; }
[data-testid="stAlertContainer"] { padding: 0.45rem 1rem; }
[data-testid="stAlertContainer"] [data-testid="stMarkdownContainer"] { margin-bottom: 0; }
/* captions and widget labels in a dark grey, 8.5:1 on white; captions drawn opaque (Streamlit
   also draws them at 60% opacity: about 3:1, measured in Chromium) */
[data-testid="stCaptionContainer"], [data-testid="stWidgetLabel"] { color: #4A4C57; }
[data-testid="stCaptionContainer"] { opacity: 1; }
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
