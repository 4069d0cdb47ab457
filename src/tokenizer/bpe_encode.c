/* bpe_encode.c — encoding with a GGUF byte-level BPE vocabulary (bpe.h), as llama.cpp's
 * llama_tokenize(..., parse_special=false): USER_DEFINED tokens are cut out of the text first
 * (each in turn, longest first, every occurrence left to right), then every remaining fragment
 * is pre-tokenized (bpe_pretok.c) and each word is merged: start from one symbol per byte,
 * repeatedly merge the adjacent pair with the lowest merge priority (leftmost on ties), using a
 * binary heap with lazily dropped stale entries. A byte with no token of its own is dropped,
 * as llama.cpp drops it. */
#include "tokenizer/bpe.h"

#include <stdlib.h>

typedef struct heap_ent {
    uint32_t prio, pos; /* pos: index of the left symbol (fixed for its life) */
} heap_ent;

static inline int ent_less(heap_ent a, heap_ent b) {
    return a.prio < b.prio || (a.prio == b.prio && a.pos < b.pos);
}

static void heap_push(heap_ent *h, size_t *n, heap_ent e) {
    size_t i = (*n)++;
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (!ent_less(e, h[up])) break;
        h[i] = h[up];
        i = up;
    }
    h[i] = e;
}

static heap_ent heap_pop(heap_ent *h, size_t *n) {
    heap_ent top = h[0], last = h[--(*n)];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && ent_less(h[c + 1], h[c])) c++;
        if (!ent_less(h[c], last)) break;
        h[i] = h[c];
        i = c;
    }
    if (*n) h[i] = last;
    return top;
}

typedef struct enc {
    const nemo_bpe *b;
    int32_t *ids;
    size_t cap, cnt;
    /* scratch, grown as needed */
    void *work;
    size_t work_cap;
    char *gtext; /* a word spelled in token-string form (ignore_merges look-up) */
    size_t gtext_cap;
} enc;

static void put(enc *e, int32_t id) {
    if (e->cnt < e->cap) e->ids[e->cnt] = id;
    e->cnt++;
}

#define NONE UINT32_MAX

/* The pending merge of symbol i with its right neighbour: its priority, result in *res. */
static uint32_t pair_prio(const nemo_bpe *b, const int32_t *id, const uint32_t *next, uint32_t n,
                          uint32_t i, int32_t *res) {
    uint32_t j = next[i];
    if (j >= n || id[i] < 0 || id[j] < 0) return NONE;
    const nemo_bpe_merge *m = nemo_bpe_find_merge(b, id[i], id[j]);
    if (!m) return NONE;
    *res = m->res;
    return m->prio;
}

/* The id of the token that is the whole word, -1 if none, -2 if out of memory. */
static int32_t whole_word(enc *e, const uint8_t *w, size_t n) {
    if (e->gtext_cap < 2 * n) {
        char *g = realloc(e->gtext, 2 * n);
        if (!g) return -2;
        e->gtext = g;
        e->gtext_cap = 2 * n;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t cp = nemo_bpe_byte_cp(w[i]);
        if (cp < 0x80) {
            e->gtext[k++] = (char)cp;
        } else {
            e->gtext[k++] = (char)(0xC0 | (cp >> 6));
            e->gtext[k++] = (char)(0x80 | (cp & 0x3F));
        }
    }
    return nemo_bpe_lookup(e->b, e->gtext, k);
}

static int word_cb(void *user, const uint8_t *w, size_t n) {
    enc *e = user;
    const nemo_bpe *b = e->b;
    if (n == 1) {
        if (b->byte_id[w[0]] >= 0) put(e, b->byte_id[w[0]]);
        return 0;
    }
    if (b->ignore_merges) {
        int32_t id = whole_word(e, w, n);
        if (id == -2) return -1;
        if (id >= 0) {
            put(e, id);
            return 0;
        }
    }
    if (n > UINT32_MAX / 4) return -1;
    /* per symbol: token id, next symbol, previous symbol, pending pair priority and result;
     * then the heap (one live entry per symbol, each merge pushes at most two) */
    size_t need = n * (2 * sizeof(int32_t) + 3 * sizeof(uint32_t)) + 3 * n * sizeof(heap_ent);
    if (need > e->work_cap) {
        void *p = realloc(e->work, need);
        if (!p) return -1;
        e->work = p;
        e->work_cap = need;
    }
    uint32_t m = (uint32_t)n;
    int32_t *id = e->work, *res = id + n;
    uint32_t *next = (uint32_t *)(res + n), *prev = next + n, *prio = prev + n;
    heap_ent *h = (heap_ent *)(prio + n);
    size_t hn = 0;
    for (uint32_t i = 0; i < m; i++) {
        id[i] = b->byte_id[w[i]];
        next[i] = i + 1;
        prev[i] = i - 1; /* NONE for the first */
    }
    for (uint32_t i = 0; i < m; i++) {
        prio[i] = pair_prio(b, id, next, m, i, &res[i]);
        if (prio[i] != NONE) heap_push(h, &hn, (heap_ent){prio[i], i});
    }
    while (hn) {
        heap_ent top = heap_pop(h, &hn);
        uint32_t i = top.pos;
        if (id[i] == -2 || prio[i] != top.prio) continue; /* merged away or changed: stale */
        uint32_t j = next[i];
        id[i] = res[i];
        id[j] = -2;
        next[i] = next[j];
        if (next[i] < m) prev[next[i]] = i;
        prio[i] = pair_prio(b, id, next, m, i, &res[i]);
        if (prio[i] != NONE) heap_push(h, &hn, (heap_ent){prio[i], i});
        if (prev[i] != NONE) {
            uint32_t a = prev[i];
            prio[a] = pair_prio(b, id, next, m, a, &res[a]);
            if (prio[a] != NONE) heap_push(h, &hn, (heap_ent){prio[a], a});
        }
    }
    for (uint32_t i = 0; i < m; i = next[i])
        if (id[i] >= 0) put(e, id[i]);
    return 0;
}

/* Fragments of the text: [off, off + len) raw text, or a USER_DEFINED token. */
typedef struct frag {
    size_t off, len;
    int32_t token; /* -1: raw text */
} frag;

static const uint8_t *find(const uint8_t *h, size_t hn, const char *nd, size_t nn) {
    if (nn == 0 || nn > hn) return NULL;
    for (const uint8_t *p = h; (p = memchr(p, (uint8_t)nd[0], hn - (size_t)(p - h)));) {
        if (hn - (size_t)(p - h) < nn) return NULL;
        if (!memcmp(p, nd, nn)) return p;
        p++;
    }
    return NULL;
}

/* Cuts every USER_DEFINED token out of the raw fragments (llama.cpp's tokenizer_st_partition
 * with parse_special=false). *fr is malloc'd. */
static int partition(const nemo_bpe *b, const uint8_t *s, size_t n, frag **fr, size_t *nf) {
    size_t cap = 8, k = 1;
    frag *f = malloc(cap * sizeof *f);
    if (!f) return -1;
    f[0] = (frag){0, n, -1};
    for (int32_t u = 0; u < b->n_user; u++) {
        int32_t tok = b->user[u];
        const char *t = b->text + b->toff[tok];
        size_t tl = b->tlen[tok];
        for (size_t i = 0; i < k; i++) {
            if (f[i].token >= 0) continue;
            const uint8_t *p = find(s + f[i].off, f[i].len, t, tl);
            if (!p) continue;
            /* replace f[i] by left, token, right (right is searched again next iteration) */
            size_t at = (size_t)(p - s), end = f[i].off + f[i].len;
            frag left = {f[i].off, at - f[i].off, -1}, right = {at + tl, end - at - tl, -1};
            size_t add = (left.len > 0) + (right.len > 0);
            if (k + add > cap) {
                cap = 2 * (k + add);
                frag *nf2 = realloc(f, cap * sizeof *f);
                if (!nf2) {
                    free(f);
                    return -1;
                }
                f = nf2;
            }
            memmove(f + i + 1 + add, f + i + 1, (k - i - 1) * sizeof *f);
            k += add;
            size_t w = i;
            if (left.len) f[w++] = left;
            f[w++] = (frag){at, tl, tok};
            if (right.len) f[w] = right;
            i = w - 1; /* the loop's i++ lands on right */
        }
    }
    *fr = f;
    *nf = k;
    return 0;
}

nemo_status nemo_bpe_encode(const nemo_bpe *b, const char *text, size_t len, int32_t bos,
                            int32_t eos, int32_t *ids, size_t cap, size_t *n_out, nemo_error *err) {
    *n_out = 0;
    if (!text && len) return nemo_fail(err, NEMO_ERR_ARG, "gguf encode: text is NULL");
    enc e = {.b = b, .ids = ids, .cap = cap};
    if (bos >= 0) put(&e, bos);
    const uint8_t *s = (const uint8_t *)text;
    frag one = {0, len, -1}, *fr = &one;
    size_t nf = 1;
    int fail = b->n_user && len ? partition(b, s, len, &fr, &nf) : 0;
    for (size_t i = 0; i < nf && !fail; i++) {
        if (fr[i].token >= 0)
            put(&e, fr[i].token);
        else
            fail = nemo_bpe_pretok(b->pre, s + fr[i].off, fr[i].len, word_cb, &e);
    }
    if (fr != &one) free(fr);
    free(e.work);
    free(e.gtext);
    if (fail) return nemo_fail(err, NEMO_ERR_NOMEM, "gguf encode: out of memory");
    if (eos >= 0) put(&e, eos);
    *n_out = e.cnt;
    if (e.cnt > cap)
        return nemo_fail(err, NEMO_ERR_FULL, "gguf encode: %zu ids do not fit in %zu", e.cnt, cap);
    return NEMO_OK;
}
