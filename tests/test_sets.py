"""The test sets (pytest.ini, tests/conftest.py): -m unit, -m host and -m vm
select disjoint sets that together are every test, each set by location."""
import subprocess
import sys

from conftest import REPO


def collect(*args):
    p = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *args,
                        "tests"], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr   # 5 would be: nothing selected
    return {l for l in p.stdout.splitlines() if "::" in l}


def test_every_test_in_exactly_one_set():
    everything = collect()
    sets = {m: collect("-m", m) for m in ("unit", "host", "vm")}
    assert all(sets.values()), {m: len(s) for m, s in sets.items()}
    assert sum(len(s) for s in sets.values()) == len(everything)
    assert set().union(*sets.values()) == everything
    assert all(t.startswith("tests/test_unit.py::") for t in sets["unit"])
    assert all(t.startswith("tests/vm/") for t in sets["vm"])
    assert not any(t.startswith(("tests/vm/", "tests/test_unit.py::")) for t in sets["host"])
