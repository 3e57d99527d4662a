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

/// pipe2(2): a pipe with O_CLOEXEC (and O_NONBLOCK) set from the start, which glibc declares only
/// under _GNU_SOURCE.
#include <unistd.h>
int pipe2(int fds[2], int flags);

/// Control messages (cmsg(3)) and the sender's credentials on a Unix socket with SO_PASSCRED. The
/// CMSG_* macros do not reach Swift, and SCM_CREDENTIALS and struct ucred exist in glibc only under
/// _GNU_SOURCE; the value and layout are the kernel's ABI (linux/socket.h).
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#ifndef SCM_CREDENTIALS
#define SCM_CREDENTIALS 0x02
#endif
static const int MARLISE_SCM_CREDENTIALS = SCM_CREDENTIALS;

/// struct ucred: who sent a message, as the kernel saw it.
struct marlise_ucred {
    pid_t pid;
    uid_t uid;
    gid_t gid;
};

/// Room for one control message carrying credentials, padding included.
static const size_t MARLISE_CREDENTIALS_SPACE = CMSG_SPACE(sizeof(struct marlise_ucred));

static inline struct cmsghdr *marlise_cmsg_firsthdr(struct msghdr *message) { return CMSG_FIRSTHDR(message); }
static inline struct cmsghdr *marlise_cmsg_nxthdr(struct msghdr *message, struct cmsghdr *header) {
    return CMSG_NXTHDR(message, header);
}
static inline unsigned char *marlise_cmsg_data(struct cmsghdr *header) { return CMSG_DATA(header); }
static inline size_t marlise_cmsg_len(size_t length) { return CMSG_LEN(length); }
static inline size_t marlise_cmsg_space(size_t length) { return CMSG_SPACE(length); }

/// The credentials in a received message's control data; 0 when it carries none.
static inline int marlise_received_credentials(struct msghdr *message, struct marlise_ucred *credentials) {
    for (struct cmsghdr *header = CMSG_FIRSTHDR(message); header != NULL; header = CMSG_NXTHDR(message, header)) {
        if (header->cmsg_level == SOL_SOCKET && header->cmsg_type == SCM_CREDENTIALS
            && header->cmsg_len >= CMSG_LEN(sizeof *credentials)) {
            memcpy(credentials, CMSG_DATA(header), sizeof *credentials);
            return 1;
        }
    }
    return 0;
}

/// Puts `credentials` as the one control message into `message`, whose msg_control has at least
/// MARLISE_CREDENTIALS_SPACE bytes (the kernel checks them against the sender's own).
static inline void marlise_attach_credentials(struct msghdr *message, const struct marlise_ucred *credentials) {
    message->msg_controllen = CMSG_SPACE(sizeof *credentials);
    struct cmsghdr *header = CMSG_FIRSTHDR(message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_CREDENTIALS;
    header->cmsg_len = CMSG_LEN(sizeof *credentials);
    memcpy(CMSG_DATA(header), credentials, sizeof *credentials);
}
#endif
