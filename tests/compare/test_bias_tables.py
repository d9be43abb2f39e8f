"""Packed truth tables and FunctionCounts, against plain Python: bit lists and collections.Counter."""

import json
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compare.bias.tables import (
    FunctionCounts,
    constant_tables,
    pack_tables,
    table_hex,
    table_strings,
    tables_from_hex,
    unpack_tables,
    words_for,
)

POINTS = [1, 2, 8, 63, 64, 65, 100, 128, 256]


def reference_pack(bits: list[int]) -> list[int]:
    """The canonical words of one table by the definition: bit p % 64 of word p // 64 is f(p)."""
    words = [0] * max(1, -(-len(bits) // 64))
    for p, bit in enumerate(bits):
        words[p // 64] |= bit << (p % 64)
    return words


@st.composite
def bit_tables(draw, points=None):
    points = draw(st.sampled_from(POINTS)) if points is None else points
    count = draw(st.integers(0, 6))
    rows = draw(
        st.lists(
            st.lists(st.integers(0, 1), min_size=points, max_size=points), min_size=count, max_size=count
        )
    )
    return points, rows


@settings(max_examples=60, deadline=None)
@given(bit_tables())
def test_pack_matches_the_definition_and_unpack_inverts_it(case):
    points, rows = case
    ones = np.array(rows, dtype=bool).reshape(len(rows), points)
    tables = pack_tables(ones)
    assert tables.dtype == np.uint64 and tables.shape == (len(rows), words_for(points))
    assert [[int(w) for w in row] for row in tables] == [reference_pack(row) for row in rows]
    assert np.array_equal(unpack_tables(tables, points), ones)
    assert table_strings(tables, points) == ["".join(map(str, row)) for row in rows]
    assert np.array_equal(tables_from_hex(table_hex(tables), points), tables)


@settings(max_examples=40, deadline=None)
@given(bit_tables())
def test_unused_bits_stay_zero_and_stray_bits_are_refused(case):
    points, rows = case
    tables = pack_tables(np.ones((max(1, len(rows)), points), dtype=bool))
    used = points - 64 * (tables.shape[1] - 1)
    if used < 64:
        assert (tables[:, -1] >> np.uint64(used) == 0).all()
        tables[0, -1] |= np.uint64(1) << np.uint64(63)
        with pytest.raises(ValueError, match="beyond point"):
            unpack_tables(tables, points)
        with pytest.raises(ValueError, match="beyond point"):
            FunctionCounts(points).add(tables)


def test_hex_keys_read_as_the_integer_of_the_table():
    # f(p) = 1 at points 0 and 65 of 128: the integer 2^65 + 1, in 32 hex digits
    ones = np.zeros((1, 128), dtype=bool)
    ones[0, [0, 65]] = True
    assert table_hex(pack_tables(ones)) == [f"{2**65 + 1:032x}"]
    assert table_strings(constant_tables(8), 8) == ["00000000", "11111111"]


def random_batches(rng, points, batches):
    """Batches drawn from a small pool, so that tables repeat within and across batches."""
    pool = pack_tables(rng.random((40, points)) < 0.5)
    return [pool[rng.integers(0, 40, size=rng.integers(0, 300))] for _ in range(batches)]


def as_counter(batches):
    return Counter(tuple(int(w) for w in row) for batch in batches for row in batch)


@pytest.mark.parametrize("points", [8, 100, 128, 256])
def test_counts_match_a_counter(points):
    rng = np.random.default_rng(points)
    batches = random_batches(rng, points, 12)
    counts = FunctionCounts(points)
    for batch in batches:
        counts.add(batch)
    expected = as_counter(batches)
    assert counts.total == sum(expected.values()) and len(counts) == len(expected)
    got = {tuple(int(w) for w in row): int(c) for row, c in zip(counts.tables, counts.counts)}
    assert got == dict(expected)
    keys = [tuple(int(w) for w in row) for row in counts.tables]
    assert keys == sorted(keys, key=lambda row: row[::-1])  # the table order: word W-1 first
    unseen = pack_tables(rng.random((5, points)) < 0.5)
    queries = np.concatenate([counts.tables[:7], unseen])
    assert counts.count_of(queries).tolist() == [expected.get(tuple(int(w) for w in q), 0) for q in queries]


def test_counts_grow_past_many_table_resizes():
    rng = np.random.default_rng(5)
    tables = rng.integers(0, 2**63, size=(30_000, 2), dtype=np.uint64)
    batch = np.concatenate([tables, tables[:10_000]])
    counts = FunctionCounts(128)
    counts.add(batch)
    assert len(counts) == 30_000 and counts.total == 40_000
    assert counts.count_of(tables[:3]).tolist() == [2, 2, 2] and counts.count_of(tables[-3:]).tolist() == [
        1,
        1,
        1,
    ]


def test_most_common_orders_by_count_then_table():
    counts = FunctionCounts(8)
    # tables by their integer value: 5 ×3, 9 ×3, 2 ×1, 7 ×4
    counts.add(np.array([[5], [9], [7], [2], [9], [7], [5], [7], [9], [5], [7]], dtype=np.uint64))
    tables, how_often = counts.most_common(3)
    assert tables[:, 0].tolist() == [7, 5, 9] and how_often.tolist() == [4, 3, 3]
    assert counts.most_common(10)[0][:, 0].tolist() == [7, 5, 9, 2]


def test_merge_equals_adding_everything():
    rng = np.random.default_rng(1)
    batches = random_batches(rng, 128, 10)
    left, right, everything = FunctionCounts(128), FunctionCounts(128), FunctionCounts(128)
    for i, batch in enumerate(batches):
        (left if i % 2 else right).add(batch)
        everything.add(batch)
    left.merge(right)
    assert left.total == everything.total
    assert np.array_equal(left.tables, everything.tables) and np.array_equal(left.counts, everything.counts)
    with pytest.raises(ValueError, match="cannot merge"):
        left.merge(FunctionCounts(64))


def test_json_round_trip_is_exact():
    rng = np.random.default_rng(2)
    counts = FunctionCounts(100)
    for batch in random_batches(rng, 100, 5):
        counts.add(batch)
    back = FunctionCounts.from_dict(json.loads(json.dumps(counts.to_dict())))
    assert back.points == 100 and back.total == counts.total
    assert np.array_equal(back.tables, counts.tables) and np.array_equal(back.counts, counts.counts)
    broken = counts.to_dict()
    broken["total"] += 1
    with pytest.raises(ValueError, match="do not match"):
        FunctionCounts.from_dict(broken)


def test_constant_share():
    counts = FunctionCounts(128)
    assert np.isnan(counts.constant_share())
    zeros, full = constant_tables(128)
    other = pack_tables(np.eye(1, 128, 3, dtype=bool))[0]
    counts.add(np.stack([zeros] * 3 + [full] * 2 + [other] * 5))
    assert counts.constant_share() == 0.5
    assert [int(w) for w in full] == [2**64 - 1, 2**64 - 1]
    small = FunctionCounts(8)
    small.add(np.array([[255], [255], [1], [0]], dtype=np.uint64))
    assert small.constant_share() == 0.75


@pytest.mark.slow
def test_ten_million_skewed_samples_match_numpys_unique():
    # the scale the issue asks for: 10^7 draws from a Zipf-like set of 10^6 tables of 128 points,
    # in batches of 10^5 (about 1 s of counting; `python -m pytest -m slow` to run)
    rng = np.random.default_rng(0)
    support = rng.integers(0, 2**63, size=(10**6, 2), dtype=np.uint64)
    weights = 1.0 / np.arange(1, 10**6 + 1)
    cdf = np.cumsum(weights / weights.sum())
    drawn = support[np.minimum(np.searchsorted(cdf, rng.random(10**7)), 10**6 - 1)]
    counts = FunctionCounts(128)
    for start in range(0, drawn.shape[0], 10**5):
        counts.add(drawn[start : start + 10**5])
    # np.unique sorts rows lexicographically from column 0: give it word 1 first, the table order
    unique, how_often = np.unique(drawn[:, ::-1], axis=0, return_counts=True)
    assert counts.total == 10**7 and len(counts) == unique.shape[0]
    assert np.array_equal(counts.tables[:, ::-1], unique) and np.array_equal(counts.counts, how_often)
