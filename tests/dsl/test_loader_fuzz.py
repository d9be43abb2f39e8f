"""Fuzzing the loader with fresh mutations of the library's task files, each run.

Every mutated file must load, or be refused with an `OccamError`: never another exception (a
RecursionError from a deep program, a ValueError from a 5,000-digit number, an OverflowError
while formatting a message). The mutations are those that found such escapes: bytes and
tokens inserted, deleted and duplicated, numbers blown up to hundreds or thousands of digits,
and expressions blown up to hundreds of levels of nesting.

Each run draws a new seed and prints it; `OCCAM_FUZZ_SEED=N` replays a run. The default run
tries a few hundred files; `-m slow` runs 10,000.
"""

import os
import random
import re
import time
from pathlib import Path

import pytest

import dsl
from dsl.grammars import description_length

TASK_TEXTS = [path.read_text(encoding="utf-8") for path in sorted((Path(dsl.__file__).parent / "tasks").glob("*.task"))]

_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|\S")
_NUMBER = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_NAME = re.compile(r"\b[a-z][a-z0-9_]*\b")
_ODD_CHARACTERS = ["\n", "\t", "\r", "\f", "\v", "\x00", "\u2028", "\u00a0", "é", "#", '"', "\\", "{", "}", "(", ")",
                   "[", "]", ",", ":", "%", "..", "->", "-", "+", "*", "**", "~", "0", "9", ".", "e"]  # fmt: skip


def _insert_bytes(text: str, rng: random.Random) -> str:
    position = rng.randrange(len(text) + 1)
    if rng.random() < 0.5:
        inserted = "".join(rng.choice(_ODD_CHARACTERS) for _ in range(rng.randint(1, 3)))
    else:
        inserted = "".join(chr(rng.randrange(32, 0x3000)) for _ in range(rng.randint(1, 3)))
    return text[:position] + inserted + text[position:]


def _delete_bytes(text: str, rng: random.Random) -> str:
    position = rng.randrange(len(text) + 1)
    return text[:position] + text[position + rng.randint(1, 8) :]


def _duplicate_bytes(text: str, rng: random.Random) -> str:
    start = rng.randrange(len(text) + 1)
    end = min(len(text), start + rng.randint(1, 40))
    return text[:end] + text[start:end] * rng.randint(1, 3) + text[end:]


def _token_edit(text: str, rng: random.Random) -> str:
    matches = list(_TOKEN.finditer(text))
    match = rng.choice(matches)
    kind = rng.choice(["insert", "delete", "duplicate"])
    if kind == "delete":
        return text[: match.start()] + text[match.end() :]
    inserted = match.group() if kind == "duplicate" else rng.choice(matches).group()
    return text[: match.start()] + inserted + " " + text[match.start() :]


def _digit_blow_up(text: str, rng: random.Random) -> str:
    """A number replaced by a huge one: hundreds to thousands of digits, or a vast exponent."""
    matches = list(_NUMBER.finditer(text))
    if not matches:
        return text
    match = rng.choice(matches)
    digits = rng.choice([20, 309, 310, 400, 4300, 4301, 5000])
    forms = [
        str(rng.randint(1, 9)) + "".join(rng.choice("0123456789") for _ in range(digits - 1)),
        "0" * digits + "1",
        "1." + "0" * digits + "1",
        f"1e{rng.choice(['', '-', '+'])}{'9' * rng.randint(3, 12)}",
    ]
    return text[: match.start()] + rng.choice(forms) + text[match.end() :]


def _nesting_blow_up(text: str, rng: random.Random) -> str:
    """A name (often an input in a target or grammar) replaced by a deeply nested expression."""
    matches = [match for match in _NAME.finditer(text) if match.group() not in ("task", "input", "output")]
    if not matches:
        return text
    match = rng.choice(matches)
    name, depth = match.group(), rng.choice([50, 99, 100, 101, 250, 340, 1000, 3000])
    forms = [
        " + ".join([name] * depth),
        "-" * depth + name,
        "not " * depth + name,
        "(" * depth + name + ")" * depth,
        "abs(" * depth + name + ")" * depth,
        " ** ".join([name] * depth),
        f"if({name} < 1, " * depth + name + f", {name})" * depth,
    ]
    return text[: match.start()] + rng.choice(forms) + text[match.end() :]


MUTATIONS = [_insert_bytes, _delete_bytes, _duplicate_bytes, _token_edit, _digit_blow_up, _nesting_blow_up]


def mutated_task_file(rng: random.Random) -> str:
    """A library task file with one to three mutations."""
    text = rng.choice(TASK_TEXTS)
    for _ in range(rng.randint(1, 3)):
        text = rng.choice(MUTATIONS)(text, rng)
    return text


def outcome(text: str, base_dir: Path) -> str:
    """'loaded' or 'refused' (an OccamError); any other exception propagates. What loads is
    also printed, re-parsed, rendered and measured, as `occam check` does."""
    try:
        tasks = dsl.parse_tasks(text, source_name="mutated.task", base_dir=base_dir)
    except dsl.OccamError as error:
        assert str(error).strip()
        return "refused"
    for task in tasks:
        if task.target is not None:
            assert dsl.parse_program(str(task.target), task, expected=task.output_type) == task.target
            task.target.to_latex()
            try:
                description_length(task.target, task.grammar)
            except dsl.OccamError:  # a target the grammar cannot derive
                pass
    return "loaded"


def fuzz(count: int, base_dir: Path) -> dict[str, int]:
    """Load `count` fresh mutations; the outcome counts, and the first escape re-raised with
    its seed and file."""
    seed = int(os.environ.get("OCCAM_FUZZ_SEED", random.SystemRandom().randrange(2**32)))
    print(f"loader fuzz: seed {seed} (OCCAM_FUZZ_SEED={seed} replays it), {count:,} files")
    rng = random.Random(seed)
    counts = {"loaded": 0, "refused": 0}
    started = time.process_time()
    for index in range(count):
        text = mutated_task_file(rng)
        try:
            counts[outcome(text, base_dir)] += 1
        except Exception as error:
            (base_dir / "escaped.task").write_text(text, encoding="utf-8", errors="surrogatepass")
            raise AssertionError(
                f"mutation {index} of seed {seed} escaped as {type(error).__name__}: {error!s:.300} "
                f"(the file: {base_dir / 'escaped.task'})"
            ) from error
    print(f"loader fuzz: {counts} in {time.process_time() - started:.1f} CPU s")
    return counts


def test_fresh_mutations_of_the_task_files_load_or_raise_an_occam_error(tmp_path):
    counts = fuzz(200, tmp_path)
    assert counts["refused"] > 0, "the mutations reach the errors"


@pytest.mark.slow
def test_ten_thousand_fresh_mutations_load_or_raise_an_occam_error(tmp_path):
    counts = fuzz(10_000, tmp_path)
    assert counts["loaded"] > 0 and counts["refused"] > 0, "the mutations reach both outcomes"
