"""The simplicity-bias experiment (compare/bias/experiment.py) and `occam bias`: what it counts,
what it writes, Ctrl-C, and errors."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import dsl
from compare.app.cli import main
from compare.bias import experiment
from compare.bias.config import BiasConfig
from compare.bias.experiment import run_bias
from compare.bias.tables import unpack_tables

SMALL = BiasConfig(inputs=3, samples=4000, priors=("pcfg", "relaxed"), complexity_seconds=20, bootstrap=50, batch=1000)


def strip_times(report: dict) -> dict:
    """The report without its clock readings (everything else is a function of the seed)."""
    if isinstance(report, dict):
        return {key: strip_times(value) for key, value in report.items() if "seconds" not in key}
    if isinstance(report, list):
        return [strip_times(value) for value in report]
    return report


@pytest.fixture(scope="module")
def small():
    return run_bias(SMALL)


def test_the_report_holds_the_fields_the_issue_names(small) -> None:
    report = json.loads(json.dumps(small.to_json(), allow_nan=False))
    first = report["rows"][0]
    assert report["samples"] == first["samples"] == SMALL.samples
    assert report["distinct_functions"] == first["distinct_functions"] == len(small.rows[0].counts)
    assert report["constant_share"] == first["constant_share"]
    assert [row["prior"] for row in report["rows"]] == list(SMALL.priors)
    for row in report["rows"]:
        for key in ("prior", "spearman_lz", "spearman_minimal_bits", "slope_minimal_bits", "certified_share",
                    "certified_share_min_count",
                    "spearman_entropy"):
            assert key in row, key
        assert 0 <= row["certified_share"] <= 1
        assert sum(entry["share"] for entry in row["top"]) <= 1 + 1e-12


def test_constant_share_is_the_two_constants_share(small) -> None:
    counts = small.rows[0].counts
    ones = unpack_tables(counts.tables, 8)
    constant = ones.all(axis=1) | ~ones.any(axis=1)
    assert small.rows[0].to_json()["constant_share"] == pytest.approx(counts.counts[constant].sum() / counts.total)


def test_the_frequent_functions_programs_compute_them(small) -> None:
    task = experiment.boolean_task(3)
    for row in small.to_json()["rows"]:
        for entry in row["top"]:
            if entry["program"] is None:
                continue
            program = dsl.parse_program(entry["program"], task)
            values = np.asarray(dsl.evaluate(program, task.points, size=8), bool)
            assert "".join("1" if value else "0" for value in values) == entry["table"]
            assert dsl.description_length(program, task.grammar) == pytest.approx(entry["minimal_bits"])


def test_the_same_seed_gives_the_same_report_and_another_seed_another(small) -> None:
    again = run_bias(SMALL)
    assert strip_times(again.to_json()) == strip_times(small.to_json())
    other = run_bias(SMALL, seed=1, priors=("pcfg",))
    assert other.rows[0].counts.counts.tolist() != small.rows[0].counts.counts.tolist()


def test_the_pcfg_row_follows_the_exact_distribution() -> None:
    """On 3 inputs the PCFG's P(f) is known exactly (search.prior.function_distribution): the
    sampled shares of the frequent functions are within sampling error of it."""
    from search.prior import function_distribution

    result = run_bias(SMALL, samples=20_000, priors=("pcfg",), batch=5000)
    counts = result.rows[0].counts
    tables, probabilities = function_distribution(experiment.boolean_task(3))
    exact = dict(zip((table.tobytes() for table in tables), probabilities))
    for table, seen in zip(*counts.most_common(10)):
        p = exact[table.tobytes()]
        sigma = math.sqrt(p * (1 - p) / counts.total)
        assert abs(seen / counts.total - p) < 5 * sigma


def test_ctrl_c_keeps_what_was_counted(monkeypatch) -> None:
    real = experiment.SAMPLERS["pcfg"]

    def two_batches_then_ctrl_c(config):
        batches = real(config)
        yield next(batches)
        yield next(batches)
        raise KeyboardInterrupt

    monkeypatch.setitem(experiment.SAMPLERS, "pcfg", two_batches_then_ctrl_c)
    result = run_bias(SMALL)
    assert result.interrupted and result.complexity is None
    assert len(result.rows) == 1 and result.rows[0].interrupted  # the priors after it are not sampled
    assert result.rows[0].counts.total == 2 * SMALL.batch
    report = json.loads(json.dumps(result.to_json(), allow_nan=False))
    assert report["samples"] == 2 * SMALL.batch and report["rows"][0]["interrupted"]


def test_the_command_writes_json_and_a_page(capsys, tmp_path) -> None:
    out, page, png = tmp_path / "bias.json", tmp_path / "bias.html", tmp_path / "bias.png"
    status = main(["bias", "--inputs", "3", "--samples", "3000", "--priors", "pcfg", "--bootstrap", "20",
                   "--complexity-seconds", "10", "--json", str(out), "--html", str(page), "--plot", str(png)])  # fmt: skip
    assert status == 0
    report = json.loads(out.read_text())
    assert report["samples"] == 3000 and report["config"]["inputs"] == 3
    text = page.read_text()
    assert "<table>" in text and "data:image/png;base64," in text and "http" not in text
    assert png.read_bytes()[:4] == b"\x89PNG"
    printed = capsys.readouterr().out
    assert "simplicity bias" in printed and "pcfg" in printed


@pytest.mark.parametrize(("argv", "says"), [
    (["--priors", "nope"], "unknown prior 'nope'"),
    (["--inputs", "9"], "inputs = 9 is out of range"),
    (["--encoding", "pm1", "--grammar", "nonsense ->"], "grammar"),
])  # fmt: skip
def test_bad_settings_are_refused_with_a_message(capsys, argv, says) -> None:
    status = main(["bias", "--samples", "100", "--priors", "pcfg", *argv] if "--priors" not in argv
                  else ["bias", "--samples", "100", *argv])  # fmt: skip
    assert status == 1
    assert says in capsys.readouterr().err


def test_the_correlations_are_the_measures_against_the_counts(small) -> None:
    """Recomputed from the counts here: Spearman of LZ and of the entropy of the share of ones
    (both written out in the test) against log2 of the count, over functions seen ≥ min_count."""
    from scipy.stats import spearmanr

    from compare.bias.measures import lz76_phrases

    row, counts = small.to_json()["rows"][0], small.rows[0].counts
    keep = counts.counts >= SMALL.min_count
    ones = unpack_tables(counts.tables[keep], 8)
    log2p = np.log2(counts.counts[keep])
    share = ones.mean(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        entropy = np.nan_to_num(-(share * np.log2(share) + (1 - share) * np.log2(1 - share)))
    constant = ones.all(axis=1) | ~ones.any(axis=1)
    phrases = (lz76_phrases(counts.tables[keep], 8) + lz76_phrases(counts.tables[keep], 8, reverse=True)) / 2
    lz = np.where(constant, 3.0, 3.0 * phrases)  # log2 L = 3 for L = 8 points
    assert row["spearman_lz"]["value"] == pytest.approx(spearmanr(lz, log2p)[0])
    assert row["spearman_entropy"]["value"] == pytest.approx(spearmanr(entropy, log2p)[0])


def test_undefined_numbers_are_null_in_the_json() -> None:
    """No function is seen min_count times: no correlation, no share of certified functions —
    null in the JSON (which has no NaN), and the table still prints."""
    from rich.console import Console

    from compare.bias.report import print_bias

    result = run_bias(SMALL, priors=("pcfg",), samples=500, batch=500, min_count=10**6)
    report = json.loads(json.dumps(result.to_json(), allow_nan=False))
    row = report["rows"][0]
    assert row["functions_min_count"] == 0
    assert row["spearman_lz"]["value"] is None and row["certified_share_min_count"] is None
    console = Console(file=__import__("io").StringIO(), width=200)
    print_bias(report, console)
    assert "pcfg" in console.file.getvalue()


def test_ctrl_c_in_the_minimal_bits_search_is_reported(monkeypatch) -> None:
    real = experiment.minimal_bits

    def interrupted(*args, **kwargs):
        calls = iter(range(10**9))

        def ctrl_c() -> bool:
            if next(calls) >= 3:
                raise KeyboardInterrupt
            return False

        return real(*args, **kwargs, stop=ctrl_c)

    monkeypatch.setattr(experiment, "minimal_bits", interrupted)
    result = run_bias(SMALL, priors=("pcfg",))
    assert result.interrupted and result.complexity is not None and result.complexity.interrupted
    report = json.loads(json.dumps(result.to_json(), allow_nan=False))
    assert report["interrupted"] and report["rows"][0]["samples"] == SMALL.samples
