/* gguf_write.c — the streaming GGUF v3 writer (see gguf_write.h). The metadata is serialized
 * into one growing byte buffer as it is added; tensor offsets are assigned at declaration
 * (each tensor's data padded to the alignment, 32 = ggml's default, so general.alignment is
 * not written). */
#include "checkpoint/gguf_write.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#define ALIGN 32

typedef struct {
    char *name;
    uint32_t ggml_type;
    int ndim;
    uint64_t ne[4]; /* ggml order: fastest first */
    uint64_t nbytes, offset;
} wtensor;

struct nemo_gguf_writer {
    uint8_t *kv; /* serialized key/values */
    size_t kv_len, kv_cap;
    uint64_t n_kv;
    wtensor *t;
    int n_t, cap_t;
    uint64_t data_size; /* sum of padded tensor sizes */
    nemo_status bad;    /* sticky error of the adders */
    char bad_msg[256];
    FILE *f;
    char *path;
    int cur;           /* tensor being written */
    uint64_t cur_done; /* its bytes so far */
};

int nemo_gguf_ggml_type(nemo_dtype t, uint32_t *out) {
    for (uint32_t id = 0; id < 64; id++) {
        nemo_dtype d;
        if (nemo_gguf_dtype(id, &d, NULL) == 0 && d == t) {
            *out = id;
            return 0;
        }
    }
    return -1;
}

static void set_bad(nemo_gguf_writer *w, nemo_status st, const char *msg, const char *key) {
    if (w->bad) return;
    w->bad = st;
    snprintf(w->bad_msg, sizeof w->bad_msg, "%s: %s", key, msg);
}

static void put(nemo_gguf_writer *w, const void *p, size_t n) {
    if (w->bad) return;
    if (w->kv_len + n > w->kv_cap) {
        size_t cap = w->kv_cap ? w->kv_cap : 4096;
        while (cap < w->kv_len + n) cap *= 2;
        uint8_t *b = realloc(w->kv, cap);
        if (!b) {
            set_bad(w, NEMO_ERR_NOMEM, "out of memory for GGUF metadata", "");
            return;
        }
        w->kv = b;
        w->kv_cap = cap;
    }
    memcpy(w->kv + w->kv_len, p, n);
    w->kv_len += n;
}

/* little-endian scalars (every supported host is little-endian; memcpy keeps it simple) */
static void put_u32(nemo_gguf_writer *w, uint32_t v) {
    put(w, &v, 4);
}
static void put_u64(nemo_gguf_writer *w, uint64_t v) {
    put(w, &v, 8);
}
static void put_str(nemo_gguf_writer *w, const char *s, uint64_t n) {
    put_u64(w, n);
    put(w, s, (size_t)n);
}
static void key(nemo_gguf_writer *w, const char *k, nemo_gguf_type t) {
    put_str(w, k, strlen(k));
    put_u32(w, (uint32_t)t);
    w->n_kv++;
}

nemo_status nemo_gguf_writer_create(nemo_gguf_writer **out, nemo_error *err) {
    *out = calloc(1, sizeof **out);
    if (!*out) return nemo_fail(err, NEMO_ERR_NOMEM, "out of memory");
    (*out)->cur = -1;
    return NEMO_OK;
}

void nemo_gguf_writer_free(nemo_gguf_writer *w) {
    if (!w) return;
    if (w->f) fclose(w->f);
    for (int i = 0; i < w->n_t; i++) free(w->t[i].name);
    free(w->t);
    free(w->kv);
    free(w->path);
    free(w);
}

void nemo_gguf_w_str(nemo_gguf_writer *w, const char *k, const char *val) {
    key(w, k, NEMO_GGUF_STRING);
    put_str(w, val, strlen(val));
}
void nemo_gguf_w_u32(nemo_gguf_writer *w, const char *k, uint32_t val) {
    key(w, k, NEMO_GGUF_U32);
    put_u32(w, val);
}
void nemo_gguf_w_i32(nemo_gguf_writer *w, const char *k, int32_t val) {
    key(w, k, NEMO_GGUF_I32);
    put(w, &val, 4);
}
void nemo_gguf_w_f32(nemo_gguf_writer *w, const char *k, float val) {
    key(w, k, NEMO_GGUF_F32);
    put(w, &val, 4);
}
void nemo_gguf_w_bool(nemo_gguf_writer *w, const char *k, int val) {
    key(w, k, NEMO_GGUF_BOOL);
    uint8_t b = val != 0;
    put(w, &b, 1);
}
void nemo_gguf_w_arr_str(nemo_gguf_writer *w, const char *k, const char *const *s,
                         const uint32_t *lens, uint64_t n) {
    key(w, k, NEMO_GGUF_ARRAY);
    put_u32(w, NEMO_GGUF_STRING);
    put_u64(w, n);
    for (uint64_t i = 0; i < n; i++) put_str(w, s[i], lens ? lens[i] : strlen(s[i]));
}
void nemo_gguf_w_arr_i32(nemo_gguf_writer *w, const char *k, const int32_t *v, uint64_t n) {
    key(w, k, NEMO_GGUF_ARRAY);
    put_u32(w, NEMO_GGUF_I32);
    put_u64(w, n);
    put(w, v, (size_t)n * 4);
}
void nemo_gguf_w_arr_f32(nemo_gguf_writer *w, const char *k, const float *v, uint64_t n) {
    key(w, k, NEMO_GGUF_ARRAY);
    put_u32(w, NEMO_GGUF_F32);
    put_u64(w, n);
    put(w, v, (size_t)n * 4);
}

static uint64_t pad_to(uint64_t x) {
    return (x + ALIGN - 1) / ALIGN * ALIGN;
}

void nemo_gguf_w_tensor(nemo_gguf_writer *w, const char *name, nemo_dtype t, int ndim,
                        const uint64_t *shape, int ggml_type_override, uint64_t nbytes) {
    if (w->bad) return;
    if (ndim < 1 || ndim > 4 || strlen(name) >= NEMO_GGUF_MAX_NAME) {
        set_bad(w, NEMO_ERR_ARG, "tensor name too long or bad dimension count", name);
        return;
    }
    uint32_t gt;
    uint64_t n = 1;
    for (int d = 0; d < ndim; d++) n *= shape[d];
    if (ggml_type_override >= 0) {
        gt = (uint32_t)ggml_type_override;
    } else {
        if (nemo_gguf_ggml_type(t, &gt)) {
            set_bad(w, NEMO_ERR_UNSUPPORTED, "dtype has no ggml type", name);
            return;
        }
        nbytes = nemo_dtype_bytes(t, n);
        if (!nbytes || shape[ndim - 1] % nemo_dtype_info(t)->block_elems) {
            set_bad(w, NEMO_ERR_ARG, "rows are not a whole number of quantization blocks", name);
            return;
        }
    }
    if (w->n_t == w->cap_t) {
        int cap = w->cap_t ? 2 * w->cap_t : 64;
        wtensor *nt = realloc(w->t, (size_t)cap * sizeof *nt);
        if (!nt) {
            set_bad(w, NEMO_ERR_NOMEM, "out of memory", name);
            return;
        }
        w->t = nt;
        w->cap_t = cap;
    }
    wtensor *e = &w->t[w->n_t];
    memset(e, 0, sizeof *e);
    e->name = strdup(name);
    if (!e->name) {
        set_bad(w, NEMO_ERR_NOMEM, "out of memory", name);
        return;
    }
    w->n_t++;
    e->ggml_type = gt;
    e->ndim = ndim;
    for (int d = 0; d < ndim; d++) e->ne[d] = shape[ndim - 1 - d];
    e->nbytes = nbytes;
    e->offset = w->data_size;
    w->data_size += pad_to(nbytes);
}

static nemo_status fwrite_all(nemo_gguf_writer *w, const void *p, size_t n, nemo_error *err) {
    if (n && fwrite(p, 1, n, w->f) != n)
        return nemo_fail(err, NEMO_ERR_IO, "%s: write failed: %s", w->path, strerror(errno));
    return NEMO_OK;
}

static nemo_status zeros(nemo_gguf_writer *w, size_t n, nemo_error *err) {
    static const uint8_t Z[ALIGN];
    return fwrite_all(w, Z, n, err);
}

nemo_status nemo_gguf_w_begin(nemo_gguf_writer *w, const char *path, nemo_error *err) {
    if (w->bad) return nemo_fail(err, w->bad, "GGUF writer: %s", w->bad_msg);
    if (w->f) return nemo_fail(err, NEMO_ERR_ARG, "GGUF writer: begin called twice");
    w->path = strdup(path);
    if (!w->path) return nemo_fail(err, NEMO_ERR_NOMEM, "out of memory");
    w->f = fopen(path, "wb");
    if (!w->f) return nemo_fail(err, NEMO_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
    /* header: magic, version, counts, metadata, tensor infos (built in the kv buffer's tail) */
    size_t kv_end = w->kv_len;
    uint64_t hdr[2] = {(uint64_t)w->n_t, w->n_kv};
    for (int i = 0; i < w->n_t; i++) {
        const wtensor *e = &w->t[i];
        put_str(w, e->name, strlen(e->name));
        put_u32(w, (uint32_t)e->ndim);
        put(w, e->ne, 8 * (size_t)e->ndim);
        put_u32(w, e->ggml_type);
        put_u64(w, e->offset);
    }
    if (w->bad) return nemo_fail(err, w->bad, "GGUF writer: %s", w->bad_msg);
    nemo_status st;
    uint32_t ver = 3;
    if ((st = fwrite_all(w, "GGUF", 4, err)) || (st = fwrite_all(w, &ver, 4, err)) ||
        (st = fwrite_all(w, hdr, 16, err)) || (st = fwrite_all(w, w->kv, w->kv_len, err)))
        return st;
    (void)kv_end;
    uint64_t pos = 24 + w->kv_len;
    if ((st = zeros(w, (size_t)(pad_to(pos) - pos), err))) return st;
    w->cur = 0;
    w->cur_done = 0;
    return NEMO_OK;
}

nemo_status nemo_gguf_w_data(nemo_gguf_writer *w, const void *p, size_t n, nemo_error *err) {
    if (!w->f || w->cur < 0 || w->cur >= w->n_t)
        return nemo_fail(err, NEMO_ERR_ARG, "GGUF writer: data outside a tensor");
    const wtensor *e = &w->t[w->cur];
    if (w->cur_done + n > e->nbytes)
        return nemo_fail(err, NEMO_ERR_ARG, "%s: tensor '%s': more than its %llu bytes", w->path,
                         e->name, (unsigned long long)e->nbytes);
    w->cur_done += n;
    return fwrite_all(w, p, n, err);
}

nemo_status nemo_gguf_w_end_tensor(nemo_gguf_writer *w, nemo_error *err) {
    if (!w->f || w->cur < 0 || w->cur >= w->n_t)
        return nemo_fail(err, NEMO_ERR_ARG, "GGUF writer: end_tensor outside a tensor");
    const wtensor *e = &w->t[w->cur];
    if (w->cur_done != e->nbytes)
        return nemo_fail(err, NEMO_ERR_ARG, "%s: tensor '%s' got %llu bytes, declared %llu",
                         w->path, e->name, (unsigned long long)w->cur_done,
                         (unsigned long long)e->nbytes);
    nemo_status st = zeros(w, (size_t)(pad_to(e->nbytes) - e->nbytes), err);
    w->cur++;
    w->cur_done = 0;
    return st;
}

nemo_status nemo_gguf_w_finish(nemo_gguf_writer *w, nemo_error *err) {
    if (!w->f) return nemo_fail(err, NEMO_ERR_ARG, "GGUF writer: finish before begin");
    if (w->cur != w->n_t)
        return nemo_fail(err, NEMO_ERR_ARG, "%s: %d of %d tensors written", w->path, w->cur,
                         w->n_t);
    int rc = fclose(w->f);
    w->f = NULL;
    if (rc != 0)
        return nemo_fail(err, NEMO_ERR_IO, "%s: close failed: %s", w->path, strerror(errno));
    return NEMO_OK;
}
