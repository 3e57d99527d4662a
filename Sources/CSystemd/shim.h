#ifndef MARLISE_CSYSTEMD_SHIM_H
#define MARLISE_CSYSTEMD_SHIM_H
#include <systemd/sd-daemon.h>
#endif
