#ifndef MARLISE_CLINUX_SHIM_H
#define MARLISE_CLINUX_SHIM_H
#include <fcntl.h>
#include <stdio.h>

/// Linux calls glibc declares only under _GNU_SOURCE, which Swift's Glibc module is built without.
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags);
#endif

/// fcntl's command to resize a pipe. glibc's <fcntl.h> defines it only under _GNU_SOURCE, which
/// Swift's Glibc module is built without; the value is the kernel's ABI (F_LINUX_SPECIFIC_BASE + 7).
#ifdef F_SETPIPE_SZ
static const int MARLISE_F_SETPIPE_SZ = F_SETPIPE_SZ;
#else
static const int MARLISE_F_SETPIPE_SZ = 1031;
#endif

/// Swaps two paths in one step (both must exist): a reader sees the old folder or the new one.
static inline int marlise_exchange(const char *first, const char *second) {
    return renameat2(AT_FDCWD, first, AT_FDCWD, second, RENAME_EXCHANGE);
}

/// poll(2)'s "the peer closed its writing side", which glibc declares only under _GNU_SOURCE; the
/// value is the kernel's own (asm-generic/poll.h).
#include <poll.h>
#ifndef POLLRDHUP
#define POLLRDHUP 0x2000
#endif
static const short MARLISE_POLLRDHUP = POLLRDHUP;
#endif
