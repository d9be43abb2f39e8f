"""occam's language: task files, typed programs, the reference evaluator, description length.

    >>> import dsl
    >>> task = dsl.load_task("mod_add_97")
    >>> program = dsl.parse_program("(a + b) % 97", task)
    >>> dsl.description_length(program, task.grammar)
    15.84962500721156...
"""

from .errors import (
    DataError,
    GrammarError,
    OccamError,
    OccamSyntaxError,
    OccamTypeError,
    SearchError,
    TaskError,
    TrainingError,
)
from .evaluate import evaluate
from .grammars import BUILTIN_GRAMMARS, Alternative, Grammar, Rule, description_length
from .library import builtin_task_names
from .primitives import ASSOCIATIVE, COMMUTATIVE, PRIMITIVES, Op, Primitive
from .program import Apply, Expr, Hole, Lit, Program, Var, literal
from .recurrent import Recurrence, State, Update
from .recurrent import run as run_recurrence
from .sampling import value_domain
from .sequence_build import (
    load_any_task,
    load_any_tasks,
    load_sequence_task,
    parse_any_tasks,
    parse_recurrence,
)
from .sequences import SequenceTask
from .task import Input, Noise, Task, load_task, load_tasks, parse_program, parse_tasks
from .types import BOOL, INT, REAL, Range, Type

__all__ = [
    "ASSOCIATIVE", "BOOL", "BUILTIN_GRAMMARS", "COMMUTATIVE", "INT", "PRIMITIVES", "REAL",
    "Alternative", "Apply", "DataError", "Expr", "Grammar", "GrammarError", "Hole", "Input", "Lit",
    "Noise", "OccamError", "OccamSyntaxError", "OccamTypeError", "Op", "Primitive", "Program",
    "Range", "Recurrence", "Rule", "SearchError", "SequenceTask", "State", "Task", "TaskError",
    "TrainingError", "Type", "Update", "Var", "builtin_task_names", "description_length", "evaluate",
    "literal", "load_any_task", "load_any_tasks", "load_sequence_task", "load_task", "load_tasks",
    "parse_any_tasks", "parse_program", "parse_recurrence", "parse_tasks", "run_recurrence", "value_domain",
]  # fmt: skip
