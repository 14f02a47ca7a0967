"""Can this host's kernel trace really_probe with BPF? Found out without
ownertrace, so that a host test knows which answer ownertrace's dry run
must give: a two-instruction program (r0 = 0; exit) is loaded and attached
with the bpf() syscall, first as fentry, then as a kprobe through the
kprobe PMU, and detached at once. Needs root (x86-64 syscall numbers)."""
import ctypes
import os
import re
import struct
import subprocess

SYS_BPF = 321
SYS_PERF_EVENT_OPEN = 298
BPF_PROG_LOAD = 5
BPF_RAW_TRACEPOINT_OPEN = 17
BPF_PROG_TYPE_SOCKET_FILTER = 1
BPF_PROG_TYPE_KPROBE = 2
BPF_PROG_TYPE_TRACING = 26
BPF_TRACE_FENTRY = 24
PERF_EVENT_IOC_SET_BPF = 0x40042408
PERF_FLAG_FD_CLOEXEC = 8
FUNC = "really_probe"
# r0 = 0; exit
PROGRAM = struct.pack("<BBhi", 0xb7, 0, 0, 0) + struct.pack("<BBhi", 0x95, 0, 0, 0)

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def _syscall(*args):
    r = _libc.syscall(*args)
    return r if r >= 0 else -ctypes.get_errno()


def _bpf(cmd, attr: bytes):
    buf = ctypes.create_string_buffer(attr, len(attr))
    return _syscall(ctypes.c_long(SYS_BPF), ctypes.c_long(cmd), buf, ctypes.c_uint(len(attr)))


def _load(prog_type, expected_attach_type=0, attach_btf_id=0):
    insns = ctypes.create_string_buffer(PROGRAM, len(PROGRAM))
    license = ctypes.create_string_buffer(b"GPL")
    attr = bytearray(128)   # union bpf_attr, BPF_PROG_LOAD: offsets from linux/bpf.h
    struct.pack_into("<IIQQ", attr, 0, prog_type, len(PROGRAM) // 8, ctypes.addressof(insns),
                     ctypes.addressof(license))
    struct.pack_into("<I", attr, 68, expected_attach_type)
    struct.pack_into("<I", attr, 108, attach_btf_id)
    return _bpf(BPF_PROG_LOAD, bytes(attr))


def plain_program_loads():
    """(works, why): a socket filter, the least privileged program type. If
    this loads, a refusal of fentry or kprobe programs is the kernel's, not
    a mistake in how this module calls bpf()."""
    prog = _load(BPF_PROG_TYPE_SOCKET_FILTER)
    if prog < 0:
        return False, f"socket filter load: {os.strerror(-prog)}"
    os.close(prog)
    return True, "socket filter loaded"


def _btf_id(func):
    out = subprocess.run(["bpftool", "btf", "dump", "file", "/sys/kernel/btf/vmlinux"],
                         capture_output=True, text=True, timeout=60).stdout
    m = re.search(rf"^\[(\d+)\] FUNC '{func}' ", out, re.M)
    return int(m.group(1)) if m else None


def fentry():
    """(works, why): load an fentry program on really_probe and attach it."""
    btf_id = _btf_id(FUNC)
    if btf_id is None:
        return False, f"no BTF FUNC {FUNC} in /sys/kernel/btf/vmlinux"
    prog = _load(BPF_PROG_TYPE_TRACING, BPF_TRACE_FENTRY, btf_id)
    if prog < 0:
        return False, f"fentry load: {os.strerror(-prog)}"
    try:
        attr = struct.pack("<QI", 0, prog).ljust(16, b"\0")
        link = _bpf(BPF_RAW_TRACEPOINT_OPEN, attr)
        if link < 0:
            return False, f"fentry attach: {os.strerror(-link)}"
        os.close(link)
        return True, "fentry attached"
    finally:
        os.close(prog)


def kprobe():
    """(works, why): a kprobe on really_probe through the kprobe PMU, with a
    BPF program attached to it."""
    try:
        pmu = int(open("/sys/bus/event_source/devices/kprobe/type").read())
    except OSError as e:
        return False, f"no kprobe PMU ({e.strerror})"
    name = ctypes.create_string_buffer(FUNC.encode())
    attr = bytearray(112)   # struct perf_event_attr, PERF_ATTR_SIZE_VER5
    struct.pack_into("<II", attr, 0, pmu, len(attr))
    struct.pack_into("<QQ", attr, 56, ctypes.addressof(name), 0)   # kprobe_func, probe_offset
    abuf = ctypes.create_string_buffer(bytes(attr), len(attr))
    ev = _syscall(ctypes.c_long(SYS_PERF_EVENT_OPEN), abuf, ctypes.c_int(-1), ctypes.c_int(0), ctypes.c_int(-1),
                  ctypes.c_ulong(PERF_FLAG_FD_CLOEXEC))
    if ev < 0:
        return False, f"kprobe perf_event_open: {os.strerror(-ev)}"
    try:
        prog = _load(BPF_PROG_TYPE_KPROBE)
        if prog < 0:
            return False, f"kprobe program load: {os.strerror(-prog)}"
        try:
            r = _libc.ioctl(ctypes.c_int(ev), ctypes.c_ulong(PERF_EVENT_IOC_SET_BPF), ctypes.c_int(prog))
            if r < 0:
                return False, f"kprobe attach: {os.strerror(ctypes.get_errno())}"
            return True, "kprobe attached"
        finally:
            os.close(prog)
    finally:
        os.close(ev)


def can_trace():
    """(works, why) for fentry, else kprobes: what ownertrace tries too."""
    ok, why_fentry = fentry()
    if ok:
        return True, why_fentry
    ok, why_kprobe = kprobe()
    return ok, f"{why_fentry}; {why_kprobe}"
