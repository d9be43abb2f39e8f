"""The 62 tasks of the MIPS benchmark (Michaud et al. 2024, arXiv 2402.05110), as facts, not as code.

One frozen record per task, in the order of the repository's results table (below), holding what a
re-implementation needs: each per-step input's alphabet, the output's range, the sequence length, how
many sequences their generator draws, the train share, the seed, one sentence of the rule, the
generator it was read from, and the two published outcomes. The occam tasks of issue 13
(`occam bench mips`) are built from these records; `tests/compare/mips_rules.py` holds an independent
plain-Python implementation of every rule, and `tests/compare/test_mips_catalog.py` checks the two
against each other and against examples from the public repository.

Where each field comes from (all paths in the public repository `ejmichaud/neural-verification`):

- `name` and order: the rows of `gpt4/task_results.csv`, which lists exactly the paper's 62 tasks
  (grouped as the paper groups them; that its order is the paper's table order is assumed, not
  checked against the PDF). `first_paper_final_renamed.yaml` has the same names plus `Base_8_Addition`
  (63 entries); the paper and the CSV leave Base_8_Addition out, and so do we.
- `inputs`, `outputs`, `length`, `sequences`, `split`, `seed`: the task's generator, `source`
  (`tasks/<old name>/create_dataset.py`; the yaml `first_paper_final.yaml` and
  `search_first_paper.yaml` list the tasks under their new and old names in the same order, which
  gives the mapping). Every generator draws 10^6 sequences with seed 42 (a few stored versions seed
  only Python and numpy although they draw with torch), and splits train/test in generation order.
  `input_dim`/`output_dim` of the training yaml agree with `len(inputs)`/`outputs`.
- `rule`: written from the generator, then checked against the data that was actually used:
  `gpt4/<name>/0/output_conversation.txt` prints the first ten training sequences of the task's
  `data.pt` (the prompt script reads `data[0][:10]`, `data[1][:10]`), and for every one of the 62
  tasks the test suite replays at least one of them through the independent rule. The stored
  generator is not always the version that made the data; where the two disagree the rule follows
  the data, and the task's `note` says so:
  Div_3/Div_5/Div_7 (output delayed by one step), Prev4 (zero for the first four steps),
  Diff_Last2/Abs_Diff/Diff_Abs_Values (the first output uses a previous input of 0, and no int8
  wrap-around), Previous_Equals_Current (the first step compares with 0) and Max_Seen (inputs 0..9,
  not 0..99).
- `output`: the exact range of the rule over the alphabets where it is easy to state, else a bound
  (Newton_Spring, Newton_Magnetic: the sum of the absolute impulse responses times 10).
- `gpt4` and `mips`: columns 2 and 3 of `gpt4/task_results.csv` (its header names only "Result").
  They are read as GPT-4 and MIPS because their totals are the paper's: 30 and 32 of 62, with 13
  tasks solved by MIPS and not by GPT-4, exactly as the paper states, and because the GPT-4 column
  agrees with every GPT-4 failure that /work/shared/REFERENCES.md quotes from the paper. No task is
  left unknown. (The per-attempt transcripts under `gpt4/<name>/{0,1,2}/` are not re-graded here: a
  task counts as solved by GPT-4 when one of its three attempts was, so attempt 0 alone can disagree,
  e.g. Bitwise_Not.)
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CATALOG", "IntRange", "MipsTask", "by_name"]

_TASKS = "tasks/"


@dataclass(frozen=True, slots=True)
class IntRange:
    """The integers `low..high`, both included (every MIPS input and output is an integer)."""

    low: int
    high: int

    def __post_init__(self) -> None:
        if self.low > self.high:
            raise ValueError(f"empty range {self.low}..{self.high}")

    @property
    def size(self) -> int:
        return self.high - self.low + 1


@dataclass(frozen=True, slots=True)
class MipsTask:
    """One MIPS task: per-step inputs, per-step output(s), and how their generator draws the data."""

    name: str  # their renamed name, as in the paper
    inputs: tuple[IntRange, ...]  # one alphabet per per-step input
    output: IntRange  # range of each per-step output (exact, or a stated bound: see the module doc)
    rule: str  # one plain-English sentence
    source: str  # repository path of the generator the rule was read from
    gpt4: bool | None  # GPT-4 solved it (gpt4/task_results.csv, column 2)
    mips: bool | None  # MIPS solved it (gpt4/task_results.csv, column 3)
    outputs: int = 1  # per-step outputs (2 only for Newton_Magnetic)
    length: int = 10  # sequence length
    sequences: int = 1_000_000  # sequences their generator draws
    split: float = 0.9  # train share (by sequence, in generation order)
    seed: int = 42
    note: str = ""  # anything a re-implementation must know beyond the rule

    @property
    def examples_source(self) -> str:
        """Where the first ten training sequences of their data are printed (GPT-4's prompt)."""
        return f"gpt4/{self.name}/0/output_conversation.txt"


BIT = IntRange(0, 1)
PERCENT = IntRange(0, 99)  # torch.randint(0, 100)
SIGNED = IntRange(-100, 99)  # torch.randint(-100, 100)
FORCE = IntRange(-10, 10)  # torch.randint(-10, 11)


def _digits(base: int) -> IntRange:
    return IntRange(0, base - 1)


def _generator(folder: str) -> str:
    return f"{_TASKS}{folder}/create_dataset.py"


_DELAYED_QUOTIENT = (
    "Their output is delayed one step: y_0 = 0 and y_t is the quotient bit of step t-1 (the generator "
    "stacks a leading zero and keeps the first 10 of 11 outputs; the stored example table confirms it)."
)


def _binary_addition(base: int) -> MipsTask:
    name = "Binary_Addition" if base == 2 else f"Base_{base}_Addition"
    folder = "bit_addition" if base == 2 else f"rnn_base_{base}_addition"
    return MipsTask(
        name, (_digits(base), _digits(base)), _digits(base),
        f"Two base-{base} numbers arrive least significant digit first; output the digit of their sum "
        "at each position (the carry out of the last digit is dropped).",
        _generator(folder), gpt4=base == 6, mips=base == 2,
    )  # fmt: skip


def _add_mod(modulus: int) -> MipsTask:
    return MipsTask(
        f"Add_Mod_{modulus}", (_digits(modulus),), _digits(modulus),
        f"The running sum of the inputs so far, mod {modulus}.",
        _generator(f"rnn_add_mod_{modulus}_numerical"), gpt4=modulus == 3, mips=modulus == 3, split=0.8,
    )  # fmt: skip


def _sum_last(window: int, *, gpt4: bool) -> MipsTask:
    length = 20 if window >= 5 else 10
    return MipsTask(
        f"Sum_Last{window}", (PERCENT,), IntRange(0, 99 * window),
        f"The sum of the current input and the {window - 1} before it (missing ones count as 0).",
        _generator(f"rnn_sum_last{window}_numerical"), gpt4=gpt4, mips=True, length=length,
    )  # fmt: skip


def _prev(lag: int) -> MipsTask:
    return MipsTask(
        f"Prev{lag}", (PERCENT,), PERCENT,
        f"The input {lag} step{'s' if lag > 1 else ''} earlier, 0 for the first {lag}.",
        _generator(f"rnn_prev{lag}_numerical"), gpt4=True, mips=True, length=20 if lag == 5 else 10,
        note="" if lag != 4 else (
            "The stored generator forgets to zero y_3 (it outputs x_0 there); the data actually used "
            "(the example table) has y_0..y_3 = 0, which the rule follows."
        ),
    )  # fmt: skip


def _majority(top: int, *, gpt4: bool) -> MipsTask:
    return MipsTask(
        f"Majority_0_{top}", (_digits(top + 1),), _digits(top + 1),
        "The value seen most often so far, ties broken towards the smaller value.",
        _generator(f"rnn_majority0_{top}_numerical"), gpt4=gpt4, mips=False,
    )  # fmt: skip


def _div(divisor: int) -> MipsTask:
    return MipsTask(
        f"Div_{divisor}", (BIT,), BIT,
        f"Long division by {divisor} of the binary number read most significant bit first: the quotient "
        "bit, one step late (0 at the first step).",
        _generator(f"rnn_div_{divisor}_numerical"), gpt4=divisor == 3, mips=False, split=0.8,
        note=_DELAYED_QUOTIENT,
    )  # fmt: skip


CATALOG: tuple[MipsTask, ...] = (
    _binary_addition(2), _binary_addition(3), _binary_addition(4), _binary_addition(5),
    _binary_addition(6), _binary_addition(7),
    MipsTask("Bitwise_Xor", (BIT, BIT), BIT, "The XOR of the two current bits.",
             _generator("rnn_bitwise_xor"), gpt4=True, mips=True),
    MipsTask("Bitwise_Or", (BIT, BIT), BIT, "The OR of the two current bits.",
             _generator("rnn_bitwise_or"), gpt4=True, mips=True),
    MipsTask("Bitwise_And", (BIT, BIT), BIT, "The AND of the two current bits.",
             _generator("rnn_bitwise_and"), gpt4=True, mips=True),
    MipsTask("Bitwise_Not", (BIT,), BIT, "The NOT of the current bit.",
             _generator("rnn_bitwise_not"), gpt4=True, mips=True),
    MipsTask("Parity_Last2", (BIT,), BIT,
             "The parity of the current and the previous bit (previous 0 at start).",
             _generator("rnn_parity_last2_numerical"), gpt4=True, mips=True),
    MipsTask("Parity_Last3", (BIT,), BIT,
             "The parity of the current and the 2 previous bits (missing count as 0).",
             _generator("rnn_parity_last3_numerical"), gpt4=False, mips=True),
    MipsTask("Parity_Last4", (BIT,), BIT,
             "The parity of the current and the 3 previous bits (missing count as 0).",
             _generator("rnn_parity_last4_numerical"), gpt4=False, mips=False),
    MipsTask("Parity_All", (BIT,), BIT, "The parity of all bits so far.",
             _generator("rnn_parity_numerical"), gpt4=False, mips=True),
    MipsTask("Parity_Zeros", (BIT,), BIT, "The parity of the number of zeros so far.",
             _generator("rnn_parity_of_zeros_numerical"), gpt4=False, mips=True),
    MipsTask("Evens_Counter", (_digits(10),), IntRange(0, 10), "The number of even inputs so far.",
             _generator("rnn_evens_counter_numerical"), gpt4=False, mips=False),
    MipsTask("Sum_All", (PERCENT,), IntRange(0, 990), "The sum of all inputs so far.",
             _generator("rnn_sum_numerical"), gpt4=True, mips=True),
    _sum_last(2, gpt4=False), _sum_last(3, gpt4=False), _sum_last(4, gpt4=True), _sum_last(5, gpt4=True),
    _sum_last(6, gpt4=True), _sum_last(7, gpt4=True),
    MipsTask("Current_Number", (PERCENT,), PERCENT, "The current input.",
             _generator("rnn_identity_numerical"), gpt4=True, mips=True),
    _prev(1), _prev(2), _prev(3), _prev(4), _prev(5),
    MipsTask("Previous_Equals_Current", (_digits(8),), BIT,
             "1 when the current input equals the previous one (the one before the first counts as 0).",
             _generator("rnn_unique2_numerical"), gpt4=False, mips=True,
             note="The generator draws 10^6 sequences and drops duplicates (torch.unique), so slightly fewer "
                  "remain; the stored version outputs 0 at the first step, the data used (example table) "
                  "compares x_0 with 0, which the rule follows."),
    MipsTask("Diff_Last2", (SIGNED,), IntRange(-199, 199),
             "The current input minus the previous one (the one before the first counts as 0).",
             _generator("rnn_diff_last2_numerical"), gpt4=False, mips=True,
             note="The stored version outputs 0 first and computes in int8 (wrapping past 127); the data "
                  "used (example table) has y_0 = x_0 and values such as -164, which the rule follows."),
    MipsTask("Abs_Diff", (SIGNED,), IntRange(0, 199),
             "The absolute difference of the current and the previous input (the one before the first "
             "counts as 0).",
             _generator("rnn_abs_value_of_diff_numerical"), gpt4=False, mips=True,
             note="As Diff_Last2: the example table has y_0 = |x_0| and no int8 wrap-around."),
    MipsTask("Abs_Current", (SIGNED,), IntRange(0, 100), "The absolute value of the current input.",
             _generator("rnn_abs_value_numerical"), gpt4=True, mips=True),
    MipsTask("Diff_Abs_Values", (SIGNED,), IntRange(-100, 100),
             "|current input| minus |previous input| (the one before the first counts as 0).",
             _generator("rnn_diff_of_abs_value_numerical"), gpt4=True, mips=False,
             note="The stored version outputs 0 first; the example table has y_0 = |x_0|, which the rule "
                  "follows."),
    MipsTask("Min_Seen", (_digits(10),), _digits(10), "The smallest input so far.",
             _generator("rnn_min_numerical"), gpt4=True, mips=False),
    MipsTask("Max_Seen", (_digits(10),), _digits(10), "The largest input so far.",
             _generator("rnn_max_numerical"), gpt4=True, mips=False,
             note="The stored generator draws from [0, 100), but the data used is over 0..9: the example "
                  "table's 100 inputs are all below 10 (and are the same sequences as Min_Seen's)."),
    _majority(1, gpt4=True), _majority(2, gpt4=False), _majority(3, gpt4=False),
    MipsTask("Evens_Detector", (_digits(10),), BIT, "1 when the current input is even.",
             _generator("rnn_evens_detector_numerical"), gpt4=True, mips=False),
    MipsTask("Perfect_Square_Detector", (_digits(20),), BIT, "1 when the current input is a perfect square.",
             _generator("rnn_perfect_square_detector_numerical"), gpt4=False, mips=False),
    MipsTask("Bit_Palindrome", (BIT,), BIT, "1 when the bits so far read the same backwards.",
             _generator("rnn_bit_palindromes_numerical"), gpt4=True, mips=False,
             note="Inputs are not uniform: each sequence starts with a random palindrome of length 2..10 "
                  "(uniform), then uniform bits; a uniform sampler sees far fewer long palindromes."),
    MipsTask("Balanced_Parenthesis", (BIT,), BIT,
             "With 0 as '(' and 1 as ')': 1 when the prefix is balanced, and 0 forever once it has closed "
             "more than it opened.",
             _generator("rnn_balanced_parenthesis_numerical"), gpt4=False, mips=False),
    MipsTask("Parity_Bits_Mod2", (BIT,), BIT,
             "The parity of the position (0, 1, 0, 1, ...), whatever the input.",
             _generator("rnn_parity_of_index_numerical"), gpt4=True, mips=False),
    MipsTask("Alternating_Last3", (BIT,), BIT,
             "1 when the last 3 bits (missing count as 0) are 010 or 101.",
             _generator("rnn_alternating_last3_numerical"), gpt4=False, mips=False),
    MipsTask("Alternating_Last4", (BIT,), BIT,
             "1 when the last 4 bits (missing count as 0) are 0101 or 1010.",
             _generator("rnn_alternating_last4_numerical"), gpt4=True, mips=False),
    MipsTask("Bit_Shift_Right", (BIT,), BIT, "The previous bit, 0 at the first step.",
             _generator("rnn_bit_shift_right_numerical"), gpt4=True, mips=True),
    MipsTask("Bit_Dot_Prod_Mod2", (BIT, BIT), BIT,
             "The parity of the number of steps so far at which both bits are 1.",
             _generator("rnn_bit_dot_prod_mod2_numerical"), gpt4=False, mips=True),
    _div(3), _div(5), _div(7),
    _add_mod(3), _add_mod(4), _add_mod(5), _add_mod(6), _add_mod(7), _add_mod(8),
    MipsTask("Dithering", (_digits(16),), BIT,
             "floor(S_t / 15) - floor(S_{t-1} / 15) for the running sum S of the inputs: 1 when the "
             "running sum crosses a multiple of 15.",
             _generator("rnn_dithering_numerical"), gpt4=True, mips=False, split=0.8),
    MipsTask("Newton_Freebody", (FORCE,), IntRange(-550, 550),
             "Position of a unit mass from rest under the input force: v += x, p += v, output p.",
             _generator("rnn_newton_freebody_numerical"), gpt4=False, mips=True, split=0.8),
    MipsTask("Newton_Gravity", (FORCE,), IntRange(-605, 495),
             "As Newton_Freebody with gravity -1 added to the force: v += x - 1, p += v, output p.",
             _generator("rnn_newton_gravity_numerical"), gpt4=False, mips=True, split=0.8),
    MipsTask("Newton_Spring", (FORCE,), IntRange(-70, 70),
             "A unit mass on a unit spring from rest: v += x - p, p += v, output p.",
             _generator("rnn_newton_spring_numerical"), gpt4=False, mips=True, split=0.8),
    MipsTask("Newton_Magnetic", (FORCE, FORCE), IntRange(-1260, 1260),
             "A unit charge in a unit magnetic field from rest, 2-D force input: a = f + (-v_y, v_x), "
             "v += a, p += v, output both coordinates of p.",
             _generator("rnn_newton_magnetic_numerical"), gpt4=False, mips=False, outputs=2, split=0.8),
)  # fmt: skip

_BY_NAME = {task.name: task for task in CATALOG}


def by_name(name: str) -> MipsTask:
    """The catalogue's record of the task `name` (their renamed name, e.g. "Add_Mod_3")."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"no MIPS task {name!r}; expected one of {', '.join(sorted(_BY_NAME))}") from None
