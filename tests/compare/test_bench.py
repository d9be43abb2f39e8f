"""The pieces of `occam bench synth` that decide what counts as solved."""

import dsl
from compare.benchmarks.bench import nguyen_with_seed, recovered


def program(text, task):
    return dsl.parse_program(text, task, expected=task.output_type)


def test_a_program_is_recovered_when_it_is_the_target_on_fresh_points():
    nguyen1 = nguyen_with_seed("nguyen1", 3)
    assert recovered(program("x + x * (x + x * x)", nguyen1), nguyen1)
    assert recovered(program("x * (x / x + x * (x / x + x))", nguyen1), nguyen1)  # another form of it
    assert not recovered(program("x + x * x", nguyen1), nguyen1)
    nguyen8 = nguyen_with_seed("nguyen8", 3)  # sqrt(x) on [0, 4]
    assert recovered(program("exp(log(x) * (x / (x + x)))", nguyen8), nguyen8)
    assert not recovered(program("log(x)", nguyen8), nguyen8)


def test_another_seed_moves_only_the_sample():
    zero, one = nguyen_with_seed("nguyen5", 0), nguyen_with_seed("nguyen5", 1)
    assert zero.target == one.target and zero.n_points == one.n_points == 20
    assert not (zero.points["x"] == one.points["x"]).all()
