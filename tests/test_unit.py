"""Runs the C unit-test binaries (tests/unit/test_*.c, built into build/tests)."""
import pathlib
import subprocess

import pytest

from conftest import BUILD, REPO

SOURCES = sorted((REPO / "tests" / "unit").glob("test_*.c"))


def test_unit_binaries_exist():
    assert SOURCES, "no unit tests found"
    missing = [s.stem for s in SOURCES if not (BUILD / "tests" / s.stem).exists()]
    assert not missing, f"unit tests not built (run make check): {missing}"


@pytest.mark.parametrize("name", [s.stem for s in SOURCES])
def test_unit(name):
    proc = subprocess.run([str(BUILD / "tests" / name)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert " 0 failed" in proc.stdout
