#ifndef MARLISE_CLILV_SHIM_H
#define MARLISE_CLILV_SHIM_H
#include <lilv/lilv.h>
#endif
