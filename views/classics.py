"""Classic experiments: the papers that found the problem and its fixes, re-run here."""

import streamlit as st

from vangrad_core import figures as fig
from vangrad_core.experiments import CLASSIC_BY_KEY, CLASSICS
from views import widgets

# experiment -> its charts, drawn like the paper's, from the outcome's frames
FIGURES = {
    "glorot": lambda f: [fig.glorot_saturation(f["activations"]), fig.glorot_gradients(f["profiles"])],
    "he": lambda f: [fig.he_comparison(f["metrics"], f["profiles"])],
    "ioffe": lambda f: [fig.ioffe_figure(f["curves"], f["percentiles"])],
    "dying": lambda f: [fig.dying_figure(f["dead"])],
    "selu": lambda f: [fig.selu_figure(f["profiles"])],
}

widgets.limit_torch_threads()
st.title("Classic experiments")
st.caption(
    "The experiments that found vanishing gradients and their fixes, re-run small enough to take "
    "seconds. Each says what the paper found, runs it on the engine behind every other page, and "
    "decides from the numbers whether the finding holds here."
)
st.session_state.setdefault("classic", CLASSICS[0].key)
widgets.url_choice("experiment", tuple(CLASSIC_BY_KEY), "classic")
key = st.segmented_control(
    "Experiment", list(CLASSIC_BY_KEY), format_func=lambda k: CLASSIC_BY_KEY[k].title, key="classic", required=True
)
widgets.sync_url_choice("experiment", key)
classic = CLASSIC_BY_KEY[key]

st.header(classic.title)
st.markdown(f"**{classic.paper}.** {classic.finding}")
st.caption(f"**This run:** {classic.setup}")
left, right = st.columns([1, 3], vertical_alignment="bottom")
seed = left.number_input(
    "Seed", 0, 2**31 - 1, 0, key="classic_seed", help="Another seed, another draw of weights and batches."
)
if right.button("Run", type="primary", icon=":material/play_arrow:", key=f"classic_run_{key}"):
    st.session_state[f"classic_ran_{key}"] = int(seed)
ran_seed = st.session_state.get(f"classic_ran_{key}")
if ran_seed is None:
    st.info("Press **Run** to reproduce it.", icon=":material/science:")
else:
    with st.spinner("Running… (seconds; waits for a free core when the class is busy)"):
        outcome, seconds = widgets.classic_outcome(key, ran_seed)
    if ran_seed != seed:
        st.caption(f"Showing the run with seed {ran_seed}; press Run for seed {seed}.")
    widgets.classic_verdict(outcome, seconds)
    for i, figure in enumerate(FIGURES[key](outcome.frames)):
        st.plotly_chart(widgets.for_presenter(figure), width="stretch", key=f"classic_chart_{key}_{i}")
