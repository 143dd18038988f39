"""ExperimentConfig: validation, and URL round trips that never raise."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import ANYTHING, valid_settings
from vangrad_core import ExperimentConfig
from vangrad_core.settings import quote

valid_configs = valid_settings(ExperimentConfig)


@given(valid_configs)
def test_query_params_round_trip(config):
    params = config.to_query_params()
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in params.items())
    again, warnings = ExperimentConfig.from_query_params(params)
    assert again == config
    assert warnings == []


@settings(max_examples=300)
@given(st.dictionaries(st.one_of(st.sampled_from(list(ExperimentConfig().to_dict())), st.text()), ANYTHING))
def test_garbage_never_raises_and_warns_per_bad_field(params):
    config, warnings = ExperimentConfig.from_query_params(params)
    assert isinstance(config, ExperimentConfig)
    for warning in warnings:
        assert "<" not in warning and ">" not in warning  # values are quoted safely
        assert len(warning) < 300


def test_a_quoted_value_reads_as_typed_and_stays_inert_markdown():
    """A misspelt scenario was quoted 'Deep?sigmoid?stall' (spaces, a pair's parentheses
    and any script's letters are kept now); Markdown's and HTML's own characters still go."""
    assert quote("Deep sigmoid stall") == "'Deep sigmoid stall'"
    assert quote("Sigmoid vs ReLU (20 layers)") == "'Sigmoid vs ReLU (20 layers)'"
    assert quote("N(0, 4²) Größe") == "'N(0, 4²) Größe'"
    assert quote("✓") == "'?'"
    assert quote("__init__") == "'\\_\\_init\\_\\_'"
    hostile = quote("**b** [x](javascript:1) <i>`c`</i> # | ~ \n\u200b")
    assert not set("*[]<>`#|~\n\u200b") & set(hostile)


@pytest.mark.parametrize(
    "key, value, default",
    [
        ("depth", "0", 10),
        ("depth", "101", 10),
        ("depth", "3.5", 10),
        ("width", "abc", 32),
        ("activation", "softmax", "sigmoid"),
        ("learning_rate", "0", 0.1),
        ("learning_rate", "nan", 0.1),
        ("learning_rate", "inf", 0.1),
        ("learning_rate", "1e400", 0.1),
        ("seed", "-1", 0),
        ("residual", "maybe", False),
        ("depth", "9" * 5000, 10),
        ("width", "1_6", 32),  # float() reads these three as 16
        ("width", "١٦", 32),
        ("width", "\uff11\uff16", 32),
        ("dataset", "<script>alert(1)</script>", "spirals"),
    ],
)
def test_bad_value_falls_back_to_default_with_a_warning(key, value, default):
    config, warnings = ExperimentConfig.from_query_params({key: value, "width": "64"} | {key: value})
    assert getattr(config, key) == default
    assert len([w for w in warnings if w.startswith(key)]) == 1
    assert "<script>" not in " ".join(warnings)


def test_numbers_as_a_link_writes_them():
    config, warnings = ExperimentConfig.from_query_params(
        {"steps": "1e3", "learning_rate": ".05", "noise": "+0.2", "weight_scale": "2.", "grad_clip": " 5 "}
    )
    assert warnings == []
    assert (config.steps, config.learning_rate, config.noise, config.weight_scale, config.grad_clip) == (
        1000,
        0.05,
        0.2,
        2.0,
        5.0,
    )


def test_unknown_key_warns_and_good_keys_still_apply():
    config, warnings = ExperimentConfig.from_query_params({"depth": "20", "colour": "red"})
    assert config.depth == 20
    assert warnings == ["unknown URL parameter 'colour' ignored"]


def test_a_rule_broken_by_the_link_is_named_by_its_key():
    """Batch 1 with batch norm gives way on the batch size; the warning names its key as
    every other warning does (on Compare it did not say which run it was about)."""
    params = {"b.batch_size": "1", "b.norm": "batchnorm_before"}
    config, warnings = ExperimentConfig.from_query_params(params, prefix="b.")
    assert config.batch_size == ExperimentConfig().batch_size and config.norm == "batchnorm_before"
    assert len(warnings) == 1 and warnings[0].startswith("b.batch_size: batch norm needs at least 2 examples")


def test_lists_use_the_last_value():
    """A key given twice: the last value, with a warning where they differ (it was
    silent: ?depth=5&depth=7 trained 7)."""
    config, warnings = ExperimentConfig.from_query_params({"depth": ["3", "7"]})
    assert config.depth == 7 and warnings == ["depth is given 2 times; using the last, '7'"]
    config, warnings = ExperimentConfig.from_query_params({"depth": ["7", "7"]})
    assert config.depth == 7 and warnings == []


@pytest.mark.parametrize(
    "field, value",
    [
        ("depth", 0),
        ("width", 513),
        ("activation", "swish"),
        ("learning_rate", 0.0),
        ("seed", 2**31),
        ("noise", -0.1),
        ("weight_scale", 11),
        ("residual", "yes"),
        ("steps", 1.5),
        ("grad_clip", -1),
    ],
)
def test_constructor_names_the_field_and_what_it_accepts(field, value):
    with pytest.raises(ValueError, match=field) as error:
        ExperimentConfig(**{field: value})
    assert "got" in str(error.value)


def test_integral_floats_become_ints():
    config = ExperimentConfig(depth=12.0, learning_rate=1)
    assert isinstance(config.depth, int) and isinstance(config.learning_rate, float)
    assert dataclasses.asdict(config)["depth"] == 12
