"""One function, one text: a synthesis result prints the best program the same way wherever it
appears (best line, Pareto front, posterior, JSON)."""

import dsl
import search

KINETIC = """
task kinetic {
    input   m: real 1..10
    input   v: real 0..5
    output  real
    target  m * v * v / 2
    grammar {
        real -> m, v, 2, real * real, real / real, real + real, real - real
    }
    sample  200 uniform seed 1
}
"""


def test_the_best_program_and_its_pareto_row_print_alike():
    # The check-only kernels assemble m * (v * (v / 2)); the bank keeps m * v * (v / 2), the same
    # function (the same values, rounded, at every point), as its representative.
    (task,) = dsl.parse_tasks(KINETIC)
    result = search.synthesize(task, max_seconds=30)
    best = result.best
    assert best is not None and best.fits_train
    fitting_rows = [row for row in result.pareto if row.fits_train and abs(row.bits - best.bits) < 1e-9]
    assert fitting_rows
    assert {str(row.program) for row in fitting_rows} == {str(best.program)}
    assert str(result.posterior.entries[0].program) == str(best.program)
    data = result.to_json()
    assert data["best"]["program"] in [row["program"] for row in data["pareto"]]
