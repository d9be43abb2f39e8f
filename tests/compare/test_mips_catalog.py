"""The MIPS catalogue against the published totals, hand-made examples, the repository's own data,
and the independent rules of tests/compare/mips_rules.py."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from compare.benchmarks.mips_catalog import CATALOG, IntRange, MipsTask, by_name
from tests.compare.mips_rules import RULES, generate

NAMES = [task.name for task in CATALOG]


Rows = list[Any]  # one sequence: per-step ints, or per-step lists of ints for several inputs


def run(name: str, rows: Rows) -> list[Any]:
    """The rule of `name` on one sequence given as per-step values (ints, or lists for several inputs)."""
    x = np.asarray(rows, dtype=np.int64)
    return RULES[name](x.reshape(len(rows), -1)).tolist()


def test_62_unique_names_in_the_results_table_order() -> None:
    assert len(NAMES) == 62
    assert len(set(NAMES)) == 62
    # gpt4/task_results.csv starts and ends so; Base_8_Addition (in their yaml) is not among the paper's 62.
    assert NAMES[:2] == ["Binary_Addition", "Base_3_Addition"]
    assert NAMES[-1] == "Newton_Magnetic"
    assert "Base_8_Addition" not in NAMES


def test_every_task_has_a_rule_and_no_rule_is_orphaned() -> None:
    assert set(RULES) == set(NAMES)


def test_published_totals() -> None:
    gpt4 = {t.name for t in CATALOG if t.gpt4 is True}
    mips = {t.name for t in CATALOG if t.mips is True}
    assert all(t.gpt4 is not None and t.mips is not None for t in CATALOG)
    assert len(gpt4) == 30  # the paper: GPT-4 solves 30 of 62
    assert len(mips) == 32  # MIPS solves 32
    assert len(mips - gpt4) == 13  # 13 by MIPS and not by GPT-4


def test_gpt4_outcomes_match_the_known_failures() -> None:
    # docs: /work/shared/REFERENCES.md lists these among GPT-4's failures, from the paper's table.
    failures = ["Add_Mod_4", "Add_Mod_8", "Base_3_Addition", "Base_7_Addition", "Binary_Addition",
                "Parity_Last3", "Parity_All", "Sum_Last2", "Sum_Last3", "Div_5", "Div_7", "Newton_Spring",
                "Newton_Magnetic", "Balanced_Parenthesis", "Majority_0_3",
                "Perfect_Square_Detector"]  # fmt: skip
    assert [name for name in failures if by_name(name).gpt4] == []
    assert by_name("Add_Mod_3").gpt4 and by_name("Base_6_Addition").gpt4


def test_records_are_consistent() -> None:
    for task in CATALOG:
        assert task.length in (10, 20) and task.sequences == 1_000_000 and task.seed == 42
        assert task.split in (0.8, 0.9)
        assert task.source.startswith("tasks/") and task.source.endswith("/create_dataset.py")
        assert task.rule.endswith(".") and task.inputs
    assert [t.name for t in CATALOG if t.length == 20] == ["Sum_Last5", "Sum_Last6", "Sum_Last7", "Prev5"]
    assert [t.name for t in CATALOG if t.outputs != 1] == ["Newton_Magnetic"]
    assert {t.name for t in CATALOG if len(t.inputs) == 2} == {
        "Binary_Addition", "Base_3_Addition", "Base_4_Addition", "Base_5_Addition", "Base_6_Addition",
        "Base_7_Addition", "Bitwise_Xor", "Bitwise_Or", "Bitwise_And", "Bit_Dot_Prod_Mod2", "Newton_Magnetic",
    }  # fmt: skip


def test_by_name() -> None:
    assert by_name("Add_Mod_3").inputs == (IntRange(0, 2),)
    with pytest.raises(KeyError, match="Add_Mod_9"):
        by_name("Add_Mod_9")


def test_records_are_frozen() -> None:
    task = by_name("Sum_All")
    assert isinstance(task, MipsTask)
    with pytest.raises(AttributeError):
        task.length = 5  # type: ignore[misc]


# Hand-written examples, worked out from the rules' statements.
HAND: dict[str, tuple[Rows, Rows]] = {
    "Add_Mod_3": ([1, 2, 2, 0, 1, 1], [1, 0, 2, 2, 0, 1]),
    "Parity_All": ([1, 0, 1, 1, 0, 1], [1, 1, 0, 1, 1, 0]),
    "Sum_Last3": ([5, 1, 0, 9, 2, 2], [5, 6, 6, 10, 11, 13]),
    "Max_Seen": ([3, 1, 7, 2, 7, 9], [3, 3, 7, 7, 7, 9]),
    "Min_Seen": ([5, 6, 2, 9, 0, 4], [5, 5, 2, 2, 0, 0]),
    "Prev2": ([4, 5, 6, 7], [0, 0, 4, 5]),
    "Majority_0_2": ([2, 1, 1, 2, 0, 0], [2, 1, 1, 1, 1, 0]),  # ties go to the smaller value
    "Parity_Zeros": ([0, 1, 0, 0], [1, 1, 0, 1]),
    "Evens_Counter": ([2, 3, 0, 9, 8], [1, 1, 2, 2, 3]),
    "Perfect_Square_Detector": ([0, 2, 4, 9, 15, 16], [1, 0, 1, 1, 0, 1]),
    # 3 + 7 = 10 in binary, least significant bit first: 110 + 111 -> 0101 (carry out dropped at 3 bits)
    "Binary_Addition": ([[1, 1], [1, 1], [0, 1]], [0, 1, 0]),
    "Base_3_Addition": ([[2, 2], [1, 0]], [1, 2]),  # 5 + 2 = 7 = 21 in base 3, LSD first -> 1, 2
    "Bit_Dot_Prod_Mod2": ([[1, 1], [0, 1], [1, 1], [1, 0]], [1, 1, 0, 0]),
    "Newton_Freebody": ([1, 0, 0, -1], [1, 2, 3, 3]),
}


@pytest.mark.parametrize("name", sorted(HAND))
def test_hand_examples(name: str) -> None:
    inputs, expected = HAND[name]
    assert run(name, inputs) == expected


# The first training sequences of their data.pt, as printed in gpt4/<name>/0/output_conversation.txt of
# ejmichaud/neural-verification: what MIPS and GPT-4 actually saw, independent of any generator version.
PUBLISHED: dict[str, list[tuple[Rows, Rows]]] = {
    "Prev4": [([42, 67, 76, 14, 26, 35, 20, 24, 50, 13], [0, 0, 0, 0, 42, 67, 76, 14, 26, 35])],
    "Prev5": [([42, 67, 76, 14, 26, 35, 20, 24, 50, 13, 78, 14, 10, 54, 31, 72, 15, 95, 67, 6],
               [0, 0, 0, 0, 0, 42, 67, 76, 14, 26, 35, 20, 24, 50, 13, 78, 14, 10, 54, 31])],
    "Sum_Last5": [([42, 67, 76, 14, 26, 35, 20, 24, 50, 13, 78, 14, 10, 54, 31, 72, 15, 95, 67, 6],
                   [42, 109, 185, 199, 225, 218, 171, 119, 155, 142, 185, 179, 165, 169, 187, 181, 182, 267,
                    280, 255])],
    "Sum_Last7": [([42, 67, 76, 14, 26, 35, 20, 24, 50, 13, 78, 14, 10, 54, 31, 72, 15, 95, 67, 6],
                   [42, 109, 185, 199, 225, 260, 280, 262, 245, 182, 246, 234, 209, 243, 250, 272, 274, 291,
                    344, 340])],
    "Diff_Last2": [([42, -33, -24, -86, -74, 35, -80, 24, 50, 13],
                    [42, -75, 9, -62, 12, 109, -115, 104, 26, -37]),
                   ([78, -86, -90, 54, -69, 72, 15, -5, 67, 6],
                    [78, -164, -4, 144, -123, 141, -57, -20, 72, -61])],
    "Abs_Diff": [([42, -33, -24, -86, -74, 35, -80, 24, 50, 13], [42, 75, 9, 62, 12, 109, 115, 104, 26, 37]),
                 ([78, -86, -90, 54, -69, 72, 15, -5, 67, 6], [78, 164, 4, 144, 123, 141, 57, 20, 72, 61])],
    "Diff_Abs_Values": [([42, -33, -24, -86, -74, 35, -80, 24, 50, 13],
                         [42, -9, -9, 62, -12, -39, 45, -56, 26, -37]),
                        ([-30, 9, 70, 39, -14, -1, -85, 84, 78, 8],
                         [30, -21, 61, -31, -25, -13, 84, -1, -6, -70])],
    "Div_3": [([0, 1, 0, 0, 0, 1, 0, 0, 0, 1], [0, 0, 0, 0, 1, 0, 1, 1, 0, 1]),
              ([0, 0, 0, 0, 1, 0, 1, 1, 1, 0], [0, 0, 0, 0, 0, 0, 0, 1, 1, 1])],
    "Div_5": [([0, 1, 0, 0, 0, 1, 0, 0, 0, 1], [0, 0, 0, 0, 0, 1, 1, 0, 1, 1]),
              ([1, 0, 1, 1, 1, 1, 1, 1, 1, 1], [0, 0, 0, 1, 0, 0, 1, 1, 0, 0])],
    "Div_7": [([0, 1, 0, 0, 0, 1, 0, 0, 0, 1], [0, 0, 0, 0, 0, 1, 0, 0, 1, 1]),
              ([1, 1, 1, 1, 1, 1, 1, 1, 1, 0], [0, 0, 0, 1, 0, 0, 1, 0, 0, 1])],
    "Newton_Spring": [([5, -8, -6, 9, 8, 7, 9, -5, -3, 4], [5, -3, -14, -2, 20, 29, 18, -16, -37, -17])],
    "Newton_Gravity": [([5, -8, -6, 9, 8, 7, 9, -5, -3, 4], [4, -1, -13, -17, -14, -5, 12, 23, 30, 40])],
    "Newton_Magnetic": [([[5, -8], [-6, 9], [8, 7], [9, -5], [-3, 4], [-3, 9], [10, 8], [5, 6], [10, 3],
                          [-1, 0]],
                         [[5, -8], [12, -2], [21, 18], [19, 42], [-10, 68], [-68, 74], [-122, 30],
                          [-127, -62], [-30, -156], [160, -153]])],
    "Previous_Equals_Current": [([0, 7, 7, 4, 7, 7, 2, 2, 6, 0], [1, 0, 1, 0, 0, 1, 0, 1, 0, 0]),
                                ([1, 1, 1, 2, 7, 3, 2, 2, 0, 7], [0, 1, 1, 0, 0, 0, 0, 1, 0, 0])],
    "Parity_Bits_Mod2": [([1, 0, 1, 1, 1, 1, 1, 1, 1, 1], [0, 1, 0, 1, 0, 1, 0, 1, 0, 1])],
    "Bit_Palindrome": [([1, 0, 0, 0, 0, 0, 0, 1, 0, 1], [1, 0, 0, 0, 0, 0, 0, 1, 0, 0]),
                       ([0, 1, 0, 0, 0, 1, 0, 1, 1, 1], [1, 0, 1, 0, 0, 0, 1, 0, 0, 0])],
    "Alternating_Last3": [([1, 0, 1, 1, 1, 0, 1, 0, 1, 1], [0, 1, 1, 0, 0, 0, 1, 1, 1, 0]),
                          ([0, 1, 1, 1, 0, 1, 0, 1, 0, 1], [0, 0, 0, 0, 0, 1, 1, 1, 1, 1])],
    "Balanced_Parenthesis": [([0, 1, 0, 0, 0, 1, 0, 0, 0, 1], [0, 1, 0, 0, 0, 0, 0, 0, 0, 0]),
                             ([0, 1, 0, 1, 0, 0, 1, 0, 1, 1], [0, 1, 0, 1, 0, 0, 0, 0, 0, 1])],
    "Dithering": [([6, 3, 12, 14, 10, 7, 12, 4, 6, 9], [0, 0, 1, 1, 1, 0, 1, 0, 0, 1]),
                  ([10, 14, 9, 15, 11, 11, 15, 14, 13, 13], [0, 1, 1, 1, 0, 1, 1, 1, 1, 1])],
    "Binary_Addition": [([[0, 1], [0, 0], [0, 1], [0, 0], [0, 1], [0, 0], [0, 0], [1, 0], [1, 1], [1, 0]],
                         [1, 0, 1, 0, 1, 0, 0, 1, 0, 0])],
    "Base_7_Addition": [([[1, 2], [4, 5], [4, 3], [5, 5], [0, 0], [0, 5], [6, 4], [1, 2], [6, 6], [2, 3]],
                         [3, 2, 1, 4, 1, 5, 3, 4, 5, 6])],
    "Bit_Dot_Prod_Mod2": [([[1, 0], [1, 1], [1, 1], [1, 1], [1, 1], [0, 0], [1, 1], [1, 0], [1, 0], [0, 0]],
                           [0, 1, 0, 1, 0, 0, 1, 1, 1, 1])],
    "Majority_0_3": [([2, 3, 0, 2, 2, 3, 0, 0, 2, 1], [2, 2, 0, 2, 2, 2, 2, 0, 2, 2])],
    "Min_Seen": [([2, 7, 6, 4, 6, 5, 0, 4, 0, 3], [2, 2, 2, 2, 2, 2, 0, 0, 0, 0])],
    "Max_Seen": [([2, 0, 5, 9, 3, 4, 9, 6, 2, 0], [2, 2, 5, 9, 9, 9, 9, 9, 9, 9])],
    "Evens_Counter": [([2, 7, 6, 4, 6, 5, 0, 4, 0, 3], [1, 1, 2, 3, 4, 4, 5, 6, 7, 7])],
    "Parity_Zeros": [([0, 1, 0, 0, 0, 1, 0, 0, 0, 1], [1, 1, 0, 1, 0, 0, 1, 0, 1, 1])],
    "Parity_Last4": [([1, 0, 1, 1, 1, 1, 1, 1, 1, 1], [1, 1, 0, 1, 1, 0, 0, 0, 0, 0])],
    "Perfect_Square_Detector": [([12, 0, 15, 9, 13, 4, 19, 16, 12, 10], [0, 1, 0, 1, 0, 1, 0, 1, 0, 0])],
    "Add_Mod_5": [([2, 2, 1, 4, 1, 0, 0, 4, 0, 3], [2, 4, 0, 4, 0, 0, 0, 4, 4, 2])],
    "Alternating_Last4": [([1, 1, 1, 0, 1, 0, 1, 1, 1, 1], [0, 0, 0, 0, 0, 1, 1, 0, 0, 0]),
                          ([1, 0, 1, 0, 0, 1, 0, 1, 1, 1], [0, 0, 1, 1, 0, 0, 0, 1, 0, 0])],
    "Abs_Current": [([42, -33, -24, -86, -74, 35, -80, 24, 50, 13],
                     [42, 33, 24, 86, 74, 35, 80, 24, 50, 13])],
    "Current_Number": [([78, 14, 10, 54, 31, 72, 15, 95, 67, 6], [78, 14, 10, 54, 31, 72, 15, 95, 67, 6])],
    "Prev1": [([42, 67, 76, 14, 26, 35, 20, 24, 50, 13], [0, 42, 67, 76, 14, 26, 35, 20, 24, 50])],
    "Sum_All": [([42, 67, 76, 14, 26, 35, 20, 24, 50, 13],
                 [42, 109, 185, 199, 225, 260, 280, 304, 354, 367])],
    "Sum_Last4": [([42, 67, 76, 14, 26, 35, 20, 24, 50, 13],
                   [42, 109, 185, 199, 183, 151, 95, 105, 129, 107])],
    "Sum_Last6": [([42, 67, 76, 14, 26, 35, 20, 24, 50, 13, 78, 14, 10, 54, 31, 72, 15, 95, 67, 6],
                   [42, 109, 185, 199, 225, 260, 238, 195, 169, 168, 220, 199, 189, 219, 200, 259, 196, 277,
                    334, 286])],
    "Newton_Freebody": [([5, -8, -6, 9, 8, 7, 9, -5, -3, 4], [5, 2, -7, -7, 1, 16, 40, 59, 75, 95])],
    "Base_3_Addition": [([[0, 2], [1, 1], [0, 2], [1, 2], [1, 2], [1, 1], [2, 0], [0, 1], [2, 1], [0, 1]],
                         [2, 2, 2, 0, 1, 0, 0, 2, 0, 2])],
    "Base_6_Addition": [([[0, 5], [4, 4], [0, 5], [4, 2], [4, 5], [4, 4], [2, 0], [3, 4], [5, 1], [3, 4]],
                         [5, 2, 0, 1, 4, 3, 3, 1, 1, 2])],
    "Evens_Detector": [([2, 7, 6, 4, 6, 5, 0, 4, 0, 3], [1, 0, 1, 1, 1, 0, 1, 1, 1, 0])],
    "Majority_0_1": [([0, 0, 1, 1, 1, 0, 1, 0, 0, 0], [0, 0, 0, 0, 1, 0, 1, 0, 0, 0])],
    "Majority_0_2": [([0, 2, 1, 1, 0, 2, 1, 2, 1, 2], [0, 0, 0, 1, 0, 0, 1, 1, 1, 1])],
    "Parity_Last3": [([0, 1, 0, 0, 0, 1, 0, 0, 0, 1], [0, 1, 1, 1, 0, 1, 1, 1, 0, 1])],
    "Sum_Last3": [([42, 67, 76, 14, 26, 35, 20, 24, 50, 13], [42, 109, 185, 157, 116, 75, 81, 79, 94, 87])],
    "Add_Mod_8": [([6, 3, 4, 6, 2, 7, 4, 4, 6, 1], [6, 1, 5, 3, 5, 4, 0, 4, 2, 3])],
    "Add_Mod_6": [([0, 5, 4, 4, 0, 5, 4, 2, 4, 5], [0, 5, 3, 1, 1, 0, 4, 0, 4, 3])],
    "Base_4_Addition": [([[2, 3], [0, 2], [2, 3], [0, 0], [2, 1], [2, 2], [2, 2], [3, 0], [3, 3], [3, 2]],
                         [1, 3, 1, 1, 3, 0, 1, 0, 3, 2])],
    "Bitwise_Xor": [([[0, 1], [0, 0], [0, 1], [0, 0], [0, 1], [0, 0], [0, 0], [1, 0], [1, 1], [1, 0]],
                     [1, 0, 1, 0, 1, 0, 0, 1, 0, 1])],
    "Parity_All": [([0, 1, 0, 0, 0, 1, 0, 0, 0, 1], [0, 1, 1, 1, 1, 0, 0, 0, 0, 1])],
    "Sum_Last2": [([42, 67, 76, 14, 26, 35, 20, 24, 50, 13], [42, 109, 143, 90, 40, 61, 55, 44, 74, 63])],
    "Prev3": [([42, 67, 76, 14, 26, 35, 20, 24, 50, 13], [0, 0, 0, 42, 67, 76, 14, 26, 35, 20])],
    "Bit_Shift_Right": [([0, 1, 0, 0, 0, 1, 0, 0, 0, 1], [0, 0, 1, 0, 0, 0, 1, 0, 0, 0])],
    "Add_Mod_3": [([0, 2, 1, 1, 0, 2, 1, 2, 1, 2], [0, 2, 0, 1, 1, 0, 1, 0, 1, 0])],
    "Add_Mod_4": [([2, 3, 0, 2, 2, 3, 0, 0, 2, 1], [2, 1, 1, 3, 1, 0, 0, 0, 2, 3])],
    "Add_Mod_7": [([1, 2, 4, 5, 4, 3, 5, 5, 0, 0], [1, 3, 0, 5, 2, 5, 3, 1, 1, 1])],
    "Base_5_Addition": [([[2, 2], [1, 4], [1, 0], [0, 4], [0, 3], [3, 4], [0, 4], [1, 2], [0, 0], [2, 1]],
                         [4, 0, 2, 4, 3, 2, 0, 4, 0, 3])],
    "Bitwise_And": [([[1, 0], [1, 1], [1, 1], [1, 1], [1, 1], [0, 0], [1, 1], [1, 0], [1, 0], [0, 0]],
                     [0, 1, 1, 1, 1, 0, 1, 0, 0, 0])],
    "Bitwise_Or": [([[0, 1], [0, 0], [0, 1], [0, 0], [0, 1], [0, 0], [0, 0], [1, 0], [1, 1], [1, 0]],
                    [1, 0, 1, 0, 1, 0, 0, 1, 1, 1])],
    "Bitwise_Not": [([0, 1, 0, 0, 0, 1, 0, 0, 0, 1], [1, 0, 1, 1, 1, 0, 1, 1, 1, 0])],
    "Parity_Last2": [([0, 1, 0, 0, 0, 1, 0, 0, 0, 1], [0, 1, 1, 0, 0, 1, 1, 0, 0, 1])],
    "Prev2": [([42, 67, 76, 14, 26, 35, 20, 24, 50, 13], [0, 0, 42, 67, 76, 14, 26, 35, 20, 24])],
}  # fmt: skip


def test_every_task_has_a_published_example() -> None:
    assert set(PUBLISHED) == set(NAMES)


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_examples(name: str) -> None:
    task = by_name(name)
    for inputs, expected in PUBLISHED[name]:
        x = np.asarray(inputs).reshape(len(inputs), -1)
        assert x.shape == (task.length, len(task.inputs))
        for column, alphabet in enumerate(task.inputs):  # their data lies in the catalogue's alphabets
            assert alphabet.low <= x[:, column].min() and x[:, column].max() <= alphabet.high
        assert run(name, inputs) == expected


@pytest.mark.parametrize("name", NAMES)
def test_rules_are_total_deterministic_and_in_range(name: str) -> None:
    task = by_name(name)
    inputs, outputs = generate(name, 200, seed=7)
    shape = (200, task.length) if task.outputs == 1 else (200, task.length, task.outputs)
    assert inputs.shape == (200, task.length, len(task.inputs))
    assert outputs.shape == shape and outputs.dtype == np.int64
    for column, alphabet in enumerate(task.inputs):
        assert alphabet.low <= inputs[..., column].min() and inputs[..., column].max() <= alphabet.high
    assert task.output.low <= outputs.min() and outputs.max() <= task.output.high
    again_inputs, again_outputs = generate(name, 200, seed=7)
    assert np.array_equal(inputs, again_inputs) and np.array_equal(outputs, again_outputs)


@pytest.mark.parametrize("name", NAMES)
def test_inputs_cover_the_alphabet(name: str) -> None:
    task = by_name(name)
    inputs, _ = generate(name, 400, seed=11)
    for column, alphabet in enumerate(task.inputs):
        assert len(np.unique(inputs[..., column])) == alphabet.size


def test_exact_output_ranges_are_reached() -> None:
    # Where the catalogue states an exact range (not a bound), random inputs reach both ends.
    exact = ["Add_Mod_8", "Bitwise_Or", "Min_Seen", "Max_Seen", "Dithering", "Majority_0_3",
             "Base_7_Addition"]
    for name in exact:
        task = by_name(name)
        _, outputs = generate(name, 2000, seed=3)
        assert (outputs.min(), outputs.max()) == (task.output.low, task.output.high), name


def test_rules_are_causal() -> None:
    # Every MIPS task is a per-step function of the prefix: changing step t never changes outputs before t.
    rng = np.random.default_rng(5)
    for task in CATALOG:
        inputs, outputs = generate(task.name, 20, seed=13)
        for sequence, expected in zip(inputs, outputs, strict=True):
            t = int(rng.integers(task.length))
            changed = sequence.copy()
            changed[t:] = [a.low for a in task.inputs]
            assert np.array_equal(RULES[task.name](changed)[:t], expected[:t]), task.name
