"""The JSON Lines schema (docs/schema/ownertrace-jsonl.schema.json) for the
tests: load it, and check records of real output against it. Used by
tests/test_jsonl_schema.py and by every VM test that reads --json output
(tests/vm/vmrun.py: jsonl()).

Needs python3-jsonschema (scripts/install-deps.sh); without it the tests
fail and say so -- they never skip."""
import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCHEMA_FILE = REPO / "docs" / "schema" / "ownertrace-jsonl.schema.json"
C_CONSTANT = REPO / "user" / "util" / "json.h"

try:
    import jsonschema
except ImportError:  # reported by validator(), so a test fails instead of the whole collection
    jsonschema = None


def schema():
    return json.loads(SCHEMA_FILE.read_text())


def schema_version():
    return schema()["$defs"]["schema_version"]["const"]


def c_schema_version():
    m = re.search(r"^#define OT_JSONL_SCHEMA_VERSION (\d+)$", C_CONSTANT.read_text(), re.M)
    assert m, f"OT_JSONL_SCHEMA_VERSION not found in {C_CONSTANT}"
    return int(m.group(1))


def validator():
    assert jsonschema is not None, "python3-jsonschema is missing: run scripts/install-deps.sh"
    s = schema()
    jsonschema.Draft202012Validator.check_schema(s)
    return jsonschema.Draft202012Validator(s)


def check_records(records, what="output"):
    """Assert every record matches the schema; the message names each bad record and why."""
    v = validator()
    problems = []
    for i, rec in enumerate(records):
        sub = rec.get("type") if isinstance(rec, dict) else None
        # against its own type's definition: the errors of a oneOf say little
        target = v.evolve(schema={"$ref": f"#/$defs/{sub}", "$defs": v.schema["$defs"]}) \
            if sub in v.schema["$defs"] else v
        for err in target.iter_errors(rec):
            path = "/".join(str(p) for p in err.absolute_path) or "(record)"
            problems.append(f"{what} record {i} (type {sub}): {path}: {err.message[:300]}")
    assert not problems, "records do not match " + SCHEMA_FILE.name + ":\n" + "\n".join(problems[:20])
