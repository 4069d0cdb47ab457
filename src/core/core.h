/* core.h — internal helpers shared by every module: error filling, number formats, file
 * mapping. Not part of the public API (tests may include it). */
#ifndef NEMO_CORE_H
#define NEMO_CORE_H

#include "nemo.h"

#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__)
#define NEMO_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define NEMO_PRINTF(a, b)
#endif

/* Fills err (if not NULL) and returns st, so call sites read `return nemo_fail(err, ...)`. */
nemo_status nemo_fail(nemo_error *err, nemo_status st, const char *fmt, ...) NEMO_PRINTF(3, 4);
/* Prepends "prefix: " to an error message already in err. Returns err->status. */
nemo_status nemo_fail_prefix(nemo_error *err, const char *fmt, ...) NEMO_PRINTF(2, 3);

/* ---- number formats */
static inline float nemo_bf16_to_f32(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static inline uint16_t nemo_f32_to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40); /* quiet NaN */
    u += 0x7fffu + ((u >> 16) & 1u); /* round to nearest even */
    return (uint16_t)(u >> 16);
}
float nemo_f16_to_f32(uint16_t h);
uint16_t nemo_f32_to_f16(float f);
float nemo_fp8_e4m3_to_f32(uint8_t v);
/* f32 -> FP8 E4M3FN, round to nearest even, saturating to +-448 (as AutoFP8 clamps before its
 * cast); NaN -> 0x7F with the sign. */
uint8_t nemo_f32_to_fp8_e4m3(float f);
float nemo_fp8_e5m2_to_f32(uint8_t v);

/* ---- dtype table: one row per element type */
typedef struct nemo_dtype_traits {
    const char *name;
    uint32_t block_elems; /* values per block (1 for plain types) */
    uint32_t block_bytes; /* bytes per block */
    int is_float;         /* usable as weights by the float kernels */
} nemo_dtype_traits;
const nemo_dtype_traits *nemo_dtype_info(nemo_dtype t);

/* ---- files */
typedef struct nemo_map {
    const uint8_t *data; /* read-only mapping of the whole file (NULL when size == 0) */
    uint64_t size;
} nemo_map;
nemo_status nemo_map_open(const char *path, nemo_map *out, nemo_error *err);
void nemo_map_close(nemo_map *m);
/* Moves a large mapping (>= 32 MiB, opened by nemo_map_open) into anonymous memory backed by
 * transparent huge pages, at the same address and read-only: streaming the weights then costs
 * one TLB entry per 2 MiB instead of per 4 KiB page (decode reads them at a higher rate). A copy
 * that would leave little memory available, NEMO_MMAP=1 or any failure keeps the file mapping.
 * progress (optional) gets the bytes copied so far. Returns 1 when moved, else 0. */
int nemo_map_resident(nemo_map *m, void (*progress)(uint64_t done, void *user), void *user);
/* Reads a whole (small) file into a NUL-terminated malloc'd buffer owned by the caller. */
nemo_status nemo_read_file(const char *path, uint64_t max_bytes, char **out, uint64_t *len,
                           nemo_error *err);
int nemo_file_exists(const char *path);
/* Joins dir and name with one '/' into out (cap bytes). Returns 0, or -1 if it does not fit. */
int nemo_path_join(char *out, size_t cap, const char *dir, const char *name);
/* Last path component (borrowed from path). */
const char *nemo_basename(const char *path);

/* ---- checked arithmetic for sizes read from untrusted files */
static inline int nemo_mul_u64(uint64_t a, uint64_t b, uint64_t *out) {
    return __builtin_mul_overflow(a, b, out) ? -1 : 0;
}
static inline int nemo_add_u64(uint64_t a, uint64_t b, uint64_t *out) {
    return __builtin_add_overflow(a, b, out) ? -1 : 0;
}

#endif
