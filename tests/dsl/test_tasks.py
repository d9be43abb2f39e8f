"""Loading tasks: domains, sampling, splits, noise, data files, and the ways to name a task."""

import math
import os
import signal
from pathlib import Path

import numpy as np
import pytest

import dsl
from dsl import DataError, TaskError
from dsl.task import MAX_DATA_BYTES, MAX_POINTS


def one(text: str, **kwargs) -> dsl.Task:
    (task,) = dsl.parse_tasks(text, **kwargs)
    return task


def test_mod_add_97_is_the_whole_domain_with_a_30_percent_split():
    task = dsl.load_task("mod_add_97")
    assert task.n_points == 97 * 97
    assert task.n_train == math.floor(0.3 * 97 * 97) == 2822
    assert task.n_test == task.n_points - task.n_train
    a, b = task.points["a"], task.points["b"]
    assert (a[:3].tolist(), b[:3].tolist()) == ([0, 0, 0], [0, 1, 2]), "lexicographic, first input slowest"
    np.testing.assert_array_equal(task.target_values, (a + b) % 97)
    assert str(task.target) == "(a + b) % 97"


def test_loading_is_deterministic_and_read_only():
    first, second = dsl.load_task("mod_add_97"), dsl.load_task("mod_add_97")
    np.testing.assert_array_equal(first.train, second.train)
    assert first.fingerprint == second.fingerprint
    with pytest.raises(ValueError):
        first.train[0] = not first.train[0]
    with pytest.raises(ValueError):
        first.points["a"][0] = 5


def test_split_seed_changes_the_split_and_the_fingerprint():
    text = "task t {\n input a: int 0..99\n output int\n target a\n grammar { int -> a }\n split train 25% seed %SEED%\n}"
    zero, one_ = (one(text.replace("%SEED%", seed)) for seed in ("0", "1"))
    assert zero.n_train == one_.n_train == 25
    assert not np.array_equal(zero.train, one_.train)
    assert zero.fingerprint != one_.fingerprint


@pytest.mark.parametrize("change", [
    ("output int 0..99", "output int 0..200"),      # the network's output layer
    ("input a: int 0..99", "input a: int 0..99\n input b: int 0..9"),
    ("grammar { int -> a }", "grammar { int -> a, 1 }"),
    ("split train 25% seed 0", "split train 25% seed 0\n noise label 0% seed 0"),  # the search's mode
])  # fmt: skip
def test_the_fingerprint_sees_what_caches_depend_on(change):
    text = "task t {\n input a: int 0..99\n output int 0..99\n target a\n grammar { int -> a }\n split train 25% seed 0\n}"
    assert one(text).fingerprint == one(text).fingerprint
    assert one(text).fingerprint != one(text.replace(*change)).fingerprint


def test_split_by_count():
    task = one("task t {\n input a: int 0..99\n output int\n target a\n grammar { int -> a }\n split train 7 seed 3\n}")
    assert task.n_train == 7


def test_bit_vector_inputs_enumerate_their_type():
    task = one("task t {\n input x: u8\n output u8\n target x - 1\n grammar bitwise\n}")
    assert task.n_points == 256
    np.testing.assert_array_equal(task.target_values, (np.arange(256) - 1) % 256)


def test_uniform_samples_stay_in_range_and_follow_the_seed():
    text = "task t {\n input x: real -2..3\n input y: real 0..1\n output real\n target x * y\n sample 50 uniform seed %S%\n grammar koza\n}"
    task = one(text.replace("%S%", "4"))
    assert task.n_points == task.n_train == 50
    assert task.points["x"].min() >= -2 and task.points["x"].max() <= 3
    assert task.points["y"].min() >= 0 and task.points["y"].max() <= 1
    np.testing.assert_array_equal(task.points["x"], one(text.replace("%S%", "4")).points["x"])
    assert not np.array_equal(task.points["x"], one(text.replace("%S%", "5")).points["x"])


def test_test_points_can_extrapolate():
    task = one(
        "task t {\n input x: real -1..1\n output real\n target x * x\n sample 20 uniform seed 0\n"
        " test 100 uniform seed 1 range x: -3..3\n grammar koza\n}"
    )
    assert (task.n_train, task.n_test) == (20, 100)
    train_x, test_x = task.points["x"][task.train], task.points["x"][task.test]
    assert np.abs(train_x).max() <= 1
    assert np.abs(test_x).max() > 1.5 and np.abs(test_x).max() <= 3


def test_grid_sampling():
    task = one("task t {\n input x: real 0..1\n output real\n target x\n sample 11 grid\n grammar koza\n}")
    np.testing.assert_allclose(task.points["x"], np.linspace(0, 1, 11))


def test_finite_test_points_are_distinct_from_training_points():
    task = one(
        "task t {\n input a, b: int 0..9\n output int\n target a * b\n sample 30 uniform seed 2\n"
        " test 40 uniform seed 3\n grammar { int -> a, b, int * int }\n}"
    )
    pairs = list(zip(task.points["a"].tolist(), task.points["b"].tolist()))
    assert len(set(pairs)) == 70 == task.n_points
    assert task.n_train == 30


def test_sampling_a_huge_finite_domain():
    task = one("task t {\n input x, y, z: u16\n output u16\n target x ^ y ^ z\n sample 1000 uniform seed 0\n grammar bitwise\n}")
    assert task.n_points == 1000
    assert len(set(zip(task.points["x"].tolist(), task.points["y"].tolist(), task.points["z"].tolist()))) == 1000


def one_at_a_time(bounds, count, seed, taken=()):
    """The reference for sampling a huge finite domain: batches of `count` draws per input, each
    point kept unless seen before (in `taken` or earlier in the draw)."""
    rng, chosen, seen = np.random.default_rng(seed), [], set(taken)
    while len(chosen) < count:
        batch = zip(*(rng.integers(low, high, count, dtype=np.int64, endpoint=True).tolist() for low, high in bounds))
        for point in batch:
            if point not in seen and len(chosen) < count:
                seen.add(point)
                chosen.append(point)
    return chosen


@pytest.mark.parametrize(("inputs", "bounds"), [
    ("input x: int 0..20000000", [(0, 20_000_000)]),
    ("input x: u16\n input y: int -3..3\n input z: u8", [(0, 65535), (-3, 3), (0, 255)]),
    ("input x: i63\n input y: u63", [(-(2**62), 2**62 - 1), (0, 2**63 - 1)]),  # keys wider than 64 bits
])  # fmt: skip
def test_sampling_a_huge_domain_draws_distinct_points_in_draw_order(inputs, bounds):
    names = [line.split()[1].rstrip(":") for line in inputs.split("\n")]
    text = f"task t {{\n {inputs}\n output int\n target 0\n sample 30000 uniform seed 7\n test 20000 uniform seed 8\n grammar {{ int -> 0 }}\n}}"
    task = one(text)
    rows = list(zip(*(task.points[name].tolist() for name in names)))
    train_rows = one_at_a_time(bounds, 30000, 7)
    assert rows[:30000] == train_rows
    assert rows[30000:] == one_at_a_time(bounds, 20000, 8, taken=train_rows), "test points avoid the training points"


def test_training_and_test_points_together_respect_the_cap():
    text = "task t {\n input x: real 0..1\n output real\n target x\n sample 10 uniform\n test %N% uniform\n grammar koza\n}"
    with pytest.raises(TaskError, match=r"with the 10 training points the task would hold 16,777,217, more than"):
        one(text.replace("%N%", str(MAX_POINTS - 9)))  # each count alone is within the cap
    whole = "task t {\n input x, y: u12\n output u12\n target x\n test 1 uniform\n grammar bitwise\n}"
    with pytest.raises(TaskError, match=r"with the 16,777,216 training points"):
        one(whole)


def test_too_many_points_together_are_refused_before_any_is_drawn(monkeypatch):
    import dsl.sampling

    def drawn(*args, **kwargs):
        raise AssertionError("points were drawn before the total was checked")

    monkeypatch.setattr(dsl.sampling, "_draw", drawn)
    monkeypatch.setattr(dsl.sampling, "_grid", drawn)
    text = ("task t {\n input x: int 0..99999999\n output int\n target x\n grammar { int -> x }\n"
            " sample 10000000 uniform seed 0\n test 10000000 uniform seed 1\n}")
    with pytest.raises(TaskError, match=r"with the 10,000,000 training points the task would hold 20,000,000"):
        one(text)
    with pytest.raises(TaskError, match=r"with the 16,777,216 training points"):
        one("task t {\n input x, y: u12\n output u12\n target x\n test 1 uniform\n grammar bitwise\n}")


def test_enumerating_a_huge_domain_asks_for_sampling():
    with pytest.raises(TaskError, match="more than occam enumerates"):
        one("task t {\n input x, y: u16\n output u16\n target x ^ y\n grammar bitwise\n}")


def test_label_noise_corrupts_exactly_that_share_of_training_labels():
    task = one(
        "task t {\n input a, b: int 0..9\n output int 0..9\n target (a + b) % 10\n"
        " grammar { int -> a, b, 10, int + int, int % int }\n split train 50% seed 0\n noise label 10% seed 1\n}"
    )
    changed = task.target_values != task.clean_values
    assert changed.sum() == math.floor(0.1 * task.n_train) == 5
    assert not changed[task.test].any(), "held-out labels stay clean"
    assert task.target_values.min() >= 0 and task.target_values.max() <= 9


def test_label_noise_on_bools_flips():
    task = one("task t {\n input x, y, z, w: bool\n output bool\n target x and y\n grammar boolean\n noise label 25% seed 0\n}")
    assert (task.target_values != task.clean_values).sum() == 4


def test_gaussian_noise_absolute_and_relative():
    text = "task t {\n input x: real 1..2\n output real\n target x\n sample 2000 uniform seed 0\n noise gaussian %A% seed 0\n grammar koza\n}"
    absolute = one(text.replace("%A%", "0.5"))
    residual = absolute.target_values - absolute.clean_values
    assert 0.45 < residual.std() < 0.55
    relative = one(text.replace("%A%", "10%"))
    rms = math.sqrt(np.mean(relative.clean_values**2))
    assert 0.09 * rms < (relative.target_values - relative.clean_values).std() < 0.11 * rms


# --- data files ---------------------------------------------------------------------------------

DATA_TASK = """task from_data {
    input  a: int 0..9
    input  p: bool
    input  x: real
    output y: real
    data   "points.csv"
    grammar { real -> x, real + real }
    split  train 50% seed 0
}"""


def write(tmp_path, csv_text: str, task_text: str = DATA_TASK):
    (tmp_path / "points.csv").write_text(csv_text)
    (tmp_path / "t.task").write_text(task_text)
    return tmp_path / "t.task"


def test_data_file_columns(tmp_path):
    path = write(tmp_path, "x,a,p,y,ignored\n0.5,1,true,1.5,z\n-1,9,0,2e3,z\n2.25,0,FALSE,-1,z\n3,3,1,0,z\n")
    task = dsl.load_task(path)
    assert task.target is None and task.output_name == "y"
    np.testing.assert_array_equal(task.points["a"], [1, 9, 0, 3])
    np.testing.assert_array_equal(task.points["p"], [True, False, False, True])
    np.testing.assert_array_equal(task.target_values, [1.5, 2000.0, -1.0, 0.0])
    assert task.n_train == 2


@pytest.mark.parametrize(
    ("csv_text", "where", "message"),
    [
        ("x,a,p\n1,1,true\n", ":1:1:", "no column `y`"),
        ("x,a,p,y\n1,1,maybe,2\n", ":2:5:", "`maybe` in column `p` is not a bool"),
        ("x,a,p,y\n1,1.5,true,2\n", ":2:3:", "`1.5` in column `a` is not a int"),
        ("x,a,p,y\n1,10,true,2\n", ":2:3:", "10 in column `a` is outside its range 0..9"),
        ("x,a,p,y\n1,1,true,nan\n", ":2:10:", "`nan` in column `y` is not a finite real"),
        ("x,a,p,y\n1,1,true\n", ":2:1:", "row has 3 fields, the header 4"),
        ("x,a,p,y\n", ":1:1:", "has a header but no rows"),
    ],
)
def test_malformed_data_files(tmp_path, csv_text, where, message):
    path = write(tmp_path, csv_text)
    with pytest.raises(DataError) as raised:
        dsl.load_task(path)
    first = str(raised.value).splitlines()[0]
    assert "points.csv" + where in first and message in first, str(raised.value)


def test_empty_data_file(tmp_path):
    with pytest.raises(DataError, match="is empty"):
        dsl.load_task(write(tmp_path, ""))


def test_data_tasks_must_name_their_output(tmp_path):
    with pytest.raises(TaskError, match="must name its output column"):
        dsl.load_task(write(tmp_path, "x,a,p,y\n1,1,1,1\n", DATA_TASK.replace("output y: real", "output real")))


# --- data files stay inside the task's folder, and are never quoted -------------------------------

GOOD_CSV = "x,a,p,y\n1,1,true,2\n2,3,false,4\n"


def data_task(tmp_path, data: str, folder: str = "tasks"):
    """A task file in tmp_path/folder whose `data` line reads `data`."""
    (tmp_path / folder).mkdir(exist_ok=True)
    path = tmp_path / folder / "t.task"
    path.write_text(DATA_TASK.replace('"points.csv"', '"' + data + '"'))
    return path


def test_an_absolute_path_outside_the_task_folder_is_refused(tmp_path):
    (tmp_path / "outside.csv").write_text(GOOD_CSV)
    with pytest.raises(DataError, match="is outside"):
        dsl.load_task(data_task(tmp_path, str(tmp_path / "outside.csv")))
    with pytest.raises(DataError, match="is outside"):
        dsl.load_task(data_task(tmp_path, "/etc/passwd"))


def test_a_parent_path_is_refused_unless_the_data_root_allows_it(tmp_path, monkeypatch):
    (tmp_path / "points.csv").write_text(GOOD_CSV)
    path = data_task(tmp_path, "../points.csv")
    with pytest.raises(DataError, match="is outside") as raised:
        dsl.load_task(path)
    assert "OCCAM_DATA_ROOT" in str(raised.value), "the error says how to widen the folder"
    assert dsl.load_task(path, data_root=tmp_path).n_points == 2
    assert dsl.load_tasks(path, data_root=tmp_path)[0].n_points == 2
    monkeypatch.setenv("OCCAM_DATA_ROOT", str(tmp_path))
    assert dsl.load_task(path).n_points == 2


def test_a_symlink_is_followed_before_the_folder_is_checked(tmp_path):
    (tmp_path / "secret.csv").write_text(GOOD_CSV)
    path = data_task(tmp_path, "link.csv")
    (tmp_path / "tasks" / "link.csv").symlink_to(tmp_path / "secret.csv")
    with pytest.raises(DataError, match="is outside"):
        dsl.load_task(path)
    (tmp_path / "tasks" / "points.csv").write_text(GOOD_CSV)
    (tmp_path / "tasks" / "inner.csv").symlink_to(tmp_path / "tasks" / "points.csv")
    assert dsl.load_task(data_task(tmp_path, "inner.csv")).n_points == 2, "a link inside the folder is fine"


class _Deadline:
    """Fails the test, instead of hanging it, if the block takes more than `seconds`."""

    def __init__(self, seconds: int) -> None:
        self.seconds = seconds

    def __enter__(self):
        def expire(signum, frame):
            raise TimeoutError(f"still running after {self.seconds} s")

        self.previous = signal.signal(signal.SIGALRM, expire)
        signal.alarm(self.seconds)

    def __exit__(self, *exc):
        signal.alarm(0)
        signal.signal(signal.SIGALRM, self.previous)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_is_refused_without_reading_it(tmp_path, device):
    with _Deadline(10), pytest.raises(DataError, match="not a regular file"):
        dsl.load_task(data_task(tmp_path, device), data_root="/")


def test_a_fifo_is_refused_without_blocking(tmp_path):
    path = data_task(tmp_path, "points.csv")
    os.mkfifo(tmp_path / "tasks" / "points.csv")
    with _Deadline(10), pytest.raises(DataError, match="not a regular file"):
        dsl.load_task(path)


def test_an_oversize_data_file_is_refused_before_it_is_read(tmp_path):
    path = data_task(tmp_path, "points.csv")
    with open(tmp_path / "tasks" / "points.csv", "wb") as file:
        file.truncate(MAX_DATA_BYTES + 1)  # sparse: no disk used
    with _Deadline(10), pytest.raises(DataError, match=f"{MAX_DATA_BYTES + 1:,} bytes, more than"):
        dsl.load_task(path)


@pytest.mark.parametrize("content", [
    "root:$6$pepper$S3CRETHASHs3crethash:19000:0:99999:7:::\nuser:x:1000\n",  # an /etc/shadow line
    "S3CRET-TOKEN=hunter2 x y\n1\n",
    "x,a,p,S3CRET-VALUE\n1,1,1,1\n",  # some cells are names: only they are shown
])  # fmt: skip
def test_a_missing_column_error_never_quotes_the_file(tmp_path, content):
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "points.csv").write_text(content)
    with pytest.raises(DataError, match="no column") as raised:
        dsl.load_task(data_task(tmp_path, "points.csv"))
    assert "S3CRET" not in str(raised.value).upper() and "HUNTER2" not in str(raised.value).upper()


def test_a_missing_column_error_lists_the_header_names(tmp_path):
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "points.csv").write_text("x,a,p,yy,$odd," + "n" * 40 + "\n1,1,1,1,1,1\n")
    with pytest.raises(DataError) as raised:
        dsl.load_task(data_task(tmp_path, "points.csv"))
    message = str(raised.value)
    assert f"no column `y`: its header names `x`, `a`, `p`, `yy`, `{'n' * 31}…` and 1 cell that is not a name" in message
    assert "did you mean `yy`?" in message and "$odd" not in message


def test_a_binary_data_file_quotes_nothing(tmp_path):
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "points.csv").write_bytes(b"PATH=/bin\0TOKEN=S3CRET\0")  # as /proc/self/environ
    with pytest.raises(DataError, match="no column") as raised:
        dsl.load_task(data_task(tmp_path, "points.csv"))
    assert "S3CRET" not in str(raised.value)


def test_a_file_that_is_not_csv_is_a_data_error(tmp_path):
    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "points.csv").write_text("x,a,p,y\n" + "S3CRET" * 50_000 + ",1,1,1\n")  # over csv's field limit
    with pytest.raises(DataError, match="not CSV at line 2") as raised:
        dsl.load_task(data_task(tmp_path, "points.csv"))
    assert "S3CRET" not in str(raised.value)


# --- naming tasks ---------------------------------------------------------------------------------

TWO = "task first {\n input a: bool\n output bool\n target a\n grammar boolean\n}\n" + (
    "task second {\n input a: bool\n output bool\n target not a\n grammar boolean\n}\n"
)


def test_load_task_by_path_and_name(tmp_path):
    path = tmp_path / "two.task"
    path.write_text(TWO)
    assert [task.name for task in dsl.load_tasks(path)] == ["first", "second"]
    assert dsl.load_task(f"{path}:second").name == "second"
    assert dsl.load_task(path, name="first").name == "first"
    with pytest.raises(TaskError, match="holds 2 tasks"):
        dsl.load_task(path)
    with pytest.raises(TaskError, match="did you mean `second`"):
        dsl.load_task(path, name="secnd")


def test_unknown_sources():
    with pytest.raises(TaskError, match="did you mean `mod_add_97`"):
        dsl.load_task("mod_add_79")
    with pytest.raises(TaskError, match="no task file missing/file.task"):
        dsl.load_task("missing/file.task")


def test_unreadable_task_file(tmp_path):
    path = tmp_path / "binary.task"
    path.write_bytes(b"\xff\xfe\x00task")
    with pytest.raises(TaskError, match="not UTF-8"):
        dsl.load_task(path)


def test_every_builtin_task_loads_and_its_target_evaluates():
    names = dsl.builtin_task_names("scalar")
    assert len(names) >= 30
    for name in names:
        task = dsl.load_task(name)
        assert task.name == name and task.doc, f"{name} needs a doc citing its source"
        assert task.n_train > 0
        if task.target is not None:
            values = dsl.evaluate(task.target, task.points)
            np.testing.assert_array_equal(values, task.clean_values)


def test_built_in_tasks_are_found_without_parsing_the_library():
    from dsl.library import builtin_task_file, builtin_task_names, find_builtin_task

    for name in builtin_task_names():
        assert find_builtin_task(name) == builtin_task_file(name), name
    assert find_builtin_task("no_such_task") is None


def test_the_parse_tables_are_cached_beside_the_bytecode_only(monkeypatch, tmp_path):
    import sys

    from dsl import syntax

    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    assert syntax._parser_cache() is False  # PYTHONDONTWRITEBYTECODE: write nothing
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    cache = syntax._parser_cache()
    if cache is not False:  # a read-only checkout keeps no bytecode, and so no cache
        assert Path(cache).parent == Path(syntax.__file__).with_name("__pycache__")
