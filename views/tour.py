"""Lecture tour: the lecture's slides in order, each claim shown on a live run."""

import streamlit as st

from vangrad_core import figures
from vangrad_core.lessons import TIME_SCENARIO_BY_NAME, TOUR, TOUR_RUNS
from vangrad_core.live import Snapshot
from views.ui import charts, classroom, run_charts, session
from views.ui.live import LiveRun, live_fragment, run_controls, run_status, training_pool
from views.ui.state import TourState

# the charts a step can show, by the names lessons.TOUR uses; what some set in presenter mode
CHARTS = {
    "profile": run_charts.profile,
    "heatmap": run_charts.heatmap,
    "curves": run_charts.curves,
    "network": run_charts.network,
    "derivative": lambda snap: run_charts.derivative(snap, run_charts.flattest_layer(snap)),
    "saturation": run_charts.saturation,
    "updates": run_charts.updates,
    "distance": run_charts.distance,
    "boundary": run_charts.boundary,
    "time_profile": lambda snap: figures.time_profiles({"this run": snap.time_gradients}),
    "gates": lambda snap: figures.explained({"this run": snap.time_gradients}, {"this run": snap.config.cell}),
}

# Each scenario has its own run, so that steps sharing one go on with it and Previous
# finds a run as it was left: the runs of the last KEPT_RUNS scenarios visited stay
# (a tour run holds 0.1 to 5 MB); older ones are let go, and start again if visited.
KEPT_RUNS = 3

state = session.page_state(TourState)
session.save(state)
charts.link_warnings(session.link_warnings(TourState))
current = TOUR[state.step]


def kept_run(scenario: str) -> LiveRun:
    """The scenario's run, kept with those of the last KEPT_RUNS scenarios visited."""
    visited = [name for name in st.session_state.get("tour:visited", []) if name != scenario] + [scenario]
    for name in visited[:-KEPT_RUNS]:
        LiveRun(f"run:tour:{name}").release()
    st.session_state["tour:visited"] = visited[-KEPT_RUNS:]
    run = LiveRun(f"run:tour:{scenario}")
    run.ensure(TOUR_RUNS[scenario].config)
    return run


run = kept_run(current.scenario)
recurrent = current.scenario in TIME_SCENARIO_BY_NAME


def go(to: int) -> None:
    if run.playing:  # the step left behind keeps its run as it was: paused, not training unseen
        training_pool().pause([run.live])
    session.save(TourState(to, session.page_state(TourState).classroom))


def navigation(with_controls: bool) -> None:
    """Previous and Next at the top, so that after a click the new step's title is in
    view; presenting, the run's controls sit between them (one row, not two)."""
    cols = st.columns([1, 4, 1] if with_controls else [1, 2, 1], vertical_alignment="center")
    cols[0].button(
        "Previous",
        icon=":material/arrow_back:",
        on_click=go,
        args=(state.step - 1,),
        disabled=state.step == 0,
        width="stretch",
    )
    with cols[1]:
        where = f"Step {state.step + 1} of {len(TOUR)}"
        if with_controls:
            run_controls(run, where)
        else:
            st.progress((state.step + 1) / len(TOUR), text=where)
    cols[2].button(
        "Next",
        icon=":material/arrow_forward:",
        on_click=go,
        args=(state.step + 1,),
        disabled=state.step == len(TOUR) - 1,
        width="stretch",
        type="primary",
    )


presenting = classroom.presenting()
if not presenting:
    st.title("Lecture tour")
navigation(with_controls=presenting)
st.header(f"{state.step + 1}. {current.title}")
if not presenting:  # presenting, the lecturer says it (it waits under the charts)
    st.markdown(current.text)
# (what the trained run shows, as tests/test_claims.py checks it: at step 1 "the bottom ten layers have not
# moved ... (the 0s on the right)" stood beside a chart where all 21 had not)
charts.what_to_notice(current.notice, ", once it has trained")
if not presenting:
    run_controls(run)


def draw_headline(snap: Snapshot) -> None:
    status = run_status(run, snap, line=not presenting)  # presenting, the Step metric carries it
    if recurrent:  # presenting: the factor a step under the ratio, not in a sentence
        charts.time_headline_metrics(snap, in_words=not presenting, status=status if presenting else None)
    else:
        charts.headline_metrics(snap, status if presenting else None)


def draw(snap: Snapshot) -> None:
    for column, name in zip(st.columns(len(current.charts)), current.charts, strict=True):
        with column:
            charts.chart(f"tour:{name}", snap, lambda name=name: CHARTS[name](snap))
            # the profile's lines in words (presenting, the first screen keeps its charts whole)
            if name == "profile" and not presenting and (words := run_charts.profile_words(snap)):
                st.caption(words)


live_fragment(run, draw, decision="boundary" in current.charts, headline=draw_headline)
if presenting:
    with st.expander("The slide's text"):
        st.markdown(current.text)
if recurrent:
    st.page_link(
        "views/through_time.py",
        label="Compare recurrent networks side by side on the Through-time page",
        icon=":material/timeline:",
    )
else:
    st.page_link(
        "views/playground.py",
        label=f"Open “{current.scenario}” in the Playground to change anything",
        icon=":material/science:",
        query_params={"scenario": current.scenario},
    )
