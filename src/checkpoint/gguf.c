/* gguf.c — parser and validator of GGUF v2/v3 files (layout in spec 2e and below); the
 * metadata getters live in gguf_kv.c.
 *
 *   "GGUF" | u32 version | i64 n_tensors | i64 n_kv
 *   n_kv ×      { string key | u32 value_type | value }
 *   n_tensors × { string name | u32 n_dims | i64 ne[n_dims] | u32 ggml_type | u64 offset }
 *   padding to the alignment | data section (each tensor at data_start + offset, aligned)
 *
 *   string = u64 length | bytes (no NUL);  array = u32 elem_type | u64 count | elements
 *
 * All numbers are little-endian and unaligned in the file. The file is untrusted: every read
 * is bounds-checked against the remaining bytes, every count is checked against the bytes it
 * needs before anything is allocated for it, and size arithmetic is overflow-checked. */
#include "checkpoint/gguf.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct {
    const uint8_t *p;
    uint64_t size, pos;
    const char *name;
    nemo_error *err;
} reader;

static nemo_status fail_at(reader *r, uint64_t off, nemo_status st, const char *fmt, ...)
    NEMO_PRINTF(4, 5);
static nemo_status fail_at(reader *r, uint64_t off, nemo_status st, const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return nemo_fail(r->err, st, "%s: offset %llu: %s", r->name, (unsigned long long)off, msg);
}

/* Fails unless n more bytes are available; `what` says what was being read. */
static nemo_status need(reader *r, uint64_t n, const char *what, const char *ctx) {
    if (n <= r->size - r->pos) return NEMO_OK;
    return fail_at(r, r->pos, NEMO_ERR_FORMAT,
                   "%s%s%s: needs %llu bytes, only %llu left in the file (truncated?)", ctx,
                   ctx[0] ? ": " : "", what, (unsigned long long)n,
                   (unsigned long long)(r->size - r->pos));
}

static uint64_t le(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static nemo_status rd_u32(reader *r, uint32_t *v, const char *what, const char *ctx) {
    nemo_status st = need(r, 4, what, ctx);
    if (st) return st;
    *v = (uint32_t)le(r->p + r->pos, 4);
    r->pos += 4;
    return NEMO_OK;
}

static nemo_status rd_u64(reader *r, uint64_t *v, const char *what, const char *ctx) {
    nemo_status st = need(r, 8, what, ctx);
    if (st) return st;
    *v = le(r->p + r->pos, 8);
    r->pos += 8;
    return NEMO_OK;
}

/* A string: sets *s to its bytes (borrowed) and *len. */
static nemo_status rd_str(reader *r, const uint8_t **s, uint64_t *len, const char *what,
                          const char *ctx) {
    uint64_t at = r->pos;
    nemo_status st = rd_u64(r, len, what, ctx);
    if (st) return st;
    if (*len > r->size - r->pos)
        return fail_at(r, at, NEMO_ERR_FORMAT,
                       "%s%s%s: string length %llu runs past the end of the file (%llu bytes "
                       "left)",
                       ctx, ctx[0] ? ": " : "", what, (unsigned long long)*len,
                       (unsigned long long)(r->size - r->pos));
    *s = r->p + r->pos;
    r->pos += *len;
    return NEMO_OK;
}

static const uint8_t FIXED_SIZE[NEMO_GGUF_TYPE_COUNT] = {
    [NEMO_GGUF_U8] = 1,  [NEMO_GGUF_I8] = 1,  [NEMO_GGUF_U16] = 2, [NEMO_GGUF_I16] = 2,
    [NEMO_GGUF_U32] = 4, [NEMO_GGUF_I32] = 4, [NEMO_GGUF_F32] = 4, [NEMO_GGUF_BOOL] = 1,
    [NEMO_GGUF_U64] = 8, [NEMO_GGUF_I64] = 8, [NEMO_GGUF_F64] = 8,
};

/* Smallest encoding of one value of type t: what a count must be checked against. */
static uint64_t min_size(nemo_gguf_type t) {
    if (t == NEMO_GGUF_STRING) return 8;
    if (t == NEMO_GGUF_ARRAY) return 12;
    return FIXED_SIZE[t];
}

/* Parses one value of type t at r->pos (already known to be a valid type id). When kv is not
 * NULL the value is recorded there (top level); nested array elements are only validated. */
static nemo_status parse_value(reader *r, nemo_gguf_type t, int depth, nemo_gguf_kv *kv,
                               const char *ctx) {
    nemo_status st;
    if (t == NEMO_GGUF_STRING) {
        const uint8_t *s;
        uint64_t len;
        if ((st = rd_str(r, &s, &len, "string value", ctx))) return st;
        if (kv) {
            kv->val = s;
            kv->len = len;
        }
        return NEMO_OK;
    }
    if (t != NEMO_GGUF_ARRAY) {
        uint64_t at = r->pos;
        if ((st = need(r, FIXED_SIZE[t], nemo_gguf_type_name(t), ctx))) return st;
        if (t == NEMO_GGUF_BOOL && r->p[r->pos] > 1)
            return fail_at(r, at, NEMO_ERR_FORMAT, "%s: bool value %u is neither 0 nor 1", ctx,
                           r->p[r->pos]);
        if (kv) kv->val = r->p + r->pos;
        r->pos += FIXED_SIZE[t];
        return NEMO_OK;
    }
    uint64_t at = r->pos;
    uint32_t et;
    uint64_t count;
    if ((st = rd_u32(r, &et, "array element type", ctx))) return st;
    if (et >= NEMO_GGUF_TYPE_COUNT)
        return fail_at(r, at, NEMO_ERR_FORMAT, "%s: unknown array element type %u", ctx, et);
    if (et == NEMO_GGUF_ARRAY && depth + 1 >= NEMO_GGUF_MAX_DEPTH)
        return fail_at(r, at, NEMO_ERR_FORMAT, "%s: arrays nested deeper than %d", ctx,
                       NEMO_GGUF_MAX_DEPTH);
    if ((st = rd_u64(r, &count, "array count", ctx))) return st;
    uint64_t need_bytes;
    if (nemo_mul_u64(count, min_size((nemo_gguf_type)et), &need_bytes) ||
        need_bytes > r->size - r->pos)
        return fail_at(r, at, NEMO_ERR_FORMAT,
                       "%s: array of %llu %s needs more than the %llu bytes left in the file", ctx,
                       (unsigned long long)count, nemo_gguf_type_name((nemo_gguf_type)et),
                       (unsigned long long)(r->size - r->pos));
    const uint8_t *data = r->p + r->pos;
    uint64_t *offs = NULL;
    if (kv && et == NEMO_GGUF_STRING) {
        /* need_bytes <= file size, so count * 8 fits in size_t on 64-bit hosts */
        offs = malloc(count ? (size_t)count * sizeof *offs : 1);
        if (!offs) return nemo_fail(r->err, NEMO_ERR_NOMEM, "%s: %s: out of memory", r->name, ctx);
        kv->arr.str_off = offs;
    }
    if (et == NEMO_GGUF_STRING || et == NEMO_GGUF_ARRAY) {
        for (uint64_t i = 0; i < count; i++) {
            if (offs) offs[i] = (uint64_t)(r->p + r->pos - data);
            if ((st = parse_value(r, (nemo_gguf_type)et, depth + 1, NULL, ctx))) return st;
        }
    } else {
        if (et == NEMO_GGUF_BOOL)
            for (uint64_t i = 0; i < count; i++)
                if (data[i] > 1)
                    return fail_at(r, r->pos + i, NEMO_ERR_FORMAT,
                                   "%s: bool element %llu is %u, neither 0 nor 1", ctx,
                                   (unsigned long long)i, data[i]);
        r->pos += need_bytes;
    }
    if (kv) {
        kv->arr.type = (nemo_gguf_type)et;
        kv->arr.count = count;
        kv->arr.data = data;
    }
    return NEMO_OK;
}

/* ---- ggml tensor types */
static const char *const GGML_NAMES[] = {
    [0] = "F32",     [1] = "F16",      [2] = "Q4_0",   [3] = "Q4_1",    [6] = "Q5_0",
    [7] = "Q5_1",    [8] = "Q8_0",     [9] = "Q8_1",   [10] = "Q2_K",   [11] = "Q3_K",
    [12] = "Q4_K",   [13] = "Q5_K",    [14] = "Q6_K",  [15] = "Q8_K",   [16] = "IQ2_XXS",
    [17] = "IQ2_XS", [18] = "IQ3_XXS", [19] = "IQ1_S", [20] = "IQ4_NL", [21] = "IQ3_S",
    [22] = "IQ2_S",  [23] = "IQ4_XS",  [24] = "I8",    [25] = "I16",    [26] = "I32",
    [27] = "I64",    [28] = "F64",     [29] = "IQ1_M", [30] = "BF16",   [34] = "TQ1_0",
    [35] = "TQ2_0",  [39] = "MXFP4",   [40] = "NVFP4", [41] = "Q1_0",
};

int nemo_gguf_dtype(uint32_t ggml_type, nemo_dtype *out, const char **name) {
    static const struct {
        uint32_t id;
        nemo_dtype dt;
    } MAP[] = {
        {0, NEMO_DTYPE_F32},   {1, NEMO_DTYPE_F16},   {2, NEMO_DTYPE_Q4_0}, {3, NEMO_DTYPE_Q4_1},
        {6, NEMO_DTYPE_Q5_0},  {7, NEMO_DTYPE_Q5_1},  {8, NEMO_DTYPE_Q8_0}, {12, NEMO_DTYPE_Q4_K},
        {13, NEMO_DTYPE_Q5_K}, {14, NEMO_DTYPE_Q6_K}, {24, NEMO_DTYPE_I8},  {25, NEMO_DTYPE_I16},
        {26, NEMO_DTYPE_I32},  {27, NEMO_DTYPE_I64},  {28, NEMO_DTYPE_F64}, {30, NEMO_DTYPE_BF16},
    };
    if (name)
        *name = ggml_type < sizeof GGML_NAMES / sizeof GGML_NAMES[0] ? GGML_NAMES[ggml_type] : NULL;
    for (size_t i = 0; i < sizeof MAP / sizeof MAP[0]; i++) {
        if (MAP[i].id == ggml_type) {
            *out = MAP[i].dt;
            return 0;
        }
    }
    return -1;
}

/* ---- the whole file */
typedef struct {
    const char *s;
    uint64_t a, b; /* sort key (tensors: data offset, end) */
    uint64_t at;   /* file offset for messages */
    int idx;
} sort_item;

static int cmp_name(const void *x, const void *y) {
    const sort_item *a = x, *b = y;
    int c = strcmp(a->s, b->s);
    return c ? c : (a->at < b->at ? -1 : a->at > b->at);
}

static int cmp_range(const void *x, const void *y) {
    const sort_item *a = x, *b = y;
    if (a->a != b->a) return a->a < b->a ? -1 : 1;
    if (a->b != b->b) return a->b < b->b ? -1 : 1;
    return a->idx - b->idx;
}

static nemo_status parse_kvs(reader *r, nemo_gguf *g, uint64_t n_kv) {
    nemo_status st;
    g->kv = calloc(n_kv ? (size_t)n_kv : 1, sizeof *g->kv);
    if (!g->kv) return nemo_fail(r->err, NEMO_ERR_NOMEM, "%s: out of memory", r->name);
    for (uint64_t i = 0; i < n_kv; i++) {
        char ctx[300];
        snprintf(ctx, sizeof ctx, "key/value %llu", (unsigned long long)i);
        uint64_t at = r->pos;
        const uint8_t *ks;
        uint64_t klen;
        if ((st = rd_str(r, &ks, &klen, "key", ctx))) return st;
        if (klen == 0 || memchr(ks, 0, klen))
            return fail_at(r, at, NEMO_ERR_FORMAT, "%s: key is empty or holds a NUL byte", ctx);
        nemo_gguf_kv *kv = &g->kv[g->n_kv];
        kv->key = malloc(klen + 1);
        if (!kv->key) return nemo_fail(r->err, NEMO_ERR_NOMEM, "%s: out of memory", r->name);
        memcpy(kv->key, ks, klen);
        kv->key[klen] = 0;
        g->n_kv++;
        uint32_t t;
        uint64_t tat = r->pos;
        snprintf(ctx, sizeof ctx, "key '%.200s'", kv->key);
        if ((st = rd_u32(r, &t, "value type", ctx))) return st;
        if (t >= NEMO_GGUF_TYPE_COUNT)
            return fail_at(r, tat, NEMO_ERR_FORMAT, "key '%s': unknown value type %u", kv->key, t);
        kv->type = (nemo_gguf_type)t;
        kv->offset = r->pos;
        if ((st = parse_value(r, kv->type, 0, kv, ctx))) return st;
    }
    /* unique keys */
    if (n_kv > 1) {
        sort_item *s = malloc((size_t)n_kv * sizeof *s);
        if (!s) return nemo_fail(r->err, NEMO_ERR_NOMEM, "%s: out of memory", r->name);
        for (int i = 0; i < g->n_kv; i++)
            s[i] = (sort_item){g->kv[i].key, 0, 0, g->kv[i].offset, i};
        qsort(s, (size_t)n_kv, sizeof *s, cmp_name);
        for (uint64_t i = 1; i < n_kv; i++) {
            if (!strcmp(s[i].s, s[i - 1].s)) {
                st = fail_at(r, s[i].at, NEMO_ERR_FORMAT, "key '%s' appears twice", s[i].s);
                free(s);
                return st;
            }
        }
        free(s);
    }
    return NEMO_OK;
}

static nemo_status read_alignment(reader *r, nemo_gguf *g) {
    g->alignment = NEMO_GGUF_DEFAULT_ALIGNMENT;
    for (int i = 0; i < g->n_kv; i++) {
        const nemo_gguf_kv *kv = &g->kv[i];
        if (strcmp(kv->key, "general.alignment")) continue;
        if (kv->type != NEMO_GGUF_U32)
            return fail_at(r, kv->offset, NEMO_ERR_FORMAT,
                           "key 'general.alignment': type %s, expected u32",
                           nemo_gguf_type_name(kv->type));
        uint32_t a = (uint32_t)le(kv->val, 4);
        if (a == 0 || (a & (a - 1)))
            return fail_at(r, kv->offset, NEMO_ERR_FORMAT,
                           "key 'general.alignment': %u is not a power of two", a);
        g->alignment = a;
    }
    return NEMO_OK;
}

typedef struct {
    uint64_t info_at, offset;
} tinfo;

static nemo_status parse_tensor_info(reader *r, nemo_gguf *g, uint64_t i, int file, tinfo *ti) {
    nemo_status st;
    char ctx[128], name[NEMO_GGUF_MAX_NAME];
    snprintf(ctx, sizeof ctx, "tensor info %llu", (unsigned long long)i);
    uint64_t at = r->pos;
    const uint8_t *ns;
    uint64_t nlen;
    if ((st = rd_str(r, &ns, &nlen, "name", ctx))) return st;
    if (nlen == 0 || nlen >= NEMO_GGUF_MAX_NAME || memchr(ns, 0, nlen))
        return fail_at(r, at, NEMO_ERR_FORMAT,
                       "%s: name of %llu bytes (must be 1..%d bytes without NUL)", ctx,
                       (unsigned long long)nlen, NEMO_GGUF_MAX_NAME - 1);
    memcpy(name, ns, nlen);
    name[nlen] = 0;
    snprintf(ctx, sizeof ctx, "tensor '%s'", name);
    ti->info_at = at;
    uint32_t nd;
    uint64_t dat = r->pos;
    if ((st = rd_u32(r, &nd, "n_dims", ctx))) return st;
    if (nd > NEMO_GGUF_MAX_DIMS)
        return fail_at(r, dat, NEMO_ERR_FORMAT, "%s: %u dimensions (at most %d)", ctx, nd,
                       NEMO_GGUF_MAX_DIMS);
    uint64_t ne[NEMO_GGUF_MAX_DIMS], n = 1;
    for (uint32_t d = 0; d < nd; d++) {
        uint64_t v, eat = r->pos;
        if ((st = rd_u64(r, &v, "dimension", ctx))) return st;
        if (v > (uint64_t)INT64_MAX || nemo_mul_u64(n, v, &n) || n > (uint64_t)INT64_MAX)
            return fail_at(r, eat, NEMO_ERR_FORMAT,
                           "%s: dimension %u = %lld makes the element count negative or "
                           "overflow",
                           ctx, d, (long long)v);
        ne[d] = v;
    }
    uint32_t type;
    uint64_t tat = r->pos;
    if ((st = rd_u32(r, &type, "type", ctx))) return st;
    nemo_dtype dt;
    const char *tname;
    if (nemo_gguf_dtype(type, &dt, &tname) != 0) {
        if (tname)
            return fail_at(r, tat, NEMO_ERR_UNSUPPORTED, "%s: ggml type %u (%s) is not supported",
                           ctx, type, tname);
        return fail_at(r, tat, NEMO_ERR_FORMAT, "%s: unknown ggml type %u", ctx, type);
    }
    const nemo_dtype_traits *tr = nemo_dtype_info(dt);
    if (nd > 0 && ne[0] % tr->block_elems)
        return fail_at(r, tat, NEMO_ERR_FORMAT,
                       "%s: first dimension %llu is not a multiple of the %s block size %u", ctx,
                       (unsigned long long)ne[0], tr->name, tr->block_elems);
    if (nd == 0 && tr->block_elems != 1)
        return fail_at(r, tat, NEMO_ERR_FORMAT, "%s: a scalar cannot be of block type %s", ctx,
                       tr->name);
    uint64_t oat = r->pos;
    if ((st = rd_u64(r, &ti->offset, "data offset", ctx))) return st;
    if (ti->offset % g->alignment)
        return fail_at(r, oat, NEMO_ERR_FORMAT,
                       "%s: data offset %llu is not a multiple of the alignment %u", ctx,
                       (unsigned long long)ti->offset, g->alignment);
    uint64_t nbytes;
    if (nemo_mul_u64(n / tr->block_elems, tr->block_bytes, &nbytes))
        return fail_at(r, tat, NEMO_ERR_FORMAT, "%s: byte size overflows", ctx);
    nemo_tensor_entry *e = nemo_tdir_add(&g->dir, name);
    if (!e) return nemo_fail(r->err, NEMO_ERR_NOMEM, "%s: out of memory", r->name);
    e->dtype = dt;
    e->ndim = (int)nd;
    for (uint32_t d = 0; d < nd; d++) e->shape[d] = ne[nd - 1 - d];
    e->n_elems = n;
    e->nbytes = nbytes;
    e->file = file;
    return NEMO_OK;
}

static nemo_status parse_tensors(reader *r, nemo_gguf *g, uint64_t n_t, int file) {
    nemo_status st = NEMO_OK;
    tinfo *ti = calloc(n_t ? (size_t)n_t : 1, sizeof *ti);
    sort_item *s = calloc(n_t ? (size_t)n_t : 1, sizeof *s);
    if (!ti || !s) {
        st = nemo_fail(r->err, NEMO_ERR_NOMEM, "%s: out of memory", r->name);
        goto done;
    }
    for (uint64_t i = 0; i < n_t; i++)
        if ((st = parse_tensor_info(r, g, i, file, &ti[i]))) goto done;
    /* the data section starts at the next multiple of the alignment */
    uint64_t pad = (g->alignment - r->pos % g->alignment) % g->alignment;
    g->data_start = r->pos + pad; /* pos <= size, pad < 2^32: no overflow */
    if (n_t > 0 && g->data_start > r->size) {
        st = fail_at(r, r->pos, NEMO_ERR_FORMAT,
                     "data section would start at %llu, past the end of the file (%llu bytes)",
                     (unsigned long long)g->data_start, (unsigned long long)r->size);
        goto done;
    }
    uint64_t avail = n_t > 0 ? r->size - g->data_start : 0;
    for (uint64_t i = 0; i < n_t; i++) {
        nemo_tensor_entry *e = &g->dir.entries[i];
        uint64_t end;
        if (nemo_add_u64(ti[i].offset, e->nbytes, &end) || end > avail) {
            st = fail_at(r, ti[i].info_at, NEMO_ERR_FORMAT,
                         "tensor '%s': data [%llu, +%llu) (%s %s) runs past the data section "
                         "(%llu bytes)",
                         e->name, (unsigned long long)ti[i].offset, (unsigned long long)e->nbytes,
                         nemo_dtype_name(e->dtype), e->ndim ? "tensor" : "scalar",
                         (unsigned long long)avail);
            goto done;
        }
        e->file_offset = g->data_start + ti[i].offset;
        e->data = r->p + e->file_offset;
        s[i] = (sort_item){e->name, ti[i].offset, end, ti[i].info_at, (int)i};
    }
    /* unique names */
    qsort(s, (size_t)n_t, sizeof *s, cmp_name);
    for (uint64_t i = 1; i < n_t; i++) {
        if (!strcmp(s[i].s, s[i - 1].s)) {
            st = fail_at(r, s[i].at, NEMO_ERR_FORMAT, "tensor '%s' appears twice", s[i].s);
            goto done;
        }
    }
    /* no two tensors share bytes (zero-size tensors hold none) */
    qsort(s, (size_t)n_t, sizeof *s, cmp_range);
    uint64_t max_end = 0;
    const char *max_name = NULL;
    for (uint64_t i = 0; i < n_t; i++) {
        if (s[i].a == s[i].b) continue;
        if (max_name && s[i].a < max_end) {
            st = fail_at(r, s[i].at, NEMO_ERR_FORMAT,
                         "tensor '%s': data [%llu, %llu) overlaps tensor '%s' (ends at %llu)",
                         s[i].s, (unsigned long long)s[i].a, (unsigned long long)s[i].b, max_name,
                         (unsigned long long)max_end);
            goto done;
        }
        if (s[i].b > max_end) {
            max_end = s[i].b;
            max_name = s[i].s;
        }
    }
done:
    free(ti);
    free(s);
    return st;
}

static nemo_status parse(nemo_gguf *g, int file, nemo_error *err) {
    reader rd = {g->base, g->size, 0, g->name, err}, *r = &rd;
    nemo_status st;
    if (r->size < 4 || memcmp(r->p, "GGUF", 4) != 0) {
        if (r->size < 4)
            return fail_at(r, 0, NEMO_ERR_FORMAT, "truncated header: file of %llu bytes",
                           (unsigned long long)r->size);
        return fail_at(r, 0, NEMO_ERR_FORMAT,
                       "not a GGUF file (magic %02x %02x %02x %02x, expected \"GGUF\")", r->p[0],
                       r->p[1], r->p[2], r->p[3]);
    }
    r->pos = 4;
    if ((st = rd_u32(r, &g->version, "version", "header"))) return st;
    if (g->version == 1)
        return fail_at(r, 4, NEMO_ERR_UNSUPPORTED,
                       "GGUF version 1 (32-bit counts) is not supported; re-convert the model");
    if (g->version != 2 && g->version != 3) {
        if ((g->version & 0xffff) == 0)
            return fail_at(r, 4, NEMO_ERR_UNSUPPORTED,
                           "version %u looks byte-swapped: big-endian GGUF is not supported",
                           g->version);
        return fail_at(r, 4, NEMO_ERR_FORMAT, "unsupported GGUF version %u (expected 2 or 3)",
                       g->version);
    }
    uint64_t n_t, n_kv, need_b, need_kv;
    if ((st = rd_u64(r, &n_t, "tensor count", "header"))) return st;
    if ((st = rd_u64(r, &n_kv, "key/value count", "header"))) return st;
    /* a tensor info takes at least 25 bytes and a key/value at least 13: reject counts the file
     * cannot hold before allocating anything for them */
    if (nemo_mul_u64(n_t, 25, &need_b) || nemo_mul_u64(n_kv, 13, &need_kv) ||
        nemo_add_u64(need_b, need_kv, &need_b) || need_b > r->size - r->pos || n_t > INT32_MAX ||
        n_kv > INT32_MAX)
        return fail_at(r, 8, NEMO_ERR_FORMAT,
                       "header: %lld tensors and %lld key/values cannot fit in the %llu bytes "
                       "left",
                       (long long)n_t, (long long)n_kv, (unsigned long long)(r->size - r->pos));
    if ((st = parse_kvs(r, g, n_kv))) return st;
    if ((st = read_alignment(r, g))) return st;
    return parse_tensors(r, g, n_t, file);
}

static nemo_status open_common(nemo_gguf *g, int file, nemo_gguf **out, nemo_error *err) {
    nemo_status st = parse(g, file, err);
    if (st) {
        nemo_gguf_free(g);
        return st;
    }
    *out = g;
    return NEMO_OK;
}

nemo_status nemo_gguf_open_bytes(const uint8_t *data, size_t size, const char *name,
                                 nemo_gguf **out, nemo_error *err) {
    *out = NULL;
    nemo_gguf *g = calloc(1, sizeof *g);
    if (!g || !(g->name = strdup(name ? name : "<bytes>"))) {
        free(g);
        return nemo_fail(err, NEMO_ERR_NOMEM, "%s: out of memory", name ? name : "<bytes>");
    }
    g->base = data;
    g->size = data ? size : 0;
    return open_common(g, -1, out, err);
}

nemo_status nemo_gguf_open(const char *path, nemo_gguf **out, nemo_error *err) {
    *out = NULL;
    nemo_gguf *g = calloc(1, sizeof *g);
    if (!g || !(g->name = strdup(nemo_basename(path)))) {
        free(g);
        return nemo_fail(err, NEMO_ERR_NOMEM, "%s: out of memory", path);
    }
    nemo_map m;
    nemo_status st = nemo_map_open(path, &m, err);
    if (st) {
        nemo_gguf_free(g);
        return st;
    }
    if (nemo_tdir_add_file(&g->dir, path, &m) != 0) {
        nemo_map_close(&m);
        nemo_gguf_free(g);
        return nemo_fail(err, NEMO_ERR_NOMEM, "%s: out of memory", path);
    }
    g->base = g->dir.maps[0].data;
    g->size = g->dir.maps[0].size;
    return open_common(g, 0, out, err);
}

void nemo_gguf_free(nemo_gguf *g) {
    if (!g) return;
    for (int i = 0; i < g->n_kv; i++) {
        free(g->kv[i].key);
        free((void *)g->kv[i].arr.str_off);
    }
    free(g->kv);
    free(g->name);
    nemo_tdir_free(&g->dir);
    free(g);
}
