#ifndef MARLISE_CZLIB_SHIM_H
#define MARLISE_CZLIB_SHIM_H
#include <zlib.h>

/// zlib's init calls are macros that pass the library's version and stream size; Swift cannot
/// call a macro, so these forward them. windowBits 31 writes gzip; 47 reads gzip or zlib.
static inline int marlise_deflate_init_gzip(z_stream *stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY);
}

static inline int marlise_inflate_init_gzip(z_stream *stream) {
    return inflateInit2(stream, 47);
}
#endif
