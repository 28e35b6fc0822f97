// SPDX-License-Identifier: MIT
/* The protocol's tables (protocol.h), defined once for the whole binary
 * and for the test programs that link common/. */
#include "protocol.h"

const struct perf_test perf_tests[PERF_TESTS_N] = {
	PERF_TESTS(PERF_TEST_ROW)
};
