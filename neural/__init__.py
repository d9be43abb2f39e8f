"""Neural networks trained on a task's data, and traces of the functions they compute.

Built on dsl/; see ../shared/DESIGN.md and the networks issue.
"""

__all__: list[str] = []
