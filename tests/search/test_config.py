"""SearchConfig (validated, JSON round trip), the searcher registry, the deterministic candidates
budget, and `enumerate_functions` against the reference enumerator."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import dsl
import search
from search.reference import function_key, reference_functions
from search.result import STATUSES
from search.space import build_space

from .cases import CASES, SLOW_REAL, same_bits, task_of, values_at

HELD_OUT = """task t {
    input x, y, z, w: bool
    output bool
    target (x and y) or (z != w)
    grammar { bool -> x, y, z, w, not bool, bool and bool, bool or bool }
    split train 10 seed 1
}"""

# --- the config -----------------------------------------------------------------------------------

budgets = st.one_of(st.just(math.inf), st.floats(min_value=1e-3, max_value=1e9))
configs = st.builds(
    search.SearchConfig,
    max_seconds=budgets,
    max_bits=budgets,
    max_memory_mb=st.floats(min_value=1e-3, max_value=1e7),
    max_candidates=st.one_of(st.none(), st.integers(min_value=1, max_value=2**62)),
    equivalence=st.sampled_from(["all", "train"]),
    posterior_window=st.one_of(st.just(math.inf), st.floats(min_value=0, max_value=1e6)),
    pareto_k=st.integers(min_value=1, max_value=100),
    precision=st.one_of(st.none(), st.floats(min_value=1e-300, max_value=1e300)),
    max_posterior=st.integers(min_value=1, max_value=10**6),
    inverse=st.booleans(),
)


@given(configs)
def test_a_config_reads_back_from_its_strict_json(config):
    text = json.dumps(config.to_json(), allow_nan=False)  # no inf in the file: null is no limit
    assert search.SearchConfig.from_json(json.loads(text)) == config


def test_the_defaults_are_those_synthesize_always_had():
    config = search.SearchConfig()
    assert (config.method, config.max_seconds, config.max_bits, config.max_memory_mb, config.max_candidates) == (
        "enumerate", 60.0, math.inf, 4096.0, None)
    assert (config.equivalence, config.posterior_window, config.pareto_k, config.precision, config.max_posterior,
            config.inverse) == ("all", 10.0, 3, None, 1000, True)  # fmt: skip


@pytest.mark.parametrize(("setting", "value"), [("max_candidates", 0), ("max_candidates", -5), ("max_candidates", 2.5),
                                                 ("max_candidates", True), ("inverse", "yes"), ("max_seconds", True),
                                                 ("max_seconds", None)])  # fmt: skip
def test_a_setting_out_of_range_is_refused_with_its_value(setting, value):
    with pytest.raises(dsl.SearchError) as raised:
        search.SearchConfig(**{setting: value})
    message = str(raised.value)
    assert setting in message and repr(value) in message and "expected" in message


def test_an_unknown_method_lists_the_methods():
    with pytest.raises(dsl.SearchError, match="'gradient'.*\n.*'enumerate'"):
        search.synthesize(task_of(HELD_OUT), method="gradient")


def test_an_unknown_setting_is_a_type_error_naming_it():
    with pytest.raises(TypeError, match="max_secs"):
        search.synthesize(task_of(HELD_OUT), max_secs=5)
    with pytest.raises(dsl.SearchError, match="max_secs"):
        search.SearchConfig.from_json({"max_secs": 5})


def test_settings_that_are_not_a_config_are_refused_with_what_to_pass():
    # a dict of settings in place of a SearchConfig was an AttributeError ('dict' has no 'replace')
    with pytest.raises(dsl.SearchError, match=r"config = \{'max_seconds': 3\} is not a SearchConfig\n.*SearchConfig"):
        search.synthesize(task_of(HELD_OUT), {"max_seconds": 3})


def test_a_config_is_frozen_and_replace_validates():
    config = search.SearchConfig()
    with pytest.raises(AttributeError):
        config.max_seconds = 5.0  # type: ignore[misc]
    assert config.replace(max_seconds=5).max_seconds == 5.0 and config.max_seconds == 60.0
    with pytest.raises(dsl.SearchError, match="max_bits"):
        config.replace(max_bits=math.nan)


def test_synthesize_dispatches_on_the_method(monkeypatch):
    """A searcher registered under a name is what `method` runs, with the config built from the
    keywords; the default method is the enumeration."""
    task = task_of(HELD_OUT)
    calls = []

    def fake(task, config, progress):
        calls.append(config)
        return search.synthesize(task, config.replace(method="enumerate"), progress=progress)

    monkeypatch.setitem(search.SEARCHERS, "fake", fake)
    result = search.synthesize(task, search.SearchConfig(max_seconds=30), method="fake", posterior_window=2)
    assert [(c.method, c.max_seconds, c.posterior_window) for c in calls] == [("fake", 30.0, 2.0)]
    assert result.config == search.SearchConfig(max_seconds=30, posterior_window=2)
    assert search.synthesize(task, max_seconds=30).config.method == "enumerate"


# --- the result keeps it -------------------------------------------------------------------------


def test_the_result_and_its_json_keep_the_config():
    task = task_of(HELD_OUT)
    config = search.SearchConfig(max_seconds=30, posterior_window=3, equivalence="train")
    result = search.synthesize(task, config)
    assert result.config == config and result.equivalence == "train"
    data = json.loads(json.dumps(result.to_json(), allow_nan=False))
    assert data["config"] == config.to_json()
    assert search.SynthesisResult.from_json(data, task).config == config
    old = {key: value for key, value in data.items() if key != "config"}  # written before configs were kept
    assert search.SynthesisResult.from_json(old, task).config is None
    with pytest.raises(dsl.SearchError, match="damaged.*pareto_k"):
        search.SynthesisResult.from_json({**data, "config": {**data["config"], "pareto_k": 0}}, task)


# --- the deterministic budget --------------------------------------------------------------------

TIMINGS = ("cpu_seconds", "candidates_per_second", "best_seconds")  # in stats: what differs between runs


def _without_timings(result: search.SynthesisResult) -> dict:
    data = result.to_json()
    for name in TIMINGS:
        data["stats"].pop(name)
    return data


@pytest.mark.parametrize("source, budget", [(SLOW_REAL, 300_000), (HELD_OUT, 2_000)])
def test_a_run_stopped_by_max_candidates_is_the_same_every_time(source, budget):
    task = task_of(source)
    config = search.SearchConfig(max_seconds=math.inf, max_candidates=budget)
    first, second = (search.synthesize(task, config) for _ in range(2))
    assert first.status == "candidates" and first.status_meaning == STATUSES["candidates"]
    assert "max_candidates" in first.status_meaning
    assert first.stats.candidates >= budget  # stopped at the first check past the budget
    assert _without_timings(first) == _without_timings(second)
    bigger = search.synthesize(task, config.replace(max_candidates=first.stats.candidates + 1))
    assert bigger.stats.candidates > first.stats.candidates, "one more candidate is one more kernel call"


def test_max_candidates_stops_at_the_first_check_past_it():
    """The levels run before the stop are those of an unbounded run, candidate for candidate."""
    task = task_of(HELD_OUT)
    whole = search.synthesize(task, max_seconds=math.inf, posterior_window=30)
    levels = whole.stats.levels
    counted = np.cumsum([level["candidates"] for level in levels])
    budget = int(counted[2]) + 1  # one candidate into the fourth level
    cut = search.synthesize(task, max_seconds=math.inf, posterior_window=30, max_candidates=budget)
    assert cut.status == "candidates"
    assert cut.stats.levels == levels[: len(cut.stats.levels)] and len(cut.stats.levels) == 3
    assert budget <= cut.stats.candidates <= int(counted[3])


def test_the_candidates_budget_bounds_enumerate_functions():
    """Cut short by the budget, the enumeration has met a prefix of the rows of a longer one."""
    task = task_of(HELD_OUT)
    whole = search.enumerate_functions(task, max_bits=20)
    list(whole)
    cut = search.enumerate_functions(task, max_candidates=500)
    list(cut)
    assert cut.status == "candidates" and 500 <= cut.candidates < whole.candidates
    assert 0 < len(cut) < len(whole) and np.array_equal(cut.values[: len(cut)], whole.values[: len(cut)])


# --- enumerate_functions -------------------------------------------------------------------------


@pytest.mark.parametrize("case", [case for case in CASES if case.exact_reals][:6], ids=lambda case: case.name)
def test_enumerate_functions_meets_exactly_the_reference_functions(case):
    """Every function of the output type that a program of at most max_bits computes, once, at
    its least bits, in order of bits; the level rows are views of one array."""
    task = case.task
    functions = search.enumerate_functions(task, max_bits=case.max_bits)
    levels = list(functions)
    assert functions.status in ("exhausted", "bits")
    kind = task.output_type.kind
    found = {}
    for level in levels:
        assert level.complete and level.values.base is not None  # a view
        for index in range(level.start, level.end):
            values = functions.function(index)
            key = function_key(values, kind)
            assert key not in found
            found[key] = level.bits
            assert function_key(values_at(functions.program(index), task), kind) == key
    assert [level.bits for level in levels] == sorted(level.bits for level in levels)
    expected = reference_functions(task, max_bits=case.max_bits, drop_nan=build_space(task).drop_nan)
    assert found.keys() == expected.keys()
    for key, bits in found.items():
        assert same_bits(bits, expected[key].bits)


def test_enumerate_functions_stops_on_its_callers_reason():
    task = task_of(HELD_OUT)
    calls = []

    def stop():
        calls.append(1)
        return "enough" if len(calls) == 5 else None

    functions = search.enumerate_functions(task, stop=stop)
    list(functions)
    assert functions.status == "enough" and len(calls) == 5
    with pytest.raises(RuntimeError, match="once"):
        list(functions)
