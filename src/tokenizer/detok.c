/* detok.c — streaming decode for generation (nemo_detok_*): ids come one at a time and only
 * whole UTF-8 characters go out. A trailing valid-but-incomplete sequence (<= 3 bytes) is held
 * until the next piece completes it or proves it invalid; the text written over a stream equals
 * nemo_tokenizer_decode of all its ids (special ids end a run, as in decode). Each push first
 * measures its output, so a buffer that is too small changes nothing (NEMO_ERR_FULL). */
#include "tokenizer/tokenizer_impl.h"

#include <stdlib.h>

struct nemo_detok {
    const nemo_tokenizer *t;
    nemo_special_policy policy;
    uint8_t carry[4];
    size_t n_carry;
    int started; /* SentencePiece drops the leading space of the first piece */
};

nemo_status nemo_detok_create(const nemo_tokenizer *t, nemo_special_policy policy, nemo_detok **out,
                              nemo_error *err) {
    if (!t || !out) return nemo_fail(err, NEMO_ERR_ARG, "detok: NULL tokenizer or out");
    if (policy != NEMO_SPECIAL_SKIP && policy != NEMO_SPECIAL_KEEP && policy != NEMO_SPECIAL_ERROR)
        return nemo_fail(err, NEMO_ERR_ARG, "detok: unknown special policy %d", (int)policy);
    nemo_detok *d = calloc(1, sizeof *d);
    if (!d) return nemo_fail(err, NEMO_ERR_NOMEM, "detok: out of memory");
    d->t = t;
    d->policy = policy;
    *out = d;
    return NEMO_OK;
}

void nemo_detok_free(nemo_detok *d) {
    free(d);
}

/* Writes carry + s[0..n) through the UTF-8 repair; the unfinished tail goes to *next. */
static void feed(const uint8_t *carry, size_t n_carry, const uint8_t *s, size_t n, nemo_outbuf *o,
                 uint8_t next[4], size_t *n_next) {
    uint8_t buf[4 + 256];
    size_t b = n_carry;
    memcpy(buf, carry, n_carry);
    do {
        size_t k = sizeof buf - b < n ? sizeof buf - b : n;
        memcpy(buf + b, s, k);
        b += k;
        s += k;
        n -= k;
        size_t used = nemo_utf8_repair(buf, b, 0, o);
        memmove(buf, buf + used, b - used);
        b -= used;
    } while (n);
    memcpy(next, buf, b);
    *n_next = b;
}

static nemo_status fits(const nemo_outbuf *o, size_t cap, size_t *n_out, nemo_error *err) {
    if (o->len <= cap) return NEMO_OK;
    *n_out = o->len;
    return nemo_fail(err, NEMO_ERR_FULL, "detok: %zu bytes of text do not fit in %zu", o->len, cap);
}

nemo_status nemo_detok_push(nemo_detok *d, int32_t id, char *out, size_t cap, size_t *n_out,
                            nemo_error *err) {
    *n_out = 0;
    size_t len;
    int special;
    const uint8_t *b = nemo_tokenizer_piece_bytes(d->t, id, &len, &special);
    if (!b)
        return nemo_fail(err, NEMO_ERR_ARG, "detok: id %d: expected 0..%d", (int)id,
                         nemo_tokenizer_vocab_size(d->t) - 1);
    nemo_status st;
    if (special) {
        if (d->policy == NEMO_SPECIAL_ERROR)
            return nemo_fail(err, NEMO_ERR_ARG, "detok: id %d is the special token %s", (int)id,
                             (const char *)b);
        nemo_outbuf c = {NULL, 0, 0};
        nemo_utf8_repair(d->carry, d->n_carry, 1, &c);
        if (d->policy == NEMO_SPECIAL_KEEP) c.len += len;
        if ((st = fits(&c, cap, n_out, err))) return st;
        nemo_outbuf o = {out, cap, 0};
        nemo_utf8_repair(d->carry, d->n_carry, 1, &o);
        if (d->policy == NEMO_SPECIAL_KEEP) nemo_outbuf_put(&o, b, len);
        d->n_carry = 0;
        *n_out = o.len;
        return NEMO_OK;
    }
    if (d->t->spm && !d->started && len && b[0] == ' ') {
        b++;
        len--;
    }
    uint8_t next[4];
    size_t n_next;
    nemo_outbuf c = {NULL, 0, 0};
    feed(d->carry, d->n_carry, b, len, &c, next, &n_next);
    if ((st = fits(&c, cap, n_out, err))) return st;
    nemo_outbuf o = {out, cap, 0};
    feed(d->carry, d->n_carry, b, len, &o, d->carry, &d->n_carry);
    d->started = 1;
    *n_out = o.len;
    return NEMO_OK;
}

nemo_status nemo_detok_flush(nemo_detok *d, char *out, size_t cap, size_t *n_out, nemo_error *err) {
    *n_out = 0;
    nemo_outbuf c = {NULL, 0, 0};
    nemo_utf8_repair(d->carry, d->n_carry, 1, &c);
    nemo_status st = fits(&c, cap, n_out, err);
    if (st) return st;
    nemo_outbuf o = {out, cap, 0};
    nemo_utf8_repair(d->carry, d->n_carry, 1, &o);
    *n_out = o.len;
    d->n_carry = 0;
    d->started = 0;
    return NEMO_OK;
}
