"""Shared pytest setup: repository paths, the built binary, and the test
sets (markers registered in pytest.ini): tests/vm/ is `vm`,
tests/test_unit.py is `unit`, every other tests/test_*.py is `host`."""
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent
BUILD = REPO / "build"
OWNERTRACE = BUILD / "ownertrace"
TESTS = REPO / "tests"
SETS = ("unit", "host", "vm")


def test_set(path):
    """The set of a test file, by where it is."""
    rel = pathlib.Path(path).resolve().relative_to(TESTS)
    if rel.parts[0] == "vm":
        return "vm"
    return "unit" if rel == pathlib.Path("test_unit.py") else "host"


test_set.__test__ = False   # a helper, not a test


def boot_group(item):
    """The VM tests that read one boot (vmrun.cached_run keeps it per worker
    process) run on one worker of `pytest -n N --dist loadgroup`: one group
    per test file and kernel. Other tests are spread one by one."""
    if test_set(item.path) != "vm":
        return None
    kernel = getattr(item, "callspec", None) and item.callspec.params.get("kernel")
    return f"{item.path.name}::{kernel}" if kernel else item.path.name


@pytest.hookimpl(tryfirst=True)   # before -m deselects by marker
def pytest_collection_modifyitems(config, items):
    wrong = []
    for item in items:
        if not any(item.get_closest_marker(s) for s in SETS):
            item.add_marker(test_set(item.path))
        sets = {m.name for m in item.iter_markers() if m.name in SETS}
        if len(sets) != 1:
            wrong.append(f"{item.nodeid}: {sorted(sets)}")
        group = boot_group(item)
        if group:
            item.add_marker(pytest.mark.xdist_group(group))
    if wrong:
        raise pytest.UsageError("each test must be in exactly one of the sets " + ", ".join(SETS)
                                + ":\n  " + "\n  ".join(wrong))


@pytest.fixture(scope="session")
def ownertrace():
    # `make check` builds it first; a missing binary is a failure, not a skip.
    assert OWNERTRACE.exists(), f"{OWNERTRACE} missing: run `make` first"
    return str(OWNERTRACE)
