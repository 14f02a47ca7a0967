"""Runs the C unit-test binaries (tests/unit/test_*.c, built into build/tests)."""
import shutil
import subprocess

import pytest

from conftest import BUILD, REPO

SOURCES = sorted((REPO / "tests" / "unit").glob("test_*.c")) + sorted((REPO / "tests" / "unit" / "kernel").glob("test_*.c"))


def test_unit_binaries_exist():
    assert SOURCES, "no unit tests found"
    missing = [s.stem for s in SOURCES if not (BUILD / "tests" / s.stem).exists()]
    assert not missing, f"unit tests not built (run make check): {missing}"


@pytest.mark.parametrize("name", [s.stem for s in SOURCES])
def test_unit(name):
    """Each unit binary passes, with no memory error or definite leak under valgrind."""
    valgrind = shutil.which("valgrind")
    assert valgrind, "valgrind missing (scripts/install-deps.sh installs it)"
    cmd = [valgrind, "-q", "--error-exitcode=99", "--leak-check=full", "--errors-for-leak-kinds=definite",
           str(BUILD / "tests" / name)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode != 99, "valgrind found memory errors:\n" + proc.stderr
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert " 0 failed" in proc.stdout
