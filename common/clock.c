// SPDX-License-Identifier: MIT
/* The monotonic clock and the deadlines every blocking step runs by. */
#include "vsockbox.h"

#include <limits.h>
#include <time.h>

uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct deadline deadline_after_ms(uint64_t ms)
{
	return (struct deadline){now_ns() + ms * 1000000u};
}

struct deadline step_deadline(uint64_t timeout_s)
{
	return deadline_after_ms(timeout_s * 1000u);
}

uint64_t deadline_left_ns(struct deadline d)
{
	uint64_t now = now_ns();
	return d.at_ns > now ? d.at_ns - now : 0;
}

int deadline_left_ms(struct deadline d)
{
	if (d.at_ns == UINT64_MAX)
		return -1;
	uint64_t ms = (deadline_left_ns(d) + 999999) / 1000000;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}
