"""SGD against the Bayesian prior and occam's posterior (compare/bias/sgd.py), on 4 inputs."""

from __future__ import annotations

import json

import numpy as np
import pytest

from compare.bias import sgd
from compare.bias.sgd import SGDConfig, run_sgd

SMALL = SGDConfig(inputs=4, target="x1 and x2 or x3", train_sizes=(6,), test_size=None, nets=200,
                  rejection_samples=200_000, complexity_seconds=20, bootstrap=50, max_steps=3000)  # fmt: skip


@pytest.fixture(scope="module")
def small():
    return run_sgd(SMALL)


def test_every_function_sgd_found_fits_the_training_set(small) -> None:
    report = json.loads(json.dumps(small, allow_nan=False))
    (row,) = report["rows"]
    assert row["train_size"] == 6 and row["test_size"] == 10 and row["converged"] > 150
    assert row["p_b_method"].startswith("rejection")
    target = report["target_table"]  # over all 16 points; the row's tables are over S ∪ E = all of them
    rng = np.random.default_rng(SMALL.seed)
    train = np.sort(rng.permutation(16)[:6])
    for entry in row["top"]:
        assert all(entry["table"][p] == target[p] for p in train)
        assert 0 < entry["sgd"] <= 1 and 0 < entry["bayes"] <= 1 and 0 < entry["occam"] <= 1
    for pair in ("sgd_vs_bayes", "sgd_vs_occam", "bayes_vs_occam"):
        value = row[pair]
        assert -1 <= value["low"] <= value["value"] <= value["high"] <= 1, pair


def test_the_nngp_estimate_of_p_b_agrees_with_rejection_sampling(small, monkeypatch) -> None:
    """The two estimates of P_B(f | S) on the same functions: EP on the NNGP (infinite width)
    against counting wide-enough finite networks that fit S."""
    captured = {}
    real = sgd._bayes

    def both(prior, config, target, train, seen_points, tables):
        by_rejection = real(prior, config, target, train, seen_points, tables)
        by_ep = sgd._bayes_ep(prior, tables, np.isin(seen_points, train), seen_points)
        captured.update(rejection=by_rejection, ep=by_ep)
        return by_rejection

    monkeypatch.setattr(sgd, "_bayes", both)
    run_sgd(SMALL, nets=100)
    (log2_rejection, method), log2_ep = captured["rejection"], captured["ep"]
    assert method.startswith("rejection")
    assert np.corrcoef(log2_rejection, log2_ep)[0, 1] > 0.9
    assert np.median(np.abs(log2_rejection - log2_ep)) < 1.0  # bits; width 40 is not infinite


def test_the_same_seed_gives_the_same_rows(small) -> None:
    again = run_sgd(SMALL)
    strip = lambda rows: [{key: value for key, value in row.items() if key != "seconds"} for row in rows]  # noqa: E731
    assert strip(again["rows"]) == strip(small["rows"])


def test_sizes_that_do_not_fit_are_refused() -> None:
    import dsl

    with pytest.raises(dsl.TaskError, match="do not fit 16 points"):
        run_sgd(SMALL, train_sizes=(16,))
