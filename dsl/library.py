"""The built-in task library: the .task files shipped in dsl/tasks/, indexed by task name."""

from __future__ import annotations

import functools
import re
from pathlib import Path

from .errors import Source
from .syntax import SequenceSyntax, parse_task_file

__all__ = ["builtin_task_names", "builtin_task_file", "builtin_task_kind", "find_builtin_task", "LIBRARY"]

LIBRARY = Path(__file__).with_name("tasks")


@functools.cache
def _index() -> dict[str, tuple[Path, str]]:
    """Task name → (file, kind), parsing only the syntax (cheap: no points are built). The kind
    is "sequence" for a task with a `sequence` field, else "scalar"."""
    index: dict[str, tuple[Path, str]] = {}
    for path in sorted(LIBRARY.glob("*.task")):
        text = path.read_text(encoding="utf-8")
        for task in parse_task_file(text, Source(str(path), text)):
            if task.name.name in index:
                raise RuntimeError(f"built-in task {task.name.name} is defined in {index[task.name.name][0]} and {path}")
            kind = "sequence" if any(isinstance(item, SequenceSyntax) for item in task.fields) else "scalar"
            index[task.name.name] = (path, kind)
    return index


def builtin_task_names(kind: str | None = None) -> list[str]:
    """Names of the built-in tasks, file by file, in the order written: every task, or those of
    one `kind`, "scalar" (`dsl.load_task` loads them) or "sequence" (`dsl.load_sequence_task`)."""
    if kind not in (None, "scalar", "sequence"):
        raise ValueError(f"kind must be None, 'scalar' or 'sequence', not {kind!r}")
    return [name for name, (_, kind_) in _index().items() if kind is None or kind_ == kind]


def builtin_task_kind(name: str) -> str:
    """"scalar" or "sequence": the kind of built-in task `name`."""
    return _index()[name][1]


def builtin_task_file(name: str) -> Path:
    return _index()[name][0]


_DECLARATION = re.compile(r"^task\s+([A-Za-z_][A-Za-z0-9_]*)\s*\{", re.MULTILINE)


def find_builtin_task(name: str) -> Path | None:
    """The file that declares built-in task `name`, found without parsing the library (which
    takes longer than a small search): the first file with a line `task NAME {`; the caller
    parses that file, which confirms it. None where no file has one."""
    for path in sorted(LIBRARY.glob("*.task")):
        if name in _DECLARATION.findall(path.read_text(encoding="utf-8")):
            return path
    return None
