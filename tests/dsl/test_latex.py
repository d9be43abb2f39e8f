"""LaTeX reads as the program it renders: parsed back by the conventional precedence of the
rendered symbols (tests/dsl/latex_reader.py), it gives the program's own tree."""

import pytest
from hypothesis import given, settings

import dsl

from .latex_reader import Ambiguous, read, shape
from .strategies import INPUTS, programs

NAMES = {**INPUTS, "a1": dsl.BOOL, "b1": dsl.BOOL, "a0": dsl.BOOL}


@pytest.mark.parametrize(
    ("text", "latex"),
    [
        ("a1 == b1 and a0", r"\left(a_{1} \Leftrightarrow b_{1}\right) \land a_{0}"),
        ("a1 == (b1 and a0)", r"a_{1} \Leftrightarrow b_{1} \land a_{0}"),
        ("not a < b", r"\lnot \left(a < b\right)"),
        ("p ^ q and a0", r"\left(p \oplus q\right) \land a_{0}"),
        ("a + b % 97", r"a + \left(b \bmod 97\right)"),
        ("(a + b) % 97", r"\left(a + b\right) \bmod 97"),
        ("u >> 2 << 2", r"\left(u \gg 2\right) \ll 2"),
        ("u >> 1 >> 1", r"u \gg 1 \gg 1"),
        ("real(a + b) * x", r"\left(a + b\right) \cdot x"),
        ("-x ** 2", r"-x^{2}"),
    ],
)
def test_latex_parenthesizes_by_convention(text, latex):
    program = dsl.parse_program(text, NAMES)
    assert program.to_latex() == latex
    assert read(latex) == shape(program)


def test_the_reader_reads_by_convention():
    # the rendering of issue 9 reads as a1 ⇔ (b1 ∧ a0), another function than the program
    program = dsl.parse_program("a1 == b1 and a0", NAMES)
    assert read(r"a_{1} \Leftrightarrow b_{1} \land a_{0}") != shape(program)
    assert read(r"\lnot a < b") == read(r"\left(\lnot a\right) < b")
    for ambiguous in (r"a + b \bmod 97", r"u \gg 2 \ll 2", r"a < b = c", r"-a \bmod b", r"p \oplus q \land r"):
        with pytest.raises(Ambiguous):
            read(ambiguous)


@settings(max_examples=300, deadline=None)
@given(programs(max_depth=5))
def test_latex_reads_back_as_the_program(program):
    latex = program.to_latex()
    assert read(latex) == shape(program), latex


@pytest.mark.parametrize("text", ["exp(0.0) ** pi", "exp(x) ** 2.0", "exp(exp(x)) ** x"])
def test_exp_as_a_base_is_parenthesized(text):
    # e^{0}^{\pi} was a double superscript (a TeX error, not (e^0)^π): found by the property below
    program = dsl.parse_program(text, NAMES)
    assert program.to_latex().startswith(r"\left(e^{")
    assert read(program.to_latex()) == shape(program)
