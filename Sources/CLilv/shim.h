#ifndef MARLISE_CLILV_SHIM_H
#define MARLISE_CLILV_SHIM_H
#include <lilv/lilv.h>
#include <lv2/atom/atom.h>
#include <lv2/buf-size/buf-size.h>
#include <lv2/core/lv2.h>
#include <lv2/log/log.h>
#include <lv2/midi/midi.h>
#include <lv2/options/options.h>
#include <lv2/parameters/parameters.h>
#include <lv2/port-props/port-props.h>
#include <lv2/presets/presets.h>
#include <lv2/state/state.h>
#include <lv2/units/units.h>
#include <lv2/urid/urid.h>
#include <lv2/worker/worker.h>
#include <stdarg.h>
#include <stdlib.h>

/// LV2_Log_Log's `printf` is variadic, which Swift can neither call nor implement: this forwarder
/// hands every message to the log's `vprintf`, which the host writes in Swift.
static inline int marlise_log_printf(LV2_Log_Handle handle, LV2_URID type, const char *format, ...) {
    va_list arguments;
    va_start(arguments, format);
    int written = ((LV2_Log_Log *)handle)->vprintf(handle, type, format, arguments);
    va_end(arguments);
    return written;
}

typedef int (*marlise_log_vprintf)(LV2_Log_Handle handle, LV2_URID type, const char *format, va_list arguments);

/// A heap LV2_Log_Log whose handle is itself, so the forwarder can find `vprintf`; free() it.
static inline LV2_Log_Log *marlise_log_new(marlise_log_vprintf vprintf) {
    LV2_Log_Log *log = (LV2_Log_Log *)calloc(1, sizeof(LV2_Log_Log));
    if (log) {
        log->handle = log;
        log->printf = marlise_log_printf;
        log->vprintf = vprintf;
    }
    return log;
}
#endif
