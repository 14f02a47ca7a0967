"""The daemon on this host (no BPF here): its memory bound over millions of
synthetic events, its command line, and the systemd unit `make install`
ships, checked by systemd-analyze."""
import os
import re
import shutil
import subprocess

import pytest

from conftest import BUILD, REPO

RSS_BOUND_KIB = 32 * 1024


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kw)


def test_memory_bounded_over_three_million_events():
    """Every device, group, owner, driver and stack new: the shadow, owner
    tokens, stacks and Prometheus labels stay under their caps (the binary
    checks each at 10 checkpoints), every cap is reached, and the process's
    peak RSS stays under a fixed bound. Native, not under valgrind: speed."""
    p = run([str(BUILD / "tests" / "test_daemon_bounds"), "3000000", str(RSS_BOUND_KIB)])
    assert p.returncode == 0 and " 0 failed" in p.stdout, p.stdout + p.stderr
    m = re.search(r"^(\d+) events, \d+ cycles; heap in use (\d+) KiB; peak RSS (\d+) KiB", p.stdout, re.M)
    assert m, p.stdout
    print(p.stdout)
    assert int(m.group(1)) >= 3000000
    assert int(m.group(3)) <= RSS_BOUND_KIB


@pytest.mark.parametrize("args,needle", [
    (["daemon", "--hist"], "daemon keeps its memory bounded"),
    (["daemon", "-i", "5"], "daemon keeps its memory bounded"),
    (["daemon", "-w", "/tmp/x.otr"], "daemon keeps its memory bounded"),
    (["--metrics-interval", "5"], "--metrics-interval needs --prometheus"),
    (["--prometheus", "/tmp/x.prom", "--metrics-interval", "0"], "--metrics-interval wants seconds"),
    (["replay", "--prometheus", "/tmp/x.prom", "--metrics-interval", "5", "x.otr"], "does not apply"),
])
def test_daemon_usage_errors(ownertrace, args, needle):
    p = run([ownertrace] + args)
    assert p.returncode == 2, p.stderr
    assert needle in p.stderr


def install(tmp_path, *args):
    p = run(["make", "-s", "-C", str(REPO), "install", *args])
    assert p.returncode == 0, p.stderr


def test_make_install_ships_the_unit(tmp_path):
    install(tmp_path, f"DESTDIR={tmp_path}", "PREFIX=/usr")
    unit = (tmp_path / "usr" / "lib" / "systemd" / "system" / "ownertrace.service").read_text()
    assert not re.search(r"@[A-Z_]+@", unit), "a placeholder was not substituted"
    assert re.search(r"^ExecStart=/usr/sbin/ownertrace daemon --prometheus "
                     r"/var/lib/prometheus/node-exporter/ownertrace.prom$", unit, re.M), unit
    assert re.search(r"^ReadWritePaths=-/var/lib/prometheus/node-exporter$", unit, re.M)
    assert re.search(r"^RequiresMountsFor=/usr/sbin/ownertrace$", unit, re.M), unit
    dropin = tmp_path / "usr" / "share" / "doc" / "ownertrace" / "addresses-only.conf"
    assert "CapabilityBoundingSet=CAP_BPF CAP_PERFMON\n" in dropin.read_text()


@pytest.fixture
def installed_unit(tmp_path):
    """The unit installed with PREFIX=tmp_path, so that its ExecStart binary
    and its Documentation= man page exist where systemd-analyze looks."""
    assert shutil.which("systemd-analyze"), "systemd-analyze missing (package systemd)"
    install(tmp_path, f"PREFIX={tmp_path}")
    unit = tmp_path / "lib" / "systemd" / "system" / "ownertrace.service"
    assert f"ExecStart={tmp_path}/sbin/ownertrace daemon" in unit.read_text()
    return unit, dict(os.environ, MANPATH=str(tmp_path / "share" / "man"))


def test_unit_verifies(installed_unit):
    unit, env = installed_unit
    p = run(["systemd-analyze", "verify", str(unit)], env=env)
    assert p.returncode == 0 and not p.stdout.strip() and not p.stderr.strip(), p.stdout + p.stderr


def test_unit_is_hardened(installed_unit):
    """systemd's own exposure score, offline: no worse than the 1.6 of the
    unit before it started early and kept CAP_SYSLOG usable (issue 14)."""
    unit, env = installed_unit
    p = run(["systemd-analyze", "security", "--offline=yes", str(unit)], env=env)
    m = re.search(r"Overall exposure level for ownertrace.service: (\d+\.\d+) (\S+)", p.stdout)
    assert m, p.stdout + p.stderr
    print(m.group(0))
    assert float(m.group(1)) <= 1.6, p.stdout
    text = unit.read_text()
    caps = re.search(r"^CapabilityBoundingSet=(.*)$", text, re.M).group(1).split()
    assert sorted(caps) == ["CAP_BPF", "CAP_PERFMON", "CAP_SYSLOG"], caps
    assert "CAP_SYS_ADMIN" not in text.replace("so CAP_SYS_ADMIN is not needed", "")


def test_unit_starts_before_coldplug(installed_unit):
    """Ordered before udev's coldplug, started = attached, and nothing that
    could wait for the coldplug in turn (issue 14; the VM test boots it)."""
    unit, _ = installed_unit
    text = unit.read_text()
    directives = {}
    for line in text.splitlines():
        if "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            directives.setdefault(k, []).append(v)
    assert directives["Type"] == ["notify"]
    assert directives["DefaultDependencies"] == ["no"]
    assert "systemd-udev-trigger.service" in " ".join(directives["Before"])
    after = " ".join(directives.get("After", []))
    assert "local-fs.target" not in after and "sysinit.target" not in after, after
    assert "PrivateTmp" not in directives, "PrivateTmp= orders the unit after local-fs.target"
    # the two relaxations that give symbolized stacks, each explained
    assert directives["ProtectKernelTunables"] == ["no"] and directives["ProtectKernelLogs"] == ["no"]
    assert "/proc/kallsyms" in text and "-/proc/kmsg" in " ".join(directives["InaccessiblePaths"])
