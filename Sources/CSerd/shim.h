#ifndef MARLISE_CSERD_SHIM_H
#define MARLISE_CSERD_SHIM_H
#include <serd/serd.h>
#endif
