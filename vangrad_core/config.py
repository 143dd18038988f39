"""ExperimentConfig: the one serializable object that describes a run.

Pages, the URL, the command line and the tests all build runs from it. It is
validated when built, and round-trips losslessly through URL query parameters.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping
from typing import Any

ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "elu", "gelu", "selu", "linear")
INITS = (
    "default",
    "small_normal",
    "large_normal",
    "xavier_uniform",
    "xavier_normal",
    "he_uniform",
    "he_normal",
    "lecun_normal",
    "orthogonal",
)
NORMS = ("none", "batchnorm_before", "batchnorm_after", "layernorm_before")
OPTIMIZERS = ("sgd", "momentum", "adam")
DATASETS_2D = ("spirals", "circles", "moons", "xor", "gaussians")
DATASETS = (*DATASETS_2D, "digits", "teacher")
MAX_SEED = 2**31 - 1

# field -> (lowest, highest) for numbers, or the tuple of accepted names.
_RANGES: dict[str, tuple] = {
    "depth": (1, 100),
    "width": (2, 512),
    "weight_scale": (0.1, 10.0),
    "grad_clip": (0.0, math.inf),
    "learning_rate": (0.0, 10.0),  # the lower end is exclusive
    "batch_size": (1, 1024),
    "steps": (1, 20000),
    "noise": (0.0, 1.0),
    "seed": (0, MAX_SEED),
}
_CHOICES: dict[str, tuple[str, ...]] = {
    "activation": ACTIVATIONS,
    "init": INITS,
    "norm": NORMS,
    "optimizer": OPTIMIZERS,
    "dataset": DATASETS,
}
_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


def accepted(field: str) -> str:
    """Plain words for what a field accepts, as used in error messages and help."""
    if field in _CHOICES:
        return "one of " + ", ".join(_CHOICES[field])
    if field == "residual":
        return "true or false"
    low, high = _RANGES[field]
    if field == "learning_rate":
        return f"a number above 0 and at most {high:g}"
    if field == "grad_clip":
        return "a number ≥ 0 (0 turns clipping off)"
    kind = "an integer" if isinstance(low, int) else "a number"
    return f"{kind} from {low:g} to {high:g}"


@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
    """Everything that decides a run; the same config gives the same numbers."""

    depth: int = 10
    width: int = 32
    activation: str = "sigmoid"
    init: str = "default"
    weight_scale: float = 1.0
    norm: str = "none"
    residual: bool = False
    grad_clip: float = 0.0
    optimizer: str = "sgd"
    learning_rate: float = 0.1
    batch_size: int = 64
    steps: int = 500
    dataset: str = "spirals"
    noise: float = 0.1
    seed: int = 0

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if not _is_valid(field.name, value):
                raise ValueError(f"{field.name} must be {accepted(field.name)}; got {quote(value)}")
            if field.type in ("float", "int"):  # 10.0 -> 10 for an int field, 1 -> 1.0
                cast = float if field.type == "float" else int
                object.__setattr__(self, field.name, cast(value))

    def replace(self, **changes: Any) -> ExperimentConfig:
        """A copy with some fields changed (validated like a new config)."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_query_params(self) -> dict[str, str]:
        """Every field as a string; `from_query_params` gives back an equal config."""
        return {name: _format(value) for name, value in self.to_dict().items()}

    @classmethod
    def from_query_params(cls, params: Mapping[str, Any]) -> tuple[ExperimentConfig, list[str]]:
        """Read a config from URL parameters; never raises.

        Each bad or unknown parameter is ignored (its field keeps the default) and
        described in one warning. Values are quoted in warnings with anything but
        letters, digits and ``.+-_`` replaced, so they are safe to show as Markdown.
        """
        return cls.from_mapping(params, source="URL parameter")

    @classmethod
    def from_mapping(
        cls, params: Mapping[str, Any], source: str = "value", ignore: tuple[str, ...] = ()
    ) -> tuple[ExperimentConfig, list[str]]:
        """Like `from_query_params`; keys in `ignore` are skipped without a warning."""
        fields = {f.name: f for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {}
        warnings: list[str] = []
        try:
            items = list(params.items())
        except Exception:  # a mapping that cannot even be listed: nothing to read
            return cls(), [f"could not read the {source}s; using the defaults"]
        for key, raw in items:
            key_text = str(key)
            if key_text in ignore:
                continue
            if key_text not in fields:
                warnings.append(f"unknown {source} {quote(key_text)} ignored")
                continue
            if isinstance(raw, (list, tuple)):  # repeated keys: the last one wins
                raw = raw[-1] if raw else ""
            value = _parse(fields[key_text].type, raw)
            if value is None or not _is_valid(key_text, value):
                default = getattr(cls(), key_text)
                warnings.append(
                    f"{key_text}: {quote(raw)} is not valid ({accepted(key_text)}); "
                    f"using the default {_format(default)}"
                )
                continue
            values[key_text] = value
        return cls(**values), warnings


def _is_valid(name: str, value: Any) -> bool:
    if name in _CHOICES:
        return isinstance(value, str) and value in _CHOICES[name]
    if name == "residual":
        return isinstance(value, bool)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    low, high = _RANGES[name]
    if isinstance(low, int) and not (isinstance(value, int) or float(value).is_integer()):
        return False
    if not math.isfinite(value):
        return False
    if name == "learning_rate":
        return low < value <= high
    return low <= value <= high


def _parse(kind: str, raw: Any) -> Any:
    """The typed value of a URL string, or None when it does not parse."""
    text = str(raw).strip().lower()
    if len(text) > 40:  # no valid value is this long; don't parse huge numbers
        return None
    try:
        if kind == "bool":
            return True if text in _TRUE else False if text in _FALSE else None
        if kind == "int":
            number = float(text)
            return int(number) if number.is_integer() else None
        if kind == "float":
            return float(text)
    except (ValueError, OverflowError):
        return None
    return text


def _format(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)  # shortest text that reads back to the same float
    return str(value)


def quote(value: Any) -> str:
    """A value as safe, short text for a message: at most 40 characters, anything but
    letters, digits and .+-_ replaced by '?' (no Markdown or HTML survives)."""
    text = str(value)
    short = text[:40] + ("…" if len(text) > 40 else "")
    return "'" + re.sub(r"[^A-Za-z0-9.+\-_]", "?", short) + "'"
