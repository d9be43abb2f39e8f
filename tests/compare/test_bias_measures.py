"""Valle-Pérez et al.'s LZ complexity, the number of ones and the entropy, against plain-Python
references written from the published definitions, and against examples worked by hand."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compare.bias.measures import entropy, lz76_phrases, lz_complexity, ones
from compare.bias.tables import pack_tables


def kaspar_schuster(string: str) -> int:
    """The LZ76 complexity c(n) by Kaspar & Schuster's algorithm (Phys. Rev. A 36, 842 (1987),
    their flow chart), 0-based: the current component starts at `start`; `j` runs over the
    earlier start positions, `k` is the length matched from j, `longest` the best over all j."""
    n = len(string)
    c, start, j, k, longest = 1, 1, 0, 1, 1  # the first symbol is the first component
    while True:
        if string[j + k - 1] == string[start + k - 1]:
            k += 1
            if start + k > n:  # the component is a copy running to the end
                return c + 1
            continue
        longest = max(longest, k)
        j += 1
        if j < start:
            k = 1
            continue
        c += 1  # no earlier start copies more: the component ends with its new symbol
        start += longest
        if start + 1 > n:
            return c
        j, k, longest = 0, 1, 1


def lz76_parse(string: str) -> list[str]:
    """The LZ76 exhaustive parsing by its definition (Lempel & Ziv 1976): each component is the
    shortest prefix of the rest that is not a copy of a substring starting earlier (the copy may
    run into the component itself); the last component may be such a copy."""
    parts, position = [], 0
    while position < len(string):
        length = 0
        while position + length < len(string) and any(
            string[j : j + length + 1] == string[position : position + length + 1] for j in range(position)
        ):
            length += 1
        parts.append(string[position : position + length + 1])
        position += length + 1
    return parts


def calc_kc(string: str) -> float:
    """The measure as Valle-Pérez et al. define it: log2 L for a constant string, else log2 L
    times the mean of the LZ76 complexities of the string and of its reverse."""
    size = len(string)
    if set(string) != {"0", "1"}:
        return math.log2(size)
    return math.log2(size) * (kaspar_schuster(string) + kaspar_schuster(string[::-1])) / 2.0


def tables_of(strings: list[str]) -> np.ndarray:
    return pack_tables(np.array([[c == "1" for c in s] for s in strings], dtype=bool))


# Worked by hand with lz76_parse's rule (| ends a component; the last may be a copy):
#   01        -> 0|1 = 2;                   reverse 10       -> 1|0 = 2;              log2 2 · (2+2)/2 = 2
#   0001      -> 0|001 = 2 (001: 00 copies from position 0, overlapping; 1 is new);
#                reverse 1000 -> 1|0|00 = 3 (00 copies the 0 at position 1 and runs to the end);  2 · 5/2 = 5
#   0101      -> 0|1|01 = 3 (01 a copy to the end);   reverse 1010 -> 1|0|10 = 3;             2 · 6/2 = 6
#   0110      -> 0|1|10 = 3 (1 copies position 1, 0 ends it); its own reverse;              2 · 6/2 = 6
#   00000001  -> 0|0000001 = 2; reverse 10000000 -> 1|0|000000 = 3;                        3 · 5/2 = 7.5
#   01101001  -> 0|1|10|100|1 = 5 (10 copies from 2, then 0 ends 100; the last 1 a copy);
#                reverse 10010110 -> 1|0|01|011|0 = 5;                                       3 · 10/2 = 15
#   00000000, 1111 -> constant: log2 L = 3 and 2
HAND = {
    "01": (2, 2, 2.0),
    "0001": (2, 3, 5.0),
    "0101": (3, 3, 6.0),
    "0110": (3, 3, 6.0),
    "00000001": (2, 3, 7.5),
    "01101001": (5, 5, 15.0),
}


@pytest.mark.parametrize("string", sorted(HAND))
def test_hand_worked_examples(string):
    forward, backward, measure = HAND[string]
    tables, size = tables_of([string]), len(string)
    assert lz76_phrases(tables, size).tolist() == [forward]
    assert lz76_phrases(tables, size, reverse=True).tolist() == [backward]
    assert lz_complexity(tables, size).tolist() == [measure]
    assert len(lz76_parse(string)) == forward and len(lz76_parse(string[::-1])) == backward


def test_constant_tables_score_log2_of_the_length():
    for size in (2, 8, 100, 128, 256):
        assert lz_complexity(tables_of(["0" * size, "1" * size]), size).tolist() == [math.log2(size)] * 2
    assert lz_complexity(tables_of(["0", "1"]), 1).tolist() == [0.0, 0.0]


@st.composite
def strings(draw):
    size = draw(st.sampled_from([2, 3, 5, 8, 16, 63, 64, 65, 100, 127, 128, 129, 200]))
    share = draw(st.sampled_from([0.5, 0.2, 0.03]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return "".join("1" if b else "0" for b in rng.random(size) < share)


@settings(max_examples=300, deadline=None)
@given(st.lists(strings(), min_size=1, max_size=4))
def test_lz_matches_kaspar_schuster_and_the_definition(batch):
    for size in {len(s) for s in batch}:
        group = [s for s in batch if len(s) == size]
        tables = tables_of(group)
        assert lz76_phrases(tables, size).tolist() == [kaspar_schuster(s) for s in group]
        assert lz76_phrases(tables, size, reverse=True).tolist() == [len(lz76_parse(s[::-1])) for s in group]
        # exact, not approximate: the same operations as the published calc_KC
        assert lz_complexity(tables, size).tolist() == [calc_kc(s) for s in group]


def test_lz_on_128_points_is_a_multiple_of_3_5_within_its_range():
    rng = np.random.default_rng(3)
    tables = pack_tables(rng.random((2000, 128)) < rng.random((2000, 1)))
    values = lz_complexity(tables, 128)
    assert np.array_equal(values / 3.5, np.round(values / 3.5))
    assert values.min() >= 7.0 and values.max() <= 7 * 128


@settings(max_examples=50, deadline=None)
@given(st.lists(strings(), min_size=1, max_size=5).filter(lambda b: len({len(s) for s in b}) == 1))
def test_ones_and_entropy(batch):
    size = len(batch[0])
    tables = tables_of(batch)
    counted = [s.count("1") for s in batch]
    assert ones(tables, size).tolist() == counted
    expected = [
        0.0 if q in (0, 1) else -(q * math.log2(q) + (1 - q) * math.log2(1 - q))
        for q in np.divide(counted, size)
    ]
    assert entropy(tables, size) == pytest.approx(expected, abs=1e-12)


def test_entropy_of_half_ones_is_one_bit():
    assert entropy(tables_of(["0011", "0000", "0111"]), 4).tolist() == [
        1.0,
        0.0,
        pytest.approx(0.8112781244591328),
    ]
