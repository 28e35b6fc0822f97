// SPDX-License-Identifier: MIT
/*
 * qemu-exit PORT STATUS: stop a QEMU x86 machine with an exit status, by
 * writing the byte STATUS to the I/O port of its isa-debug-exit device
 * (-device isa-debug-exit,iobase=PORT,iosize=0x04): QEMU then exits with
 * 2 * STATUS + 1. For kernels without /dev/port. Exits 1 if the write did
 * not stop the machine (no such device), 2 on a usage error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>

static unsigned long number(const char *s, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || v > max) {
		fprintf(stderr, "qemu-exit: bad number '%s' (at most %lu)\n", s, max);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	unsigned long port, status;

	if (argc != 3) {
		fprintf(stderr, "usage: qemu-exit PORT STATUS\n");
		return 2;
	}
	port = number(argv[1], 0xffff);
	status = number(argv[2], 0xff);
	if (ioperm(port, 1, 1) < 0) {
		fprintf(stderr, "qemu-exit: ioperm 0x%lx: %s\n", port, strerror(errno));
		return 1;
	}
	outb((unsigned char)status, port);
	fprintf(stderr, "qemu-exit: port 0x%lx did not stop the machine\n", port);
	return 1;
}
