"""The built-in task library: the .task files shipped in dsl/tasks/, indexed by task name."""

from __future__ import annotations

import functools
import re
from pathlib import Path

from .errors import Source
from .syntax import parse_task_file

__all__ = ["builtin_task_names", "builtin_task_file", "find_builtin_task", "LIBRARY"]

LIBRARY = Path(__file__).with_name("tasks")


@functools.cache
def _index() -> dict[str, Path]:
    """Task name → file, parsing only the syntax (cheap: no points are built)."""
    index: dict[str, Path] = {}
    for path in sorted(LIBRARY.glob("*.task")):
        text = path.read_text(encoding="utf-8")
        for task in parse_task_file(text, Source(str(path), text)):
            if task.name.name in index:
                raise RuntimeError(f"built-in task {task.name.name} is defined in {index[task.name.name]} and {path}")
            index[task.name.name] = path
    return index


def builtin_task_names() -> list[str]:
    """Names of the built-in tasks, file by file, in the order written."""
    return list(_index())


def builtin_task_file(name: str) -> Path:
    return _index()[name]


_DECLARATION = re.compile(r"^task\s+([A-Za-z_][A-Za-z0-9_]*)\s*\{", re.MULTILINE)


def find_builtin_task(name: str) -> Path | None:
    """The file that declares built-in task `name`, found without parsing the library (which
    takes longer than a small search): the first file with a line `task NAME {`; the caller
    parses that file, which confirms it. None where no file has one."""
    for path in sorted(LIBRARY.glob("*.task")):
        if name in _DECLARATION.findall(path.read_text(encoding="utf-8")):
            return path
    return None
