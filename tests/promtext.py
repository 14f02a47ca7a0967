"""A strict reader of the Prometheus text format for the tests: every
sample line must parse, and no series may repeat."""
import re

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?')


def parse(text):
    """{(name, ((label, value), ...)): float}; empty label values count as absent, as in Prometheus."""
    series = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        labels = tuple(sorted((k, v) for k, v in LABEL.findall(m.group(2) or "") if v))
        key = (m.group(1), labels)
        assert key not in series, f"duplicate series {key}"
        series[key] = float(m.group(3))
    return series


def get(series, name, **labels):
    key = (name, tuple(sorted((k, v) for k, v in labels.items() if v)))
    assert key in series, f"{key} missing; have {sorted(k for k in series if k[0] == name)}"
    return series[key]


def total(series, name):
    """The sum of every series of one metric, whatever its labels."""
    return sum(v for (n, _), v in series.items() if n == name)
