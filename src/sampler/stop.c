/* stop.c — stop strings matched across token boundaries. Generated text arrives in pieces; a
 * stop string may straddle them, so text that could still be the start of a stop string is
 * held back until it is proven otherwise. Data in: text pieces; out: text safe to show and a
 * stop flag. Allocates only when a piece is longer than any seen before. */
#include "core/core.h"

#include <stdlib.h>

struct nemo_stop {
    char **s;
    size_t *len;
    int n;
    char *buf; /* held-back bytes + the current piece */
    size_t n_buf, cap;
    char *out; /* what the last call emits */
    size_t out_cap;
};

void nemo_stop_free(nemo_stop *st) {
    if (!st) return;
    for (int i = 0; i < st->n; i++) free(st->s[i]);
    free(st->s);
    free(st->len);
    free(st->buf);
    free(st->out);
    free(st);
}

nemo_status nemo_stop_create(const char *const *strings, int n, nemo_stop **out, nemo_error *err) {
    *out = NULL;
    nemo_stop *st = calloc(1, sizeof *st);
    if (!st) return nemo_fail(err, NEMO_ERR_NOMEM, "stop: out of memory");
    st->s = calloc((size_t)(n > 0 ? n : 1), sizeof *st->s);
    st->len = calloc((size_t)(n > 0 ? n : 1), sizeof *st->len);
    size_t maxlen = 0;
    int oom = !st->s || !st->len;
    for (int i = 0; !oom && i < n; i++) {
        if (!strings[i] || !strings[i][0]) continue;
        st->len[st->n] = strlen(strings[i]);
        if (!(st->s[st->n] = strdup(strings[i]))) oom = 1;
        if (st->len[st->n] > maxlen) maxlen = st->len[st->n];
        st->n++;
    }
    st->cap = st->out_cap = maxlen + 256;
    st->buf = malloc(st->cap);
    st->out = malloc(st->out_cap);
    if (oom || !st->buf || !st->out) {
        nemo_stop_free(st);
        return nemo_fail(err, NEMO_ERR_NOMEM, "stop: out of memory");
    }
    *out = st;
    return NEMO_OK;
}

static int grow(char **p, size_t *cap, size_t need) {
    if (need <= *cap) return 0;
    size_t c = *cap * 2 > need ? *cap * 2 : need;
    char *q = realloc(*p, c);
    if (!q) return -1;
    *p = q;
    *cap = c;
    return 0;
}

/* Is buf[i..n) the beginning of some stop string? */
static int may_start(const nemo_stop *st, size_t i) {
    size_t rest = st->n_buf - i;
    for (int k = 0; k < st->n; k++)
        if (rest < st->len[k] && !memcmp(st->buf + i, st->s[k], rest)) return 1;
    return 0;
}

static int emit_front(nemo_stop *st, size_t n, const char **emit, size_t *emit_len) {
    if (grow(&st->out, &st->out_cap, n + 1)) return -1;
    memcpy(st->out, st->buf, n);
    memmove(st->buf, st->buf + n, st->n_buf - n);
    st->n_buf -= n;
    *emit = st->out;
    *emit_len = n;
    return 0;
}

int nemo_stop_feed(nemo_stop *st, const char *text, size_t len, const char **emit,
                   size_t *emit_len) {
    *emit = st->out;
    *emit_len = 0;
    if (grow(&st->buf, &st->cap, st->n_buf + len)) return -1;
    for (size_t j = 0; j < len; j++) {
        st->buf[st->n_buf++] = text[j];
        for (int k = 0; k < st->n; k++) {
            size_t l = st->len[k];
            if (st->n_buf >= l && !memcmp(st->buf + st->n_buf - l, st->s[k], l)) {
                size_t keep = st->n_buf - l;
                if (emit_front(st, keep, emit, emit_len)) return -1;
                st->n_buf = 0; /* the stop string and anything after it are dropped */
                return 1;
            }
        }
    }
    size_t i = 0;
    while (i < st->n_buf && !may_start(st, i)) i++;
    return emit_front(st, i, emit, emit_len) ? -1 : 0;
}

void nemo_stop_flush(nemo_stop *st, const char **emit, size_t *emit_len) {
    /* out is at least as large as buf's held-back part: that is at most maxlen bytes */
    if (emit_front(st, st->n_buf, emit, emit_len)) {
        *emit = st->buf;
        *emit_len = st->n_buf;
        st->n_buf = 0;
    }
}
