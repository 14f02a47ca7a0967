# ownertrace build. `make` builds build/ownertrace (static, BPF object
# embedded as a bpftool skeleton); `make check` runs every test; `make V=1`
# shows the commands.
#
# Architectures: ARCH=x86 (default on x86_64) -> build/ownertrace;
# ARCH=arm64 (default on aarch64) -> build-arm64/ownertrace, cross-compiled
# with aarch64-linux-gnu-gcc and the :arm64 static libraries on an x86 host
# (scripts/install-deps.sh installs them), or natively with gcc on arm64.

# the kernel's names: x86_64 -> x86, aarch64 -> arm64
arch_of      = $(patsubst x86_64,x86,$(patsubst aarch64,arm64,$(1)))
HOST_ARCH   := $(call arch_of,$(shell uname -m))
ARCH        ?= $(HOST_ARCH)
override ARCH := $(call arch_of,$(ARCH))
ifeq ($(filter x86 arm64,$(ARCH)),)
  $(error ARCH=$(ARCH) is not supported (x86 or arm64))
endif

OUTPUT      ?= $(if $(filter x86,$(ARCH)),build,build-$(ARCH))
CLANG       ?= clang
LLVM_STRIP  ?= llvm-strip
BPFTOOL     ?= bpftool
# aarch64 cross compiler unless this host is arm64 (make's built-in CC is "cc")
CROSS_CC_arm64 := aarch64-linux-gnu-gcc
CROSS_CC_x86   := x86_64-linux-gnu-gcc
ifeq ($(origin CC),default)
  CC := $(if $(filter $(HOST_ARCH),$(ARCH)),gcc,$(CROSS_CC_$(ARCH)))
endif
PYTHON      ?= /usr/bin/python3

# vmlinux.h is committed, one per architecture (vmlinux/SOURCE,
# vmlinux/arm64/SOURCE say where each came from); `make vmlinux [ARCH=arm64]
# BTF=...` regenerates it, scripts/gen-vmlinux-arm64.sh makes the arm64 one
# from Debian's arm64 kernel image without booting it.
VMLINUX_DIR := $(if $(filter x86,$(ARCH)),vmlinux,vmlinux/$(ARCH))
BTF         ?= /sys/kernel/btf/vmlinux

CFLAGS      ?= -O2 -g
WARNINGS    := -Wall -Wextra -Werror=implicit-function-declaration
USER_CFLAGS := $(CFLAGS) $(WARNINGS) -std=gnu11 -I$(OUTPUT) -Ibpf -Iuser
BPF_CFLAGS  := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -I$(VMLINUX_DIR) -Ibpf
# --wrap: libbpf's loads share the vmlinux BTF discovery already parsed
# instead of parsing their own (user/kernel/vmlinux_btf.h)
LDLIBS      := -Wl,--wrap=btf__load_vmlinux_btf -Wl,--wrap=btf__free -lbpf -lelf -lz -lzstd
LDFLAGS     ?= -static

ifeq ($(V),1)
  Q =
  msg =
else
  Q = @
  msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# Userspace, by folder along the data path (docs/ARCHITECTURE.md):
#   util/ core/ analysis/ output/ session/   no libbpf, no kernel: the
#       LIBBPF_FREE set, which the unit tests and the fuzzer link, so replay
#       and analysis are tested on recordings without a kernel
#   kernel/   needs the running kernel (preflight, BTF discovery, attach,
#       tracefs kretprobes, ksyms, live stacks)
#   cli/ cmd/ main.c   the command line and one file per command
LIBBPF_FREE_DIRS := util core analysis output session
KERNEL_DIRS      := kernel
PROGRAM_DIRS     := cli cmd
LIBBPF_FREE_SRCS := $(foreach d,$(LIBBPF_FREE_DIRS),$(wildcard user/$(d)/*.c))
KERNEL_SRCS      := $(foreach d,$(KERNEL_DIRS),$(wildcard user/$(d)/*.c))
PROGRAM_SRCS     := $(foreach d,$(PROGRAM_DIRS),$(wildcard user/$(d)/*.c)) user/main.c
LIBBPF_FREE_OBJS := $(patsubst user/%.c,$(OUTPUT)/%.o,$(LIBBPF_FREE_SRCS))
KERNEL_OBJS      := $(patsubst user/%.c,$(OUTPUT)/%.o,$(KERNEL_SRCS))
PROGRAM_OBJS     := $(patsubst user/%.c,$(OUTPUT)/%.o,$(PROGRAM_SRCS))
USER_HDRS        := $(wildcard user/*/*.h)

# Unit tests: tests/unit/ link the libbpf-free set only; tests/unit/kernel/
# test kernel/'s parsers (BTF discovery, kallsyms, stack interning) on
# canned input and link kernel/ and libbpf as well.
UNIT_TESTS        := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(wildcard tests/unit/test_*.c))
KERNEL_UNIT_TESTS := $(patsubst tests/unit/kernel/%.c,$(OUTPUT)/tests/%,$(wildcard tests/unit/kernel/test_*.c))

.PHONY: install fuzz all clean vmlinux check check-all check-unit check-vm check-iommufd check-iommufd-run trace demo deps \
	helpers bench bench-deps unit arm64
.DELETE_ON_ERROR:

all: $(OUTPUT)/ownertrace

$(OUTPUT) $(OUTPUT)/tests:
	$(Q)mkdir -p $@

# A BPF object as the skeleton embeds it: compiled, DWARF stripped, and
# passed through the BPF linker, which resolves .BTF.ext's relocations
# (.rel.BTF.ext, a quarter of the object) so neither the binary nor libbpf
# at open carries them.
define bpf_object
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@.unlinked
	$(Q)$(LLVM_STRIP) -g $@.unlinked
	$(Q)$(BPFTOOL) gen object $@ $@.unlinked
	$(Q)rm -f $@.unlinked
endef

$(OUTPUT)/ownertrace.bpf.o: bpf/ownertrace.bpf.c bpf/ownertrace.h $(VMLINUX_DIR)/vmlinux.h | $(OUTPUT)
	$(bpf_object)

$(OUTPUT)/ownertrace.skel.h: $(OUTPUT)/ownertrace.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name ownertrace_bpf > $@

# The census (`ownertrace groups`, and the census at the start of a live
# run): its own small object, loaded only while a census is taken.
$(OUTPUT)/census.bpf.o: bpf/census.bpf.c bpf/ownertrace_census.h bpf/ownertrace.h $(VMLINUX_DIR)/vmlinux.h | $(OUTPUT)
	$(bpf_object)

$(OUTPUT)/census.skel.h: $(OUTPUT)/census.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name ot_census_bpf > $@

$(KERNEL_OBJS) $(PROGRAM_OBJS): $(OUTPUT)/ownertrace.skel.h $(OUTPUT)/census.skel.h

$(OUTPUT)/%.o: user/%.c $(USER_HDRS) bpf/ownertrace.h bpf/ownertrace_census.h | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) -c $< -o $@

$(OUTPUT)/ownertrace: $(LIBBPF_FREE_OBJS) $(KERNEL_OBJS) $(PROGRAM_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(OUTPUT)/tests/%: tests/unit/%.c $(wildcard tests/unit/*.h) $(LIBBPF_FREE_OBJS) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) -Itests/unit $< $(LIBBPF_FREE_OBJS) -o $@

$(KERNEL_UNIT_TESTS): $(OUTPUT)/tests/%: tests/unit/kernel/%.c $(wildcard tests/unit/*.h) $(LIBBPF_FREE_OBJS) $(KERNEL_OBJS) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(USER_CFLAGS) -Itests/unit $< $(LIBBPF_FREE_OBJS) $(KERNEL_OBJS) $(LDLIBS) -o $@

# make install [PREFIX=/usr/local] [DESTDIR=...]: the binary, ownertrace(8),
# the daemon's systemd unit (ExecStart pointing at PREFIX/sbin; metrics
# into METRICS_DIR, node_exporter's textfile directory on Debian) and the
# addresses-only drop-in example.
PREFIX      ?= /usr/local
UNITDIR     ?= $(PREFIX)/lib/systemd/system
METRICS_DIR ?= /var/lib/prometheus/node-exporter
install: $(OUTPUT)/ownertrace
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX))
	$(Q)install -D -m 0755 $(OUTPUT)/ownertrace $(DESTDIR)$(PREFIX)/sbin/ownertrace
	$(Q)install -D -m 0644 docs/ownertrace.8 $(DESTDIR)$(PREFIX)/share/man/man8/ownertrace.8
	$(Q)install -d $(DESTDIR)$(UNITDIR)
	$(Q)sed -e 's|@SBINDIR@|$(PREFIX)/sbin|g' -e 's|@METRICS_DIR@|$(METRICS_DIR)|g' \
		dist/ownertrace.service.in > $(DESTDIR)$(UNITDIR)/ownertrace.service
	$(Q)install -D -m 0644 dist/ownertrace-addresses-only.conf \
		$(DESTDIR)$(PREFIX)/share/doc/ownertrace/addresses-only.conf

# libFuzzer + ASan/UBSan build of the recording reader and the replay path.
FUZZ_SECONDS ?= 60
$(OUTPUT)/fuzz/fuzz_replay: tests/fuzz/fuzz_replay.c $(LIBBPF_FREE_SRCS) $(USER_HDRS) | $(OUTPUT)
	$(call msg,FUZZ-CC,$@)
	$(Q)mkdir -p $(OUTPUT)/fuzz
	$(Q)$(CLANG) -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		-Ibpf -Iuser $< $(LIBBPF_FREE_SRCS) -o $@

fuzz: $(OUTPUT)/fuzz/fuzz_replay
	$(Q)mkdir -p $(OUTPUT)/fuzz/corpus
	$(Q)$(OUTPUT)/fuzz/fuzz_replay -max_total_time=$(FUZZ_SECONDS) -timeout=5 \
		$(OUTPUT)/fuzz/corpus tests/data

# Regenerate $(VMLINUX_DIR)/vmlinux.h from a BTF blob: a running kernel's
# /sys/kernel/btf/vmlinux, a vmlinux ELF with a .BTF section, or the raw
# BTF cut from a kernel image (scripts/btf-from-image.py). BTF_KERNEL names
# the kernel in SOURCE when BTF is not the running kernel's.
BTF_KERNEL  ?= $(if $(filter /sys/kernel/btf/vmlinux,$(BTF)),$(shell uname -r),unknown)
vmlinux:
	$(call msg,GEN,$(VMLINUX_DIR)/vmlinux.h from $(BTF))
	$(Q)mkdir -p $(VMLINUX_DIR)
	$(Q)$(BPFTOOL) btf dump file $(BTF) format c > $(VMLINUX_DIR)/vmlinux.h.tmp
	$(Q)mv $(VMLINUX_DIR)/vmlinux.h.tmp $(VMLINUX_DIR)/vmlinux.h
	$(Q)printf 'vmlinux.h generated by `make vmlinux%s BTF=%s`\nkernel: %s\ndate: %s\n' \
		"$(if $(filter x86,$(ARCH)),, ARCH=$(ARCH))" "$(BTF)" "$(BTF_KERNEL)" \
		"$$(date -u +%Y-%m-%d)" > $(VMLINUX_DIR)/SOURCE

deps:
	$(Q)bash scripts/install-deps.sh

# The guest helpers, static, for ARCH (x86: build/helpers, as before)
helpers:
	$(Q)$(MAKE) -s -C tests/helpers $(if $(filter x86,$(ARCH)),,CC=$(CC) OUT=$(abspath $(OUTPUT))/helpers)

# The unit-test binaries alone (for ARCH=arm64 they run under qemu-aarch64-static)
unit: $(UNIT_TESTS) $(KERNEL_UNIT_TESTS)

# Everything the arm64 tests need, whatever this make's own ARCH/OUTPUT/CC:
# build-arm64/ownertrace, its helpers and its unit tests
ARM64_OUTPUT ?= build-arm64
ARM64_CC     ?= $(if $(filter arm64,$(HOST_ARCH)),gcc,$(CROSS_CC_arm64))
arm64:
	$(Q)$(MAKE) --no-print-directory ARCH=arm64 OUTPUT=$(ARM64_OUTPUT) CC=$(ARM64_CC) all helpers unit

# Every test: the unit, host and vm sets (pytest markers, tests/README.md),
# x86 and arm64, the slowest 15 listed at the end. Installs missing
# dependencies first (idempotent). OT_KERNELS="6.1" selects one kernel for a
# quick run (6.1-arm64: an arm64 one).
check: deps
	$(Q)$(MAKE) --no-print-directory check-all

# TEST_JOBS test processes (pytest-xdist), one per host core by default: each
# TCG guest is one busy host thread, so two cores run two guests at once;
# the tests that read one boot stay on one process (tests/conftest.py).
TEST_JOBS   ?= $(shell nproc)
PYTEST_JOBS := $(if $(filter-out 0 1,$(TEST_JOBS)),-n $(TEST_JOBS) --dist loadgroup)
check-all: all helpers $(UNIT_TESTS) $(KERNEL_UNIT_TESTS) $(OUTPUT)/fuzz/fuzz_replay arm64
	$(Q)$(PYTHON) -m pytest -v $(PYTEST_JOBS) -m "not iommufd" --durations=15 tests

# Without a VM: the unit and host sets.
check-unit: all $(UNIT_TESTS) $(KERNEL_UNIT_TESTS) $(OUTPUT)/fuzz/fuzz_replay arm64
	$(Q)$(PYTHON) -m pytest -v $(PYTEST_JOBS) -m "unit or host" tests

check-vm: all helpers arm64
	$(Q)$(PYTHON) -m pytest -v $(PYTEST_JOBS) -m "vm and not iommufd" tests

# The iommufd path (tests/vm/test_iommufd_vm.py) on 6.12-iommufd, a kernel
# built here from Debian's linux-source-6.12 because Debian builds neither
# CONFIG_IOMMUFD nor the VFIO cdev (tests/vm/build-kernel.sh; cached, the
# first build is the README's measured time). Not part of check: with that
# build it does not fit CI's hour. The kernel is built before pytest starts,
# so its progress shows and a failed build stops here with its log's tail.
check-iommufd: deps
	$(Q)$(MAKE) --no-print-directory check-iommufd-run

check-iommufd-run: all helpers
	$(Q)bash tests/vm/build-kernel.sh iommufd >/dev/null || { \
	  echo "check-iommufd: building the iommufd kernel failed (above); fix it and re-run: the build resumes" >&2; exit 1; }
	$(Q)OT_IOMMUFD=1 $(PYTHON) -m pytest -v -rs --durations=5 -m iommufd tests/vm/test_iommufd_vm.py

# The main job: a live trace here, or, where this host cannot trace, in a VM.
# ARGS are passed to ownertrace; OT_KERNEL picks the VM kernel.
# ARCH=arm64: the arm64 binary, and the VM (when one is needed) is the arm64 one.
trace: deps
	$(Q)$(MAKE) --no-print-directory all helpers
	$(Q)OT_TRACE_ARCH=$(ARCH) OT_TRACE_BIN=$(abspath $(OUTPUT))/ownertrace bash scripts/trace.sh $(ARGS)

# Benchmarks (not tests: minutes, not seconds): storm, BPF cost, startup,
# RSS and bind/unbind overhead in the TCG VM side by side with bpftrace,
# replay throughput on the host; writes BENCHMARKS.md. Parameters:
# BENCH_T BENCH_N BENCH_VFIO BENCH_REPEATS BENCH_CYCLES BENCH_TOOLS BENCH_KERNELS
# BENCH_ICOUNT BENCH_SMP BENCH_STORM_N BENCH_TINY_KIB BENCH_DAEMON_ROUNDS
# BENCH_REPLAY_EVENTS BENCH_REPLAY_RUNS BENCH_REPLAY_CALLGRIND_EVENTS
# BENCH_ONLY=vm|pressure|replay (bench/run.py).
$(OUTPUT)/bench/benchtool: bench/benchtool.c | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(OUTPUT)/bench
	$(Q)$(CC) $(CFLAGS) $(WARNINGS) -static $< -o $@

$(OUTPUT)/bench/gen_recording: bench/gen_recording.c $(LIBBPF_FREE_OBJS) | $(OUTPUT)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(OUTPUT)/bench
	$(Q)$(CC) $(USER_CFLAGS) $< $(LIBBPF_FREE_OBJS) -o $@

# bpftrace: the baseline (the guest runs the host's copy over 9p);
# util-linux: taskset pins replay to one core
BENCH_PACKAGES := bpftrace util-linux
bench-deps: deps
	$(Q)bash scripts/install-deps.sh $(BENCH_PACKAGES)

bench: bench-deps
	$(Q)$(MAKE) --no-print-directory all helpers $(OUTPUT)/bench/benchtool $(OUTPUT)/bench/gen_recording
	$(Q)$(PYTHON) bench/run.py
	$(Q)$(PYTHON) bench/report.py

# The VM demo alone, whatever the host can do.
demo: all helpers
	$(Q)OT_BINARY=$(abspath $(OUTPUT))/ownertrace bash tests/vm/demo.sh $(KERNEL)$(if $(filter x86,$(ARCH)),,$(if $(KERNEL),,6.1)-$(ARCH))

clean:
	$(call msg,CLEAN,$(OUTPUT))
	$(Q)rm -rf $(OUTPUT)
	$(Q)$(MAKE) -s -C tests/helpers clean 2>/dev/null || true
