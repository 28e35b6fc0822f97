# SPDX-License-Identifier: MIT
# vsock-conform's tests, included by the Makefile:
#   make check-conform    both roles over TCP loopback: KTAP checked by
#                         tests/ktap, TCP's expected verdicts, --list,
#                         --only, --skip, exit codes (tests/conform.sh;
#                         the fault peer's broken listening side is in
#                         tests/faults.sh, make check-faults)
# tests/ktap checks a KTAP stream and extracts its verdicts (its header
# says how); the QEMU guests' tests use it too.

tests/ktap: tests/ktap.c
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror $(CFLAGS) -o $@ $< $(LDFLAGS)

check-conform: vsockbox tests/ktap tests/faultpeer tests/supervise
	sh tests/conform.sh

.PHONY: check-conform
