"""Each page's state as one object, with one codec for the URL.

In the spirit of TensorFlow Playground's `state.ts`: everything a link can carry for
a page (its configs, the scenario or pair, the tour step, the chosen experiment,
presenter mode and hidden controls) is one frozen dataclass. `to_query_params()`
writes it; `from_query_params(params)` reads it back and never raises: each bad or
unknown key is ignored, with one warning (safe to show as Markdown). Pure Python, no
Streamlit: `views/ui/session.py` binds these to the session and the address bar.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, ClassVar, Self

from vangrad_core import ACTIVATIONS, ExperimentConfig
from vangrad_core.experiments import CLASSIC_BY_KEY
from vangrad_core.lessons import (
    BATCHNORM_NETWORKS,
    BATCHNORM_QUESTION,
    COMPARISON_BY_NAME,
    COMPARISONS,
    SCENARIO_BY_NAME,
    TIME_COMPARISON_BY_NAME,
    TIME_COMPARISONS,
    TOUR,
    Comparison,
)
from vangrad_core.recurrent import RecurrentConfig
from vangrad_core.settings import Field, ParamReader, Rule, Settings, quote

HIDEABLE = ("scenario", "settings", "details", "downloads")
_ON = ("1", "true", "yes", "on")
_OFF = ("", "0", "false", "no", "off")
# the scenario and pair pickers' first choice, and what a warning about overruled settings says of it
CUSTOM = "Custom (your own settings)"
_CHOOSE_CUSTOM = f"choose “{CUSTOM.partition(' (')[0]}” to set your own"


@dataclasses.dataclass(frozen=True)
class Classroom:
    """Presenter mode (larger text, sidebar collapsed) and the controls a lecturer's
    link hides (`?hide=settings,downloads`). Every page carries it."""

    presenter: bool = False
    hidden: frozenset[str] = frozenset()

    def shows(self, control: str) -> bool:
        return control not in self.hidden

    def to_query_params(self) -> dict[str, str]:
        params = {"presenter": "1"} if self.presenter else {}
        if self.hidden:
            params["hide"] = ",".join(sorted(self.hidden))
        return params

    @classmethod
    def read(cls, reader: ParamReader) -> Classroom:
        said = reader.text("presenter")
        flag = None if said is None else said.strip().lower()
        presenter = flag in _ON
        if not presenter and flag not in _OFF:
            reader.warn(f"presenter: {quote(said)} is not valid (1 or 0); presenter mode stays off")
        hide = reader.text("hide")
        if hide is None:
            reader.warn("hide: the value is not text; nothing is hidden")
        asked = {name.strip() for name in (hide or "").split(",") if name.strip()}
        for name in sorted(asked - set(HIDEABLE)):
            reader.warn(f"hide: {quote(name)} is not a control that can be hidden ({', '.join(HIDEABLE)})")
        return cls(presenter, frozenset(asked & set(HIDEABLE)))


class PageState:
    """Base of the pages' states: `read` each part from a ParamReader, then warn about
    whatever key nobody took."""

    classroom: Classroom
    PAGE: ClassVar[str]

    def to_query_params(self) -> dict[str, str]:
        return self.own_params() | self.classroom.to_query_params()

    def own_params(self) -> dict[str, str]:
        raise NotImplementedError

    @classmethod
    def read(cls, reader: ParamReader) -> Self:
        raise NotImplementedError

    @classmethod
    def from_query_params(cls, params: Mapping[str, Any]) -> tuple[Self, list[str]]:
        reader = ParamReader(params)
        try:
            state = cls.read(reader)
        except Exception:  # a bug here must not cost the page: defaults, and say so
            return cls(), ["could not read the link; using the defaults"]
        return state, reader.warnings + reader.unknown()


@dataclasses.dataclass(frozen=True)
class PlaygroundState(PageState):
    """A config, and the scenario it came from (only while the config is still the
    scenario's: then the link carries just the scenario's name)."""

    PAGE = "playground"
    config: ExperimentConfig = dataclasses.field(default_factory=ExperimentConfig)
    scenario: str | None = None
    classroom: Classroom = Classroom()

    def own_params(self) -> dict[str, str]:
        if self.scenario in SCENARIO_BY_NAME and SCENARIO_BY_NAME[self.scenario].config == self.config:
            return {"scenario": self.scenario}
        return self.config.to_query_params()

    @classmethod
    def read(cls, reader: ParamReader) -> PlaygroundState:
        classroom = Classroom.read(reader)
        scenario = reader.choice("scenario", SCENARIO_BY_NAME, "one of the scenarios", "the link's other settings")
        if scenario is None:
            return cls(ExperimentConfig.read(reader), None, classroom)
        reader.overruled(ExperimentConfig.FIELDS, f"the scenario sets every setting ({_CHOOSE_CUSTOM})")
        return cls(SCENARIO_BY_NAME[scenario].config, scenario, classroom)

    def with_config(self, config: ExperimentConfig) -> PlaygroundState:
        """The state after the form changed the config (the scenario stays only if it still matches)."""
        scenario = self.scenario if self.scenario and SCENARIO_BY_NAME[self.scenario].config == config else None
        return dataclasses.replace(self, config=config, scenario=scenario)


SHARED_FIELDS = ("dataset", "noise", "seed", "steps", "batch_size")  # what a comparison keeps equal


@dataclasses.dataclass(frozen=True)
class CompareState(PageState):
    """Two configs (B shares A's SHARED fields: its data, seed, steps and batch size),
    and the ready pair (from PAIRS) they came from. What a link does not say (or gets
    wrong) is the first ready pair's: a link without runs opens that pair, not two
    equal networks that would draw one line over the other."""

    PAGE = "compare"
    CONFIG: ClassVar[type] = ExperimentConfig
    PAIRS: ClassVar[Mapping[str, Comparison]] = COMPARISON_BY_NAME
    SHARED: ClassVar[tuple[str, ...]] = SHARED_FIELDS
    a: ExperimentConfig = dataclasses.field(default_factory=lambda: COMPARISONS[0].a[1])
    b: ExperimentConfig = dataclasses.field(default_factory=lambda: COMPARISONS[0].b[1])
    pair: str | None = COMPARISONS[0].name
    classroom: Classroom = Classroom()

    def __post_init__(self) -> None:  # B runs on A's data: one truth, kept here
        b, _ = self._b_on_a_data()
        if b is not None:  # (None: B shares A's data already, or its own rules refuse A's values)
            object.__setattr__(self, "b", b)
        if self.pair is not None and (self.pair not in self.PAIRS or not self._is_pair(self.pair)):
            object.__setattr__(self, "pair", None)  # (named only while the configs are that pair's)

    def _b_on_a_data(self) -> tuple[object | None, str | None]:
        """B with A's SHARED values, and why B's rules refuse them (batch norm and A's batch
        of 1); (None, None) if B has them already."""
        shared = {name: getattr(self.a, name) for name in self.SHARED}
        if all(getattr(self.b, name) == value for name, value in shared.items()):
            return None, None
        return self.CONFIG.from_values(self.b.to_dict() | shared)

    def unshared(self) -> str | None:
        """Why B could not take A's shared values, or None: B shares them all."""
        return self._b_on_a_data()[1]

    def own_params(self) -> dict[str, str]:
        if self.pair is not None:
            return {"pair": self.pair}
        return self.a.to_query_params("a.") | self.b.to_query_params("b.")

    def _is_pair(self, name: str) -> bool:
        comparison = self.PAIRS[name]
        return (comparison.a[1], comparison.b[1]) == (self.a, self.b)

    @classmethod
    def read(cls, reader: ParamReader) -> Self:
        classroom = Classroom.read(reader)
        first = next(iter(cls.PAIRS))  # what a link leaves out is the first pair's
        instead = f"the link's a. and b. settings, else the first ready comparison ({first})"
        pair = reader.choice("pair", cls.PAIRS, "one of the ready comparisons", instead)
        if pair is not None:
            keys = [side + name for side in ("a.", "b.") for name in cls.CONFIG.FIELDS]
            reader.overruled(keys, f"the ready comparison sets both runs ({_CHOOSE_CUSTOM})")
            return cls(cls.PAIRS[pair].a[1], cls.PAIRS[pair].b[1], pair, classroom)
        a = cls.CONFIG.read(reader, "a.", cls.PAIRS[first].a[1])
        b_given = [name for name in cls.SHARED if reader.has("b." + name)]
        warned = len(reader.warnings)
        b = cls.CONFIG.read(reader, "b.", cls.PAIRS[first].b[1])
        b_given = [name for name in b_given if not any(w.startswith(f"b.{name}:") for w in reader.warnings[warned:])]
        state = cls(a, b, None, classroom)  # (B takes A's data here: only then is it the pair's, or not)
        for i in range(warned, len(reader.warnings)):  # a bad shared value of B's gives way to A's, not the default
            name = reader.warnings[i].partition(":")[0].removeprefix("b.")
            if name in cls.SHARED and getattr(state.b, name) == getattr(state.a, name):
                said = reader.warnings[i].rpartition("; using")[0]
                reader.warnings[i] = f"{said}; run B takes run A's ({getattr(state.a, name)})"
        overruled = [name for name in b_given if getattr(b, name) != getattr(state.b, name)]  # (valid, then dropped)
        if overruled:
            reader.warn(
                f"{', '.join('b.' + name for name in overruled)}: ignored, as run B takes run A's "
                + ", ".join(f"{name} ({getattr(state.a, name)})" for name in overruled)
            )
        return dataclasses.replace(state, pair=first) if state._is_pair(first) else state

    def with_configs(self, a, b) -> Self:
        return dataclasses.replace(self, a=a, b=b)  # (the pair's name goes if they are no longer its configs)


@dataclasses.dataclass(frozen=True)
class ThroughTimeState(CompareState):
    """The Through-time page: two recurrent runs, compared like Compare's."""

    PAGE = "through_time"
    CONFIG = RecurrentConfig
    PAIRS = TIME_COMPARISON_BY_NAME
    SHARED = ("task", "seed", "steps", "batch_size")
    a: RecurrentConfig = dataclasses.field(default_factory=lambda: TIME_COMPARISONS[0].a[1])
    b: RecurrentConfig = dataclasses.field(default_factory=lambda: TIME_COMPARISONS[0].b[1])
    pair: str | None = TIME_COMPARISONS[0].name


@dataclasses.dataclass(frozen=True)
class TourState(PageState):
    """The tour's step, 0-based here and 1-based in the link."""

    PAGE = "tour"
    step: int = 0
    classroom: Classroom = Classroom()

    def own_params(self) -> dict[str, str]:
        return {"step": str(self.step + 1)}

    @classmethod
    def read(cls, reader: ParamReader) -> TourState:
        classroom = Classroom.read(reader)
        step = reader.integer("step", 1, len(TOUR), "a step of the tour", 1)
        return cls(0 if step is None else step - 1, classroom)


@dataclasses.dataclass(frozen=True)
class ChoiceState(PageState):
    """A page whose state is one choice from a list (and the classroom flags)."""

    KEY: ClassVar[str]
    CHOICES: ClassVar[tuple[str, ...]]
    WHAT: ClassVar[str]
    choice: str = ""
    classroom: Classroom = Classroom()

    def __post_init__(self) -> None:
        if self.choice not in self.CHOICES:
            object.__setattr__(self, "choice", self.CHOICES[0])

    def own_params(self) -> dict[str, str]:
        return {self.KEY: self.choice}

    @classmethod
    def read(cls, reader: ParamReader) -> Self:
        classroom = Classroom.read(reader)
        instead = f"the default, “{cls.CHOICES[0]}”"
        return cls(reader.choice(cls.KEY, cls.CHOICES, cls.WHAT, instead) or "", classroom)


@dataclasses.dataclass(frozen=True)
class BatchNormState(ChoiceState):
    PAGE = "batchnorm"
    KEY, CHOICES, WHAT = "network", tuple(BATCHNORM_NETWORKS), "one of this page's networks"


_QUESTION_RATES = tuple(BATCHNORM_QUESTION)
_QUESTION_DEPTH = min(answer.a[1].depth for answer in BATCHNORM_QUESTION.values())


@dataclasses.dataclass(frozen=True)
class WhySigmoidSliders(Settings):
    """The why-sigmoid page's sliders, for its link: a lecturer's L = 40 opens as L = 40."""

    FIELDS: ClassVar[Mapping[str, Field]] = {
        field.name: field
        for field in (
            Field("x", "Input x", "A change in, a change out", "float", low=-8.0, high=8.0, step=0.5),
            Field("change", "Change of the input", "A change in, a change out", "float", low=0.5, high=8.0, step=0.5),
            Field("layers", "Hidden layers L", "The chain rule", "int", low=2, high=40),
            Field(
                "learning_rate",
                "Learning rate",
                "Batch norm",
                "float",
                low=min(_QUESTION_RATES),
                high=max(_QUESTION_RATES),
            ),
            Field("layer", "Layer to look at", "Batch norm", "int", low=1, high=_QUESTION_DEPTH),
        )
    }
    RULES = (
        Rule(
            lambda s: s.learning_rate in _QUESTION_RATES,
            "the learning rate is one of " + " or ".join(f"{rate:g}" for rate in _QUESTION_RATES),
            "learning_rate",
        ),
    )
    x: float = 3.0
    change: float = 2.0
    layers: int = 20
    learning_rate: float = _QUESTION_RATES[0]
    layer: int = _QUESTION_DEPTH // 2


@dataclasses.dataclass(frozen=True)
class WhySigmoidState(ChoiceState):
    """The activation, and the sliders where they are not at their start (a short link)."""

    PAGE = "why_sigmoid"
    KEY, CHOICES, WHAT = "activation", ACTIVATIONS, "an activation"
    sliders: WhySigmoidSliders = WhySigmoidSliders()

    def own_params(self) -> dict[str, str]:
        start = WhySigmoidSliders().to_query_params()
        moved = {key: value for key, value in self.sliders.to_query_params().items() if start[key] != value}
        return super().own_params() | moved

    @classmethod
    def read(cls, reader: ParamReader) -> Self:
        chosen = super().read(reader)
        return dataclasses.replace(chosen, sliders=WhySigmoidSliders.read(reader))


@dataclasses.dataclass(frozen=True)
class ClassicsState(ChoiceState):
    PAGE = "classics"
    KEY, CHOICES, WHAT = "experiment", tuple(CLASSIC_BY_KEY), "one of the experiments"
