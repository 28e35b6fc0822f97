/* Data the protocol defines byte for byte. */
#include "vsockbox.h"

#include <string.h>

void warmup_packet(unsigned i, unsigned char *buf, size_t len)
{
	char unit[WARMUP_UNIT + 1];

	/* "DAVID" + three digits: exactly WARMUP_UNIT bytes for i < 1000. */
	format(unit, sizeof(unit), WARMUP_TAG "%03u", i % 1000);
	for (size_t off = 0; off < len; off += WARMUP_UNIT) {
		size_t n = len - off < WARMUP_UNIT ? len - off : WARMUP_UNIT;
		memcpy(buf + off, unit, n);
	}
}

size_t find_not_byte(const unsigned char *buf, size_t len, unsigned char value)
{
	size_t i = 0;
	for (; i < len; i++)
		if (buf[i] != value)
			break;
	return i;
}
