"""The relaxed searcher's prior (search/relaxed/prior.py): its lean forward pass against the
searcher's own `SoftTree.forward`, batches against one sample at a time and against the searcher's
initialization, one-hot logits against the reference evaluator, and seeds."""

from __future__ import annotations

import numpy as np
import pytest

import dsl
from search.prior import reference_table

torch = pytest.importorskip("torch")

from search.relaxed import build_tree
from search.relaxed.prior import pack_bits, root_values, sample_relaxed_tables, soft_tables
from search.relaxed.searcher import _initial_logits


def boolean_task(n: int, grammar: str = "boolean") -> dsl.Task:
    points = np.arange(2**n)
    bits = (points[:, None] >> (n - 1 - np.arange(n))) & 1
    inputs = {f"x{i + 1}": bits[:, i].astype(bool) for i in range(n)}
    return dsl.Task.from_arrays(inputs, bits[:, 0].astype(bool), grammar=grammar)


def columns(task: dsl.Task) -> dict[str, object]:
    return {name: torch.tensor(values.astype(np.float64)) for name, values in task.points.items()}


GRAMMARS = ["boolean", "boolean_xor", "bool -> x1, x2, x3, true, not bool, if(bool, bool, bool), x1 == bool"]


@pytest.mark.parametrize("grammar", GRAMMARS)
@pytest.mark.parametrize("scale", [0.5, 1.0, 4.0])
def test_root_values_are_the_searchers_forward(grammar: str, scale: float) -> None:
    task = boolean_task(3, grammar)
    tree = build_tree(task, 3)
    logits = [t.detach() for t in _initial_logits(torch, tree, 64, 9)]
    probabilities = [torch.softmax(scale * t, dim=1) for t in logits]
    expected = tree.forward(probabilities, columns(task), task.n_points)[0]
    torch.testing.assert_close(root_values(tree, probabilities, columns(task), task.n_points), expected,
                               rtol=1e-12, atol=1e-12)  # fmt: skip


def test_a_batch_is_its_samples_one_at_a_time_and_the_searchers_initialization() -> None:
    task = boolean_task(5)
    tree = build_tree(task, 4)
    (batch,) = list(sample_relaxed_tables(task, 40, seed=3, batch=40))
    logits = [
        t.detach() for t in _initial_logits(torch, tree, 40, 3)
    ]  # relaxed_search's with relaxed_seed = 3
    for r in range(40):
        one = [torch.softmax(t[r : r + 1], dim=1) for t in logits]
        values = tree.forward(one, columns(task), task.n_points)[0]
        np.testing.assert_array_equal(batch[r], pack_bits((values > 0.5).numpy())[0])
    assert len(np.unique(batch, axis=0)) > 5


@pytest.mark.parametrize(("n", "grammar"), [(3, "boolean"), (7, "boolean"), (3, GRAMMARS[2])])
def test_one_hot_logits_at_a_large_scale_give_the_discrete_programs_table(n: int, grammar: str) -> None:
    task = boolean_task(n, grammar)
    tree = build_tree(task, 4)
    rng = np.random.default_rng(0)
    choices = [rng.integers(len(slot.alternatives), size=50) for slot in tree.slots]
    logits = [torch.nn.functional.one_hot(torch.tensor(c), len(slot.alternatives)).to(torch.float64)
              for c, slot in zip(choices, tree.slots)]  # fmt: skip
    tables = soft_tables(tree, logits, columns(task), task.n_points, logit_scale=60.0)
    programs = [tree.discretize(choices, r) for r in range(50)]
    for table, program in zip(tables, programs):
        np.testing.assert_array_equal(table, reference_table(task, program))
    assert len({str(program) for program in programs}) > 10


def test_the_same_seed_gives_the_same_tables() -> None:
    task = boolean_task(7)
    first, again = (
        np.concatenate(list(sample_relaxed_tables(task, 300, seed=1, batch=128))) for _ in range(2)
    )
    other = np.concatenate(list(sample_relaxed_tables(task, 300, seed=2, batch=128)))
    assert first.shape == (300, 2) and first.dtype == np.uint64
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    batches = list(sample_relaxed_tables(task, 300, seed=1, batch=128))
    assert [len(b) for b in batches] == [128, 128, 44]
    (head,) = list(sample_relaxed_tables(task, 128, seed=1, batch=128))
    np.testing.assert_array_equal(batches[0], head)  # batch k depends on (seed, k) only
    # and batches are independent draws: not one batch repeated (torch keeps 32 bits of a seed)
    assert len({row.tobytes() for row in batches[0]} & {row.tobytes() for row in batches[1]}) < 64


def test_pack_bits_is_the_canonical_format() -> None:
    rng = np.random.default_rng(4)
    bits = rng.random((20, 100)) < 0.5  # 100 points: two words, the last one 36 bits used
    packed = pack_bits(bits)
    for row, words in zip(bits, packed):
        assert all(((int(words[p // 64]) >> (p % 64)) & 1) == row[p] for p in range(100))
        assert int(words[1]) >> 36 == 0


def test_refusals() -> None:
    with pytest.raises(dsl.SearchError, match="Boolean functions"):
        next(sample_relaxed_tables(dsl.load_task("mod_add_97"), 10, seed=0))
    with pytest.raises(dsl.SearchError, match="out of range"):
        next(sample_relaxed_tables(boolean_task(3), 10, seed=-1))
