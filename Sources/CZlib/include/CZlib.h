#ifndef GRIDSYNC_CZLIB_H
#define GRIDSYNC_CZLIB_H

// The system zlib, with its init macros as functions Swift can call.
#include <zlib.h>

static inline int gridsync_deflateInit2(z_streamp strm, int level, int windowBits, int memLevel) {
    return deflateInit2(strm, level, Z_DEFLATED, windowBits, memLevel, Z_DEFAULT_STRATEGY);
}

static inline int gridsync_inflateInit2(z_streamp strm, int windowBits) {
    return inflateInit2(strm, windowBits);
}

#endif
