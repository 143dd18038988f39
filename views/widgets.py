"""Widgets shared by the pages: the network's controls, URL state, the live trainer.

The one module beside the pages (views/) that is not a page, and with app.py and
the pages the only code that imports Streamlit. Pages stay thin: they call these
and the figure builders in vangrad_core.figures.
"""

from __future__ import annotations

import functools
import json
import math
import os
import threading
import time
from collections.abc import Callable

import plotly.graph_objects as go
import streamlit as st
import torch

from vangrad_core import (
    ACTIVATIONS,
    DATASETS,
    INITS,
    NORMS,
    OPTIMIZERS,
    ExperimentConfig,
    theory,
)
from vangrad_core import figures as fig
from vangrad_core.config import quote
from vangrad_core.experiments import CLASSIC_BY_KEY, Outcome
from vangrad_core.live import LiveTrainer, Snapshot
from vangrad_core.scenarios import COMPARISON_BY_NAME, SCENARIO_BY_NAME
from vangrad_core.summary import headline

WIDTHS = (2, 4, 8, 16, 32, 64, 128, 256, 512)
BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
LEARNING_RATES = (1e-4, 3e-4, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0)
# While a run plays, each tick of the live view trains for TRAIN_SECONDS_PER_TICK
# (with one of the server's training slots) and redraws. Measured with
# bench/browser.py: Streamlit starts a fragment's timer when its last run is done, so
# a refresh takes the tick's training + its drawing (~0.02 s on the server, more in
# the browser) + TICK_SECONDS + the round trip. 0.04 s / 0.07 s gives ~4.4 refreshes
# a second and a 500-step depth-20 run in ~2.5 s; more training per tick finishes
# sooner but refreshes less often. The detailed charts redraw every DETAIL_SECONDS.
TICK_SECONDS = 0.04
TRAIN_SECONDS_PER_TICK = 0.07
QUEUE_SECONDS = 1.0  # a run waits this long for a free training slot before it says it waits
DETAIL_SECONDS = 5.0  # building, sending and drawing seven more figures costs more than training
CUSTOM = "Custom (your own settings)"

LABELS = {
    "norm": {
        "none": "off",
        "batchnorm_before": "batch norm before the activation",
        "batchnorm_after": "batch norm after the activation",
        "layernorm_before": "layer norm before the activation",
    },
    "init": {
        "default": "PyTorch default",
        "small_normal": "small: N(0, 0.01²)",
        "large_normal": "large: N(0, 1)",
        "xavier_uniform": "Xavier (Glorot) uniform",
        "xavier_normal": "Xavier (Glorot) normal",
        "he_uniform": "He (Kaiming) uniform",
        "he_normal": "He (Kaiming) normal",
        "lecun_normal": "LeCun normal",
        "orthogonal": "orthogonal",
    },
    "optimizer": {"sgd": "SGD", "momentum": "SGD + momentum 0.9", "adam": "Adam"},
}


# ---- classroom: presenter mode and links with controls hidden ----------------------

HIDEABLE = ("scenario", "settings", "details", "downloads")
CLASSROOM_KEYS = ("presenter", "hide")
PRESENTER_CSS = """
<style>
html { font-size: 21px; }
[data-testid="stMetricValue"] { font-size: 2.6rem; }
</style>
"""


def presenter_mode() -> bool:
    """Presenter mode (a toggle, or ?presenter=1): larger text and charts, sidebar
    collapsed. ?hide=scenario,settings,details,downloads hides those controls, for
    links a lecturer hands out. Read once per session from the URL."""
    if "presenter" not in st.session_state:
        st.session_state["presenter"] = st.query_params.get("presenter", "").lower() in ("1", "true", "yes", "on")
        hidden = {name.strip() for name in st.query_params.get("hide", "").split(",") if name.strip()}
        st.session_state["hidden"] = hidden & set(HIDEABLE)
    with st.sidebar:
        st.toggle("Presenter mode", key="presenter", help="Larger text and charts for a projector.")
    if st.session_state["presenter"]:
        st.html(PRESENTER_CSS)
    return st.session_state["presenter"]


def shown(control: str) -> bool:
    """Whether a hideable control is shown (not listed in the link's ?hide=)."""
    return control not in st.session_state.get("hidden", set())


def classroom_params() -> dict[str, str]:
    """The URL parameters of presenter mode and hidden controls, kept on every page."""
    params = {}
    if st.session_state.get("presenter"):
        params["presenter"] = "1"
    if st.session_state.get("hidden"):
        params["hide"] = ",".join(sorted(st.session_state["hidden"]))
    return params


def _key(prefix: str, field: str) -> str:
    return f"{prefix}{field}"


def set_controls(config: ExperimentConfig, prefix: str = "cfg_") -> None:
    """Put a config's values into the widgets' session state (before they are drawn)."""
    for field, value in config.to_dict().items():
        st.session_state[_key(prefix, field)] = value


def initial_config(prefix: str = "cfg_") -> None:
    """Once per session: fill the controls from the URL (a scenario name or fields),
    and remember the URL's warnings to show."""
    if st.session_state.get(prefix + "ready"):
        return
    params = {k: st.query_params.get_all(k) for k in st.query_params if k not in CLASSROOM_KEYS}
    scenario = (params.pop("scenario", None) or [None])[-1]
    config, warnings = ExperimentConfig.from_mapping(params, source="URL parameter")
    picked = CUSTOM
    if scenario is not None:
        if scenario in SCENARIO_BY_NAME:
            picked = scenario
            config = SCENARIO_BY_NAME[scenario].config
        else:
            warnings.append("unknown scenario in the URL ignored; pick one from the list")
    set_controls(config, prefix)
    st.session_state[prefix + "scenario"] = picked
    st.session_state[prefix + "warnings"] = warnings
    st.session_state[prefix + "ready"] = True


def initial_pair() -> None:
    """Once per session, for the comparison page: fill both sides' controls from the
    URL (`pair=<name>`, or fields as a.depth=..., b.depth=...)."""
    if st.session_state.get("pair_ready"):
        return
    params = {k: st.query_params.get_all(k) for k in st.query_params if k not in CLASSROOM_KEYS}
    pair = (params.pop("pair", None) or [None])[-1]
    warnings = [f"unknown URL parameter {quote(k)} ignored" for k in params if not k.startswith(("a.", "b."))]
    configs = []
    for side in "ab":
        fields = {k[2:]: v for k, v in params.items() if k.startswith(side + ".")}
        config, side_warnings = ExperimentConfig.from_mapping(fields, source=f"URL parameter for run {side.upper()}")
        configs.append(config)
        warnings += side_warnings
    picked = CUSTOM
    if pair is not None:
        if pair in COMPARISON_BY_NAME:
            picked = pair
            configs = [COMPARISON_BY_NAME[pair].a[1], COMPARISON_BY_NAME[pair].b[1]]
        else:
            warnings.append("unknown comparison in the URL ignored; pick one from the list")
    set_controls(configs[0], "a_")
    set_controls(configs[1], "b_")
    st.session_state["pair_scenario"] = picked
    st.session_state["pair_warnings"] = warnings
    st.session_state["pair_ready"] = True


def pair_picker() -> str:
    """A select box of ready comparisons; picking one fills both sides."""

    def apply() -> None:
        name = st.session_state["pair_scenario"]
        if name in COMPARISON_BY_NAME:
            set_controls(COMPARISON_BY_NAME[name].a[1], "a_")
            set_controls(COMPARISON_BY_NAME[name].b[1], "b_")

    name = st.session_state.get("pair_scenario")
    if name in COMPARISON_BY_NAME:
        comparison = COMPARISON_BY_NAME[name]
        if (comparison.a[1], comparison.b[1]) != (controlled_config("a_"), controlled_config("b_")):
            st.session_state["pair_scenario"] = CUSTOM
    return st.selectbox("Comparison", [CUSTOM, *COMPARISON_BY_NAME], key="pair_scenario", on_change=apply)


def sync_url_pair(a: ExperimentConfig, b: ExperimentConfig, pair: str) -> None:
    """The URL carries both runs' settings (or the comparison's name)."""
    if pair in COMPARISON_BY_NAME:
        params = {"pair": pair}
    else:
        params = {f"a.{k}": v for k, v in a.to_query_params().items()}
        params |= {f"b.{k}": v for k, v in b.to_query_params().items()}
    params |= classroom_params()
    if dict(st.query_params) != params:
        st.query_params.from_dict(params)


def show_url_warnings(prefix: str = "cfg_") -> None:
    warnings = st.session_state.get(prefix + "warnings") or []
    if warnings:
        st.warning(
            "Some settings in the link could not be used, so their defaults apply:\n\n"
            + "\n".join(f"- {w}" for w in warnings[:12])
            + ("\n- …" if len(warnings) > 12 else "")
        )


def scenario_picker(prefix: str = "cfg_") -> str:
    """A select box of the lecture's scenarios; picking one fills every control."""

    def apply() -> None:
        name = st.session_state[prefix + "scenario"]
        if name in SCENARIO_BY_NAME:
            set_controls(SCENARIO_BY_NAME[name].config, prefix)

    name = st.selectbox(
        "Scenario",
        [CUSTOM, *SCENARIO_BY_NAME],
        key=prefix + "scenario",
        on_change=apply,
        help="Ready-made settings that follow the lecture. Changing any control makes it your own.",
    )
    return name


FIELDS = tuple(ExperimentConfig().to_dict())
SHARED_FIELDS = ("dataset", "noise", "seed", "steps", "batch_size")  # what a comparison keeps equal


def _choices(options: tuple, key: str) -> list:
    """A slider's options, plus the current value if a link brought another one."""
    return sorted(set(options) | {st.session_state[key]})


def config_controls(prefix: str = "cfg_", fields: tuple[str, ...] | None = None) -> ExperimentConfig:
    """The config's fields as widgets (all, or just `fields`); returns the config
    the controls describe."""
    k = lambda field: _key(prefix, field)  # noqa: E731
    show = set(fields or ExperimentConfig().to_dict())
    if show & {"depth", "width", "activation", "init", "weight_scale", "norm", "residual"}:
        st.subheader("Network")
    if "depth" in show:
        st.slider("Hidden layers (depth)", 1, 100, key=k("depth"))
    if "width" in show:
        st.select_slider("Units per layer (width)", _choices(WIDTHS, k("width")), key=k("width"))
    if "activation" in show:
        st.selectbox("Activation", ACTIVATIONS, key=k("activation"))
    if "init" in show:
        st.selectbox("Initialization", INITS, key=k("init"), format_func=LABELS["init"].get)
    if "weight_scale" in show:
        st.slider("Weight scale (multiplies the initial weights)", 0.1, 10.0, step=0.1, key=k("weight_scale"))
    if "norm" in show:
        st.selectbox("Normalization", NORMS, key=k("norm"), format_func=LABELS["norm"].get)
    if "residual" in show:
        st.toggle(
            "Residual connections",
            key=k("residual"),
            help="Each hidden block after the first adds its input to its output.",
        )
    if show & {"optimizer", "learning_rate", "grad_clip", "batch_size", "steps"}:
        st.subheader("Training")
    if "optimizer" in show:
        st.selectbox("Optimizer", OPTIMIZERS, key=k("optimizer"), format_func=LABELS["optimizer"].get)
    if "learning_rate" in show:
        st.select_slider(
            "Learning rate (log scale)",
            _choices(LEARNING_RATES, k("learning_rate")),
            key=k("learning_rate"),
            format_func=lambda v: f"{v:g}",
        )
    if "grad_clip" in show:
        st.number_input("Gradient clipping (max norm; 0 = off)", 0.0, 1e6, step=0.5, key=k("grad_clip"))
    if "batch_size" in show:
        st.select_slider("Batch size", _choices(BATCH_SIZES, k("batch_size")), key=k("batch_size"))
    if "steps" in show:
        st.number_input("Steps", 1, 20000, step=100, key=k("steps"))
    if show & {"dataset", "noise", "seed"}:
        st.subheader("Data")
    if "dataset" in show:
        st.selectbox("Dataset", DATASETS, key=k("dataset"))
    if "noise" in show:
        st.slider("Noise", 0.0, 1.0, step=0.05, key=k("noise"))
    if "seed" in show:
        st.number_input("Seed", 0, 2**31 - 1, step=1, key=k("seed"))
    return controlled_config(prefix)


def controlled_config(prefix: str = "cfg_") -> ExperimentConfig:
    """The config the controls hold now (their session state)."""
    values = {field: st.session_state[_key(prefix, field)] for field in ExperimentConfig().to_dict()}
    return ExperimentConfig.from_mapping(values)[0]


def mark_custom_if_changed(prefix: str = "cfg_") -> None:
    """A scenario stays selected only while the controls still match it (call
    before the picker is drawn)."""
    name = st.session_state.get(prefix + "scenario")
    if name in SCENARIO_BY_NAME and SCENARIO_BY_NAME[name].config != controlled_config(prefix):
        st.session_state[prefix + "scenario"] = CUSTOM


def sync_url(config: ExperimentConfig, scenario: str | None = None) -> None:
    """The URL always carries the current settings, so a pasted link reopens them."""
    params = config.to_query_params()
    if scenario in SCENARIO_BY_NAME and SCENARIO_BY_NAME[scenario].config == config:
        params = {"scenario": scenario}
    params |= classroom_params()
    if dict(st.query_params) != params:
        st.query_params.from_dict(params)


# ---- the live run ----------------------------------------------------------------


class LiveRun:
    """The page's LiveTrainer, kept in session state under `key`."""

    def __init__(self, key: str):
        self.key = key

    @property
    def live(self) -> LiveTrainer:
        return st.session_state[self.key]

    @property
    def playing(self) -> bool:
        return self.live.playing

    def ensure(self, config: ExperimentConfig) -> bool:
        """A LiveTrainer for `config`; a new, paused one if the settings changed.
        Returns whether an existing run was replaced."""
        old = st.session_state.get(self.key)
        if old is not None and old.config == config:
            return False
        if old is not None:
            old.pause()
        st.session_state[self.key] = LiveTrainer(config, slots=training_slots())
        return old is not None

    def snapshot_at_most_every(self, seconds: float, decision: bool = False) -> Snapshot:
        """A snapshot of the run; while it plays, the one taken less than `seconds` ago
        if there is one. (A view that does not train redraws nothing then: its charts
        are cached by snapshot. So the full rerun that Train starts leaves the slow views
        be, and the live view's first updates come sooner.)"""
        key = f"_snapshot_{self.key}_{decision}"
        last = st.session_state.get(key)
        if not self.playing or last is None or time.monotonic() - last[0] >= seconds:
            last = st.session_state[key] = (time.monotonic(), self.live.snapshot(decision=decision))
        return last[1]

    def play(self, on: bool) -> None:
        if on:
            self.live.play()
        else:
            self.live.pause()

    def advance(self) -> int:
        return self.live.advance(TRAIN_SECONDS_PER_TICK, queue_seconds=QUEUE_SECONDS)

    def reset(self) -> None:
        self.live.pause()
        config = self.live.config
        st.session_state[self.key] = LiveTrainer(config, slots=training_slots())


@st.cache_resource
def training_slots() -> threading.BoundedSemaphore:
    """How many runs may train at the same moment, for the whole server: one per
    core. Others wait their turn (and say so) instead of everyone slowing down."""
    return threading.BoundedSemaphore(max(1, os.cpu_count() or 1))


def run_controls(run: LiveRun) -> None:
    """Train / Pause, Step, Reset."""
    live = run.live
    cols = st.columns([1, 1, 1, 3])
    if run.playing:
        cols[0].button(
            "Pause", icon=":material/pause:", on_click=run.play, args=(False,), type="primary", width="stretch"
        )
    else:
        cols[0].button(
            "Train" if live.step_count == 0 else "Resume",
            icon=":material/play_arrow:",
            on_click=run.play,
            args=(True,),
            type="primary",
            width="stretch",
            disabled=live.done,
        )
    cols[1].button(
        "Step",
        icon=":material/skip_next:",
        on_click=live.step,
        disabled=live.done or run.playing,
        help="One optimizer step",
        width="stretch",
    )
    cols[2].button(
        "Reset",
        icon=":material/replay:",
        on_click=run.reset,
        help="Start this run again from its initial weights",
        width="stretch",
    )
    cols[3].caption("Changing a setting starts a new run from step 0.")


def run_status(run: LiveRun, snap: Snapshot) -> None:
    """One line: how far the run is and what it is doing (drawn inside the live view)."""
    status = (
        "waiting for a free training slot (many people are training right now)…"
        if run.playing and run.live.waiting
        else "training…"
        if run.playing
        else f"stopped: diverged at step {snap.diverged_at}"
        if snap.diverged_at is not None
        else "finished"
        if snap.done
        else "paused"
        if snap.step_count
        else "ready: press Train"
    )
    st.markdown(f"**{snap.step_count} / {snap.config.steps} steps**, {status}")


def live_fragment(
    run: LiveRun,
    draw: Callable[[Snapshot], None],
    every: float = TICK_SECONDS,
    trains: bool = True,
    decision: bool = False,
) -> None:
    """Draw a snapshot of the run in a fragment that, while the run plays, trains a
    little (if `trains`) and redraws every `every` seconds, and is still when
    paused. When the run stops by itself, a full rerun turns the timers off."""
    started_playing = run.playing

    def body() -> None:
        if trains:
            run.advance()
            draw(run.live.snapshot(decision=decision))
        else:
            draw(run.snapshot_at_most_every(every, decision))
        if started_playing and not run.playing:
            st.rerun(scope="app")

    st.fragment(body, run_every=every if started_playing else None)()


def pair_controls(runs: tuple[LiveRun, LiveRun]) -> None:
    """Train / Pause, Step, Reset for two runs at once."""
    playing = any(run.playing for run in runs)
    done = all(run.live.done for run in runs)

    def play(on: bool) -> None:
        for run in runs:
            run.play(on)

    def step() -> None:
        for run in runs:
            run.live.step(1)

    def reset() -> None:
        for run in runs:
            run.reset()

    cols = st.columns([1, 1, 1, 3])
    if playing:
        cols[0].button("Pause", icon=":material/pause:", on_click=play, args=(False,), type="primary", width="stretch")
    else:
        cols[0].button(
            "Train both",
            icon=":material/play_arrow:",
            on_click=play,
            args=(True,),
            type="primary",
            width="stretch",
            disabled=done,
        )
    cols[1].button("Step", icon=":material/skip_next:", on_click=step, disabled=playing or done, width="stretch")
    cols[2].button("Reset", icon=":material/replay:", on_click=reset, width="stretch")
    cols[3].caption("Both runs take the same steps on the same batches. Changing a setting restarts both.")


def pair_fragment(runs: tuple[LiveRun, LiveRun], draw: Callable[[tuple[Snapshot, Snapshot]], None]) -> None:
    """Like `live_fragment`, for two runs kept in step: each tick trains A for half a
    tick's budget, then B for as many steps."""
    started_playing = any(run.playing for run in runs)

    def body() -> None:
        leader, follower = runs[0].live, runs[1].live
        if leader.playing:
            steps = leader.advance(TRAIN_SECONDS_PER_TICK / 2)
            if follower.playing and steps:
                follower.step(steps)
        elif follower.playing:
            follower.advance(TRAIN_SECONDS_PER_TICK / 2)
        if follower.done:
            follower.pause()
        draw((leader.snapshot(), follower.snapshot()))
        if started_playing and not any(run.playing for run in runs):
            st.rerun(scope="app")

    st.fragment(body, run_every=TICK_SECONDS if started_playing else None)()


def chart(key: str, snap: Snapshot, build: Callable[[], object], *variant: object) -> None:
    """st.plotly_chart of `build()`, rebuilt only when the run has moved on (or
    `variant` changed): a session that waits for a training slot, or redraws a
    paused run, costs the server almost nothing."""
    presenter = bool(st.session_state.get("presenter"))
    stamp = (snap.stamp, variant, presenter)
    cached = st.session_state.get("_chart_" + key)
    if cached is None or cached[0] != stamp:
        cached = (stamp, for_presenter(build()))
        st.session_state["_chart_" + key] = cached
    st.plotly_chart(cached[1], width="stretch", key=key)


def for_presenter(figure: go.Figure) -> go.Figure:
    """In presenter mode, larger text and a taller chart, for the back of a lecture hall."""
    if st.session_state.get("presenter"):
        figure.update_layout(font={"size": 21}, height=max(560, figure.layout.height or 0))
    return figure


def _predicted(snap: Snapshot):
    """The theory's per-layer prediction for the run, or None where it does not apply."""
    return theory.predict_layers(snap.config) if theory.applies(snap.config) else None


def _phase_diagram(snap: Snapshot) -> object:
    activation = snap.config.activation
    point = theory.mean_field_point(snap.config) if theory.applies(snap.config) else None
    reach = PHASE_RANGE.get(activation, 4.0)
    if point is not None and point[0] > reach:  # widen to show the network, up to 16×, in powers of 2
        reach = min(reach * 2 ** math.ceil(math.log2(1.1 * point[0] / reach)), 16 * reach)
    return fig.phase_diagram(theory.phase_diagram(activation, reach), activation, point)


PHASE_RANGE = {"sigmoid": 160.0}  # sigmoid's edge of chaos lies far out (σ_w² ≈ 100); others near 1 or 2
MEASURE_LABELS = {"delta_rms": "dL/dz, with theory", "weight_grad_norm": "dL/dW"}  # fig.GRADIENT_MEASURES

# name -> (figure from a snapshot and the chart's option, caption saying what to notice);
# the option is the layer of a per-layer view, or the profile's gradient measure
CHARTS: dict[str, tuple[Callable[[Snapshot, object], object], str]] = {
    "profile": (
        lambda snap, measure: fig.gradient_profile(
            snap.layers, snap.config.activation, measure or "weight_grad_norm", _predicted(snap)
        ),
        "Gradient reaching each layer, now (solid) and at step 0 (dotted). A line falling to the left "
        "means the layers near the input learn slowest: vanishing gradients.",
    ),
    "heatmap": (
        lambda snap, option: fig.gradient_heatmap(snap.layers),
        "Each column is a step. A dark band at the bottom (input side) that stays dark: those layers get no gradient.",
    ),
    "curves": (
        lambda snap, option: fig.training_curves(snap.metrics),
        "A loss stuck near its start (0.69 for two classes) means learning has stalled.",
    ),
    "derivative": (
        lambda snap, layer: fig.derivative_with_inputs(snap.config.activation, snap.activation_inputs, layer or 1),
        "Where the blue histogram sits under the flat part of the red curve, the derivative is tiny "
        "and the gradient is cut.",
    ),
    "saturation": (
        lambda snap, option: fig.saturation_by_layer(snap.layers),
        "Bars: share of inputs where the derivative is under 10% of its peak. Crosses: units that are "
        "0 for the whole batch (dead).",
    ),
    "updates": (
        lambda snap, option: fig.update_ratios(snap.layers),
        "Size of each step's change relative to the weights. Far below the 1e-3 line: that layer is not learning.",
    ),
    "distance": (
        lambda snap, option: fig.distance_from_init(snap.layers),
        "How far each layer's weights have moved from where they started: lower layers barely move "
        "when gradients vanish.",
    ),
    "boundary": (
        lambda snap, option: fig.decision_boundary(*snap.decision),
        "What the network predicts over the plane. A flat colour means it has learned nothing.",
    ),
    "variance": (
        lambda snap, option: fig.forward_variance(
            snap.layers, _predicted(snap), snap.config.activation, theory.mean_field_point(snap.config)[0]
        ),
        "Dots on the dashed line: the signal's size per layer is what the initialization's theory says. "
        "A line falling (or rising) by a constant factor per layer is the forward half of vanishing "
        "(or exploding); Xavier keeps tanh flat, He keeps ReLU flat.",
    ),
    "phase": (
        lambda snap, option: _phase_diagram(snap),
        "Each point is a way to initialize. Blue: every layer shrinks the gradient (χ₁ < 1, ordered); "
        "red: every layer grows it (χ₁ > 1, chaotic). Deep networks train near the black line, the edge of chaos.",
    ),
}


def show_chart(name: str, snap: Snapshot, option: object = None, prefix: str = "") -> None:
    """One of CHARTS with its caption (the boundary only for 2-D data); `option` is
    the layer of a per-layer view or the profile's gradient measure."""
    if name == "boundary" and snap.decision is None:
        return
    build, caption = CHARTS[name]
    chart(prefix + name, snap, lambda: build(snap, option), option)
    st.caption(caption)


def gradient_measure(key: str) -> str:
    """Which gradient the profile shows: the backpropagated one the theory predicts
    (default), or the weights' own."""
    choice = st.segmented_control(
        "Gradient shown",
        list(fig.GRADIENT_MEASURES),
        format_func=MEASURE_LABELS.get,
        default="delta_rms",
        required=True,
        key=key,
        help="dL/dz: the gradient passed back into each layer's output (what theory predicts). "
        "dL/dW: the gradient of the layer's weights, which also scales with the layer's input.",
    )
    return choice


@functools.lru_cache(maxsize=256)
def theory_summary(config: ExperimentConfig) -> str:
    """χ₁ and what it means, in words, for the config's hidden layers."""
    if not theory.applies(config):
        return (
            "Theory line hidden: mean-field theory describes plain stacks of layers; normalization and "
            "residual connections reset the signal's scale at every layer."
        )
    sigma_w2, sigma_b2 = theory.mean_field_point(config)
    chi = float(theory.chi1(config.activation, sigma_w2, sigma_b2))
    scale = theory.depth_scale(chi)
    if chi < 1:
        scale_text = f"depth scale −1/ln χ₁ = {scale:.3g} layers"
    elif chi > 1:
        scale_text = f"growth scale 1/ln χ₁ = {scale:.3g} layers"
    else:
        scale_text = "no depth scale"
    return (
        f"**Theory (mean field):** σ_w² = {sigma_w2:.3g}, σ_b² = {sigma_b2:.3g}, so χ₁ = {chi:.3g} ({scale_text}): "
        f"{theory.gradient_in_words(chi)}."
    )


def layer_picker(snap: Snapshot, key: str) -> int:
    """A slider for the hidden layer a per-layer view shows."""
    depth = snap.config.depth
    return st.slider("Layer to inspect", 1, depth, max(1, depth // 2), key=key) if depth > 1 else 1


def headline_metrics(snap: Snapshot) -> None:
    """The numbers a lecturer reads out, and the divergence banner."""
    head = headline(snap.metrics, snap.layers)
    if snap.diverged_at is not None:
        st.error(
            f"**The run diverged at step {snap.diverged_at}**: {snap.divergence_reason}. "
            "Exploding gradients: each layer multiplied the signal up until the numbers overflowed. "
            "Try a smaller learning rate, a smaller weight scale, gradient clipping or batch norm.",
            icon=":material/error:",
        )
    cols = st.columns(5)
    cols[0].metric("Step", f"{head.step} / {snap.config.steps}")
    cols[1].metric("Loss (batch)", "–" if math.isnan(head.loss) else f"{head.loss:.3f}")
    cols[2].metric("Test accuracy", "–" if math.isnan(head.test_accuracy) else f"{head.test_accuracy:.1%}")
    cols[3].metric(
        "Gradient, layer 1 ÷ last hidden",
        "–" if math.isnan(head.gradient_ratio) else f"{head.gradient_ratio:.1e}",
        help="1 means the first layer gets as much gradient as the last; 1e-6 a millionth of it.",
    )
    saturated = head.most_saturated_layer is not None and head.most_saturated_fraction >= 0.01
    cols[4].metric(
        "Most saturated layer",
        f"{head.most_saturated_layer}" if saturated else "none",
        f"{head.most_saturated_fraction:.0%} saturated" if saturated else None,
        delta_color="off",
        delta_arrow="off",
    )


def most_saturated_layer(snap: Snapshot) -> int:
    """The hidden layer with the largest saturated fraction at the latest step (1 if none)."""
    head = headline(snap.metrics, snap.layers)
    return head.most_saturated_layer or 1


def url_choice(name: str, choices: tuple[str, ...], state_key: str) -> None:
    """Once per session: put the URL's `name` into `state_key` if it is one of
    `choices` (else warn); warn about any other parameter the page does not know."""
    if state_key + "_from_url" in st.session_state:
        return
    st.session_state[state_key + "_from_url"] = True
    warnings = [
        f"unknown URL parameter {quote(key)} ignored" for key in st.query_params if key not in (name, *CLASSROOM_KEYS)
    ]
    if name in st.query_params:
        value = st.query_params[name]
        if value in choices:
            st.session_state[state_key] = value
        else:
            warnings.append(f"{name}: {quote(value)} is not one of this page's choices; using the default")
    if warnings:
        st.warning("Some settings in the link could not be used:\n\n" + "\n".join(f"- {w}" for w in warnings[:12]))


def sync_url_choice(name: str, value: str) -> None:
    """Keep the page's one choice (and the classroom flags) in the URL."""
    params = {name: value} | classroom_params()
    if dict(st.query_params) != params:
        st.query_params.from_dict(params)


def tour_step(n_steps: int) -> int:
    """The tour's current step (0-based), from the URL's `step` (1-based) on the first
    visit, and kept in the URL so that a lecturer can jump back to it."""
    if "tour_step" not in st.session_state:
        raw = st.query_params.get("step", "1")
        try:
            step = int(raw) - 1
            if not 0 <= step < n_steps:
                raise ValueError
        except ValueError:
            st.session_state["tour_warning"] = (
                f"The link asked for tour step {quote(raw)}; the tour has steps 1 to {n_steps}. Starting at step 1."
            )
            step = 0
        st.session_state["tour_step"] = step
    if warning := st.session_state.pop("tour_warning", None):
        st.warning(warning)
    step = st.session_state["tour_step"]
    params = {"step": str(step + 1)} | classroom_params()
    if dict(st.query_params) != params:
        st.query_params.from_dict(params)
    return step


def tour_navigation(step: int, n_steps: int) -> None:
    """Previous / Next, with the step counter between them."""

    def go(to: int) -> None:
        st.session_state["tour_step"] = to

    cols = st.columns([1, 2, 1])
    cols[0].button(
        "Previous", icon=":material/arrow_back:", on_click=go, args=(step - 1,), disabled=step == 0, width="stretch"
    )
    cols[1].caption(f"Step {step + 1} of {n_steps}: the URL keeps the step, to come back to it.")
    cols[2].button(
        "Next",
        icon=":material/arrow_forward:",
        on_click=go,
        args=(step + 1,),
        disabled=step == n_steps - 1,
        width="stretch",
        type="primary",
    )


def downloads(run: LiveRun) -> None:
    """The per-layer statistics as CSV and the config as JSON (made on click)."""
    live = run.live
    files = (
        ("Per-layer statistics (CSV)", lambda: live.snapshot().layers.to_csv(index=False), "layers.csv", "text/csv"),
        ("Loss and accuracy (CSV)", lambda: live.snapshot().metrics.to_csv(index=False), "metrics.csv", "text/csv"),
        ("Settings (JSON)", lambda: json.dumps(live.config.to_dict(), indent=2), "config.json", "application/json"),
    )
    for column, (label, data, name, mime) in zip(st.columns(len(files)), files, strict=True):
        column.download_button(
            label,
            icon=":material/download:",
            data=data,
            file_name=f"vangrad-{name}",
            mime=mime,
            on_click="ignore",
            width="stretch",
        )


@st.cache_resource
def limit_torch_threads() -> None:
    """One torch thread per training call: sessions run side by side, not one
    session on every core (set once per process)."""
    torch.set_num_threads(1)


# ---- the classic experiments -------------------------------------------------------


@st.cache_data(max_entries=50, show_spinner=False)
def classic_outcome(key: str, seed: int) -> tuple[Outcome, float]:
    """An experiment's outcome and the seconds it took; computed once per server for
    each (experiment, seed), with one of the training slots (deterministic: every
    session would compute the same numbers)."""
    with training_slots():
        start = time.perf_counter()
        outcome = CLASSIC_BY_KEY[key].run(seed)
        return outcome, time.perf_counter() - start


def classic_verdict(outcome: Outcome, seconds: float) -> None:
    """Reproduced or not, with the numbers that decide it."""
    if outcome.reproduced:
        st.success(outcome.verdict, icon=":material/check_circle:")
    else:
        st.warning(outcome.verdict, icon=":material/help:")
    with st.expander("The deciding numbers"):
        st.dataframe(
            {"number": list(outcome.numbers), "value": [f"{v:.4g}" for v in outcome.numbers.values()]},
            hide_index=True,
        )
        st.caption(f"Computed in {seconds:.1f} s on one core.")
