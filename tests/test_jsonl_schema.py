"""The JSON Lines schema: one file (docs/schema/ownertrace-jsonl.schema.json),
one version, the same in the C constant and in every record printed, and
real output (the golden replay, with histograms and stacks) matching it.
Changing the schema without bumping the version fails here."""
import copy
import hashlib
import json
import subprocess

from conftest import REPO
import jsonl_schema

GOLDEN = REPO / "tests" / "data" / "vfio-6.1.jsonl"
RECORDING = REPO / "tests" / "data" / "vfio-6.1.otr"

# Every published schema version and the digest of its file (canonical JSON).
# Edited the schema? Bump OT_JSONL_SCHEMA_VERSION in user/util/json.h and
# schema_version in the schema, then add the new version's digest here.
PUBLISHED = {
    1: "781a84a64d96120fbe99d2aa7afc2961c3b1583048ca792927d8869d881beb05",  # with "diff"; v1 first ships with it
    2: "985e387b49f7473ddf75e6b876fdb50c03bfeb18bb41c86d926a6062a39325d5",  # census: its anomaly kinds and the census record
}


def records(text):
    return [json.loads(line) for line in text.splitlines()]  # every line must parse


def test_schema_is_a_valid_json_schema():
    jsonl_schema.validator()  # fails (not skips) without python3-jsonschema


def test_c_constant_equals_schema_version():
    assert jsonl_schema.c_schema_version() == jsonl_schema.schema_version()


def test_schema_changes_bump_the_version():
    digest = hashlib.sha256(json.dumps(jsonl_schema.schema(), sort_keys=True, separators=(",", ":"))
                            .encode()).hexdigest()
    version = jsonl_schema.schema_version()
    assert version in PUBLISHED, f"schema version {version} not in PUBLISHED: add it with digest {digest}"
    assert PUBLISHED[version] == digest, (
        f"{jsonl_schema.SCHEMA_FILE.name} changed but is still version {version}: bump the version "
        f"(user/util/json.h and the schema) and add its digest {digest} to PUBLISHED")


def test_golden_output_matches_schema():
    recs = records(GOLDEN.read_text())
    assert {r["type"] for r in recs} == {"event", "summary"}
    jsonl_schema.check_records(recs, GOLDEN.name)


def test_replay_with_histograms_and_stacks_matches_schema(ownertrace):
    p = subprocess.run([ownertrace, "replay", "--json", "--hist", "--stacks", str(RECORDING)],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    recs = records(p.stdout)
    assert {r["type"] for r in recs} == {"event", "histogram", "summary"}
    assert all(r["schema"] == jsonl_schema.c_schema_version() for r in recs)
    assert any(r.get("stack") for r in recs)
    jsonl_schema.check_records(recs, "replay --hist --stacks")


def test_schema_rejects_what_it_does_not_describe():
    """The check can fail: an unknown member, a missing one, another version."""
    good = records(GOLDEN.read_text())[0]
    for mutate in (lambda r: r.update(extra=1), lambda r: r.pop("comm"), lambda r: r.update(schema=0),
                   lambda r: r.update(event="probe"), lambda r: r.update(type="other")):
        bad = copy.deepcopy(good)
        mutate(bad)
        try:
            jsonl_schema.check_records([bad])
        except AssertionError:
            continue
        raise AssertionError(f"schema accepted {bad}")


def test_docs_name_the_current_version():
    """ownertrace(8) and README.md say which version is current."""
    version = jsonl_schema.c_schema_version()
    man = (REPO / "docs" / "ownertrace.8").read_text()
    assert f"currently {version}." in man
    readme = (REPO / "README.md").read_text()
    assert f"currently\n**{version}**" in readme or f"currently **{version}**" in readme
    assert r"docs/schema/ownertrace\-jsonl.schema.json" in man
    assert "docs/schema/ownertrace-jsonl.schema.json" in readme
