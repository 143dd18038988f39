"""Classic experiments: the papers that found the problem and its fixes, re-run here."""

import re
import time

import streamlit as st

from vangrad_core import figures
from vangrad_core.config import MAX_SEED
from vangrad_core.experiments import CLASSIC_BY_KEY, Outcome
from vangrad_core.lessons import ISOMETRY_TARGET, MEMORY_SUCCESS_MSE
from vangrad_core.writing import number
from views.ui import charts, classroom, session
from views.ui.live import training_slots
from views.ui.state import ClassicsState

# experiment -> its charts, drawn like the paper's, from the outcome's frames
FIGURES = {
    "glorot": lambda f: [figures.glorot_saturation(f["activations"]), figures.glorot_gradients(f["profiles"])],
    "he": lambda f: [figures.he_comparison(f["metrics"], f["profiles"])],
    "ioffe": lambda f: [figures.ioffe_figure(f["curves"], f["percentiles"])],
    "dying": lambda f: [figures.dying_figure(f["dead"])],
    "selu": lambda f: [figures.selu_figure(f["profiles"])],
    "lstm": lambda f: [figures.memory_figure(f["accuracy"], f["gradients"], MEMORY_SUCCESS_MSE)],
    "bn_init": lambda f: [figures.bn_by_depth(f["depths"], f["prediction"]), figures.bn_variants(f["variants"])],
    "isometry": lambda f: [figures.isometry_figure(f["spectra"], f["curves"], ISOMETRY_TARGET)],
    "shattered": lambda f: [figures.shattered_figure(f["correlation"], f["gradients"])],
    "width": lambda f: [figures.width_figure(f["spread"])],
}


# words in the deciding numbers' keys, as a student reads them elsewhere on the page
KEY_WORDS = {
    "rnn": "RNN",
    "lstm": "LSTM",
    "bn": "batch norm",
    "he": "He",
    "xavier": "Xavier",
    "selu": "SELU",
    "relu": "ReLU",
    "gaussian": "Gaussian",
}


LOWER_CASE = ("tanh", "sigmoid")  # functions' names, lower case even first


def number_name(key: str) -> str:
    """A deciding number's key in words: "xavier_normal_final_loss" -> "Xavier normal final
    loss", "spread_width16" -> "Spread width 16"."""
    words = " ".join(KEY_WORDS.get(word, word) for word in key.split("_"))
    words = re.sub(r"([a-z])(\d)", r"\1 \2", words)
    return words if words.startswith(LOWER_CASE) else words[0].upper() + words[1:]


@st.cache_data(max_entries=50, show_spinner=False)
def outcome_of(key: str, seed: int) -> tuple[Outcome, float]:
    """An experiment's outcome and the seconds it took; computed once per server for
    each (experiment, seed), with one of the training slots (deterministic: every
    session would compute the same numbers)."""
    with training_slots():
        start = time.perf_counter()
        outcome = CLASSIC_BY_KEY[key].run(seed)
        return outcome, time.perf_counter() - start


def show_charts(key: str, outcome: Outcome) -> None:
    """The experiment's charts, drawn like the paper's."""
    for i, figure in enumerate(FIGURES[key](outcome.frames)):
        charts.show(figure, f"classic:{key}:{i}", first_screen=False)  # below the verdict anyway; panels, legends


state = session.page_state(ClassicsState)
# presenting, the screen is for the experiment: its title heads the page, the picker waits in the sidebar
presenting = classroom.presenting()
aside = st.sidebar if presenting else st
if not presenting:
    st.title("Classic experiments")
aside.caption(
    "The experiments that found vanishing gradients and their fixes, re-run small enough to take "
    "seconds. Each says what the paper found, runs it on the engine behind every other page, and "
    "decides from the numbers whether the finding holds here."
)
charts.link_warnings(session.link_warnings(ClassicsState))
st.session_state.setdefault("classic", state.choice)
key = aside.segmented_control(
    "Experiment",
    list(CLASSIC_BY_KEY),
    format_func=lambda k: CLASSIC_BY_KEY[k].paper.title,
    key="classic",
    required=True,
)
session.save(ClassicsState(key, state.classroom))
paper = CLASSIC_BY_KEY[key].paper

(st.title if presenting else st.header)(paper.title)


def about() -> None:
    """What the paper found, and what this run does."""
    st.markdown(f"**{paper.paper}{'' if paper.paper.endswith('?') else '.'}** {paper.finding}")  # a title may ask
    st.caption(f"**This run:** {paper.setup}")


# presenting, the verdict and its chart come first, on the projector's first screen (under
# the paper's finding and this run's setup, up to ten lines of large text, the chart began
# at the screen's foot); what the paper found follows, for the lecturer to scroll to
if not presenting:
    about()
left, right = st.columns([1, 3], vertical_alignment="bottom")
seed = left.number_input(
    "Seed", 0, MAX_SEED, 0, key="classic_seed", help="Another seed, another draw of weights and batches."
)
ran = st.session_state.setdefault("classic_ran", {})  # experiment -> the seed last run
if right.button("Run", type="primary", icon=":material/play_arrow:", key=f"classic_run_{key}"):
    ran[key] = int(seed)
if key not in ran:
    st.info("Press **Run** to reproduce it.", icon=":material/science:")
else:
    with st.spinner("Running… (seconds; waits for a free core when the class is busy)"):
        outcome, seconds = outcome_of(key, ran[key])
    if ran[key] != seed:
        st.caption(f"Showing the run with seed {ran[key]}; press Run for seed {seed}.")
    if outcome.reproduced:
        st.success(outcome.verdict, icon=":material/check_circle:")
    else:
        st.warning(outcome.verdict, icon=":material/help:")
    if presenting:
        show_charts(key, outcome)
    with st.expander("The deciding numbers"):
        st.dataframe(
            {
                "number": [number_name(key) for key in outcome.numbers],
                "value": [number(value, 4) for value in outcome.numbers.values()],  # e−, − as every caption
            },
            hide_index=True,
        )
        st.caption(f"Computed in {seconds:.1f} s on one core.")
    if not presenting:
        show_charts(key, outcome)
if presenting:
    about()
