/* AF_VSOCK's address and option numbers. From the kernel's uapi header
 * where the C library's include path has it (glibc builds); the same ABI
 * facts spelled out where it does not (musl-gcc has no kernel headers). */
#ifndef VSOCKBOX_VSOCK_ABI_H
#define VSOCKBOX_VSOCK_ABI_H

#if defined(__has_include) && __has_include(<linux/vm_sockets.h>)
#include <linux/vm_sockets.h>
#else
#include <sys/socket.h>

struct sockaddr_vm {
	sa_family_t svm_family;		/* AF_VSOCK */
	unsigned short svm_reserved1;
	unsigned int svm_port;
	unsigned int svm_cid;
	unsigned char svm_flags;
	unsigned char svm_zero[sizeof(struct sockaddr) - sizeof(sa_family_t) -
			       sizeof(unsigned short) - 2 * sizeof(unsigned int) -
			       sizeof(unsigned char)];
};

/* Socket option level AF_VSOCK; takes a struct timeval. */
#define SO_VM_SOCKETS_CONNECT_TIMEOUT 6
#endif

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

#endif
