"""Shared pytest setup: repository paths, and the built binary."""
import pathlib

import pytest

REPO = pathlib.Path(__file__).resolve().parent.parent
BUILD = REPO / "build"
OWNERTRACE = BUILD / "ownertrace"


@pytest.fixture(scope="session")
def ownertrace():
    # `make check` builds it first; a missing binary is a failure, not a skip.
    assert OWNERTRACE.exists(), f"{OWNERTRACE} missing: run `make` first"
    return str(OWNERTRACE)
