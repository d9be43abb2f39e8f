"""Program synthesis: description length as the prior, the enumerative and relaxed searches.

Built on dsl/; see ../shared/DESIGN.md and the synthesizer issue.
"""

__all__: list[str] = []
