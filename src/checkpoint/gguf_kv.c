/* gguf_kv.c — typed look-ups of GGUF metadata (parsed and validated by gguf.c). Values stay in
 * the file: scalars and array elements are decoded on read with byte loads, because they sit at
 * arbitrary (unaligned) offsets. Integer getters accept any integer width as long as the value
 * fits, since writers differ (u32 vs i32 vs u64 for the same key); llama.cpp's own writer
 * uses u32 for counts and f32 for floats. */
#include "checkpoint/gguf.h"

#include <limits.h>

static const char *const TYPE_NAMES[NEMO_GGUF_TYPE_COUNT] = {
    "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64",
};

const char *nemo_gguf_type_name(nemo_gguf_type t) {
    return (unsigned)t < NEMO_GGUF_TYPE_COUNT ? TYPE_NAMES[t] : "?";
}

const nemo_gguf_kv *nemo_gguf_find(const nemo_gguf *g, const char *key) {
    for (int i = 0; i < g->n_kv; i++)
        if (!strcmp(g->kv[i].key, key)) return &g->kv[i];
    return NULL;
}

static uint64_t le(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static int is_int(nemo_gguf_type t) {
    return t == NEMO_GGUF_U8 || t == NEMO_GGUF_I8 || t == NEMO_GGUF_U16 || t == NEMO_GGUF_I16 ||
           t == NEMO_GGUF_U32 || t == NEMO_GGUF_I32 || t == NEMO_GGUF_U64 || t == NEMO_GGUF_I64 ||
           t == NEMO_GGUF_BOOL;
}

/* An integer value at p of type t, as a sign flag and magnitude-preserving pair: *neg is set
 * for negative signed values, *v holds the value (two's complement for negatives). */
static void read_int(const uint8_t *p, nemo_gguf_type t, int *neg, uint64_t *v) {
    switch (t) {
    case NEMO_GGUF_I8: *v = (uint64_t)(int64_t)(int8_t)p[0]; break;
    case NEMO_GGUF_I16: *v = (uint64_t)(int64_t)(int16_t)le(p, 2); break;
    case NEMO_GGUF_I32: *v = (uint64_t)(int64_t)(int32_t)le(p, 4); break;
    case NEMO_GGUF_I64: *v = le(p, 8); break;
    case NEMO_GGUF_U8:
    case NEMO_GGUF_BOOL: *v = p[0]; break;
    case NEMO_GGUF_U16: *v = le(p, 2); break;
    case NEMO_GGUF_U32: *v = le(p, 4); break;
    default: *v = le(p, 8); break;
    }
    *neg = (t == NEMO_GGUF_I8 || t == NEMO_GGUF_I16 || t == NEMO_GGUF_I32 || t == NEMO_GGUF_I64) &&
           (int64_t)*v < 0;
}

static nemo_status lookup(const nemo_gguf *g, const char *key, const nemo_gguf_kv **kv,
                          nemo_error *err) {
    *kv = nemo_gguf_find(g, key);
    if (!*kv) return nemo_fail(err, NEMO_ERR_MISSING, "%s: key '%s' is missing", g->name, key);
    return NEMO_OK;
}

static nemo_status wrong_type(const nemo_gguf *g, const nemo_gguf_kv *kv, const char *want,
                              nemo_error *err) {
    if (kv->type == NEMO_GGUF_ARRAY)
        return nemo_fail(
            err, NEMO_ERR_FORMAT, "%s: offset %llu: key '%s': array of %s, expected %s", g->name,
            (unsigned long long)kv->offset, kv->key, nemo_gguf_type_name(kv->arr.type), want);
    return nemo_fail(err, NEMO_ERR_FORMAT, "%s: offset %llu: key '%s': type %s, expected %s",
                     g->name, (unsigned long long)kv->offset, kv->key,
                     nemo_gguf_type_name(kv->type), want);
}

/* An integer key checked to lie in [lo, hi] (lo <= 0). */
static nemo_status get_int(const nemo_gguf *g, const char *key, int64_t lo, uint64_t hi,
                           uint64_t *out, int *neg_out, nemo_error *err) {
    const nemo_gguf_kv *kv;
    nemo_status st = lookup(g, key, &kv, err);
    if (st) return st;
    if (!is_int(kv->type) || kv->type == NEMO_GGUF_BOOL)
        return wrong_type(g, kv, "an integer", err);
    int neg;
    uint64_t v;
    read_int(kv->val, kv->type, &neg, &v);
    if ((neg && (int64_t)v < lo) || (!neg && v > hi)) {
        if (neg)
            return nemo_fail(err, NEMO_ERR_FORMAT,
                             "%s: offset %llu: key '%s': %lld is out of range", g->name,
                             (unsigned long long)kv->offset, key, (long long)v);
        return nemo_fail(err, NEMO_ERR_FORMAT, "%s: offset %llu: key '%s': %llu is out of range",
                         g->name, (unsigned long long)kv->offset, key, (unsigned long long)v);
    }
    *out = v;
    *neg_out = neg;
    return NEMO_OK;
}

nemo_status nemo_gguf_get_u32(const nemo_gguf *g, const char *key, uint32_t *out, nemo_error *err) {
    uint64_t v;
    int neg;
    nemo_status st = get_int(g, key, 0, UINT32_MAX, &v, &neg, err);
    if (!st) *out = (uint32_t)v;
    return st;
}

nemo_status nemo_gguf_get_i32(const nemo_gguf *g, const char *key, int32_t *out, nemo_error *err) {
    uint64_t v;
    int neg;
    nemo_status st = get_int(g, key, INT32_MIN, INT32_MAX, &v, &neg, err);
    if (!st) *out = (int32_t)(int64_t)v;
    return st;
}

nemo_status nemo_gguf_get_u64(const nemo_gguf *g, const char *key, uint64_t *out, nemo_error *err) {
    int neg;
    return get_int(g, key, 0, UINT64_MAX, out, &neg, err);
}

static double read_float(const uint8_t *p, nemo_gguf_type t) {
    if (t == NEMO_GGUF_F32) {
        uint32_t u = (uint32_t)le(p, 4);
        float f;
        memcpy(&f, &u, 4);
        return f;
    }
    uint64_t u = le(p, 8);
    double d;
    memcpy(&d, &u, 8);
    return d;
}

nemo_status nemo_gguf_get_f32(const nemo_gguf *g, const char *key, float *out, nemo_error *err) {
    const nemo_gguf_kv *kv;
    nemo_status st = lookup(g, key, &kv, err);
    if (st) return st;
    if (kv->type != NEMO_GGUF_F32 && kv->type != NEMO_GGUF_F64)
        return wrong_type(g, kv, "f32", err);
    *out = (float)read_float(kv->val, kv->type);
    return NEMO_OK;
}

nemo_status nemo_gguf_get_bool(const nemo_gguf *g, const char *key, int *out, nemo_error *err) {
    const nemo_gguf_kv *kv;
    nemo_status st = lookup(g, key, &kv, err);
    if (st) return st;
    if (kv->type != NEMO_GGUF_BOOL) return wrong_type(g, kv, "bool", err);
    *out = kv->val[0] != 0;
    return NEMO_OK;
}

nemo_status nemo_gguf_get_str(const nemo_gguf *g, const char *key, const char **s, uint64_t *len,
                              nemo_error *err) {
    const nemo_gguf_kv *kv;
    nemo_status st = lookup(g, key, &kv, err);
    if (st) return st;
    if (kv->type != NEMO_GGUF_STRING) return wrong_type(g, kv, "string", err);
    *s = (const char *)kv->val;
    *len = kv->len;
    return NEMO_OK;
}

static nemo_status get_array(const nemo_gguf *g, const char *key, int (*ok)(nemo_gguf_type),
                             const char *want, nemo_gguf_array *out, nemo_error *err) {
    const nemo_gguf_kv *kv;
    nemo_status st = lookup(g, key, &kv, err);
    if (st) return st;
    if (kv->type != NEMO_GGUF_ARRAY || !ok(kv->arr.type)) return wrong_type(g, kv, want, err);
    *out = kv->arr;
    return NEMO_OK;
}

static int is_str(nemo_gguf_type t) {
    return t == NEMO_GGUF_STRING;
}
static int is_float(nemo_gguf_type t) {
    return t == NEMO_GGUF_F32 || t == NEMO_GGUF_F64;
}

nemo_status nemo_gguf_get_strings(const nemo_gguf *g, const char *key, nemo_gguf_array *out,
                                  nemo_error *err) {
    return get_array(g, key, is_str, "array of string", out, err);
}

nemo_status nemo_gguf_get_ints(const nemo_gguf *g, const char *key, nemo_gguf_array *out,
                               nemo_error *err) {
    return get_array(g, key, is_int, "array of integers", out, err);
}

nemo_status nemo_gguf_get_floats(const nemo_gguf *g, const char *key, nemo_gguf_array *out,
                                 nemo_error *err) {
    return get_array(g, key, is_float, "array of f32", out, err);
}

const char *nemo_gguf_arr_str(const nemo_gguf_array *a, uint64_t i, uint64_t *len) {
    const uint8_t *p = a->data + a->str_off[i];
    *len = le(p, 8);
    return (const char *)p + 8;
}

int64_t nemo_gguf_arr_int(const nemo_gguf_array *a, uint64_t i) {
    static const uint8_t W[NEMO_GGUF_TYPE_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    int neg;
    uint64_t v;
    read_int(a->data + i * W[a->type], a->type, &neg, &v);
    return (int64_t)v;
}

double nemo_gguf_arr_float(const nemo_gguf_array *a, uint64_t i) {
    return read_float(a->data + i * (a->type == NEMO_GGUF_F32 ? 4 : 8), a->type);
}
