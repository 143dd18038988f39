"""Each page's state codec (views/ui/state.py): every state a page can be in survives
its own link, and no link, however hostile, makes a codec raise or fall back blind.

This is where links are checked in bulk (thousands of them, in milliseconds each);
`test_robustness` opens a few dozen random links on the pages themselves."""

from __future__ import annotations

import dataclasses

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import ANYTHING, valid_settings
from vangrad_core import ExperimentConfig
from vangrad_core.lessons import COMPARISONS, SCENARIOS, TIME_COMPARISONS, TOUR
from vangrad_core.recurrent import RecurrentConfig
from views.ui.state import (
    HIDEABLE,
    BatchNormState,
    ChoiceState,
    ClassicsState,
    Classroom,
    CompareState,
    PageState,
    PlaygroundState,
    ThroughTimeState,
    TourState,
    WhySigmoidSliders,
    WhySigmoidState,
)

PAGE_STATES: tuple[type[PageState], ...] = (
    PlaygroundState,
    TourState,
    CompareState,
    ThroughTimeState,
    BatchNormState,
    WhySigmoidState,
    ClassicsState,
)
FALLBACK = "could not read the link; using the defaults"  # the codec's last resort: a bug if a link reaches it

classrooms = st.builds(Classroom, st.booleans(), st.frozensets(st.sampled_from(HIDEABLE)))
configs = valid_settings(ExperimentConfig)
recurrent_configs = valid_settings(RecurrentConfig)


def choice_states(cls: type[ChoiceState]) -> st.SearchStrategy:
    return st.builds(cls, st.sampled_from(cls.CHOICES), classrooms)


def pair_states(cls: type[CompareState], pairs, config_strategy) -> st.SearchStrategy:
    """A ready pair, or two configs of the page's kind (B takes A's shared fields)."""
    ready = st.builds(lambda pair, room: cls(pair.a[1], pair.b[1], pair.name, room), st.sampled_from(pairs), classrooms)
    own = st.builds(lambda a, b, room: cls(a, b, None, room), config_strategy, config_strategy, classrooms)
    return st.one_of(ready, own)


STATES = {
    PlaygroundState: st.one_of(
        st.builds(lambda config, room: PlaygroundState(config, None, room), configs, classrooms),
        st.builds(lambda s, room: PlaygroundState(s.config, s.name, room), st.sampled_from(SCENARIOS), classrooms),
    ),
    TourState: st.builds(TourState, st.integers(0, len(TOUR) - 1), classrooms),
    CompareState: pair_states(CompareState, COMPARISONS, configs),
    ThroughTimeState: pair_states(ThroughTimeState, TIME_COMPARISONS, recurrent_configs),
    BatchNormState: choice_states(BatchNormState),
    WhySigmoidState: st.builds(
        WhySigmoidState, st.sampled_from(WhySigmoidState.CHOICES), classrooms, valid_settings(WhySigmoidSliders)
    ),
    ClassicsState: choice_states(ClassicsState),
}


def param_names(cls: type[PageState]) -> list[str]:
    """The keys a link to this page can carry: its own, and every config field with the
    prefixes the pages use."""
    fields = [*ExperimentConfig.FIELDS, *RecurrentConfig.FIELDS, *WhySigmoidSliders.FIELDS]
    return [
        *fields,
        *(f"{side}.{name}" for side in "ab" for name in fields),
        "scenario", "pair", "step", "network", "activation", "experiment", "presenter", "hide",
    ]  # fmt: skip


def test_every_page_has_a_strategy():
    assert set(STATES) == set(PAGE_STATES)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_every_state_survives_its_own_link(data):
    cls = data.draw(st.sampled_from(PAGE_STATES))
    state = data.draw(STATES[cls])
    params = state.to_query_params()
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in params.items())
    again, warnings = cls.from_query_params(params)
    assert warnings == []
    assert again == state


@settings(max_examples=400, deadline=None)
@given(st.data())
def test_hostile_links_never_raise_and_each_bad_key_is_named(data):
    cls = data.draw(st.sampled_from(PAGE_STATES))
    keys = st.one_of(st.sampled_from(param_names(cls)), st.text(max_size=30))
    params = data.draw(st.dictionaries(keys, ANYTHING, max_size=8))
    state, warnings = cls.from_query_params(params)
    assert isinstance(state, cls)
    assert FALLBACK not in warnings
    for warning in warnings:
        assert isinstance(warning, str) and len(warning) < 400
        assert "<" not in warning and ">" not in warning  # quoted: safe as Markdown
    again, more = cls.from_query_params(state.to_query_params())  # what the page writes back is a clean link
    assert (again, more) == (state, [])


def test_a_link_that_is_all_good_gives_no_warning_and_one_that_is_all_bad_gives_the_defaults():
    state, warnings = TourState.from_query_params({"step": "3", "presenter": "1", "hide": "settings"})
    assert (state.step, state.classroom, warnings) == (2, Classroom(True, frozenset({"settings"})), [])
    state, warnings = TourState.from_query_params({"step": "99", "presenter": "<x>", "hide": "all", "colour": "red"})
    assert state == TourState()
    assert len(warnings) == 4  # one per bad key, none silently dropped
    assert all(any(key in w for w in warnings) for key in ("step", "presenter", "hide", "colour"))


def test_compare_b_takes_a_s_data_seed_steps_and_batch():
    a = ExperimentConfig(dataset="circles", seed=3, steps=40, batch_size=16)
    state = CompareState(a, ExperimentConfig(depth=4))
    shared = ("dataset", "seed", "steps", "batch_size")
    assert [getattr(state.b, name) for name in shared] == [getattr(a, name) for name in shared]
    assert state.b.depth == 4
    assert dataclasses.replace(state, pair=None) == state


def test_a_compare_link_with_a_bad_value_keeps_the_default_its_warning_names():
    """`?a.depth=abc` said "using the default 10" and opened the first ready pair, A at
    20 layers: what a link leaves out or gets wrong is now the first pair's."""
    first = COMPARISONS[0]
    state, warnings = CompareState.from_query_params({"a.depth": "abc"})
    assert (state.pair, state.a, state.a.depth) == (first.name, first.a[1], 20)
    assert warnings == ["a.depth: 'abc' is not valid (an integer from 1 to 100); using the default 20"]
    state, _ = CompareState.from_query_params({"a.depth": "5"})
    assert (state.pair, state.a, state.b) == (None, first.a[1].replace(depth=5), first.b[1])
    assert CompareState.from_query_params({})[0].pair == first.name
    # B's seed alone gives way to A's (B runs on A's data): that is the first pair, named
    # as such, so that its link reads back as itself (hypothesis found it)
    state, _ = CompareState.from_query_params({"b.seed": "1"})
    assert state.pair == first.name and CompareState.from_query_params(state.to_query_params())[0] == state


def test_a_link_s_settings_that_a_scenario_or_a_ready_pair_overrules_are_named():
    """A scenario sets every setting and a ready pair both runs: a link's own values
    beside them were dropped without a word (a browser walk, 2026-12-05)."""
    scenario = SCENARIOS[0]
    state, warnings = PlaygroundState.from_query_params({"scenario": scenario.name, "depth": "3", "activation": "relu"})
    assert (state.scenario, state.config) == (scenario.name, scenario.config)
    custom = "(choose “Custom” to set your own)"
    assert warnings == [f"depth, activation: ignored, as the scenario sets every setting {custom}"]
    pair = COMPARISONS[1]
    state, warnings = CompareState.from_query_params({"pair": pair.name, "a.depth": "3", "b.norm": "none"})
    assert (state.pair, state.a, state.b) == (pair.name, pair.a[1], pair.b[1])
    assert warnings == [f"a.depth, b.norm: ignored, as the ready comparison sets both runs {custom}"]


def test_b_s_shared_settings_in_a_link_that_give_way_to_a_s_are_named():
    state, warnings = CompareState.from_query_params({"a.dataset": "xor", "b.dataset": "digits", "b.depth": "4"})
    assert (state.a.dataset, state.b.dataset, state.b.depth) == ("xor", "xor", 4)
    assert warnings == ["b.dataset: ignored, as run B takes run A's dataset (xor)"]
    state, warnings = CompareState.from_query_params({"a.dataset": "xor", "b.dataset": "xor"})
    assert warnings == []  # the same as A's: nothing to say
    state, warnings = CompareState.from_query_params({"a.dataset": "xor", "b.dataset": "bogus"})
    assert len(warnings) == 1 and warnings[0].startswith("b.dataset: 'bogus' is not valid")  # (one, not two)
    assert warnings[0].endswith("; run B takes run A's (xor)") and state.b.dataset == "xor"
    state, warnings = ThroughTimeState.from_query_params({"a.steps": "300", "b.steps": "10", "b.seed": "0"})
    assert state.b.steps == 300
    assert warnings == ["b.steps: ignored, as run B takes run A's steps (300)"]


def test_choices_and_steps_a_link_gets_wrong_name_what_is_used_instead():
    """Number fields said "using the default 10"; a choice said "using the default" alone."""
    assert TourState.from_query_params({"step": "99"})[1] == [
        f"step: '99' is not a step of the tour (1 to {len(TOUR)}); using the default 1"
    ]
    default = WhySigmoidState.CHOICES[0]
    assert WhySigmoidState.from_query_params({"activation": "softmax"})[1] == [
        f"activation: 'softmax' is not an activation; using the default, “{default}”"
    ]
    (warning,) = CompareState.from_query_params({"pair": "nope"})[1]
    first = COMPARISONS[0].name
    assert warning.endswith(f"using the link's a. and b. settings, else the first ready comparison ({first})")
    (warning,) = PlaygroundState.from_query_params({"scenario": "nope"})[1]
    assert warning.endswith("using the link's other settings")
