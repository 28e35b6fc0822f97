# Benchmarks (bench/run.sh): vsockbox side by side with a C ceiling (the
# protocol's pattern), a C ping-pong, iperf3 and sockperf over TCP loopback;
# CPU, RSS, size, start-up.
#   make bench         9 alternating pairs per comparison at full sizes, each
#                      batch under the CPU lock (/tmp/vsockbox-cpu.lock), as
#                      root in a network namespace of its own; ratios are
#                      medians of per-pair ratios with min and max; writes
#                      bench/RESULTS.md
#   make bench-quick   small sizes, 3 pairs, no lock, no RESULTS.md (under a
#                      minute); make check runs it so that the benchmark
#                      cannot rot (it asserts no timing)
#   make bench-vm      bench/vm.sh: in a QEMU guest (TCG) over vsock loopback,
#                      one boot per kernel (bookworm 6.1, trixie 6.12),
#                      vsock-unidir with vsock-perf against Linux's
#                      vsock_perf (built at run time from Debian's
#                      linux-source), --buffer-size and --zerocopy against
#                      plain; into bench/RESULTS-VM.md. A measurement, not
#                      part of make check. BENCH_VM_ARGS="--quick" etc.
bench: vsockbox
	sh bench/run.sh ./vsockbox

bench-quick: vsockbox
	sh bench/run.sh --quick ./vsockbox

BENCH_VM_ARGS ?=
bench-vm: vsockbox
	@sh bench/vm.sh -b ./vsockbox $(BENCH_VM_ARGS); rc=$$?; \
	if [ $$rc -eq 77 ]; then echo "bench-vm: SKIPPED (see the SKIP line above)"; \
	elif [ $$rc -ne 0 ]; then exit $$rc; fi

.PHONY: bench bench-quick bench-vm
