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

/* vsock-conform's data: byte i of a seed's stream, a mix of i / 4 and the
 * seed (a byte out of place or from another offset shows). */
uint8_t seeded_byte(uint32_t seed, uint64_t i)
{
	uint32_t x = (uint32_t)(i >> 2) * 2654435761u ^ seed;
	x ^= x >> 15;
	x *= 2246822519u;
	x ^= x >> 13;
	return (uint8_t)(x >> (8 * (i & 3)));
}

void seeded_fill(uint32_t seed, uint64_t from, unsigned char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = seeded_byte(seed, from + i);
}

size_t seeded_check(uint32_t seed, uint64_t from, const unsigned char *buf,
		    size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != seeded_byte(seed, from + i))
			return i;
	return len;
}
