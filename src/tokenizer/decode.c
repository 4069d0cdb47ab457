/* decode.c — ids to text for Tekken (spec 3.4, 3.6), as mistral-common's Tekkenizer.decode:
 * runs of ordinary ids are concatenated as bytes and converted with errors="replace" (each run
 * on its own, so a character cut by a special token becomes U+FFFD); special ids are skipped,
 * written by name, or rejected, per policy. Also the UTF-8 repair writer shared with detok.c. */
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/unicode.h"

size_t nemo_utf8_repair(const uint8_t *s, size_t n, int final, nemo_outbuf *o) {
    size_t i = 0;
    while (i < n) {
        size_t v = nemo_utf8_valid_prefix(s + i, n - i);
        nemo_outbuf_put(o, s + i, v);
        i += v;
        if (i >= n) break;
        int incomplete;
        size_t k = nemo_utf8_invalid_len(s + i, n - i, &incomplete);
        if (incomplete && !final) return i; /* may still complete with the next bytes */
        nemo_outbuf_put(o, "\xEF\xBF\xBD", 3);
        i += k;
    }
    return n;
}

/* Carries up to 3 bytes of an unfinished character between pieces of one run. */
typedef struct run_state {
    uint8_t buf[4 + 256];
    size_t n;
} run_state;

static void run_push(run_state *r, const uint8_t *s, size_t n, nemo_outbuf *o) {
    while (n) {
        size_t k = sizeof r->buf - r->n < n ? sizeof r->buf - r->n : n;
        memcpy(r->buf + r->n, s, k);
        r->n += k;
        s += k;
        n -= k;
        size_t used = nemo_utf8_repair(r->buf, r->n, 0, o);
        memmove(r->buf, r->buf + used, r->n - used);
        r->n -= used;
    }
}

static void run_end(run_state *r, nemo_outbuf *o) {
    nemo_utf8_repair(r->buf, r->n, 1, o);
    r->n = 0;
}

nemo_status nemo_tokenizer_decode(const nemo_tokenizer *t, const int32_t *ids, size_t n,
                                  nemo_special_policy policy, char *out, size_t cap, size_t *n_out,
                                  nemo_error *err) {
    if (n_out) *n_out = 0;
    if (!t || (n && !ids) || !n_out)
        return nemo_fail(err, NEMO_ERR_ARG, "decode: NULL tokenizer, ids or n_out");
    if (policy != NEMO_SPECIAL_SKIP && policy != NEMO_SPECIAL_KEEP && policy != NEMO_SPECIAL_ERROR)
        return nemo_fail(err, NEMO_ERR_ARG, "decode: unknown special policy %d", (int)policy);
    if (t->spm) return nemo_spm_decode(t->spm, ids, n, (int)policy, out, cap, n_out, err);
    nemo_outbuf o = {out, cap, 0};
    run_state r = {.n = 0};
    for (size_t i = 0; i < n; i++) {
        size_t len;
        int special;
        const uint8_t *b = nemo_tokenizer_piece_bytes(t, ids[i], &len, &special);
        if (!b)
            return nemo_fail(err, NEMO_ERR_ARG, "decode: ids[%zu] = %d: expected 0..%d", i,
                             (int)ids[i], nemo_tokenizer_vocab_size(t) - 1);
        if (!special) {
            run_push(&r, b, len, &o);
            continue;
        }
        if (policy == NEMO_SPECIAL_ERROR)
            return nemo_fail(err, NEMO_ERR_ARG,
                             "decode: ids[%zu] = %d is the special token %s (policy: error)", i,
                             (int)ids[i], (const char *)b);
        run_end(&r, &o);
        if (policy == NEMO_SPECIAL_KEEP) nemo_outbuf_put(&o, b, len);
    }
    run_end(&r, &o);
    *n_out = o.len;
    if (o.len >= cap)
        return nemo_fail(err, NEMO_ERR_FULL, "decode: %zu bytes and a NUL do not fit in %zu", o.len,
                         cap);
    out[o.len] = 0;
    return NEMO_OK;
}
