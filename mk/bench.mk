# Benchmarks (bench/run.sh): vsockbox side by side with a C ceiling, a C
# ping-pong, iperf3 and sockperf over TCP loopback; CPU, RSS, size, start-up.
#   make bench         medians of 7 runs at full sizes, into bench/RESULTS.md
#   make bench-quick   small sizes, 3 runs, no RESULTS.md (under a minute);
#                      make check runs it so that the benchmark cannot rot
bench: vsockbox
	sh bench/run.sh ./vsockbox

bench-quick: vsockbox
	sh bench/run.sh --quick ./vsockbox

.PHONY: bench bench-quick
