"""`occam bench prior` (compare/benchmarks/prior_bench.py): the report's shape and arithmetic on
small runs, and the naive baseline's tables against the sampler's distribution. Benchmarks
measure; this does not check timings."""

from __future__ import annotations

import json

import numpy as np
import pytest

pytest.importorskip("torch")

from compare.benchmarks import prior_bench
from neural.prior import MLPPrior, sample_tables, unpack_tables


def test_the_throughput_report_has_a_row_per_batch_and_the_naive_one(capsys):
    result = prior_bench.run_prior_bench(
        samples=600, batches=(64, 256), repeats=1, naive_nets=40, precision_nets=50
    )
    rows = result["rows"]
    assert [row["batch"] for row in rows] == [64, 256, 1]
    assert all(row["nets_per_cpu_s"] == row["nets"] / row["cpu_s"] for row in rows)
    best = max(rows[:2], key=lambda row: row["nets_per_cpu_s"])
    assert result["best_batch"] == best["batch"] and result["cpu_s_for_10M"] == 10**7 / best["nets_per_cpu_s"]
    assert result["speedup_over_naive"] == best["nets_per_cpu_s"] / rows[2]["nets_per_cpu_s"]
    assert result["precision"]["networks"] == 50
    assert "naive (one network at a time)" in capsys.readouterr().out


def test_the_naive_baseline_samples_the_same_prior():
    """Independent code, other random numbers, the same distribution: the share of each constant
    function and the mean number of ones agree to within sampling noise."""
    prior = MLPPrior(inputs=4, widths=(8,))
    naive = unpack_tables(prior_bench.naive_tables(prior, 4000, seed=1), 16)
    batched = unpack_tables(np.concatenate(list(sample_tables(prior, 4000, seed=1))), 16)
    for statistic in (lambda t: (~t).all(1).mean(), lambda t: t.all(1).mean(), lambda t: t.mean()):
        assert abs(statistic(naive) - statistic(batched)) < 0.03


def test_the_valle_perez_figures_count_the_rows(tmp_path):
    result = prior_bench.valle_perez_figures(samples=3000, seed=0, print_rows=False)
    assert 0 < result["distinct_functions"] <= 3000 and result["samples"] == 3000
    assert result["constant_share"] == result["share_false"] + result["share_true"]
    assert 0.5 < result["constant_share"] < 0.95  # the prior's constants are most of its mass
    out = tmp_path / "fit.json"
    prior_bench.main(["--part", "fit", "--nets", "20", "--train-size", "8", "--json", str(out)])
    row = json.loads(out.read_text())
    assert row["nets"] == 20 and row["train_size"] == 8 and 0 <= row["converged_share"] <= 1
