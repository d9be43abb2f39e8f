"""The relaxed searcher: the task's grammar as a soft derivation tree, fitted by gradient descent.

The grammar is unrolled to a depth D. Every *slot* of type T holds logits over T's alternatives
(restarts as a leading batch dimension R); its children are slots shared by its alternatives, one
per argument position and type (as many of a type as T's widest alternative needs of it), and an
alternative's k-th hole of type U is the slot's k-th child of type U. A slot at remaining depth r
offers only the alternatives whose holes' types derive a program within r − 1 levels (at r = 0: no
holes). A slot's value is Σ_a softmax(logits/τ)_a · value_a, each alternative's value its template
evaluated by the primitive table's torch column (`row.torch`; Booleans by `row.soft`, the product
logic, as floats in [0, 1]); reals are float64. Integers (soft.py): bit-vectors as soft bits
(R, P, N) in product logic, exact on 0 and 1; `int` as float64 values with surrogates exact at
integers.

Non-finite values (log of a negative, 1/0, exp overflowing): an alternative's non-finite value is
replaced by 0 in its slot's mixture, so the mixture stays finite, and the probability given to it is
charged in the loss (`penalty`: Σ_slots P(slot used) · Σ_a p_a · the fraction of points where a is
non-finite), which moves the choice away from it. The gradient through a masked value is 0, but
its operation's backward multiplies that 0 by its own derivative there (∞ or NaN: 1/(2·√x) at
x < 0); so each alternative sees its children through `_finite_gradient`, the identity forward whose
backward zeroes non-finite gradient elements: a NaN stays at the (restart, point) where it arose.

Not relaxed (SearchError naming the row and type): rows whose relaxation is "none" (comparisons of
reals, `**`), `//` and `%` on bit-vectors, popcount on `int` (soft.refusal).

torch is imported inside the functions that need it, never at `import search`.
"""

from .searcher import relaxed_search
from .trace import RelaxedRecorder, RelaxedStep, decode_soft, record_relaxed_trace
from .tree import RELAXED_KINDS, Slot, SoftTree, build_tree, surrogates_used

__all__ = [
    "RELAXED_KINDS", "RelaxedRecorder", "RelaxedStep", "Slot", "SoftTree", "build_tree", "decode_soft",
    "record_relaxed_trace", "relaxed_search", "surrogates_used",
]  # fmt: skip
