"""Two runs side by side, set up as the Compare page does: a picker of ready pairs,
both settings forms, the two live runs. The Compare and Through-time pages share it."""

from __future__ import annotations

import streamlit as st

from vangrad_core.settings import Field, Settings
from views.ui import charts, classroom, form, session
from views.ui.live import LiveRun, ensure_runs
from views.ui.state import CUSTOM, CompareState


def paired_runs(
    cls: type[CompareState], title: str, about: str, forms: tuple[str, str] = ("a", "b")
) -> tuple[CompareState, tuple[str, str], tuple[LiveRun, LiveRun]]:
    """The page's `title` and what it is `about`, its two configs as its link, its
    picker and its forms say (drawn here), and a live run for each; returns the state,
    the runs' labels and the runs. Presenting, the screen is for the runs: the ready
    pair's name is the title, and the picker and the forms wait in the (collapsed) sidebar."""
    state = session.page_state(cls)
    if classroom.shown("settings"):  # what the forms say now, so that the picker shows "Custom" at once
        state = state.with_configs(form.read(forms[0], state.a)[0], form.read(forms[1], state.b)[0])
    presenting = classroom.presenting()
    st.title(state.pair if presenting and state.pair else title)
    if not presenting:
        st.caption(about)
    charts.link_warnings(session.link_warnings(cls))
    aside = st.sidebar if presenting else st
    picker = f"{cls.PAGE}:pair"

    def pick_pair() -> None:
        name, current = st.session_state[picker], session.page_state(cls)
        if name in cls.PAIRS:
            comparison = cls.PAIRS[name]
            form.fill(forms[0], comparison.a[1])
            form.fill(forms[1], comparison.b[1])
            session.save(cls(comparison.a[1], comparison.b[1], name, current.classroom))
        else:
            session.save(cls(current.a, current.b, None, current.classroom))

    if classroom.shown("scenario"):
        st.session_state[picker] = state.pair or CUSTOM
        aside.selectbox("Comparison", [CUSTOM, *cls.PAIRS], key=picker, on_change=pick_pair)
    labels = ("A", "B")
    if state.pair is not None:
        comparison = cls.PAIRS[state.pair]
        labels = (f"A: {comparison.a[0]}", f"B: {comparison.b[0]}")
        st.info(comparison.notice, icon=":material/lightbulb:")

    a, b, problem_a, problem_b = state.a, state.b, None, None
    if classroom.shown("settings"):
        with aside.expander("Settings of A and B", expanded=state.pair is None and not presenting):
            left, right = (st.container(), st.container()) if presenting else st.columns(2)
            with left:
                shared = ", ".join(name.replace("_", " ") for name in cls.SHARED)
                st.markdown(f"**Run A** (its {shared} are used by both)")
                a, problem_a = form.settings_form(forms[0], state.a)
            with right:
                st.markdown("**Run B**")
                own = tuple(name for name in state.b.FIELDS if name not in cls.SHARED)
                b, problem_b = form.settings_form(forms[1], state.b, own)
    for side, problem in (("A", problem_a), ("B", problem_b)):
        if problem:
            st.error(f"Run {side}'s settings cannot train: {problem}. Its last valid settings stay.")
    state = state.with_configs(a, b)
    session.save(state)
    if (refused := state.unshared()) is not None:
        kept = ", ".join(
            f"{name.replace('_', ' ')} {getattr(state.b, name)}"
            for name in cls.SHARED
            if getattr(state.b, name) != getattr(state.a, name)
        )
        st.warning(
            f"Run B keeps its own {kept}: A's would not train in B ({refused}). "
            "The two runs take the same steps, but not on the same batches.",
            icon=":material/warning:",
        )

    if state.pair is None:  # (a ready pair's notice says what it changes)
        st.caption(differences_words(state.a, state.b))
    runs = (LiveRun(f"run:{cls.PAGE}:a"), LiveRun(f"run:{cls.PAGE}:b"))
    if ensure_runs(runs, (state.a, state.b)):
        st.toast("Settings changed: both runs start again from step 0" + (", training." if runs[0].playing else "."))
    return state, labels, runs


def differences_words(a: Settings, b: Settings) -> str:
    """What B changes from A, in the forms' words: "B differs from A in its initialization,
    He (Kaiming) normal (A: PyTorch default)." (A hand-written link leaves the rest as the
    first ready pair's, which may differ in more than the link says.)"""

    def shown(field: Field, config: Settings) -> str:
        value = getattr(config, field.name)
        return field.labels.get(value, value) if field.kind == "choice" else field.format(value)

    changed = [field for name, field in a.FIELDS.items() if getattr(a, name) != getattr(b, name)]
    if not changed:
        return "A and B are the same network: change a setting of B to see what it does."
    names = [field.label.split(" (")[0] for field in changed]  # ("Learning rate (log scale)"; "LSTM ..." stays)
    said = [
        f"{name if name[:2].isupper() else name[0].lower() + name[1:]}, {shown(field, b)} (A: {shown(field, a)})"
        for field, name in zip(changed, names, strict=True)
    ]
    return f"B differs from A in its {'; its '.join(said)}."
