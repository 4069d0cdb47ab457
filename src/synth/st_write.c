/* st_write.c — streams one safetensors file of a synthetic checkpoint: the JSON header (keys
 * sorted by name, "__metadata__" first, padded with spaces to a multiple of 8 as the reference
 * writer does), then the tensors back to back in header order. Data is produced row by row
 * into a bounded buffer, so no tensor of the full 12B shape is ever held in memory. */
#include "synth/synth.h"

#include <errno.h>
#include <stdlib.h>

#define CHUNK_BYTES (4u << 20)

typedef struct {
    const nemo_synth_tensor *t;
    uint64_t begin, end;
} placed;

static int by_name(const void *a, const void *b) {
    return strcmp(((const placed *)a)->t->name, ((const placed *)b)->t->name);
}

/* Appends to a growing string; returns -1 on NOMEM. */
typedef struct {
    char *s;
    size_t len, cap;
} strbuf;

static int sb_printf(strbuf *b, const char *fmt, ...) NEMO_PRINTF(2, 3);
static int sb_printf(strbuf *b, const char *fmt, ...) {
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) return -1;
        if (b->s && b->len + (size_t)n < b->cap) {
            b->len += (size_t)n;
            return 0;
        }
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap <= b->len + (size_t)n) cap *= 2;
        char *ns = realloc(b->s, cap);
        if (!ns) return -1;
        b->s = ns;
        b->cap = cap;
    }
}

static nemo_status build_header(const placed *ps, int n, strbuf *h, nemo_error *err) {
    int bad = sb_printf(h, "{\"__metadata__\":{\"format\":\"pt\"}");
    for (int i = 0; i < n && !bad; i++) {
        const nemo_synth_tensor *t = ps[i].t;
        bad |= sb_printf(h, ",\"%s\":{\"dtype\":\"%s\",\"shape\":[", t->name,
                         nemo_dtype_name(t->dtype));
        if (t->ndim == 2)
            bad |=
                sb_printf(h, "%llu,%llu", (unsigned long long)t->rows, (unsigned long long)t->cols);
        else if (!t->ndim0)
            bad |= sb_printf(h, "%llu", (unsigned long long)t->cols);
        bad |= sb_printf(h, "],\"data_offsets\":[%llu,%llu]}", (unsigned long long)ps[i].begin,
                         (unsigned long long)ps[i].end);
    }
    bad |= sb_printf(h, "}");
    while (!bad && h->len % 8) bad |= sb_printf(h, " ");
    return bad ? nemo_fail(err, NEMO_ERR_NOMEM, "synth: out of memory for a header") : NEMO_OK;
}

static nemo_status put(FILE *f, const char *path, const void *p, size_t n, nemo_error *err) {
    if (n && fwrite(p, 1, n, f) != n)
        return nemo_fail(err, NEMO_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    return NEMO_OK;
}

static nemo_status write_tensor(FILE *f, const char *path, const nemo_synth_tensor *t,
                                uint64_t seed, float *row, uint8_t *chunk, size_t chunk_cap,
                                nemo_synth_progress *prog, nemo_error *err) {
    uint64_t row_bytes = nemo_dtype_bytes(t->dtype, t->cols);
    size_t used = 0;
    for (uint64_t r = 0; r < t->rows; r++) {
        if (used + row_bytes > chunk_cap) {
            nemo_status st = put(f, path, chunk, used, err);
            if (st) return st;
            prog->done += used;
            if (prog->fn) prog->fn(prog->done, prog->total, prog->user);
            used = 0;
        }
        if (t->role == NEMO_SYNTH_WSCALE || t->role == NEMO_SYNTH_ASCALE)
            row[0] = t->value;
        else
            nemo_synth_row_values(seed, t, nemo_synth_native_row(t, r), row);
        nemo_synth_encode_t(t, row, chunk + used);
        used += (size_t)row_bytes;
    }
    nemo_status st = put(f, path, chunk, used, err);
    if (st) return st;
    prog->done += used;
    if (prog->fn) prog->fn(prog->done, prog->total, prog->user);
    return NEMO_OK;
}

nemo_status nemo_synth_write_safetensors(const char *path, const nemo_synth_plan *pl, int shard,
                                         nemo_dtype dtype, uint64_t seed, nemo_synth_progress *prog,
                                         nemo_error *err) {
    int n = 0;
    uint64_t max_cols = 1;
    for (int i = 0; i < pl->n; i++) {
        if (pl->t[i].shard != shard) continue;
        n++;
        if (pl->t[i].cols > max_cols) max_cols = pl->t[i].cols;
    }
    placed *ps = calloc((size_t)(n ? n : 1), sizeof *ps);
    float *row = malloc((size_t)max_cols * sizeof *row);
    size_t chunk_cap = CHUNK_BYTES;
    if (max_cols * 4 > chunk_cap) chunk_cap = (size_t)max_cols * 4;
    uint8_t *chunk = malloc(chunk_cap);
    strbuf h = {0};
    FILE *f = NULL;
    nemo_status st = NEMO_OK;
    if (!ps || !row || !chunk) {
        st = nemo_fail(err, NEMO_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    n = 0;
    for (int i = 0; i < pl->n; i++)
        if (pl->t[i].shard == shard) ps[n++].t = &pl->t[i];
    qsort(ps, (size_t)n, sizeof *ps, by_name);
    uint64_t off = 0;
    for (int i = 0; i < n; i++) {
        ps[i].begin = off;
        off += ps[i].t->nbytes;
        ps[i].end = off;
    }
    (void)dtype; /* each tensor carries its own (FP8 folders mix FP8, BF16 and F32) */
    if ((st = build_header(ps, n, &h, err))) goto done;

    f = fopen(path, "wb");
    if (!f) {
        st = nemo_fail(err, NEMO_ERR_IO, "%s: cannot create: %s", path, strerror(errno));
        goto done;
    }
    uint8_t len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (uint8_t)((uint64_t)h.len >> (8 * i));
    if ((st = put(f, path, len8, 8, err)) || (st = put(f, path, h.s, h.len, err))) goto done;
    for (int i = 0; i < n; i++)
        if ((st = write_tensor(f, path, ps[i].t, seed, row, chunk, chunk_cap, prog, err)))
            goto done;
done:
    if (f && fclose(f) != 0 && st == NEMO_OK)
        st = nemo_fail(err, NEMO_ERR_IO, "%s: close failed: %s", path, strerror(errno));
    free(h.s);
    free(chunk);
    free(row);
    free(ps);
    return st;
}
