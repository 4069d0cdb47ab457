/* error.c — filling nemo_error: the library reports, the front ends print. */
#include "core/core.h"

#include <stdio.h>

nemo_status nemo_fail(nemo_error *err, nemo_status st, const char *fmt, ...) {
    if (err) {
        err->status = st;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return st;
}

nemo_status nemo_fail_prefix(nemo_error *err, const char *fmt, ...) {
    if (!err) return NEMO_ERR_ARG;
    char prefix[512], old[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    size_t pl = strlen(prefix);
    if (pl > sizeof err->msg - 3) pl = sizeof err->msg - 3;
    memcpy(err->msg, prefix, pl);
    memcpy(err->msg + pl, ": ", 2);
    size_t room = sizeof err->msg - pl - 3;
    size_t ol = strnlen(old, sizeof old - 1);
    if (ol > room) ol = room;
    memcpy(err->msg + pl + 2, old, ol);
    err->msg[pl + 2 + ol] = 0;
    return err->status;
}

const char *nemo_status_name(nemo_status s) {
    switch (s) {
    case NEMO_OK: return "ok";
    case NEMO_ERR_IO: return "I/O error";
    case NEMO_ERR_FORMAT: return "format error";
    case NEMO_ERR_CONFIG: return "configuration error";
    case NEMO_ERR_MISSING: return "missing";
    case NEMO_ERR_SHAPE: return "shape error";
    case NEMO_ERR_NOMEM: return "out of memory";
    case NEMO_ERR_ARG: return "invalid argument";
    case NEMO_ERR_UNSUPPORTED: return "unsupported";
    case NEMO_ERR_FULL: return "capacity exhausted";
    }
    return "unknown status";
}
