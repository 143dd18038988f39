"""Settings objects: frozen dataclasses whose fields are described once, in a table.

A `Field` says what a setting is called, what it accepts and how a widget offers it.
Everything else reads that one table: validation when a settings object is built,
the URL codec (`to_query_params` / `from_query_params`, which never raises), the
command line's flags and the app's form. `ExperimentConfig` and `RecurrentConfig`
are `Settings`.
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar, Self

from .writing import plain

_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")
MAX_TEXT = 40  # no valid value is longer; longer text is not parsed (huge numbers)
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?", re.ASCII)  # a number as a link writes one


@dataclasses.dataclass(frozen=True)
class Field:
    """One setting. `choices` for a name from a list, else `kind` "bool", "int" or
    "float" within [low, high].
    `stops`: the values a slider offers (others from a link are added to them);
    `labels`: how a widget names each choice."""

    name: str
    label: str
    group: str  # the form's section: "Network", "Training", "Data", ...
    kind: str = "choice"
    choices: tuple[str, ...] = ()
    low: float = -math.inf
    high: float = math.inf
    stops: tuple[float, ...] = ()
    step: float | None = None
    labels: Mapping[str, str] = dataclasses.field(default_factory=dict)
    help: str = ""

    def accepts(self, value: Any) -> bool:
        if self.kind == "choice":
            return isinstance(value, str) and value in self.choices
        if self.kind == "bool":
            return isinstance(value, bool)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return False
        if self.kind == "int" and not float(value).is_integer():
            return False
        return self.low <= value <= self.high

    def accepted(self) -> str:
        """What the field accepts, in plain words (for messages and help)."""
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind == "bool":
            return "true or false"
        number = "an integer" if self.kind == "int" else "a number"
        low, high = (
            f"{bound:,}" if self.kind == "int" and math.isfinite(bound) else plain(bound)  # (1,000,000, not 1e+06)
            for bound in (self.low, self.high)
        )
        if math.isinf(self.high):
            return f"{number} ≥ {low}"
        return f"{number} from {low} to {high}"

    def parse(self, raw: Any) -> Any:
        """The typed value of a URL value (text), or None when it does not parse."""
        text = _text(raw)
        if text is None or len(text) > MAX_TEXT:
            return None
        text = text.strip()
        if self.kind == "choice":
            return text
        lowered = text.lower()
        if self.kind == "bool":
            return True if lowered in _TRUE else False if lowered in _FALSE else None
        if not _NUMBER.fullmatch(lowered):  # float() also reads "1_6", "inf" and other scripts' digits
            return None
        try:
            number = float(lowered)
        except (ValueError, OverflowError):
            return None
        if self.kind == "int":
            return int(number) if number.is_integer() else None
        return number

    def cast(self, value: Any) -> Any:
        """An accepted value in the field's own type (10.0 -> 10 for an int)."""
        return int(value) if self.kind == "int" else float(value) if self.kind == "float" else value

    def format(self, value: Any) -> str:
        if self.kind == "bool":
            return "true" if value else "false"
        if self.kind == "float":
            return repr(float(value))  # the shortest text that reads back to the same float
        return str(value)


@dataclasses.dataclass(frozen=True)
class Rule:
    """A condition on several fields together; `fallback`: the field a link's value
    gives way on (it takes its default) when the rule fails."""

    holds: Callable[[Any], bool]
    message: str  # says what to change
    fallback: str


class Settings:
    """Base of frozen dataclasses described by `FIELDS` (name -> Field) and `RULES`."""

    FIELDS: ClassVar[Mapping[str, Field]]
    RULES: ClassVar[tuple[Rule, ...]] = ()

    def __post_init__(self) -> None:
        for name, field in self.FIELDS.items():
            value = getattr(self, name)
            if not field.accepts(value):
                raise ValueError(f"{name} must be {field.accepted()}; got {quote(value)}")
            object.__setattr__(self, name, field.cast(value))
        for rule in self.RULES:
            if not rule.holds(self):
                raise ValueError(rule.message)

    def replace(self, **changes: Any) -> Self:
        """A copy with some fields changed (validated like a new one)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.FIELDS}

    def to_query_params(self, prefix: str = "") -> dict[str, str]:
        """Every field as text; `from_query_params` gives back an equal object."""
        return {prefix + name: field.format(getattr(self, name)) for name, field in self.FIELDS.items()}

    @classmethod
    def from_query_params(
        cls, params: Mapping[str, Any], prefix: str = "", source: str = "URL parameter"
    ) -> tuple[Self, list[str]]:
        """Read the fields from URL parameters (those whose key starts with `prefix`);
        never raises. Each bad or unknown parameter is ignored (its field keeps the
        default) and described in one warning, safe to show as Markdown."""
        reader = ParamReader(params)
        settings = cls.read(reader, prefix)
        return settings, reader.warnings + reader.unknown(source)

    @classmethod
    def read(cls, reader: ParamReader, prefix: str = "", base: Self | None = None) -> Self:
        """Take this object's fields from `reader` (see `from_query_params`); those the
        link leaves out or gets wrong keep their value in `base` (default: the class's)."""
        defaults = cls() if base is None else base
        values: dict[str, Any] = {}
        for name, field in cls.FIELDS.items():
            if not reader.has(prefix + name):
                continue
            raw = reader.take(prefix + name)
            value = field.parse(raw)
            if value is None or not field.accepts(value):
                default = field.format(getattr(defaults, name))
                # a choice quoted, as a choice page's: "using the default default" read as a slip
                instead = f"the default, “{default}”" if field.kind == "choice" else f"the default {default}"
                reader.warn(f"{prefix}{name}: {quote(raw)} is not valid ({field.accepted()}); using {instead}")
                continue
            values[name] = value
        for rule in cls.RULES:  # a rule that fails gives way on its fallback field
            if rule.fallback in values and not rule.holds(types.SimpleNamespace(**(defaults.to_dict() | values))):
                del values[rule.fallback]
                default = cls.FIELDS[rule.fallback].format(getattr(defaults, rule.fallback))
                key = prefix + rule.fallback  # (named first, as every other warning: on Compare, whose run)
                reader.warn(f"{key}: {rule.message} (from the link); using the default {rule.fallback}, {default}")
        try:
            return cls(**(defaults.to_dict() | values))
        except ValueError as error:  # our own message (values in it are quoted)
            reader.warn(f"{error}; using the defaults")
            return defaults

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> tuple[Self | None, str | None]:
        """From typed values (a form's): the object, or None and what is wrong."""
        try:
            return cls(**{name: values[name] for name in cls.FIELDS}), None
        except (ValueError, TypeError, KeyError) as error:
            return None, str(error)


class ParamReader:
    """URL parameters being read: each key is taken once; what is left is unknown.
    Warnings collect here, so one page state reads several parts from one URL."""

    def __init__(self, params: Mapping[str, Any]):
        self.warnings: list[str] = []
        try:
            self._left = {_text(key) or "": value for key, value in list(params.items())}
        except Exception:  # a mapping that cannot even be listed: nothing to read
            self._left = {}
            self.warnings.append("could not read the link's parameters; using the defaults")

    def has(self, key: str) -> bool:
        return key in self._left

    def take(self, key: str, default: Any = None) -> Any:
        """The value of `key` (the last one if repeated, with a warning where the values
        differ), removed from what is left."""
        raw = self._left.pop(key, default)
        if isinstance(raw, (list, tuple)):
            if len({_text(value) for value in raw}) > 1:
                self.warn(f"{key} is given {len(raw)} times; using the last, {quote(raw[-1])}")
            raw = raw[-1] if raw else ""
        return raw

    def text(self, key: str) -> str | None:
        """The value of `key` as text ("" if absent; None if it has no text)."""
        return _text(self.take(key, ""))

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def unknown(self, source: str = "URL parameter") -> list[str]:
        """One warning per key nobody took."""
        return [f"unknown {source} {quote(key)} ignored" for key in self._left]

    def choice(self, key: str, choices: Iterable[str], what: str, instead: str) -> str | None:
        """The value of `key` if it is one of `choices` (else a warning that says what is
        used `instead`); None if absent."""
        if not self.has(key):
            return None
        raw = self.take(key)
        text = _text(raw)
        if text is not None and text in tuple(choices):
            return text
        self.warn(f"{key}: {quote(raw)} is not {what}; using {instead}")
        return None

    def integer(self, key: str, low: int, high: int, what: str, default: int) -> int | None:
        """The integer value of `key` within [low, high] (else a warning naming the
        `default` used instead); None if absent."""
        if not self.has(key):
            return None
        raw = self.take(key)
        value = Field(key, key, "", kind="int", low=low, high=high).parse(raw)
        if value is not None and low <= value <= high:
            return value
        self.warn(f"{key}: {quote(raw)} is not {what} ({low} to {high}); using the default {default}")
        return None

    def overruled(self, keys: Iterable[str], by: str) -> None:
        """Take those of `keys` the link has, with one warning that they are ignored: `by`
        says what sets them instead."""
        given = [key for key in keys if self.has(key)]
        for key in given:
            self.take(key)
        if given:
            self.warn(f"{', '.join(given)}: ignored, as {by}")


def _text(raw: Any) -> str | None:
    """str(raw), or None where even that fails (an int of 5000 digits, a hostile __str__)."""
    try:
        return raw if isinstance(raw, str) else str(raw)
    except Exception:
        return None


def quote(value: Any) -> str:
    """A value as short text, safe to show as Markdown or HTML: at most MAX_TEXT
    characters; letters and digits of any script, spaces and .,+-_() kept (a misspelt
    scenario read 'Deep?sigmoid?stall'), anything else replaced by '?', and _ escaped (a
    link's `__init__` must not turn bold)."""
    text = _text(value)
    if text is None:
        return "'?'"
    safe = re.sub(r"[^\w .,+\-()]", "?", text[:MAX_TEXT]).replace("_", "\\_")
    return "'" + safe + ("…" if len(text) > MAX_TEXT else "") + "'"
