# SPDX-License-Identifier: MIT
# Reliability checks, included by the Makefile (after LIB_OBJS, COMMON_OBJS,
# APPLET_OBJS, VSB_CFLAGS and the build/applets.mk include):
#   make check-faults     every applet against every fault of its peer
#   make check-cmdline    every option with bad values: exit 2, one line
#   make check-signals    SIGINT/SIGTERM mid-run, SIGPIPE
#   make check-handshake  hybrid vsock addresses over Unix sockets: the
#                         CONNECT/OK handshake against a misbehaving VMM,
#                         itest and the benchmark with the stream preamble
#   make check-reliability  the four above
#   make check-asan       ASan+UBSan build (build/asan/vsockbox), all suites
#   make check-valgrind   memcheck build (build/valgrind/vsockbox), all suites
#   make fuzz             libFuzzer on the parsers, 60 s (FUZZ_TIME=S)
#   make fuzz-long        the same for 10 minutes
# The suites honour VSOCKBOX=path (the binary under test) and
# VSOCKBOX_WRAP (a command that wraps every applet run).

TEST_TOOLS := tests/faultpeer tests/supervise tests/ktap tests/fakevmm
VSB_HEADERS := common/vsockbox.h common/protocol.h common/vsock_abi.h \
	build/applets.h build/vsockbox_features.h

tests/faultpeer: tests/faultpeer.c $(LIB_OBJS) $(VSB_HEADERS)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(VSB_CFLAGS) $(CFLAGS) -o $@ $(filter %.c %.o,$^) \
		-pthread $(LDFLAGS)

tests/supervise: tests/supervise.c
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) -std=c11 -Wall -Wextra -Werror $(CFLAGS) -o $@ $< $(LDFLAGS)

tests/fakevmm: tests/fakevmm.c
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) -std=c11 -Wall -Wextra -Werror $(CFLAGS) -o $@ $< $(LDFLAGS)

check-handshake: vsockbox $(TEST_TOOLS)
	sh tests/handshake.sh

check-faults: vsockbox $(TEST_TOOLS)
	sh tests/faults.sh

check-cmdline: vsockbox $(TEST_TOOLS)
	sh tests/cmdline.sh

check-signals: vsockbox $(TEST_TOOLS)
	sh tests/signals.sh

check-reliability: check-faults check-cmdline check-signals check-handshake

# ---- instrumented builds: the same sources, objects under build/VARIANT ----
# Dynamic (sanitizers and valgrind need it), with the C library's malloc
# (VSOCKBOX_MALLOC) so that every buffer is checked to the byte.
VARIANT_OBJS = $(patsubst %.o,build/$(1)/%.o,$(COMMON_OBJS) $(APPLET_OBJS))
ASAN_CFLAGS := -O1 -g -fno-omit-frame-pointer -DVSOCKBOX_MALLOC \
	-fsanitize=address,undefined -fno-sanitize-recover=all
VALGRIND_CFLAGS := -O1 -g -DVSOCKBOX_MALLOC

build/asan/%.o: %.c $(VSB_HEADERS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(VSB_CFLAGS) $(ASAN_CFLAGS) -c -o $@ $<

build/valgrind/%.o: %.c $(VSB_HEADERS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(VSB_CFLAGS) $(VALGRIND_CFLAGS) -c -o $@ $<

build/asan/vsockbox: $(call VARIANT_OBJS,asan)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(VSB_CFLAGS) $(ASAN_CFLAGS) -o $@ $^ -pthread

build/valgrind/vsockbox: $(call VARIANT_OBJS,valgrind)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(VSB_CFLAGS) $(VALGRIND_CFLAGS) -o $@ $^ -pthread

# Every report is fatal; leaks are checked at exit (LeakSanitizer).
ASAN_ENV := ASAN_OPTIONS=abort_on_error=0:detect_leaks=1:exitcode=99 \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=99
RELIABILITY_SUITES := tests/faults.sh tests/cmdline.sh tests/signals.sh \
	tests/conform.sh tests/handshake.sh tests/lifecycle.sh

# cmdline.sh takes one refusal in three here (every applet's options still
# sampled): all 1,851 ran 143 s under ASan, the largest step of make
# check after the nested VMs; check-reliability runs them all unsanitized
# and the fuzzer takes the parsers with ASan.
check-asan: build/asan/vsockbox $(TEST_TOOLS) vsockbox
	@status=0; for t in $(RELIABILITY_SUITES) tests/e2e.sh; do \
		echo "== $$t (ASan+UBSan)"; \
		$(ASAN_ENV) VSOCKBOX=build/asan/vsockbox TIME_SLACK_MS=1000 \
			CMDLINE_QUICK=3 sh $$t || status=1; done; exit $$status

# Memcheck on every applet run: any error or definite leak is exit 99,
# which no suite expects. Slow: the suites' time bounds get 4 s of slack.
VALGRIND := valgrind -q --error-exitcode=99 --leak-check=full \
	--show-leak-kinds=definite --errors-for-leak-kinds=definite \
	--trace-children=no
check-valgrind: build/valgrind/vsockbox $(TEST_TOOLS) vsockbox
	@status=0; for t in $(RELIABILITY_SUITES) tests/e2e.sh; do \
		echo "== $$t (valgrind)"; \
		VSOCKBOX=build/valgrind/vsockbox VSOCKBOX_WRAP="$(VALGRIND)" \
			TIME_SLACK_MS=4000 CMDLINE_QUICK=10 sh $$t || status=1; \
		done; exit $$status

# ---- fuzzing: libFuzzer (clang) on parse_address, parse_u64 and
# parse_command_line, with ASan and UBSan ----
FUZZ_CC ?= clang
FUZZ_TIME ?= 60
FUZZ_SRCS := tests/fuzz/fuzz_parse.c common/parse.c common/options.c \
	common/error.c common/format.c common/output.c common/io.c \
	common/clock.c common/alloc.c common/pattern.c
FUZZ_FLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Icommon -Ibuild \
	-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-Wl,--wrap=exit

build/fuzz/fuzz_parse: $(FUZZ_SRCS) $(VSB_HEADERS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ $(filter %.c,$^)

# New inputs go to build/fuzz/corpus; the seeds in tests/fuzz/corpus stay
# as they are, and a crashing input would go to build/fuzz/crash-*.
# -close_fd_mask=1: --help's usage text stays quiet (the harness catches
# the parsers' stderr itself). Arguments longer than 512 bytes teach
# nothing more.
define run_fuzz
	@mkdir -p build/fuzz/corpus
	build/fuzz/fuzz_parse -max_total_time=$(1) -close_fd_mask=1 \
		-max_len=512 -print_final_stats=1 -dict=tests/fuzz/parse.dict \
		-artifact_prefix=build/fuzz/ build/fuzz/corpus tests/fuzz/corpus
	@echo "fuzz: $$(ls build/fuzz/corpus | wc -l) inputs in build/fuzz/corpus, no crash"
endef

fuzz: build/fuzz/fuzz_parse
	$(call run_fuzz,$(FUZZ_TIME))

fuzz-long: build/fuzz/fuzz_parse
	$(call run_fuzz,600)

.PHONY: check-faults check-cmdline check-signals check-handshake check-reliability \
	check-asan check-valgrind fuzz fuzz-long

# `make clean` takes the test tools and instrumented builds too; the fuzz
# corpus in build/fuzz/corpus stays (distclean removes it with build/).
clean: clean-reliability
clean-reliability:
	rm -rf $(TEST_TOOLS) build/asan build/valgrind build/fuzz/fuzz_parse \
		build/fuzz/crash-* build/fuzz/leak-* build/fuzz/timeout-* \
		build/fuzz/oom-*

.PHONY: clean-reliability
