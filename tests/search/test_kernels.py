"""The compiled kernels (search/kernels.py) against the reference evaluator, primitive by primitive.

For every opcode with a kernel (every primitive but `pi`), each argument takes every edge value
of its type at once: the points are the product of the argument's edge values (ints: 0, ±1, ±2,
7, shifts by 63, 64, 65 and their negatives, int64 MIN and MAX; u8 and i8 at their wrap points;
reals: ±0, ±1, 0.5, ±inf, NaN, huge, tiny, subnormal). Each argument gets two rows (the values,
and the same values reversed), the kernel combines every pair, and each row it keeps must be what
`dsl.evaluate` computes for the operation on the children the kernel records — bit for bit,
the sign of zero included (a parent can tell −0 from +0: 1 / −0 = −inf), NaN equal to NaN.
Transcendental functions may differ from numpy's by an ulp (numpy's SIMD `exp` is not the C
library's): there the values must agree to 2 ulps, specials exactly. The rows it drops must
repeat the key of a row it keeps.

The bank arrays are built here in the layout kernels.py documents.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import dsl
from dsl import Apply, Op, Type, Var
from dsl.primitives import COMMUTATIVE, PRIMITIVES, primitive
from search.kernels import BANK_STATE, KERNEL_CLASS, BankArrays, RowRules, Sweep, combine
from search.reference import function_key
from search.space import NAN_ABSORBING, PACKABLE

MIN, MAX = -(2**63), 2**63 - 1
INT, U8, I8, BOOL, REAL = Type("int"), Type("u8"), Type("i8"), Type("bool"), Type("real")

EDGES = {
    BOOL: [0, 1],
    INT: [0, 1, -1, 2, -2, 3, 7, -7, 63, 64, 65, -63, -64, -65, 1000, 2**32, MIN, MIN + 1, MAX, MAX - 1],
    U8: [0, 1, 2, 3, 7, 8, 9, 127, 128, 200, 254, 255],
    I8: [-128, -127, -64, -9, -2, -1, 0, 1, 2, 7, 8, 9, 64, 127],
    REAL: [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -3.0, 3.5, 0.1, math.pi, math.inf, -math.inf, math.nan,
           1e308, -1e308, 1e-308, 5e-324, 2.0**53 + 2, 2.0**63, -(2.0**63), 1e19, 710.0, -745.5],
}  # fmt: skip
STORAGE = {"bool": np.uint8, "int": np.int64, "real": np.float64}
TRANSCENDENTAL = frozenset(row.op for row in PRIMITIVES if row.libm)  # rounded as the C library does
INTEGER_TYPES = (INT, U8, I8)
CONVERSION_TARGETS = (INT, U8, I8, Type("u1"), Type("i2"), Type("u63"), Type("i63"))


def signatures(op: Op) -> list[tuple[tuple[Type, ...], Type]]:
    """(argument types, result type) of `op` to test: every integer type for `I`."""
    row = primitive(op)
    fixed = {"B": BOOL, "R": REAL, "int": INT}
    if op == Op.CONVERT_I:
        return [
            ((source,), target)
            for source in INTEGER_TYPES
            for target in CONVERSION_TARGETS
            if source != target
        ]
    integer_types = INTEGER_TYPES if "I" in (*row.args, row.result) else (INT,)
    result = []
    for integer in integer_types:
        types = {**fixed, "I": integer}
        result.append((tuple(types[arg] for arg in row.args), types[row.result]))
    return result


CASES = [
    pytest.param(op, args, result, id=f"{op.name}({', '.join(map(str, args))})->{result}")
    for op in sorted(KERNEL_CLASS)
    for args, result in signatures(op)
]


def test_every_primitive_but_pi_has_a_kernel_case():
    assert {case.values[0] for case in CASES} == set(Op) - {Op.PI}


# --- running a kernel ----------------------------------------------------------------------------


def argument_rows(types: tuple[Type, ...]) -> list[np.ndarray]:
    """Per argument, (2, P) rows in storage dtype: its coordinate of the product of the edge
    values, and the same reversed."""
    points = list(itertools.product(*(EDGES[type_] for type_ in types)))
    rows = []
    for position, type_ in enumerate(types):
        values = np.array([point[position] for point in points], dtype=STORAGE[type_.kind])
        rows.append(np.ascontiguousarray(np.stack([values, values[::-1]])))
    return rows


def empty_bank(rows: int, points: int, dtype) -> BankArrays:
    """Bank arrays with room for `rows` rows, in the layout of kernels.py."""
    slots = 1 << max(4, (2 * rows).bit_length())
    return BankArrays(
        values=np.empty((rows, points), dtype=dtype),
        hashes=np.empty(rows, dtype=np.uint64),
        table=np.zeros(2 * slots, dtype=np.int64),  # [id + 1, hash] per slot, 0 when empty
        choices=np.empty(rows, dtype=np.int32),
        children=np.empty((rows, 3), dtype=np.int64),
    )


def run_kernel(op: Op, operands: list[np.ndarray], result: Type, *, symmetric: bool = False,
               nan_mask: np.ndarray | None = None, packed_points: int | None = None):  # fmt: skip
    """Combine every row of each operand (1 to 3 of them) with `op`'s kernel into a fresh bank.
    Returns (kept rows, their children, candidates run, NaN dropped). `packed_points`: the rows
    are truth tables of that many points packed in one int64 word."""
    points = operands[0].shape[1]
    counts = [len(rows) for rows in operands] + [1] * (3 - len(operands))
    operands = operands + [operands[0][:1]] * (3 - len(operands))
    ranges = [value for count in counts for value in (0, count)]
    total = math.prod(counts)
    bank = empty_bank(total, points, np.int64 if packed_points else STORAGE[result.kind])
    state = np.zeros(1, dtype=BANK_STATE)
    state["choice"] = 7  # the choice being run, recorded with each row kept
    width = packed_points or (result.width if result.is_bitvector else 64)
    check_nan = nan_mask is not None
    sweep = Sweep(*ranges, start=0, stop=total, symmetric=symmetric)
    mask = nan_mask.astype(np.uint8) if check_nan else np.zeros(points, dtype=np.uint8)
    rules = RowRules(width, bool(result.signed), check_nan, mask)
    packed = packed_points is not None
    assert combine(op, *operands, sweep, rules, bank, state, packed=packed) == total
    kept = int(state[0]["kept"])
    assert (bank.choices[:kept] == 7).all(), "each kept row records its choice"
    return bank.values[:kept], bank.children[:kept], int(state[0]["candidates"]), int(state[0]["nan_dropped"])


def expected(op: Op, args: tuple[Type, ...], result: Type, rows: list[np.ndarray], children) -> np.ndarray:
    """The reference evaluator's values of `op` on the rows `children` of the arguments."""
    program = Apply(op, tuple(Var(f"a{n}", type_) for n, type_ in enumerate(args)), result)
    env = {f"a{n}": rows[n][child] for n, child in enumerate(children[: len(args)])}
    return dsl.evaluate(program, env).astype(STORAGE[result.kind])


def same_values(op: Op, actual: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Pointwise agreement: integers equal; reals bit for bit up to NaN payloads (to 2 ulps
    for transcendental functions at finite nonzero values)."""
    if actual.dtype != np.float64:
        return actual == wanted
    both_nan = np.isnan(actual) & np.isnan(wanted)
    exact = (actual == wanted) & (np.signbit(actual) == np.signbit(wanted))
    if op not in TRANSCENDENTAL:
        return both_nan | exact
    ordinary = np.isfinite(wanted) & (wanted != 0) & np.isfinite(actual)
    with np.errstate(all="ignore"):
        close = np.abs(actual - wanted) <= 2 * np.spacing(np.abs(wanted))
    return both_nan | exact | (ordinary & close)


def describe(op, args, rows, children, actual, wanted, agree) -> str:
    bad = np.flatnonzero(~agree)[:5]
    shown = [tuple(rows[n][child][p].item() for n, child in enumerate(children[: len(args)])) for p in bad]
    return f"{op.name} at {shown}: kernel {actual[bad].tolist()}, reference {wanted[bad].tolist()}"


# --- the tests ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("op", "args", "result"), CASES)
def test_kernel_matches_the_reference_evaluator(op, args, result):
    rows = argument_rows(args)
    kept, children, candidates, _ = run_kernel(op, rows, result)
    assert candidates == 2 ** len(args)
    for actual, child in zip(kept, children):
        wanted = expected(op, args, result, rows, child)
        agree = same_values(op, actual, wanted)
        assert agree.all(), describe(op, args, rows, child, actual, wanted, agree)
    # What was dropped repeats a kept function: the kept keys are all the candidates' keys.
    keys = [function_key(row, result.kind) for row in kept]
    assert len(set(keys)) == len(keys)
    all_children = itertools.product(*(range(2) for _ in args))
    candidate_keys = {
        function_key(expected(op, args, result, rows, (*c, 0, 0)), result.kind) for c in all_children
    }
    if op not in TRANSCENDENTAL:  # an ulp may cross a rounding boundary there
        assert set(keys) == candidate_keys


COMMUTATIVE_CASES = [pytest.param(op, args, result, id=f"{op.name}({args[0]})") for op in sorted(COMMUTATIVE)
                     for args, result in signatures(op)]  # fmt: skip


@pytest.mark.parametrize(("op", "args", "result"), COMMUTATIVE_CASES)
def test_symmetry_breaking_keeps_every_function(op, args, result):
    """A commutative operation over one bank runs only the pairs i ≤ j: it must lose nothing."""
    first, second = argument_rows(args)
    bank = np.ascontiguousarray(np.concatenate([first[:1], second[:1], first[1:]]))  # three rows, one bank
    everything, _, all_candidates, _ = run_kernel(op, [bank, bank], result)
    half, children, candidates, _ = run_kernel(op, [bank, bank], result, symmetric=True)
    assert (all_candidates, candidates) == (9, 6)
    assert (children[:, 0] <= children[:, 1]).all()
    assert {function_key(row, result.kind) for row in half} == {
        function_key(row, result.kind) for row in everything
    }


@pytest.mark.parametrize("symmetric", [False, True])
def test_a_combination_run_in_chunks_keeps_the_same_rows(symmetric):
    """The enumerator runs a big combination in chunks of flat candidate indices (and resumes
    after the bank fills): any split must give the rows of one run."""
    rows = np.ascontiguousarray(np.concatenate(argument_rows((INT, INT))))
    rows = np.concatenate([rows, rows * 3 + 1, rows ^ 5])  # 12 rows of one bank
    op = Op.ADD_I if symmetric else Op.SUB_I
    whole, whole_children, _, _ = run_kernel(op, [rows, rows], INT, symmetric=symmetric)
    total, points = len(rows) ** 2, rows.shape[1]
    bank = empty_bank(total, points, np.int64)
    state = np.zeros(1, dtype=BANK_STATE)
    rules = RowRules(64, False, False, np.zeros(points, np.uint8))
    position, chunks, calls = 0, itertools.cycle([1, 7, 30, 2, 60]), 0
    while position < total:
        stop = min(total, position + next(chunks))
        room = int(state[0]["kept"]) + 1 + calls % 4  # a bank that fills stops early; the next call resumes
        limited = BankArrays(bank.values[:room], bank.hashes[:room], bank.table, bank.choices[:room],
                             bank.children[:room])  # fmt: skip
        sweep = Sweep(0, len(rows), 0, len(rows), 0, 1, start=position, stop=stop, symmetric=symmetric)
        position = combine(op, rows, rows, rows[:1], sweep, rules, limited, state)
        assert position == stop or int(state[0]["kept"]) == room
        calls += 1
    assert calls > 10
    kept = int(state[0]["kept"])
    np.testing.assert_array_equal(bank.values[:kept], whole)
    np.testing.assert_array_equal(bank.children[:kept], whole_children)


def test_rows_nan_at_a_training_point_are_dropped_and_counted():
    args = (REAL, REAL)
    rows = argument_rows(args)
    train = np.zeros(rows[0].shape[1], dtype=bool)
    train[::3] = True
    kept, _, candidates, dropped = run_kernel(Op.ADD_R, rows, REAL, nan_mask=train)
    assert candidates == 4 and dropped >= 1
    kept_all, _, _, _ = run_kernel(Op.ADD_R, rows, REAL)
    assert len(kept) + dropped == len(kept_all)
    assert not np.isnan(kept[:, train]).any()
    ones = np.ones(rows[0].shape[1])
    finite = [np.stack([ones, 2 * ones]), np.stack([10 * ones, 20 * ones])]
    finite[0][0, ~train] = np.nan  # NaN away from the training points is kept
    kept, _, _, dropped = run_kernel(Op.ADD_R, finite, REAL, nan_mask=train)
    assert dropped == 0 and len(kept) == 4


@pytest.mark.parametrize(
    "op", sorted(op for op in KERNEL_CLASS if "R" in primitive(op).args and op not in NAN_ABSORBING)
)
def test_operations_outside_nan_absorbing_propagate_nan(op):
    """The search drops programs NaN at a training point when the grammar has no operation of
    NAN_ABSORBING: each other operation must give NaN whenever a real argument is NaN."""
    for args, result in signatures(op):
        program = Apply(op, tuple(Var(f"a{n}", type_) for n, type_ in enumerate(args)), result)
        points = list(itertools.product(*(EDGES[type_] for type_ in args)))
        env = {f"a{n}": np.array([point[n] for point in points]) for n in range(len(args))}
        values = dsl.evaluate(program, env)
        some_nan = np.zeros(len(points), dtype=bool)
        for n, type_ in enumerate(args):
            if type_ == REAL:
                some_nan |= np.isnan(env[f"a{n}"])
        assert result == REAL and np.isnan(values[some_nan]).all(), f"{op.name} turns a NaN into a number"


def pack(values: np.ndarray) -> np.ndarray:
    """(n, P) bools, P ≤ 64 → (n, 1) int64 words whose bit p is the value at point p."""
    words = [sum(1 << p for p in np.flatnonzero(row)) for row in values]
    return np.array([word - (1 << 64) if word >= 1 << 63 else word for word in words], dtype=np.int64)[
        :, None
    ]


def unpack(words: np.ndarray, points: int) -> np.ndarray:
    return np.array([[(int(word) >> p) & 1 for p in range(points)] for word in words[:, 0]], dtype=np.uint8)


@pytest.mark.parametrize("points", [5, 63, 64])
@pytest.mark.parametrize("op", sorted(PACKABLE))
def test_packed_truth_table_kernel_matches_the_reference_evaluator(op, points):
    """Bool grammars over at most 64 points run on truth tables packed in a word: each kept
    word must be the reference's truth table, with no bit set past the last point (or one
    function would have two words)."""
    args = tuple(BOOL for _ in primitive(op).args)
    rng = np.random.default_rng(points)
    edges = np.stack([np.zeros(points), np.ones(points)])
    tables = [np.concatenate([edges, rng.integers(0, 2, size=(2, points))]).astype(np.uint8) for _ in args]
    words = [pack(table) for table in tables]
    kept, children, candidates, _ = run_kernel(op, words, BOOL, packed_points=points)
    assert candidates == 4 ** len(args)
    if points < 64:
        assert (kept[:, 0] >> points == 0).all(), "bits past the points are masked"
    functions = set()
    for word, child in zip(kept, children):
        wanted = expected(op, args, BOOL, tables, child)
        np.testing.assert_array_equal(unpack(word[None, :], points)[0], wanted, err_msg=f"{op.name}: {child}")
        functions.add(tuple(wanted))
    combinations = itertools.product(range(4), repeat=len(args))
    everything = {tuple(expected(op, args, BOOL, tables, (*c, 0, 0))) for c in combinations}
    assert functions == everything and len(kept) == len(everything)
