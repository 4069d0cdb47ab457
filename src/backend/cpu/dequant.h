/* dequant.h — scalar reference conversion of one row of any weight dtype to f32. These are the
 * oracle for every SIMD kernel and the fallback for dtypes without a fast kernel. */
#ifndef NEMO_DEQUANT_H
#define NEMO_DEQUANT_H

#include "core/core.h"

/* Converts n values of type t (n a multiple of the block size) at src into dst[n].
 * Returns 0, or -1 if t has no float conversion. */
int nemo_dequant_row(nemo_dtype t, const void *src, float *dst, int64_t n);

#endif
