# The initramfs and the QEMU guest, included by the Makefile (after the
# vsockbox rule and build/applets.mk):
#   make initramfs        build/vsockbox.cpio.gz: vsockbox, a link per applet
#                         and vsock-bench in /bin (gzip'd newc cpio)
#     BUSYBOX=PATH        also a static busybox, its applets and /init
#                         (scripts/init.sh): a root that boots
#     INITRAMFS_MODULES="a.ko b.ko"  kernel modules /init loads, in order
#     INITRAMFS_FILES="SRC:/DEST ..." more files, e.g. my.sh:/etc/rc.local
#   make check-vm         tests/vm/run.sh: Debian's cloud kernel in QEMU, the
#                         applets over AF_VSOCK loopback (CID 1) in the guest;
#                         a skip (exit 77: no QEMU, no kernel) is no failure
#     VM_ARGS="vm_size=16M vm_count=20 ..."  guest settings (see run.sh -h)
#     VM_ACCEL, VM_TIMEOUT, VM_KERNEL, VM_MODULES, VM_BUSYBOX, VM_CACHE,
#     VM_NO_INSTALL       from the environment, see tests/vm/run.sh -h
#   make vm-shell         the same guest, booted to a shell on this terminal
#   make vm-kernel        only fetch the kernel: build/vm/kernel/vmlinuz,
#                         modules/, virtio-vsock.modules (a guest's modules
#                         for a real virtio-vsock device, in load order)
# The kernel is cached in build/vm, which make clean keeps.

INITRAMFS := build/vsockbox.cpio.gz
BUSYBOX ?=
INITRAMFS_MODULES ?=
INITRAMFS_FILES ?=
VM_ARGS ?=

# A cross-built vsockbox cannot say its applets here: .config names them.
INITRAMFS_APPLETS := $(if $(CROSS_COMPILE),$(foreach a,$(APPLET_NAMES),-a $(a)))

# Always rebuilt (it takes a moment): BUSYBOX and the lists may change.
initramfs: vsockbox
	@mkdir -p $(dir $(INITRAMFS))
	$(Q)sh scripts/mkinitramfs.sh -o $(INITRAMFS) -b ./vsockbox \
		-s scripts/vsock-bench $(INITRAMFS_APPLETS) \
		$(if $(BUSYBOX),-B $(BUSYBOX) -i scripts/init.sh) \
		$(foreach m,$(INITRAMFS_MODULES),-m $(m)) \
		$(foreach f,$(INITRAMFS_FILES),-f $(f))

check-vm: vsockbox
	@sh tests/vm/run.sh -b ./vsockbox $(VM_ARGS); rc=$$?; \
	if [ $$rc -eq 77 ]; then \
		echo "check-vm: SKIPPED (not a failure: see the SKIP line above)"; \
	elif [ $$rc -ne 0 ]; then exit $$rc; fi

vm-shell: vsockbox
	sh tests/vm/run.sh -b ./vsockbox --shell $(VM_ARGS)

vm-kernel:
	sh tests/vm/run.sh --fetch

.PHONY: initramfs check-vm vm-shell vm-kernel

# make clean: the archive goes, the kernel in build/vm stays.
clean: clean-initramfs
clean-initramfs:
	rm -f $(INITRAMFS)

.PHONY: clean-initramfs
