#ifndef MARLISE_CSYSTEMD_SHIM_H
#define MARLISE_CSYSTEMD_SHIM_H
#include <systemd/sd-daemon.h>
/* pidfd_open, beside sd_notify: how a supervised child learns that its supervisor has gone. */
#include <sys/pidfd.h>
#endif
