# SPDX-License-Identifier: MIT
# The initramfs and the QEMU guests, included by the Makefile (after the
# vsockbox rule and build/applets.mk):
#   make initramfs        build/vsockbox.cpio.gz: vsockbox (a stripped copy,
#                         $(STRIP)), a link per applet and vsock-bench in
#                         /bin (gzip'd newc cpio); prints its size
#     BUSYBOX=PATH        also a static busybox, its applets and /init
#                         (scripts/init.sh): a root that boots
#     INITRAMFS_MODULES="a.ko b.ko"  kernel modules /init loads, in order
#     INITRAMFS_FILES="SRC:/DEST ..." more files, e.g. my.sh:/etc/rc.local
#   make check-vm         tests/vm/run.sh: Debian's cloud kernels in QEMU,
#                         the applets over AF_VSOCK loopback (CID 1) in the
#                         guest, vsock-conform's verdicts against
#                         tests/vm/conform-expect among them, and
#                         vsock-lifecycle's across a pause of the VM (QMP
#                         stop, 3 s, cont) against
#                         tests/vm/lifecycle-expect-loopback, once per
#                         kernel of VM_SUITES (default bookworm trixie sid:
#                         6.1, 6.12 and the newest, 7.2 in 2026-12)
#     ARCH=arm64          an arm64 guest (qemu-system-aarch64, virt) running
#                         build/arm64/vsockbox, cross-built with
#                         $(ARM64_CROSS)gcc (default VM_SUITES: bookworm)
#     VM_ARGS="vm_size=16M vm_count=20 ..."  guest settings (see run.sh -h)
#     VM_ACCEL, VM_TIMEOUT, VM_KERNEL, VM_MODULES, VM_BUSYBOX, VM_CACHE,
#     VM_QEMU, VM_MIRROR, VM_NO_INSTALL  from the environment, see
#                         tests/vm/run.sh -h
#   make check-vhost      tests/vm/vhost.sh: a guest inside a guest, the
#                         real virtio-vsock device (vhost-vsock-pci) between
#                         them; the itest, vsock-bench and negatives, once
#                         per kernel of VHOST_SUITES (default bookworm
#                         trixie); a kernel also in LIFECYCLE_SUITES has
#                         L2's events too, in the same boot (--lifecycle)
#   make check-vhost-SUITE  the same, one kernel
#   make conform-compare  tests/vm/conform-compare.sh, by hand (3-5 min):
#                         vsock-conform and the kernel's vsock_test (built
#                         from Debian's linux-source 6.12 and sid's) side
#                         by side, one loopback guest per kernel of
#                         VM_SUITES; CONFORM_COMPARE_OUT=FILE keeps the table
#   make check-hybrid     tests/vm/hybrid.sh: the host applets here over the
#                         Unix sockets of vhost-device-vsock (Debian sid's,
#                         fetched into VM_CACHE), a TCG guest on
#                         vhost-user-vsock-pci running the guest applets;
#                         QMP migrate refused; in a second boot
#                         vsock-lifecycle across QMP stop and cont
#                         (tests/vm/lifecycle-expect-hybrid)
#   make check-lifecycle  vsock-lifecycle (doc/LIFECYCLE.md):
#                         tests/lifecycle.sh over TCP loopback (a SIGSTOP
#                         as the pause, shorter and longer than --timeout,
#                         a restore that resets nothing seen to fail), then
#                         check-vhost-SUITE for each kernel
#                         of LIFECYCLE_SUITES (default trixie;
#                         LIFECYCLE_SUITES=bookworm for 6.1): the nested
#                         tests, then pause, restore (same CID, new CID)
#                         and live migration of the inner guest, the
#                         verdicts against tests/vm/lifecycle-expect. With
#                         check-vhost in the same make (make check), each
#                         kernel boots once
#   make check-vm-rules   tests/vm-rules.sh: the runners' rules (skip, CI),
#                         without booting anything (a step of make check)
#   make vm-shell         the guest, booted to a shell on this terminal
#   make vm-kernel        only fetch the kernel: build/vm/kernel-SUITE-ARCH/
#                         vmlinuz, modules/, virtio-vsock.modules (a guest's
#                         modules for a real virtio-vsock device, in order)
# A skip (exit 77: no QEMU, no kernel to be had) is no failure, unless CI
# is set (non-empty): then the runners fail (exit 1) with the reason.
# Kernels and packages are cached in build/vm, which make clean keeps.

INITRAMFS := build/vsockbox.cpio.gz
BUSYBOX ?=
INITRAMFS_MODULES ?=
INITRAMFS_FILES ?=
VM_ARGS ?=
ARCH ?= amd64
ARM64_CROSS ?= aarch64-linux-gnu-
ifeq ($(ARCH),arm64)
VM_SUITES ?= bookworm
VM_BINARY := build/arm64/vsockbox
else
VM_SUITES ?= bookworm trixie sid
VM_BINARY := vsockbox
endif

# A cross-built vsockbox cannot say its applets here: .config names them.
INITRAMFS_APPLETS := $(if $(CROSS_COMPILE),$(foreach a,$(APPLET_NAMES),-a $(a)))

# Always rebuilt (it takes a moment): BUSYBOX and the lists may change.
# The archive holds a stripped copy; ./vsockbox keeps its symbols.
initramfs: vsockbox
	@mkdir -p $(dir $(INITRAMFS))
	$(Q)$(STRIP) -o build/vsockbox.stripped vsockbox
	@echo "initramfs: vsockbox stripped: $$(wc -c < build/vsockbox.stripped) bytes"
	$(Q)sh scripts/mkinitramfs.sh -o $(INITRAMFS) -b build/vsockbox.stripped \
		-s scripts/vsock-bench $(INITRAMFS_APPLETS) \
		$(if $(BUSYBOX),-B $(BUSYBOX) -i scripts/init.sh) \
		$(foreach m,$(INITRAMFS_MODULES),-m $(m)) \
		$(foreach f,$(INITRAMFS_FILES),-f $(f))

# ---- the arm64 binary: the same sources, objects under build/arm64 ----
build/arm64/%.o: %.c common/vsockbox.h common/protocol.h common/vsock_abi.h \
		build/applets.h build/vsockbox_features.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(ARM64_CROSS)gcc $(VSB_CFLAGS) $(CFLAGS) -c -o $@ $<

build/arm64/vsockbox: $(patsubst %.o,build/arm64/%.o,$(COMMON_OBJS) $(APPLET_OBJS))
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(ARM64_CROSS)gcc $(VSB_CFLAGS) $(CFLAGS) -o $@ $^ $(VSB_LDFLAGS) $(LDFLAGS)

# $(call vm_status,TARGET): after a runner, 77 (skipped) is no failure.
vm_status = rc=$$?; if [ $$rc -eq 77 ]; then \
	echo "$(1): SKIPPED (not a failure: see the SKIP line above)"; \
	elif [ $$rc -ne 0 ]; then exit $$rc; fi

VM_RUN := sh tests/vm/run.sh --arch $(ARCH)

# For arm64 the runner first fetches its tools (the cross compiler among
# them) or skips; the binary is built only then.
ifeq ($(ARCH),arm64)
check-vm:
	@$(VM_RUN) --fetch; $(call vm_status,check-vm); [ $$rc -eq 0 ] || exit 0; \
	$(MAKE) --no-print-directory $(VM_BINARY) tests/ktap || exit 1; \
	for s in $(VM_SUITES); do \
		VM_APPLETS="$(APPLET_NAMES)" $(VM_RUN) --suite $$s \
			-b $(VM_BINARY) $(VM_ARGS); $(call vm_status,check-vm $$s); \
	done
else
check-vm: vsockbox tests/ktap
	@for s in $(VM_SUITES); do \
		$(VM_RUN) --suite $$s -b $(VM_BINARY) $(VM_ARGS); \
		$(call vm_status,check-vm $$s); \
	done
endif

# Both kernels: 6.12 also sends MSG_ZEROCOPY through the device. The
# lifecycle's kernels (one by default: its four events take about 5
# minutes of make check's) have L2's events after the tests, in the same
# boot: L2's boot under TCG in TCG takes 200-300 s. One target a kernel,
# which check-vhost and check-lifecycle share: make check boots each once.
# The events run on 6.12 by default: 6.1's L2 once crashed after a live
# migration (tests/vm/lifecycle-expect); make check-lifecycle
# LIFECYCLE_SUITES=bookworm runs them on 6.1.
VHOST_SUITES ?= bookworm trixie
LIFECYCLE_SUITES ?= trixie
VHOST_RUNS := $(addprefix check-vhost-,$(sort $(VHOST_SUITES) $(LIFECYCLE_SUITES)))
check-vhost: $(addprefix check-vhost-,$(VHOST_SUITES))
vhost_lifecycle = $(if $(filter $(1),$(LIFECYCLE_SUITES)),--lifecycle)
$(VHOST_RUNS): check-vhost-%: vsockbox tests/ktap
	@sh tests/vm/vhost.sh -b ./vsockbox --suite $* $(call vhost_lifecycle,$*) $(VM_ARGS); \
	$(call vm_status,check-vhost $*)

check-hybrid: vsockbox tests/ktap
	@sh tests/vm/hybrid.sh -b ./vsockbox; $(call vm_status,check-hybrid)

check-vm-rules: vsockbox tests/ktap
	sh tests/vm-rules.sh

# Binds vsock-lifecycle's fixed TCP ports: on a shared machine, in a
# network namespace of its own (unshare -n).
check-lifecycle-tcp: vsockbox tests/ktap
	sh tests/lifecycle.sh

check-lifecycle: check-lifecycle-tcp $(addprefix check-vhost-,$(LIFECYCLE_SUITES))

CONFORM_COMPARE_OUT ?=
conform-compare: vsockbox tests/ktap
	@sh tests/vm/conform-compare.sh -b ./vsockbox --suites "$(VM_SUITES)" \
		$(if $(CONFORM_COMPARE_OUT),-o $(CONFORM_COMPARE_OUT)); \
	$(call vm_status,conform-compare)

# The arm64 guest, as a step of make check (ARCH is a make variable: a
# sub-make keeps this make's own ARCH apart).
check-vm-arm64:
	$(MAKE) check-vm ARCH=arm64

vm-shell: $(VM_BINARY)
	VM_APPLETS="$(APPLET_NAMES)" $(VM_RUN) -b $(VM_BINARY) --shell $(VM_ARGS)

vm-kernel:
	@for s in $(VM_SUITES); do $(VM_RUN) --suite $$s --fetch || exit 1; done

.PHONY: initramfs check-vm check-vhost $(VHOST_RUNS) check-hybrid check-vm-rules \
	check-lifecycle check-lifecycle-tcp \
	check-vm-arm64 vm-shell vm-kernel conform-compare

# make clean: the archive goes, the kernels in build/vm stay.
clean: clean-initramfs
clean-initramfs:
	rm -rf $(INITRAMFS) build/vsockbox.stripped build/arm64

.PHONY: clean-initramfs
