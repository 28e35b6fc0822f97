# SPDX-License-Identifier: MIT
# vsockbox: one static binary, one applet per file, configured by Config.in.
#   make                 build ./vsockbox (static)
#   make check           every test (unit, end to end over TCP, faults, bad
#                        command lines, signals, quick benchmark, QEMU guest)
#   make run / run-quick the micro benchmark on this machine
#   make bench           vsockbox against a C ceiling, iperf3 and sockperf
#   make initramfs       build/vsockbox.cpio.gz (BUSYBOX=path: with /init)
#   make check-asan, check-valgrind, fuzz   (mk/reliability.mk)
#   make install DESTDIR=... PREFIX=...   (stripped; install-unstripped)
# Honours CC, CFLAGS, LDFLAGS, CROSS_COMPILE, STATIC=, SMALL=1, V=1.

CROSS_COMPILE ?=
CC := $(CROSS_COMPILE)$(if $(filter default,$(origin CC)),gcc,$(CC))
STRIP ?= $(CROSS_COMPILE)strip
CFLAGS ?= -O2 -g
HOSTCC ?= cc
LDFLAGS ?=
STATIC ?= -static
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
DESTDIR ?=

# Flags the code needs whatever the user's CFLAGS say.
VSB_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wformat=2 -Werror \
	-pthread -Icommon -Ibuild
VSB_LDFLAGS := -pthread $(STATIC)

# SMALL=1: the smallest binary (with CC=musl-gcc and make protocolconfig,
# under 64 KiB stripped): optimise for size, drop unwind tables, let the
# linker drop whatever nothing calls, and start the data segment right
# after the code in the file (a small common-page-size), not on the next
# page boundary, which pads the file with up to 4 KiB of zeros. The static
# binary is loaded at a fixed address anyway: code for a fixed address
# (-fno-pie) is smaller and keeps constant tables in .rodata. For size,
# --verify's pattern goes without its AVX2 copies (common/pattern.c).
ifeq ($(SMALL),1)
CFLAGS := -Os
VSB_CFLAGS += -ffunction-sections -fdata-sections \
	-fno-asynchronous-unwind-tables -fno-unwind-tables -fno-pie
VSB_LDFLAGS += -no-pie -Wl,--gc-sections -Wl,-z,norelro -Wl,--build-id=none \
	-Wl,-z,noseparate-code -Wl,-z,common-page-size=64
endif

ifeq ($(V),1)
Q :=
else
Q := @
endif

COMMON_OBJS := $(patsubst %.c,%.o,$(wildcard common/*.c))
LIB_OBJS := $(filter-out common/main.o,$(COMMON_OBJS))

all: vsockbox

# ---- configuration ----
# Config.in is generated from the //config: blocks of the applets' main
# files (applets/NAME.c, or applets/NAME/NAME.c for an applet of several
# files: scripts/gen-applets.sh) and common/*.c (FEATURE_ entries: options of a mechanism
# beyond the original protocol, such as --verify) and committed; .config
# follows it (oldconfig): a new entry comes in at its default, choices
# already made stay.
KCONFIG := sh scripts/kconfig.sh

Config.in: $(wildcard applets/*.c applets/*/*.c common/*.c) scripts/kconfig.sh scripts/gen-applets.sh
	$(Q)$(KCONFIG) config-in . > $@.tmp
	$(Q)if cmp -s $@.tmp $@; then rm -f $@.tmp; touch $@; else mv $@.tmp $@; \
		echo "  GEN     $@"; fi

.config: Config.in
	$(Q)if [ -f $@ ]; then $(KCONFIG) oldconfig Config.in $@ > $@.tmp; \
	else $(KCONFIG) defconfig Config.in > $@.tmp; fi
	$(Q)mv $@.tmp $@

defconfig allyesconfig allnoconfig: Config.in
	$(Q)$(KCONFIG) $@ Config.in > .config
	@echo "  GEN     .config ($@)"

# The original protocol's slice (doc/PROTOCOL.md): its applets, guest and
# host side, on, and every other entry off: other applets (tools such as
# vsock-conform) and every FEATURE_ (--verify, hybrid vsock addresses and
# --preamble), whose options then do not exist. The build that SMALL=1's
# 64 KiB target is for.
PROTOCOL_APPLETS := VSOCK_CTL VSOCK_ECHO VSOCK_UNIDIR VSOCK_BIDIR VSOCK_MULTI \
	VSOCK_ITEST VSOCK_PERF VSOCK_ITEST_HOST
protocolconfig: Config.in
	$(Q)$(KCONFIG) only Config.in $(PROTOCOL_APPLETS) > .config.tmp
	$(Q)mv .config.tmp .config
	@echo "  GEN     .config ($@)"

oldconfig: Config.in
	$(Q)if [ -f .config ]; then $(KCONFIG) oldconfig Config.in .config > .config.tmp; \
	else $(KCONFIG) defconfig Config.in > .config.tmp; fi
	$(Q)mv .config.tmp .config
	@echo "  GEN     .config ($@)"

# The committed Config.in must be what the applets say (the build has
# regenerated it by now): a difference means it was not committed.
check-config: Config.in
	@if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then \
		if git diff --quiet HEAD -- Config.in; then \
			echo "check-config: Config.in matches the applets"; \
		else echo "check-config: Config.in differs from the committed one: the applets' //config: blocks changed (commit Config.in)"; \
			git --no-pager diff --stat HEAD -- Config.in; exit 1; fi; \
	else echo "check-config: not a git checkout, nothing to compare"; fi

# Every file says its licence (MIT, LICENSE): an SPDX line, or a path in
# REUSE.toml; tests/spdx.sh shows the check failing on a scratch tree.
check-spdx:
	$(Q)sh scripts/check-spdx.sh .
	$(Q)sh tests/spdx.sh

# One run makes both files (a grouped target: not once per file).
build/applets.mk build/applets.h &: Config.in .config scripts/gen-applets.sh
	$(Q)sh scripts/gen-applets.sh Config.in .config build

-include build/applets.mk

# ENABLE_FEATURE_X and IF_FEATURE_X(...) of every FEATURE_ entry (replaced
# only on change, so that another applet choice rebuilds nothing).
build/vsockbox_features.h: Config.in .config scripts/kconfig.sh
	@mkdir -p build
	$(Q)$(KCONFIG) features-h Config.in .config > $@.tmp
	$(Q)if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

# ---- the binary ----
# Every string literal of a source, as the compiler sees it, holds only
# conversions of format()'s printf subset: a '%f' fails the build here
# (scripts/fmtcheck.c), as -Wformat fails a wrong argument.
build/fmtcheck: scripts/fmtcheck.c
	@mkdir -p build
	$(Q)$(HOSTCC) -O2 -o $@ $<
FORMAT_CHECK = $(CC) $(VSB_CFLAGS) $(CFLAGS) -E $< | build/fmtcheck $<

%.o: %.c common/vsockbox.h common/protocol.h common/vsock_abi.h build/applets.h \
		build/vsockbox_features.h build/fmtcheck
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(FORMAT_CHECK)
	$(Q)$(CC) $(VSB_CFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

# Each object's own headers (an applet folder's private ones among them).
-include $(wildcard common/*.d applets/*.d applets/*/*.d)

vsockbox: $(COMMON_OBJS) $(APPLET_OBJS)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(VSB_CFLAGS) $(CFLAGS) -o $@ $^ $(VSB_LDFLAGS) $(LDFLAGS)

# ---- tests ----
tests/unit: tests/unit.c $(LIB_OBJS)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(FORMAT_CHECK)
	$(Q)$(CC) $(VSB_CFLAGS) $(CFLAGS) -o $@ $^ -pthread $(LDFLAGS)

check-unit: tests/unit
	./tests/unit

# End to end over TCP loopback, with one run at the full default sizes.
check-e2e: vsockbox tests/faultpeer
	sh tests/e2e.sh --full

# Every shell script: shellcheck, and a parse by dash and busybox ash.
SHELL_SCRIPTS := scripts/vsock-bench .ci/run $(wildcard scripts/*.sh tests/*.sh tests/vm/*.sh bench/*.sh)
check-sh:
	shellcheck -s sh -x $(SHELL_SCRIPTS)
	for s in $(SHELL_SCRIPTS); do dash -n $$s || exit 1; done
	if command -v busybox >/dev/null; then \
		for s in $(SHELL_SCRIPTS); do busybox ash -n $$s || exit 1; done; fi
	@echo "check-sh: $(words $(SHELL_SCRIPTS)) scripts clean"

# Every test, listed here only: the suites, the VM runners' rules (no
# boot), the QEMU guests (amd64 on two kernels, arm64, the nested pair over
# vhost-vsock-pci), connections across a pause, restore and migration
# (check-lifecycle: over TCP, and nested in check-vhost's trixie boot,
# made once), the sanitizer build over the suites, the parsers' fuzzer for
# a minute, and the committed Config.in.
check: check-spdx check-unit check-sh check-e2e check-reliability check-conform \
	check-bench \
	check-vm-rules check-vm check-vm-arm64 check-vhost check-hybrid \
	check-lifecycle \
	check-asan fuzz \
	check-config

# The benchmark at small sizes: it runs, every figure comes out (no timing
# is asserted: targets are judged by make bench, see bench/RESULTS.md).
check-bench: bench-quick

# Reliability suites, sanitizer builds and fuzzing; the QEMU guest; benchmarks.
include $(sort $(wildcard mk/*.mk))

# ---- the main job: the micro benchmark on this machine ----
run: vsockbox
	sh scripts/run-benchmark.sh ./vsockbox

run-quick: vsockbox
	sh scripts/run-benchmark.sh ./vsockbox --quick

# ---- install: the binary (stripped; STRIP= or install-unstripped keeps
# its symbols), a relative link per applet, vsock-bench ----
install: vsockbox
	install -d $(DESTDIR)$(BINDIR)
	install -m 755 $(if $(STRIP),-s --strip-program=$(STRIP)) vsockbox \
		$(DESTDIR)$(BINDIR)/vsockbox
	install -m 755 scripts/vsock-bench $(DESTDIR)$(BINDIR)/vsock-bench
	for a in $$(./vsockbox --list); do \
		ln -sf vsockbox $(DESTDIR)$(BINDIR)/$$a || exit 1; done

install-unstripped:
	$(MAKE) install STRIP=

# clean keeps downloads (the QEMU guest's kernel under build/vm).
clean:
	rm -rf vsockbox build/applets.h build/applets.mk build/vsockbox_features.h \
		build/fmtcheck \
		common/*.o applets/*.o applets/*/*.o common/*.d applets/*.d applets/*/*.d \
		tests/*.o tests/unit

distclean: clean
	rm -rf .config build

.PHONY: all defconfig allyesconfig allnoconfig oldconfig protocolconfig install \
	install-unstripped clean \
	distclean check check-spdx check-unit check-e2e check-sh check-bench check-config \
	run run-quick
