/* SPDX-License-Identifier: MIT */
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
/* Level AF_VSOCK, u64 values: the socket's buffer and its upper bound. */
#ifndef SO_VM_SOCKETS_BUFFER_SIZE
#define SO_VM_SOCKETS_BUFFER_SIZE 0
#endif
#ifndef SO_VM_SOCKETS_BUFFER_MIN_SIZE
#define SO_VM_SOCKETS_BUFFER_MIN_SIZE 1
#endif
#ifndef SO_VM_SOCKETS_BUFFER_MAX_SIZE
#define SO_VM_SOCKETS_BUFFER_MAX_SIZE 2
#endif
/* The port bind picks (VMADDR_PORT_ANY), and the ioctl on /dev/vsock that
 * answers the machine's own CID (type 7, number 0xb9, no argument size). */
#ifndef VMADDR_PORT_ANY
#define VMADDR_PORT_ANY 0xffffffffu
#endif
#ifndef IOCTL_VM_SOCKETS_GET_LOCAL_CID
#include <sys/ioctl.h>
#define IOCTL_VM_SOCKETS_GET_LOCAL_CID _IO(7, 0xb9)
#endif

/* The bytes a socket has queued to read and not yet sent: Linux's
 * SIOCINQ and SIOCOUTQ (linux/sockios.h) are the terminal ioctls' numbers,
 * which the C library has where the kernel's headers are missing (musl). */
#include <sys/ioctl.h>
#ifndef SIOCINQ
#define SIOCINQ FIONREAD
#endif
#ifndef SIOCOUTQ
#define SIOCOUTQ TIOCOUTQ
#endif

/* MSG_ZEROCOPY (Linux 4.14 for TCP, 6.7 for vsock): SO_ZEROCOPY turns it
 * on, and the kernel reports on the error queue when it is done with the
 * pages of a range of sends (struct sock_extended_err, origin 5). */
#ifndef SO_ZEROCOPY
#define SO_ZEROCOPY 60
#endif
#ifndef MSG_ZEROCOPY
#define MSG_ZEROCOPY 0x4000000
#endif
enum { ZEROCOPY_ORIGIN = 5 };	/* SO_EE_ORIGIN_ZEROCOPY */
struct zerocopy_notice {	/* the layout of struct sock_extended_err */
	unsigned int ee_errno;
	unsigned char ee_origin, ee_type, ee_code, ee_pad;
	unsigned int ee_info;	/* first send of the range */
	unsigned int ee_data;	/* last send of the range */
};

#endif
