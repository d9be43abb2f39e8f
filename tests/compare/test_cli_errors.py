"""How the command line reports errors: text shown as written, destinations checked before any
work, and file errors that say which file and why."""

from pathlib import Path

import pytest

from compare.app.cli import main

BAD_TASK = "task t {\n input a: int 0..9\n output int\n target a + c  # :x: :thumbs_up: [bold]\n grammar { int -> a }\n}\n"


def run(capsys, *argv):
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_a_quoted_source_line_is_printed_as_written_without_emoji_or_markup(capsys, tmp_path):
    path = tmp_path / "bad.task"
    path.write_text(BAD_TASK, encoding="utf-8")
    status, _, err = run(capsys, "check", str(path))
    assert status == 1
    assert "target a + c  # :x: :thumbs_up: [bold]" in err
    assert "❌" not in err and "👍" not in err


def test_a_task_doc_is_printed_without_emoji(capsys, tmp_path):
    path = tmp_path / "ok.task"
    path.write_text('task t {\n doc "ok :x:"\n input a: int 0..9\n output int\n target a\n grammar { int -> a }\n}\n')
    status, out, _ = run(capsys, "check", str(path))
    assert status == 0 and "ok :x:" in out and "❌" not in out


@pytest.fixture
def no_work(monkeypatch):
    """Fails the test if synthesis, training or the comparison pipeline starts."""

    def started(*args, **kwargs):
        raise AssertionError("the work started before the destination was checked")

    import compare.app.pipeline
    import neural
    import search

    monkeypatch.setattr(search, "synthesize", started)
    monkeypatch.setattr(neural, "train", started)
    monkeypatch.setattr(compare.app.pipeline, "run_pipeline", started)


@pytest.mark.parametrize("argv", [
    ["train", "majority3", "--out", "{file}/run"],
    ["compare", "majority3", "--out", "{file}/run"],
    ["synth", "majority3", "--json", "{file}/result.json"],
    ["synth", "majority3", "--json", "{missing}/result.json"],
    ["train", "majority3", "--out", "{tmp}/run", "--json", "{tmp}"],
    ["diff", "majority3", "--program", "x", "--model", "{tmp}/run", "--plot", "{missing}/map.png"],
])  # fmt: skip
def test_an_unwritable_destination_is_refused_before_any_work(argv, capsys, tmp_path, no_work):
    (tmp_path / "a_file").write_text("")
    places = {"file": tmp_path / "a_file", "missing": tmp_path / "missing", "tmp": tmp_path}
    status, _, err = run(capsys, *(arg.format(**places) for arg in argv))
    assert status == 1, err
    assert "error: cannot write --" in err and "Traceback" not in err
    assert not (tmp_path / "run").exists()


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full, where every write fails")
def test_a_failed_json_write_says_what_was_written_where_and_why(capsys):
    status, _, err = run(capsys, "check", "majority3", "--json", "/dev/full")
    assert status == 1
    assert "cannot write the JSON to /dev/full: no space left on device" in err
    assert "Errno" not in err


def test_a_file_error_mid_run_names_the_file_the_reason_and_the_run(capsys, monkeypatch, tmp_path):
    import neural

    checkpoint = str(tmp_path / "run" / "checkpoint.pt")

    def fails(*args, **kwargs):
        raise PermissionError(13, "Permission denied", checkpoint)

    monkeypatch.setattr(neural, "train", fails)
    status, _, err = run(capsys, "train", "majority3", "--out", str(tmp_path / "run"))
    assert status == 1
    assert f"cannot read or write {checkpoint}: permission denied (writing the run to {tmp_path / 'run'})" in err
    assert "Errno" not in err


def test_a_400_term_diff_program_is_refused_with_its_place(capsys, tmp_path):
    program = " or ".join(["x"] * 400)
    status, _, err = run(capsys, "diff", "majority3", "--program", program, "--model", str(tmp_path / "none"))
    assert status == 1
    assert "<program>:1:1: the program nests 400 operations deep, more than occam's limit of 100" in err
