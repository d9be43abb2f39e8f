"""Truth tables of W = ceil(P / 64) words: packed rows against the unpacked ones (one uint8 per
point), bit for bit, past 64 points.

Every test runs a search twice, packed and inside `unpacked_rows()`, and asserts the same
functions in the same order, the same programs, the same bits; the tables themselves are
checked against the reference evaluator and a packing written here with Python integers.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dsl
import search
from search import kernels
from search.enumerate import Budget, Enumerator, Stop, _CheckTarget
from search.inverse import BackwardSearch
from search.mdl import DataCode
from search.space import build_space, pack, unpack, unpacked_rows, words_for

from .cases import MEMORY, task_of

SYNTH = {"max_seconds": 60.0, "max_memory_mb": 256.0}
# with a composite choice: `(bool and bool) or x1`
TEMPLATE = "bool -> {inputs}, not bool, bool and bool, bool or bool, (bool and bool) or x1"


def domain(n: int) -> dict[str, np.ndarray]:
    """The Boolean domain of n inputs in binary-counting order, x1 the most significant bit."""
    p = np.arange(2**n)
    return {f"x{i}": ((p >> (n - i)) & 1).astype(bool) for i in range(1, n + 1)}


def task_on(output: np.ndarray, n: int, *, grammar: str = "boolean", train: int | None = None, seed: int = 0,
            points: np.ndarray | None = None) -> dsl.Task:  # fmt: skip
    """A task on the n-input domain (or its `points`, a subset) with the given outputs there."""
    inputs = domain(n)
    if points is not None:
        inputs = {name: column[points] for name, column in inputs.items()}
    if grammar == "template":
        grammar = TEMPLATE.format(inputs=", ".join(inputs))
    return dsl.Task.from_arrays(inputs, output, grammar=grammar, train=train, seed=seed)


def reference_table(values: np.ndarray) -> np.ndarray:
    """(n, P) bools → the canonical (n, W) uint64 table, through Python integers."""
    words = words_for(values.shape[1])
    out = np.zeros((len(values), words), dtype=np.uint64)
    for r, row in enumerate(values):
        number = sum(1 << int(p) for p in np.flatnonzero(row))
        for w in range(words):
            out[r, w] = np.uint64((number >> (64 * w)) & (2**64 - 1))
    return out


def random_output(n: int, seed: int, count: int | None = None) -> np.ndarray:
    return np.random.default_rng(seed).random(count if count is not None else 2**n) < 0.5


def enumerate_both(task: dsl.Task, max_bits: float, equivalence: str):
    """The enumeration of `task`, packed and unpacked, run to `max_bits`."""
    runs = []
    for packed in (True, False):
        if packed:
            functions = search.enumerate_functions(task, max_bits=max_bits, equivalence=equivalence)
        else:
            with unpacked_rows():
                functions = search.enumerate_functions(task, max_bits=max_bits, equivalence=equivalence)
        levels = [(level.bits, level.start, level.end, level.complete) for level in functions]
        assert functions.packed == packed
        runs.append((functions, levels))
    return runs


def assert_same_enumeration(task: dsl.Task, max_bits: float, equivalence: str) -> search.FunctionEnumeration:
    (packed, packed_levels), (unpacked, unpacked_levels) = enumerate_both(task, max_bits, equivalence)
    points = task.n_points if equivalence == "all" else task.n_train
    assert packed.n_points == unpacked.n_points == points
    assert packed.values.shape[1] == words_for(points) and unpacked.values.shape[1] == points
    assert packed.status == unpacked.status == "bits"
    assert packed_levels == unpacked_levels and len(packed) == len(unpacked) > 50
    assert [str(packed.program(i)) for i in range(len(packed))] == [
        str(unpacked.program(i)) for i in range(len(unpacked))
    ]
    rows = len(packed)
    np.testing.assert_array_equal(unpack(packed.values[:rows], points), unpacked.values[:rows].astype(bool))
    np.testing.assert_array_equal(packed.truth_tables(0, rows), unpacked.truth_tables(0, rows))
    return packed


# --- the layout ---------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(points=st.integers(1, 300), rows=st.integers(0, 5), seed=st.integers(0, 2**16))
def test_pack_is_the_canonical_table_and_unpack_inverts_it(points, rows, seed):
    values = np.random.default_rng(seed).random((rows, points)) < 0.5
    words = pack(values)
    assert words.dtype == np.int64 and words.shape == (rows, max(1, math.ceil(points / 64)))
    np.testing.assert_array_equal(words.view(np.uint64), reference_table(values))  # unused bits zero too
    np.testing.assert_array_equal(unpack(words, points), values)


def test_only_packable_grammars_pack_and_unpacked_rows_turns_packing_off():
    n = 7
    output = random_output(n, 0)
    assert build_space(task_on(output, n)).packed and build_space(task_on(output, n)).row_width == 2
    assert build_space(task_on(random_output(8, 0), 8)).row_width == 4
    split = build_space(task_on(output, n, train=100), equivalence="train")
    assert split.packed and split.row_width == 2 and split.tail_points == 36
    assert not build_space(task_on(output, n, grammar="{ bool -> x1, x2, int < int\n int -> 0, 1 }")).packed
    everywhere = build_space(split.task)
    target = _CheckTarget.of(everywhere)  # past the memory budget: every word, on the training bits
    assert target.mode == kernels.MASKED and target.columns.tolist() == [0, 1]
    expected = reference_table(split.task.train[None, :])[0]
    np.testing.assert_array_equal(target.tolerance.view(np.uint64), expected)
    with unpacked_rows():
        space = build_space(task_on(output, n))
        assert not space.packed and space.row_width == 128
    assert build_space(task_on(output, n)).packed  # restored


# --- the kernels ---------------------------------------------------------------------------------

BOOL_OPS = [dsl.Op.AND, dsl.Op.OR, dsl.Op.XOR_B, dsl.Op.EQ_B, dsl.Op.NOT, dsl.Op.IF_B]


def bank_of(capacity: int, columns: int, dtype: type) -> kernels.BankArrays:
    return kernels.BankArrays(np.zeros((capacity, columns), dtype), np.zeros(capacity, np.uint64),
                              np.zeros(2 * 4 * capacity, np.int64), np.zeros(capacity, np.int32),
                              np.full((capacity, 3), -1, np.int64))  # fmt: skip


@settings(max_examples=30, deadline=None)
@given(points=st.integers(1, 300), op=st.sampled_from(BOOL_OPS), seed=st.integers(0, 2**16))
def test_combine_on_words_keeps_what_combine_on_bools_keeps(points, op, seed):
    """The kernels on truth tables of W words against the kernels on one uint8 per point: the
    same candidates kept in the same order, the same values, the last word's bits past the
    points zero (`not` and `==` set them before the mask)."""
    rng = np.random.default_rng(seed)
    rows = rng.random((12, points)) < rng.uniform(0.2, 0.8)
    rows[5] = rows[2]  # some candidates coincide
    count = 12**3 if op == dsl.Op.IF_B else 12**2 if op != dsl.Op.NOT else 12
    ny, nz = (1, 1) if op == dsl.Op.NOT else (12, 12 if op == dsl.Op.IF_B else 1)
    sweep = kernels.Sweep(0, 12, 0, ny, 0, nz, start=0, stop=count, symmetric=False)
    words = words_for(points)
    tail = points - 64 * (words - 1)
    kept = []
    for packed, values, rules in [
        (True, pack(rows), kernels.RowRules(tail, False, False, np.zeros(words, np.uint8), True)),
        (False, rows.astype(np.uint8), kernels.RowRules(64, False, True, np.ones(points, np.uint8))),
    ]:
        bank = bank_of(count, values.shape[1], values.dtype)
        state = np.zeros(1, kernels.BANK_STATE)
        assert kernels.combine(op, values, values, values, sweep, rules, bank, state, packed=packed) == count
        size = int(state[0]["kept"])
        kept.append((size, bank.children[:size].copy(), bank.values[:size].copy()))
    (size, children, packed_rows), (size_u, children_u, unpacked_rows_) = kept
    assert size == size_u and np.array_equal(children, children_u)
    np.testing.assert_array_equal(packed_rows.view(np.uint64), reference_table(unpacked_rows_.astype(bool)))


@settings(max_examples=30, deadline=None)
@given(points=st.integers(65, 300), op=st.sampled_from(BOOL_OPS[:5]), seed=st.integers(0, 2**16))
def test_check_on_words_compares_every_word_on_the_training_bits(points, op, seed):
    rng = np.random.default_rng(seed)
    rows = rng.random((30, points)) < 0.5
    train = rng.random(points) < 0.7
    apply = {dsl.Op.AND: np.logical_and, dsl.Op.OR: np.logical_or, dsl.Op.XOR_B: np.not_equal,
             dsl.Op.EQ_B: np.equal, dsl.Op.NOT: lambda x, y: ~x}[op]  # fmt: skip
    target = apply(rows[3], rows[11])
    target[~train] = rng.random(int((~train).sum())) < 0.5  # off the training points: anything
    ny = 1 if op == dsl.Op.NOT else 30
    sweep = kernels.Sweep(0, 30, 0, ny, 0, 1, start=0, stop=30 * ny, symmetric=False)
    words = pack(rows)
    tail = points - 64 * (words.shape[1] - 1)
    rules = kernels.RowRules(tail, False, False, np.zeros(words.shape[1], np.uint8), True)
    hits = np.empty((30 * 30, 3), dtype=np.int64)
    _, found, candidates = kernels.check(op, words, words, words, sweep, rules,
                                         np.arange(words.shape[1], dtype=np.int64), pack(target[None, :])[0],
                                         pack(train[None, :])[0], kernels.MASKED, hits, packed=True)  # fmt: skip
    expected = {(i, j if ny > 1 else 0) for i in range(30) for j in range(ny)
                if np.array_equal(apply(rows[i], rows[j])[train], target[train])}  # fmt: skip
    assert candidates == 30 * ny and (3, 11 if ny > 1 else 0) in expected
    assert {(int(i), int(j)) for i, j, _ in hits[:found]} == expected


# --- enumeration: the same functions, the same order --------------------------------------------


@pytest.mark.parametrize("equivalence", ["all", "train"])
@pytest.mark.parametrize(
    "n, grammar, train, max_bits",
    [(7, "boolean", None, 14.0), (7, "boolean", 100, 14.0), (8, "boolean", None, 14.0), (7, "template", 90, 14.0),
     (7, "boolean_xor", 65, 14.0)],
    ids=["7 inputs", "7 inputs, 100 train", "8 inputs", "7 inputs template, 90 train", "xor, 65 train"],
)  # fmt: skip
def test_enumeration_packed_is_the_enumeration_unpacked(n, grammar, train, max_bits, equivalence):
    task = task_on(random_output(n, n), n, grammar=grammar, train=train, seed=1)
    assert_same_enumeration(task, max_bits, equivalence)


def test_enumeration_on_a_subset_of_the_domain():
    """80 of the 128 points, in a shuffled order: two words, the last with 16 points."""
    points = np.random.default_rng(5).permutation(128)[:80]
    task = task_on(random_output(7, 3, 80), 7, points=points)
    functions = assert_same_enumeration(task, 14.0, "all")
    assert functions.values.shape[1] == 2


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.sampled_from([7, 8]), grammar=st.sampled_from(["boolean", "boolean_xor", "template"]),
       train=st.integers(65, 256), seed=st.integers(0, 2**16), equivalence=st.sampled_from(["all", "train"]))  # fmt: skip
def test_random_enumerations_packed_and_unpacked_agree(n, grammar, train, seed, equivalence):
    task = task_on(random_output(n, seed), n, grammar=grammar, train=min(train, 2**n), seed=seed)
    assert_same_enumeration(task, 14.0, equivalence)


# --- truth_tables --------------------------------------------------------------------------------


@pytest.mark.parametrize("pack_rows", [True, False], ids=["packed", "unpacked"])
@pytest.mark.parametrize("n, train, equivalence", [(7, None, "all"), (8, None, "all"), (7, 70, "train")])
def test_truth_tables_are_the_programs_values(n, train, equivalence, pack_rows):
    task = task_on(random_output(n, 2), n, train=train, seed=2)
    if pack_rows:
        functions = search.enumerate_functions(task, max_bits=12.0, equivalence=equivalence)
    else:
        with unpacked_rows():
            functions = search.enumerate_functions(task, max_bits=12.0, equivalence=equivalence)
    for _ in functions:
        pass
    assert functions.packed == pack_rows
    env = task.env(None if equivalence == "all" else task.train)
    start, end = 3, len(functions)
    values = np.array([dsl.evaluate(functions.program(i), env) for i in range(start, end)])
    tables = functions.truth_tables(start, end)
    assert tables.dtype == np.uint64 and tables.shape == (end - start, words_for(functions.n_points))
    np.testing.assert_array_equal(tables, reference_table(values))
    assert len(np.unique(tables, axis=0)) == len(tables), "one row per function"
    assert functions.truth_tables(end, end).shape == (0, tables.shape[1])
    with pytest.raises(IndexError):
        functions.truth_tables(0, end + 1)


def test_truth_tables_of_the_domain_in_counting_order():
    """x1 is the most significant bit: its table is 0 on the first half, 1 on the second."""
    task = task_on(random_output(7, 0), 7)
    functions = search.enumerate_functions(task, max_bits=4.0)
    for _ in functions:
        pass
    rows = {str(functions.program(i)): functions.truth_tables(i, i + 1)[0] for i in range(len(functions))}
    assert rows["x1"].tolist() == [0, 2**64 - 1]
    assert rows["x7"].tolist() == [int("10" * 32, 2)] * 2  # odd points


def test_truth_tables_refuse_outputs_other_than_bool():
    task = task_of("""task t {
        input x: int 0..3
        output int
        target x + 1
        grammar { int -> x, 1, int + int }
    }""")
    functions = search.enumerate_functions(task, max_bits=6.0)
    for _ in functions:
        pass
    with pytest.raises(dsl.SearchError, match="bool"):
        functions.truth_tables(0, 1)


# --- synthesize: the same programs, the same bits -------------------------------------------------


def summary(result: search.SynthesisResult) -> tuple:
    best = result.best
    assert best is not None
    return (result.status, str(best.program), best.bits, best.data_bits, best.fits_train, result.certified,
            [(str(c.program), c.bits, c.data_bits) for c in result.pareto],
            [(str(e.program), e.weight) for e in result.posterior.entries])  # fmt: skip


def synthesize_both(task: dsl.Task, **settings) -> tuple[tuple, tuple]:
    packed = search.synthesize(task, **settings, **SYNTH)
    with unpacked_rows():
        unpacked = search.synthesize(task, **settings, **SYNTH)
    return summary(packed), summary(unpacked)


PLANTED = ["x1 and not x7", "(x2 or x5) and not (x3 and x6)", "not (x1 or x4) or x2 and x7",
           "(x1 and x2) or (x3 and x4) or x7"]  # fmt: skip


@pytest.mark.parametrize("inverse", [True, False], ids=["inverse", "forward"])
@pytest.mark.parametrize("equivalence", ["all", "train"])
@pytest.mark.parametrize("target", PLANTED)
def test_synthesize_packed_finds_what_unpacked_finds(target, equivalence, inverse):
    env = domain(7)
    planted = dsl.parse_program(target, {name: dsl.BOOL for name in env})
    output = dsl.evaluate(planted, env)
    task = task_on(output, 7, train=90, seed=4)
    packed, unpacked = synthesize_both(task, max_bits=34.0, posterior_window=2.0, equivalence=equivalence,
                                       inverse=inverse)  # fmt: skip
    assert packed == unpacked
    status, _, bits, data_bits, fits, certified, _, _ = packed
    assert status == "solved" and fits and certified and data_bits == 0.0
    assert bits <= dsl.description_length(planted, task.grammar) + 1e-9


@pytest.mark.parametrize("n", [7, 8])
def test_noisy_targets_score_the_same_packed_and_unpacked(n):
    """No program within the bound fits: the best is the least two-part code (mdl.py's
    mismatches over every word of the truth tables)."""
    env = domain(n)
    output = env["x1"] & ~env[f"x{n}"]
    output[np.random.default_rng(n).choice(2**n, 9, replace=False)] ^= True
    task = task_on(output, n, train=2**n - 30, seed=1)
    packed, unpacked = synthesize_both(task, max_bits=14.0, posterior_window=2.0)
    assert packed == unpacked
    assert packed[0] == "bits" and not packed[4] and packed[3] > 0


def test_checking_past_the_memory_budget_finds_a_fit_of_two_words():
    """The check-only kernels compare every word on the training points' bits."""
    env = domain(7)
    output = (env["x1"] | env["x5"]) & ~(env["x3"] & env["x6"])
    task = task_on(output, 7, train=100, seed=6)
    free = search.synthesize(task, posterior_window=0, inverse=False)
    assert free.status == "solved" and free.stats.checked == 0
    tight = search.synthesize(task, posterior_window=0, inverse=False,
                              max_memory_mb=free.stats.peak_bank_bytes / 4 / 2**20)  # fmt: skip
    assert tight.stats.checked > 0 and tight.best is not None and tight.best.fits_train
    fitted = dsl.evaluate(tight.best.program, task.env(task.train))
    np.testing.assert_array_equal(fitted, task.target_values[task.train])
    assert tight.best.bits >= free.best.bits - 1e-9


# --- the data code ------------------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(points=st.integers(1, 300), seed=st.integers(0, 2**16))
def test_packed_mismatches_are_the_unpacked_ones(points, seed):
    rng = np.random.default_rng(seed)
    inputs = {"x": np.arange(points) % 2 == 0}
    task = dsl.Task.from_arrays(inputs, rng.random(points) < 0.5, grammar="boolean")
    train = rng.random(points) < rng.uniform(0.1, 1.0)
    train[rng.integers(points)] = True  # at least one training point
    target = rng.random(points) < 0.5
    rows = rng.random((20, points)) < rng.uniform(0.0, 1.0)
    rows[0] = target  # an exact fit
    unpacked = DataCode(task, train, target.astype(np.uint8)).bits(rows.astype(np.uint8))
    packed = DataCode(task, train, pack(target[None, :])[0], packed=True).bits(pack(rows))
    np.testing.assert_array_equal(packed, unpacked)
    assert packed[0] == 0.0


# --- the backward search ----------------------------------------------------------------------


BACKWARD = ["not (x6 ^ ((x2 and x3) or (x4 and not x5)))", "x7 == (x1 or not (x2 ^ x4))"]


@pytest.mark.parametrize("points, train", [(128, None), (100, None), (128, 90)])
@pytest.mark.parametrize("target", BACKWARD)
def test_the_backward_search_on_words_finds_what_it_finds_on_bools(target, points, train):
    """Contexts (`not`, `^`, `==` with a known operand) from the target down, looked up among the
    kept programs: the needs of two words, their bits past the points zero, meet the same rows
    (100 points: of the domain, shuffled, the last word holds 36; 90 training points: the rows
    and the needs masked to their bits)."""
    subset = np.random.default_rng(points).permutation(128)[:points]
    env = {name: column[subset] for name, column in domain(7).items()}
    planted = dsl.parse_program(target, {name: dsl.BOOL for name in env})
    task = task_on(dsl.evaluate(planted, env), 7, grammar="boolean_xor", train=train, points=subset)
    found = []
    for packed in (True, False):
        if packed:
            space = build_space(task)
        else:
            with unpacked_rows():
                space = build_space(task)
        enumerator = Enumerator(space, Budget(max_bits=28.0, max_memory_bytes=MEMORY))
        with pytest.raises(Stop):
            for _ in enumerator.levels():
                pass
        backward = BackwardSearch(space, enumerator.banks)
        assert backward.enabled and space.packed == packed
        fits = backward.step(12.0)
        found.append(sorted((probability, str(program)) for probability, program in fits))
        for _, program in fits:
            fitted = dsl.evaluate(program, task.env(task.train))
            assert np.array_equal(fitted, task.target_values[task.train]), str(program)
    assert found[0] == found[1] and found[0], "the same fits, and some"
