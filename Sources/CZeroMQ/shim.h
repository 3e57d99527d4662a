#ifndef MARLISE_CZEROMQ_SHIM_H
#define MARLISE_CZEROMQ_SHIM_H
#include <zmq.h>
/* eventfd is the wake-up descriptor zmq_poll watches beside the sockets; Glibc's Swift module lacks it. */
#include <sys/eventfd.h>
#endif
