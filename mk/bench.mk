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
bench: vsockbox
	sh bench/run.sh ./vsockbox

bench-quick: vsockbox
	sh bench/run.sh --quick ./vsockbox

.PHONY: bench bench-quick
