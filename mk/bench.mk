# SPDX-License-Identifier: MIT
# Benchmarks (bench/run.sh runs, bench/report computes and writes): vsockbox
# side by side with a C ceiling (the protocol's pattern), a C ping-pong,
# iperf3 and sockperf over TCP loopback; --verify against plain; CPU, RSS,
# size, start-up.
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
bench: vsockbox bench-programs
	sh bench/run.sh ./vsockbox

bench-quick: vsockbox bench-programs
	sh bench/run.sh --quick ./vsockbox

BENCH_VM_ARGS ?=
bench-vm: vsockbox
	@sh bench/vm.sh -b ./vsockbox $(BENCH_VM_ARGS); rc=$$?; \
	if [ $$rc -eq 77 ]; then echo "bench-vm: SKIPPED (see the SKIP line above)"; \
	elif [ $$rc -ne 0 ]; then exit $$rc; fi

# The bench's programs run on this machine: HOSTCC, not CC (which may be a
# cross or musl compiler).
HOSTCC ?= cc
BENCH_CFLAGS := -std=c11 -O2 -Wall -Wextra -Werror -pthread -Icommon
BENCH_PROGRAMS := build/bench/report build/bench/ceiling build/bench/pingpong \
	build/bench/rusage

bench-programs: $(BENCH_PROGRAMS)

build/bench/report: bench/report.c common/protocol.h
build/bench/ceiling build/bench/pingpong: bench/util.c bench/util.h
build/bench/pingpong: common/protocol.h
build/bench/%: bench/%.c
	@mkdir -p build/bench
	@$(if $(Q),echo "  HOSTCC  $@")
	$(Q)$(HOSTCC) $(BENCH_CFLAGS) -o $@ $< $(if $(filter ceiling pingpong,$*),bench/util.c) -lm

# bench/report on committed samples: bench/test/*.samples must give
# bench/test/*.report, and bench/RESULTS.samples the table of RESULTS.md.
check-bench-report: build/bench/report
	@for s in bench/test/*.samples; do \
		build/bench/report "$$s" | diff -u "$${s%.samples}.report" - || \
			{ echo "check-bench-report: $$s: not the expected report"; exit 1; }; \
	done
	@awk '/^```$$/ { n++; next } n == 1' bench/RESULTS.md >build/bench/RESULTS.table
	@build/bench/report bench/RESULTS.samples | diff -u build/bench/RESULTS.table - || \
		{ echo "check-bench-report: bench/RESULTS.samples does not give RESULTS.md's table"; exit 1; }
	@echo "check-bench-report: $$(ls bench/test/*.samples | wc -l) + 1 sample files give their reports"

check-bench: check-bench-report

.PHONY: bench bench-quick bench-vm bench-programs check-bench-report bench-pattern

# The CPU cost of --verify's pattern per GiB, generated and checked, with
# memcpy beside it (one core; a measurement, not a test).
# A sender's stamps allocate its blocks: the library's objects, as unit's.
build/bench/pattern: bench/pattern.c $(LIB_OBJS) build/vsockbox_features.h
	@mkdir -p build/bench
	$(Q)$(CC) $(VSB_CFLAGS) $(CFLAGS) -o $@ bench/pattern.c $(LIB_OBJS) \
		-pthread $(LDFLAGS)

bench-pattern: build/bench/pattern
	build/bench/pattern
