/* spm_decode.c — ids to text as sentencepiece's decode does it, with the special-token policy
 * of nemo_tokenizer_decode applied to CONTROL pieces.
 *
 * sentencepiece rules reproduced here:
 * - '▁' becomes ' '. While no text has been written, a normal or user-defined piece loses its
 *   leading '▁' (if add_dummy_prefix or remove_extra_whitespaces); only the first such '▁' is
 *   dropped unless remove_extra_whitespaces, and a CONTROL piece in between resets that.
 * - <unk> decodes as trainer_spec.unk_surface (" ⁇ ").
 * - A run of consecutive byte pieces is decoded as UTF-8; each byte that does not start a
 *   valid character becomes U+FFFD on its own (so E3 81 gives two U+FFFD).
 * Policy (nemo_special_policy): SKIP drops CONTROL pieces (this is sentencepiece's decode),
 * KEEP writes their names in place, ERROR fails. Either way a CONTROL piece does not end the
 * "first piece" state, so SKIP output equals KEEP output with the names removed. */
#include "tokenizer/spm_internal.h"

typedef struct out {
    char *buf;
    size_t cap, n;
} out;

static void put(out *o, const void *p, size_t n) {
    if (o->n < o->cap) {
        size_t k = o->cap - o->n < n ? o->cap - o->n : n;
        memcpy(o->buf + o->n, p, k);
    }
    o->n += n;
}

static int is_trail(uint8_t c) {
    return (c & 0xC0) == 0x80;
}

/* Length of the valid UTF-8 character at p[0..n), or 0 (same strictness as the encoder). */
static size_t utf8_len(const uint8_t *p, size_t n) {
    uint8_t c = p[0];
    uint32_t cp;
    if (c < 0x80) return 1;
    if (n >= 2 && (c & 0xE0) == 0xC0) {
        cp = (uint32_t)(c & 0x1F) << 6 | (p[1] & 0x3F);
        return is_trail(p[1]) && cp >= 0x80 ? 2 : 0;
    }
    if (n >= 3 && (c & 0xF0) == 0xE0) {
        cp = (uint32_t)(c & 0x0F) << 12 | (uint32_t)(p[1] & 0x3F) << 6 | (p[2] & 0x3F);
        return is_trail(p[1]) && is_trail(p[2]) && cp >= 0x800 && (cp < 0xD800 || cp >= 0xE000) ? 3
                                                                                                : 0;
    }
    if (n >= 4 && (c & 0xF8) == 0xF0) {
        cp = (uint32_t)(c & 0x07) << 18 | (uint32_t)(p[1] & 0x3F) << 12 |
             (uint32_t)(p[2] & 0x3F) << 6 | (p[3] & 0x3F);
        return is_trail(p[1]) && is_trail(p[2]) && is_trail(p[3]) && cp >= 0x10000 && cp <= 0x10FFFF
                   ? 4
                   : 0;
    }
    return 0;
}

/* Pending bytes of a byte-piece run. A character is decided only once 4 bytes are pending or
 * the run ended, so the result equals decoding the whole run at once. */
typedef struct bytes {
    uint8_t b[4];
    size_t n;
} bytes;

static void bytes_drain(bytes *q, out *o, int final) {
    while (q->n && (final || q->n == 4)) {
        size_t l = utf8_len(q->b, q->n);
        if (l)
            put(o, q->b, l);
        else
            put(o, "\xEF\xBF\xBD", 3), l = 1;
        memmove(q->b, q->b + l, q->n - l);
        q->n -= l;
    }
}

nemo_status nemo_spm_decode(const nemo_spm *s, const int32_t *ids, size_t n, int policy, char *buf,
                            size_t cap, size_t *n_out, nemo_error *err) {
    if (n_out) *n_out = 0;
    if (!s || (!ids && n) || (!buf && cap) || !n_out)
        return nemo_fail(err, NEMO_ERR_ARG, "nemo_spm_decode: NULL argument");
    if (policy < NEMO_SPECIAL_SKIP || policy > NEMO_SPECIAL_ERROR)
        return nemo_fail(err, NEMO_ERR_ARG, "nemo_spm_decode: unknown special policy %d", policy);
    out o = {buf, cap, 0};
    bytes q = {{0}, 0};
    /* sentencepiece's state: bos_ws = a leading '▁' may still be consumed; seen = the last
     * non-byte piece consumed one. Text written so far excludes kept control names. */
    int bos_ws = 1, seen = 0;
    size_t names = 0; /* bytes of control names written (KEEP) */
    const int strip = s->add_dummy_prefix || s->remove_extra_ws;
    for (size_t i = 0; i < n; i++) {
        int32_t id = ids[i];
        if (id < 0 || id >= s->n)
            return nemo_fail(err, NEMO_ERR_ARG, "id %d at position %zu is out of range [0, %d)", id,
                             i, s->n);
        uint8_t t = s->type[id];
        if (t == NEMO_SPM_BYTE) {
            q.b[q.n++] = (uint8_t)s->arena[s->surf[id]];
            bytes_drain(&q, &o, 0);
            continue;
        }
        bytes_drain(&q, &o, 1);
        if (seen || o.n > names) bos_ws = 0;
        seen = 0;
        const char *surf = s->arena + s->surf[id];
        size_t sl = s->surflen[id];
        if (t == NEMO_SPM_CONTROL) {
            if (policy == NEMO_SPECIAL_ERROR)
                return nemo_fail(err, NEMO_ERR_ARG,
                                 "id %d at position %zu is the control token %s (policy: error)",
                                 id, i, nemo_spm_str(s, id));
            if (policy == NEMO_SPECIAL_KEEP) put(&o, surf, sl), names += sl;
            continue;
        }
        if (bos_ws && strip && t != NEMO_SPM_UNKNOWN && s->len[id] >= 3 &&
            memcmp(nemo_spm_str(s, id), "\xE2\x96\x81", 3) == 0) {
            surf++, sl--; /* the '▁' became the surface's first byte, ' ' */
            /* with remove_extra_whitespaces every leading '▁' piece is consumed */
            seen = !s->remove_extra_ws;
        }
        put(&o, surf, sl);
    }
    bytes_drain(&q, &o, 1);
    *n_out = o.n;
    if (o.n >= cap)
        return nemo_fail(err, NEMO_ERR_FULL, "decoded text has %zu bytes, buffer holds %zu", o.n,
                         cap);
    buf[o.n] = 0;
    return NEMO_OK;
}
