"""A settings object's form, generated from its field table (`FIELDS`).

Every widget's label, range, choices, names and help come from the `Field` that the
URL codec and the command line read too, so a widget accepts exactly what a link
or the config accepts. The widgets' values live in the session under
`<form>.<field>`; `fill` writes a settings object into them (a scenario picked, a
page opened from a link), `settings_form` draws them and returns what they say.
"""

from __future__ import annotations

import math
from typing import TypeVar

import streamlit as st

from vangrad_core.settings import Field, Settings

S = TypeVar("S", bound=Settings)
SLIDER_SPAN = 100  # an integer range this wide or narrower is a slider; wider, a number box


def widget_key(form: str, name: str) -> str:
    return f"{form}.{name}"


def fill(form: str, settings: Settings) -> None:
    """Put a settings object's values into its form's widgets (before they are drawn)."""
    for name, value in settings.to_dict().items():
        st.session_state[widget_key(form, name)] = value


def slider_format(field: Field, value: float | None = None) -> str | None:
    """How a slider of `field` writes its value: a float with as many decimals as its
    step has ("3.0", not Streamlit's "3.00"), or as `value` has if more (a scenario's
    weight scale 0.32 on a slider of steps of 0.1 read "0.3"); an integer as Streamlit does."""
    if field.kind != "float" or not field.step:
        return None
    # (written out in full: "2.5e-05" by `:g` has no decimals to count)
    decimals = max(len(f"{number:.10f}".rstrip("0").partition(".")[2]) for number in (field.step, value or 0))
    return f"%.{decimals}f"


def _widget(field: Field, key: str) -> None:
    # The widget's default is its value now: a browser that holds no value for a widget
    # (Streamlit's frontend can drop one) falls back to the default, and without one that
    # is the range's minimum or the first choice, which it would then send back as the
    # user's choice. A fresh-clone CI run once saw a Compare page reset to every minimum.
    value = st.session_state[key]
    common = {"key": key, "help": field.help or None}
    if field.kind == "choice":
        index = field.choices.index(value)
        st.selectbox(field.label, field.choices, index, format_func=lambda v: field.labels.get(v, v), **common)
    elif field.kind == "bool":
        st.toggle(field.label, value, **common)
    elif field.stops:  # a value from a link that is not a stop joins them
        options = sorted(set(field.stops) | {value})
        st.select_slider(field.label, options, value, format_func=lambda v: f"{v:g}", **common)
    elif field.kind == "int" and field.high - field.low <= SLIDER_SPAN:
        st.slider(field.label, int(field.low), int(field.high), int(value), **common)
    elif field.kind == "float" and not math.isinf(field.high) and field.step and field.high - field.low <= 10:
        low, high = float(field.low), float(field.high)
        st.slider(field.label, low, high, float(value), step=field.step, format=slider_format(field, value), **common)
    else:
        cast = int if field.kind == "int" else float
        st.number_input(
            field.label,
            cast(field.low),
            cast(field.high),
            cast(value),
            step=cast(field.step or 1),
            format=None,
            **common,
        )


def read(form: str, current: S) -> tuple[S, str | None]:
    """What the form's widgets say now (without drawing them): the settings, or
    `current` and what is wrong when together they are not valid."""
    cls = type(current)
    for name, value in current.to_dict().items():  # widgets not drawn yet in this session
        st.session_state.setdefault(widget_key(form, name), value)
    settings, problem = cls.from_values({name: st.session_state[widget_key(form, name)] for name in cls.FIELDS})
    return (settings, None) if settings is not None else (current, problem)


def settings_form(form: str, current: S, fields: tuple[str, ...] | None = None) -> tuple[S, str | None]:
    """The fields (all, or `fields`) as widgets, in their groups; returns the settings
    they describe, or `current` and what is wrong when together they are not valid
    (batch norm with batch size 1, say)."""
    read(form, current)  # every widget has a value before any is drawn
    shown = [(name, field) for name, field in type(current).FIELDS.items() if fields is None or name in fields]
    groups = list(dict.fromkeys(field.group for _, field in shown))  # each heading once, in the table's order
    group = None
    for name, field in sorted(shown, key=lambda item: groups.index(item[1].group)):  # (stable: within a group too)
        if field.group != group:
            group = field.group
            st.subheader(group)
        _widget(field, widget_key(form, name))
    return read(form, current)
