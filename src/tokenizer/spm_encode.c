/* spm_encode.c — text to ids as sentencepiece's BPE model does it (normalizer, then merges by
 * score, then byte fallback), plus BOS/EOS as mistral-common's encode(s, bos, eos) adds them.
 *
 * Exactness notes (each mirrors a sentencepiece behaviour checked against the goldens):
 * - The identity normalizer copies the text, turning each ' ' (only U+0020) into '▁' and
 *   prepending one '▁' (add_dummy_prefix) unless the text is empty. Invalid UTF-8 becomes
 *   U+FFFD, one per bad byte (GGUF vocabularies, raw_utf8: the byte stays, and symbols are cut
 *   by lead-byte length as llama.cpp cuts them, so it ends as <0xXX> byte pieces).
 * - USER_DEFINED pieces are matched longest-first from the text and never merged further;
 *   CONTROL pieces ("[INST]", "<s>") are never matched from text.
 * - Merges pick the adjacent pair whose concatenation is a piece with the highest score, ties
 *   going to the leftmost pair; a binary heap with lazy deletion keeps this O(n log n).
 * - A symbol that is not a piece is unknown: with byte_fallback it becomes its UTF-8 bytes as
 *   <0xXX> pieces, otherwise the <unk> id. */
#include "tokenizer/frag.h"
#include "tokenizer/spm_internal.h"

#include <stdlib.h>

#define SPACE_SYMBOL "\xE2\x96\x81" /* U+2581 '▁' */

/* ---------------------------------------------------------------- normalizer */

/* Longest USER_DEFINED piece that prefixes p[0..n), or 0. In raw_utf8 (llama.cpp) mode the
 * pieces were cut out of the text before normalizing (encode_llama), so none is matched here. */
static size_t user_match(const nemo_spm *s, const char *p, size_t n) {
    uint8_t c = (uint8_t)p[0];
    if (s->raw_utf8 || !s->n_user || !(s->user_first[c >> 3] & (1u << (c & 7)))) return 0;
    size_t best = 0;
    for (int32_t i = 0; i < s->n_user; i++) {
        int32_t id = s->user_ids[i];
        size_t l = s->len[id];
        if (l > best && l <= n && memcmp(nemo_spm_str(s, id), p, l) == 0) best = l;
    }
    return best;
}

static int is_trail(uint8_t c) {
    return (c & 0xC0) == 0x80;
}
static int valid_cp(uint32_t c) {
    return c < 0xD800 || (c >= 0xE000 && c <= 0x10FFFF);
}

/* Length of the valid UTF-8 character at p[0..n) (strict: no overlongs, surrogates or values
 * above U+10FFFF), or 0 if invalid. */
static size_t utf8_len(const uint8_t *p, size_t n) {
    uint8_t c = p[0];
    if (c < 0x80) return 1;
    if (n >= 2 && (c & 0xE0) == 0xC0) {
        uint32_t cp = (uint32_t)(c & 0x1F) << 6 | (p[1] & 0x3F);
        return is_trail(p[1]) && cp >= 0x80 ? 2 : 0;
    }
    if (n >= 3 && (c & 0xF0) == 0xE0) {
        uint32_t cp = (uint32_t)(c & 0x0F) << 12 | (uint32_t)(p[1] & 0x3F) << 6 | (p[2] & 0x3F);
        return is_trail(p[1]) && is_trail(p[2]) && cp >= 0x800 && valid_cp(cp) ? 3 : 0;
    }
    if (n >= 4 && (c & 0xF8) == 0xF0) {
        uint32_t cp = (uint32_t)(c & 0x07) << 18 | (uint32_t)(p[1] & 0x3F) << 12 |
                      (uint32_t)(p[2] & 0x3F) << 6 | (p[3] & 0x3F);
        return is_trail(p[1]) && is_trail(p[2]) && is_trail(p[3]) && cp >= 0x10000 && valid_cp(cp)
                   ? 4
                   : 0;
    }
    return 0;
}

/* One normalization step: the bytes (out, out_len) that replace the next `consumed` input
 * bytes. */
static void norm_prefix(const nemo_spm *s, const char *in, size_t n, const char **out,
                        size_t *out_len, size_t *consumed) {
    size_t l = user_match(s, in, n);
    if (l) {
        *out = in;
        *out_len = *consumed = l;
        return;
    }
    l = utf8_len((const uint8_t *)in, n);
    if (!l && s->raw_utf8) l = 1; /* llama.cpp: the byte itself (ends up as a byte piece) */
    if (l) {
        *out = in;
        *out_len = *consumed = l;
    } else {
        *out = "\xEF\xBF\xBD"; /* U+FFFD for one bad byte */
        *out_len = 3;
        *consumed = 1;
    }
}

/* Writes the normalized text of in[0..n) to out (room for 3 * n + 3 bytes); returns its
 * length. */
static size_t normalize(const nemo_spm *s, const char *in, size_t n, char *out, int prefix) {
    size_t o = 0;
    const char *p;
    size_t pl, used;
    if (s->remove_extra_ws) { /* leading spaces */
        while (n) {
            norm_prefix(s, in, n, &p, &pl, &used);
            if (!(pl == 1 && p[0] == ' ')) break;
            in += used;
            n -= used;
        }
    }
    if (!n) return 0;
    if (prefix) {
        if (s->escape_ws)
            memcpy(out + o, SPACE_SYMBOL, 3), o += 3;
        else
            out[o++] = ' ';
    }
    int prev_space = s->remove_extra_ws;
    while (n) {
        norm_prefix(s, in, n, &p, &pl, &used);
        while (prev_space && pl && p[0] == ' ') p++, pl--;
        if (pl) {
            for (size_t i = 0; i < pl; i++) {
                if (s->escape_ws && p[i] == ' ')
                    memcpy(out + o, SPACE_SYMBOL, 3), o += 3;
                else
                    out[o++] = p[i];
            }
            prev_space = p[pl - 1] == ' ';
        }
        in += used;
        n -= used;
        if (!s->remove_extra_ws) prev_space = 0;
    }
    if (s->remove_extra_ws) { /* trailing spaces */
        const char *sp = s->escape_ws ? SPACE_SYMBOL : " ";
        size_t sl = s->escape_ws ? 3 : 1;
        while (o >= sl && memcmp(out + o - sl, sp, sl) == 0) o -= sl;
    }
    return o;
}

/* ---------------------------------------------------------------- BPE */

typedef struct sym {
    uint32_t start, len; /* bytes of the normalized text; len 0 once merged into its left */
    int32_t prev, next;
    int freeze; /* a USER_DEFINED match: never merged */
} sym;

typedef struct pair {
    float score;
    int32_t left, right;
    uint32_t size; /* bytes of the merged piece: detects stale entries */
} pair;

typedef struct bpe {
    const nemo_spm *s;
    const char *text;
    sym *syms;
    pair *heap;
    size_t n_heap, cap_heap;
} bpe;

/* Heap order: higher score first, then the leftmost pair (sentencepiece's comparator). */
static int pair_before(const pair *a, const pair *b) {
    return a->score > b->score || (a->score == b->score && a->left < b->left);
}

static int heap_push(bpe *b, pair p) {
    if (b->n_heap == b->cap_heap) {
        size_t cap = b->cap_heap ? b->cap_heap * 2 : 64;
        pair *h = realloc(b->heap, cap * sizeof *h);
        if (!h) return -1;
        b->heap = h;
        b->cap_heap = cap;
    }
    size_t i = b->n_heap++;
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (!pair_before(&p, &b->heap[up])) break;
        b->heap[i] = b->heap[up];
        i = up;
    }
    b->heap[i] = p;
    return 0;
}

static pair heap_pop(bpe *b) {
    pair top = b->heap[0], last = b->heap[--b->n_heap];
    size_t i = 0, n = b->n_heap;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n) break;
        if (c + 1 < n && pair_before(&b->heap[c + 1], &b->heap[c])) c++;
        if (!pair_before(&b->heap[c], &last)) break;
        b->heap[i] = b->heap[c];
        i = c;
    }
    if (n) b->heap[i] = last;
    return top;
}

/* Queues the merge of symbols l and r if their concatenation is a mergeable piece. */
static int maybe_add(bpe *b, int32_t l, int32_t r) {
    if (l < 0 || r < 0 || b->syms[l].freeze || b->syms[r].freeze) return 0;
    const nemo_spm *s = b->s;
    uint32_t size = b->syms[l].len + b->syms[r].len;
    if (size > s->max_piece_len) return 0;
    int32_t id = nemo_spm_lookup(s, b->text + b->syms[l].start, size);
    /* sentencepiece merges into normal and user-defined pieces only; llama.cpp into any token */
    if (id < 0 ||
        (!s->raw_utf8 && s->type[id] != NEMO_SPM_NORMAL && s->type[id] != NEMO_SPM_USER_DEFINED))
        return 0;
    return heap_push(b, (pair){s->score[id], l, r, size});
}

typedef struct emit {
    int32_t *ids;
    size_t cap, n;
} emit;

static void put(emit *e, int32_t id) {
    if (e->n < e->cap) e->ids[e->n] = id;
    e->n++;
}

/* Encodes the normalized text t[0..n) into e. Returns -1 on allocation failure. */
static int bpe_encode(const nemo_spm *s, const char *t, size_t n, emit *e) {
    if (!n) return 0;
    bpe b = {.s = s, .text = t};
    b.syms = malloc(n * sizeof *b.syms);
    if (!b.syms) return -1;
    static const uint8_t one_char_len[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 3, 4};
    int32_t ns = 0;
    for (size_t i = 0; i < n;) {
        size_t l = user_match(s, t + i, n - i);
        int freeze = l > 0;
        if (!l) {
            l = one_char_len[(uint8_t)t[i] >> 4];
            if (l > n - i) l = n - i;
        }
        b.syms[ns] = (sym){(uint32_t)i, (uint32_t)l, ns - 1, i + l < n ? ns + 1 : -1, freeze};
        ns++;
        i += l;
    }
    int rc = 0;
    for (int32_t i = 1; i < ns && !rc; i++) rc = maybe_add(&b, i - 1, i);
    while (!rc && b.n_heap) {
        pair top = heap_pop(&b);
        sym *L = &b.syms[top.left], *R = &b.syms[top.right];
        if (!L->len || !R->len || L->len + R->len != top.size) continue; /* stale */
        L->len += R->len;
        L->next = R->next;
        if (R->next >= 0) b.syms[R->next].prev = top.left;
        R->len = 0;
        rc = maybe_add(&b, L->prev, top.left);
        if (!rc) rc = maybe_add(&b, top.left, L->next);
    }
    for (int32_t i = 0; !rc && i >= 0; i = b.syms[i].next) {
        const char *w = t + b.syms[i].start;
        uint32_t wl = b.syms[i].len;
        int32_t id = nemo_spm_lookup(s, w, wl);
        if (id >= 0 && s->raw_utf8) { /* llama.cpp keeps any token it finds */
            put(e, id);
            continue;
        }
        if (id < 0) id = s->unk_id;
        if (s->type[id] == NEMO_SPM_UNKNOWN && s->byte_fallback) {
            for (uint32_t k = 0; k < wl; k++) put(e, s->byte_id[(uint8_t)w[k]]);
        } else {
            put(e, id);
        }
    }
    free(b.syms);
    free(b.heap);
    return rc;
}

/* llama.cpp's llama_tokenize for a "llama" vocabulary (parse_special=false): USER_DEFINED
 * pieces are cut out of the text first (each in turn, longest first, every occurrence), and each
 * remaining fragment is normalized and merged on its own, with the dummy prefix when it is the
 * first fragment or follows a cut-out piece. norm has room for 3 * len + 3 bytes. */
static int encode_llama(const nemo_spm *s, const char *text, size_t len, char *norm, emit *e) {
    nemo_frags fs;
    if (nemo_frags_init(&fs, len)) return -1;
    /* user_ids are in id order; llama.cpp takes them longest first */
    for (uint32_t want = s->max_piece_len; want > 0 && s->n_user; want--) {
        for (int32_t u = 0; u < s->n_user; u++) {
            int32_t id = s->user_ids[u];
            if (s->len[id] != want) continue;
            if (nemo_frags_cut(&fs, text, nemo_spm_str(s, id), want, id)) {
                nemo_frags_free(&fs);
                return -1;
            }
        }
    }
    int rc = 0, prev_special = 1;
    for (size_t i = 0; i < fs.n && !rc; i++) {
        const nemo_frag *f = &fs.f[i];
        if (f->id >= 0) {
            put(e, f->id);
            prev_special = 1;
            continue;
        }
        size_t n = normalize(s, text + f->off, f->len, norm, s->add_dummy_prefix && prev_special);
        rc = bpe_encode(s, norm, n, e);
        prev_special = 0;
    }
    nemo_frags_free(&fs);
    return rc;
}

nemo_status nemo_spm_encode(const nemo_spm *s, const char *text, size_t len, int add_bos,
                            int add_eos, int32_t *ids, size_t cap, size_t *n_out, nemo_error *err) {
    if (n_out) *n_out = 0;
    if (!s || (!text && len) || (!ids && cap) || !n_out)
        return nemo_fail(err, NEMO_ERR_ARG, "nemo_spm_encode: NULL argument");
    if (add_bos && s->bos_id < 0)
        return nemo_fail(err, NEMO_ERR_ARG, "tokenizer has no BOS control piece");
    if (add_eos && s->eos_id < 0)
        return nemo_fail(err, NEMO_ERR_ARG, "tokenizer has no EOS control piece");
    if (len > (SIZE_MAX - 8) / 3 / sizeof(sym))
        return nemo_fail(err, NEMO_ERR_ARG, "text of %zu bytes is too long to encode", len);
    emit e = {ids, cap, 0};
    if (add_bos) put(&e, s->bos_id);
    if (len) {
        char *norm = malloc(3 * len + 3);
        if (!norm) return nemo_fail(err, NEMO_ERR_NOMEM, "out of memory encoding %zu bytes", len);
        int rc;
        if (s->raw_utf8) {
            rc = encode_llama(s, text, len, norm, &e);
        } else {
            size_t n = normalize(s, text, len, norm, s->add_dummy_prefix);
            rc = bpe_encode(s, norm, n, &e);
        }
        free(norm);
        if (rc) return nemo_fail(err, NEMO_ERR_NOMEM, "out of memory encoding %zu bytes", len);
    }
    if (add_eos) put(&e, s->eos_id);
    *n_out = e.n;
    if (e.n > cap)
        return nemo_fail(err, NEMO_ERR_FULL, "encoding has %zu ids, buffer holds %zu", e.n, cap);
    return NEMO_OK;
}
