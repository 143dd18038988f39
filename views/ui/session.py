"""Each page's state (views/ui/state.py) bound to the session and the address bar.

A page's state is read from the link the first time the page is opened in a
session, kept in the session after that, and written back to the address bar
whenever it changes, so that a copied link reopens the same setup. Presenter mode
and hidden controls (the `Classroom`) belong to the session: they follow the
lecturer from page to page.
"""

from __future__ import annotations

import dataclasses
from typing import TypeVar

import streamlit as st

from vangrad_core.settings import ParamReader
from views.ui.state import Classroom, PageState

State = TypeVar("State", bound=PageState)
_CLASSROOM = "classroom"


def _link_params() -> dict[str, list[str]]:
    return {key: st.query_params.get_all(key) for key in st.query_params}


def classroom() -> Classroom:
    """The session's presenter mode and hidden controls, read from the first link."""
    if _CLASSROOM not in st.session_state:
        st.session_state[_CLASSROOM] = Classroom.read(ParamReader(_link_params()))
    return st.session_state[_CLASSROOM]


def set_presenter(on: bool) -> None:
    st.session_state[_CLASSROOM] = dataclasses.replace(classroom(), presenter=on)


def page_state(cls: type[State]) -> State:
    """The page's state: from the link on the page's first visit in this session
    (its warnings kept for `link_warnings`), from the session after that."""
    key = f"state:{cls.PAGE}"
    if key not in st.session_state:
        state, warnings = cls.from_query_params(_link_params())
        st.session_state[key] = state
        st.session_state[key + ":warnings"] = warnings
    state = st.session_state[key]
    if state.classroom != classroom():
        state = dataclasses.replace(state, classroom=classroom())
    return state


def link_warnings(cls: type[PageState]) -> list[str]:
    """What was wrong with the link this page was opened with (empty if nothing)."""
    return st.session_state.get(f"state:{cls.PAGE}:warnings", [])


def save(state: PageState) -> None:
    """Keep the page's new state, and show it in the address bar."""
    st.session_state[f"state:{state.PAGE}"] = state
    params = state.to_query_params()
    if _link_params() != {key: [value] for key, value in params.items()}:  # (a key given twice: once)
        st.query_params.from_dict(params)
