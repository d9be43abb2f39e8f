"""Start-up: small commands load only what they need, and `occam bench startup` measures them."""

import subprocess
import sys

from compare.benchmarks.bench import HEAVY, bench_startup

LOADED = "import sys; print(' '.join(sorted({name.split('.')[0] for name in sys.modules})))"


def _packages_loaded(code: str) -> set[str]:
    done = subprocess.run([sys.executable, "-c", f"{code}\n{LOADED}"], capture_output=True, text=True, check=True)
    return set(done.stdout.split())


def test_the_core_packages_do_not_load_torch_or_matplotlib():
    loaded = _packages_loaded("import dsl, search")
    assert {"dsl", "search", "numba"} <= loaded
    assert not loaded & set(HEAVY)


def _command(argv: list[str]) -> str:
    return ("from compare.app.cli import main\nimport contextlib, io\nwith contextlib.redirect_stdout(io.StringIO()):\n"
            f"    assert main({argv!r}) == 0")  # fmt: skip


def test_check_loads_neither_the_search_nor_torch_nor_matplotlib():
    loaded = _packages_loaded(_command(["check", "majority3"]))
    assert "dsl" in loaded and not loaded & {"search", "numba", "sympy", *HEAVY}


def test_synth_does_not_load_torch_or_matplotlib():
    loaded = _packages_loaded(_command(["synth", "majority3", "--max-seconds", "1"]))
    assert "search" in loaded and not loaded & set(HEAVY)


def test_bench_startup_measures_a_fresh_process():
    (row,) = bench_startup(repeats=1, commands=(("check", "majority3"),))["rows"]
    assert row["command"] == "occam check majority3"
    assert 0 < row["cpu_seconds"] < 60 and 0 < row["wall_seconds"] < 60 and row["peak_rss_mb"] > 10
    assert row["import_seconds_by_package"]["dsl"] > 0
    assert row["heavy_imports"] == []
