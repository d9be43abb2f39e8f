"""Errors of every occam phase, and the source positions they point at.

All of occam's errors derive from `OccamError`. Each says what went wrong, where (file, line,
column, the offending line with a caret under it) and what was expected, so that the command
line can print it as is, without a traceback:

    tasks/mod.task:7:18: unknown name `c`
        target  (a + c) % 97
                     ^
    expected one of the inputs a, b; did you mean `a`?
"""

from __future__ import annotations

import difflib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "OccamError",
    "OccamSyntaxError",
    "OccamTypeError",
    "GrammarError",
    "TaskError",
    "DataError",
    "SearchError",
    "TrainingError",
    "OutputError",
    "Source",
    "Span",
    "did_you_mean",
    "shortened",
]


@dataclass(frozen=True, slots=True)
class Source:
    """A text and the name to show for it (a path, or `<program>` for a string)."""

    name: str
    text: str

    def line(self, number: int) -> str:
        """The 1-based line `number`, without its newline ('' past the end). Lines end at `\n`
        only, as the parser counts them: a form feed or `\u2028` is inside a line."""
        lines = self.text.split("\n")
        return lines[number - 1].removesuffix("\r") if 0 < number <= len(lines) else ''


@dataclass(frozen=True, slots=True)
class Span:
    """Where a piece of syntax stands in its source: 1-based line and column of its start,
    character offsets `start:end` into the text."""

    line: int
    column: int
    start: int
    end: int


class OccamError(Exception):
    """The root of occam's errors.

    `message` says what is wrong, `expected` what would have been right, `hint` anything else
    worth saying (a "did you mean"). `source` and `span` place it; either may be missing.
    """

    def __init__(
        self,
        message: str,
        *,
        source: Source | None = None,
        span: Span | None = None,
        expected: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.source = source
        self.span = span
        self.expected = expected
        self.hint = hint

    def located(self, source: Source, span: Span | None = None) -> OccamError:
        """This error placed in `source` (and at `span`, if it had none); returns self."""
        if self.source is None:
            self.source = source
        if self.span is None:
            self.span = span
        return self

    def __str__(self) -> str:
        where = self.source.name if self.source else ""
        if self.span is not None:
            where = f"{where}:{self.span.line}:{self.span.column}" if where else (
                f"line {self.span.line}, column {self.span.column}"
            )
        lines = [f"{where}: {self.message}" if where else self.message]
        if self.source is not None and self.span is not None:
            text = self.source.line(self.span.line)
            if text.strip():
                width = max(1, min(self.span.end - self.span.start, len(text) - self.span.column + 1))
                lines.append("    " + _visible(text))
                lines.append("    " + _blank(text[: self.span.column - 1]) + "^" * width)
        tail = "; ".join(part for part in (self.expected and f"expected {self.expected}", self.hint) if part)
        if tail:
            lines.append(tail)
        return "\n".join(lines)


def _visible(text: str) -> str:
    """A source line as it can be shown: each control or line-separating character (a form
    feed, `\r`, `\u2028`) becomes one visible character, so that the terminal neither moves
    nor breaks the line and the caret below stays under its column. Tabs stay tabs."""
    return "".join(_shown_character(char) for char in text)


def _shown_character(char: str) -> str:
    if char == "\t" or unicodedata.category(char) not in ("Cc", "Zl", "Zp"):
        return char
    if ord(char) < 0x20:
        return chr(0x2400 + ord(char))  # the Control Pictures block: ␌ for a form feed
    return "␡" if char == "\x7f" else "\ufffd"


def _blank(prefix: str) -> str:
    """Blank space as wide on screen as `prefix`: tabs kept, wide characters two columns,
    combining marks none."""
    return "".join(
        "\t" if char == "\t" else "" if unicodedata.combining(char) else
        "  " if unicodedata.east_asian_width(char) in ("W", "F") else " "
        for char in prefix
    )  # fmt: skip


class OccamSyntaxError(OccamError):
    """The text does not parse."""


class OccamTypeError(OccamError):
    """A program or grammar is ill-typed, or names something that does not exist."""


class GrammarError(OccamError):
    """A probabilistic grammar is malformed, or cannot derive a program."""


class TaskError(OccamError):
    """A task is inconsistent: an empty domain, a target outside the output range, ..."""


class DataError(TaskError):
    """A task's data file is unreadable or malformed."""


class SearchError(OccamError):
    """A synthesis search was asked something it cannot do."""


class TrainingError(OccamError):
    """A network cannot be trained as configured."""


class OutputError(OccamError):
    """A result cannot be written: its file or folder is not writable."""


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """'did you mean `x`?' for the candidate closest to a misspelt `name`, if any is close."""
    close = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"did you mean `{close[0]}`?" if close else None


def shortened(number: str) -> str:
    """A number's text for a message: a long one cut to its first digits and its length."""
    return number if len(number) <= 30 else f"{number[:20]}… ({len(number):,} characters)"
