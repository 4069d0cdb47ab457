/* tekken_encode.c — Tekken encoding (spec 3.3): UTF-8 repair of the input, pre-tokenization
 * (tekken_pretok.c), then for each pre-token either its own rank (the common case: one hash
 * lookup) or rank-based BPE, exactly as tiktoken's byte_pair_merge: repeatedly merge the
 * adjacent pair whose concatenation has the lowest rank, leftmost first. Ids are rank +
 * n_special. No allocation unless the input has invalid UTF-8 or a pre-token is longer than
 * NEMO_TEKKEN_SMALL_PIECE bytes. */
#include "tokenizer/merge_heap.h"
#include "tokenizer/tekken.h"
#include "tokenizer/unicode.h"

#include <stdlib.h>
#include <string.h>

#define SMALL_MAX 256 /* stack arrays of bpe_small */

/* Lookup cache: BPE asks for the same short byte strings over and over (the pairs of a
 * script's common characters), and the vocabulary's hash table (4 MiB) misses the CPU caches;
 * a direct-mapped 128 KiB cache of recent answers (hits and misses alike) for strings of 3..8
 * bytes makes most lookups L2 hits. Profiles: this is what makes long non-Latin pieces (Thai,
 * Tamil, Japanese) faster than tiktoken, whose lookups all go to its big hash map. */
#define LC_SLOTS 8192
struct nemo_tekken_lc_ent {
    uint64_t head;
    uint32_t len; /* 0 = empty */
    uint32_t rank;
};

static inline uint32_t rank_of(const nemo_tekken *t, nemo_tekken_lc_ent *lc, const uint8_t *p,
                               size_t n) {
    if (n <= 2) return n == 1 ? p[0] : t->rank2[p[0] | (uint32_t)p[1] << 8];
    if (n > t->max_len) return NEMO_TEKKEN_NO_RANK;
    uint64_t head = nemo_tekken_head(p, n);
    if (!lc || n > 8) return nemo_tekken_rank_hashed(t, p, n, head, nemo_tekken_hash(p, n, head));
    nemo_tekken_lc_ent *e =
        &lc[((head ^ (head >> 31)) * 0x9E3779B97F4A7C15ull + n) >> 51 & (LC_SLOTS - 1)];
    if (e->len == n && e->head == head) return e->rank;
    uint32_t r = nemo_tekken_rank_hashed(t, p, n, head, nemo_tekken_hash(p, n, head));
    *e = (nemo_tekken_lc_ent){head, (uint32_t)n, r};
    return r;
}

int nemo_tekken_work_cache(nemo_tekken_work *w) {
    if (!w->lc) w->lc = calloc(LC_SLOTS, sizeof *w->lc);
    return w->lc ? 0 : -1;
}

void nemo_tekken_work_free(nemo_tekken_work *w) {
    free(w->heap);
    free(w->lc);
    w->heap = NULL;
    w->lc = NULL;
    w->heap_cap = 0;
}

/* tiktoken's algorithm: O(n^2) but with tiny constants for the short pieces that dominate. */
static long bpe_small(const nemo_tekken *t, nemo_tekken_lc_ent *lc, const uint8_t *p, size_t n,
                      uint32_t *out) {
    uint32_t start[SMALL_MAX + 1], pair[SMALL_MAX + 1], part[SMALL_MAX + 1];
    size_t cnt = n + 1; /* number of boundaries; parts are [start[i], start[i+1]) */
    for (size_t i = 0; i <= n; i++) start[i] = (uint32_t)i;
    for (size_t i = 0; i < n; i++) part[i] = p[i];
    for (size_t i = 0; i + 1 < n; i++) pair[i] = rank_of(t, lc, p + i, 2);
    pair[n - 1] = NEMO_TEKKEN_NO_RANK;
    for (;;) {
        uint32_t best = NEMO_TEKKEN_NO_RANK;
        size_t bi = 0;
        for (size_t i = 0; i + 1 < cnt; i++)
            if (pair[i] < best) {
                best = pair[i];
                bi = i;
            }
        if (best == NEMO_TEKKEN_NO_RANK) break;
        /* merge part bi with part bi+1: boundary bi+1 disappears */
        size_t tail = cnt - bi - 2;
        memmove(start + bi + 1, start + bi + 2, tail * sizeof *start);
        memmove(pair + bi + 1, pair + bi + 2, tail * sizeof *pair);
        memmove(part + bi + 1, part + bi + 2, tail * sizeof *part);
        cnt--;
        part[bi] = best;
        pair[bi] = bi + 2 < cnt ? rank_of(t, lc, p + start[bi], start[bi + 2] - start[bi])
                                : NEMO_TEKKEN_NO_RANK;
        if (bi > 0) pair[bi - 1] = rank_of(t, lc, p + start[bi - 1], start[bi + 1] - start[bi - 1]);
    }
    for (size_t i = 0; i + 1 < cnt; i++) out[i] = part[i];
    return (long)(cnt - 1);
}

/* Long pieces: a doubly linked list of parts and a binary min-heap of candidate merges keyed
 * by (rank, start offset); entries made stale by a merge are skipped when popped. Picks the
 * same merge as the scan above at every step (lowest rank, then leftmost), so same result. */
static long bpe_heap(const nemo_tekken *t, nemo_tekken_work *w, const uint8_t *p, size_t n,
                     uint32_t *out) {
    nemo_tekken_lc_ent *lc = w->lc;
    /* per byte position: end of the part starting there (0 = not a part start), the part's
     * rank, the previous part start, the pending pair rank; plus the heap (at most one live
     * entry per position, and each merge pushes at most two) */
    size_t need = n * 4 * sizeof(uint32_t) + 3 * n * sizeof(nemo_merge_ent);
    if (need > w->heap_cap) {
        void *s = realloc(w->heap, need);
        if (!s) return -1;
        w->heap = s;
        w->heap_cap = need;
    }
    uint32_t *end = w->heap, *part = end + n, *prev = part + n, *pair = prev + n;
    nemo_merge_ent *h = (nemo_merge_ent *)(pair + n);
    size_t hn = 0;
    for (size_t i = 0; i < n; i++) {
        end[i] = (uint32_t)i + 1;
        part[i] = p[i];
        prev[i] = (uint32_t)i - 1; /* UINT32_MAX for the first */
        pair[i] = i + 1 < n ? rank_of(t, lc, p + i, 2) : NEMO_TEKKEN_NO_RANK;
        if (pair[i] != NEMO_TEKKEN_NO_RANK)
            nemo_merge_push(h, &hn, (nemo_merge_ent){pair[i], (uint32_t)i});
    }
    while (hn) {
        nemo_merge_ent e = nemo_merge_pop(h, &hn);
        uint32_t i = e.pos;
        if (!end[i] || pair[i] != e.key) continue; /* stale */
        uint32_t j = end[i];                       /* right part */
        end[i] = end[j];
        end[j] = 0;
        part[i] = e.key;
        if (end[i] < n) prev[end[i]] = i;
        pair[i] = end[i] < n ? rank_of(t, lc, p + i, end[end[i]] - i) : NEMO_TEKKEN_NO_RANK;
        if (pair[i] != NEMO_TEKKEN_NO_RANK) nemo_merge_push(h, &hn, (nemo_merge_ent){pair[i], i});
        if (i > 0) {
            uint32_t a = prev[i];
            pair[a] = rank_of(t, lc, p + a, end[i] - a);
            if (pair[a] != NEMO_TEKKEN_NO_RANK)
                nemo_merge_push(h, &hn, (nemo_merge_ent){pair[a], a});
        }
    }
    long k = 0;
    for (uint32_t i = 0; i < n; i = end[i]) out[k++] = part[i];
    return k;
}

long nemo_tekken_bpe(const nemo_tekken *t, const uint8_t *p, size_t n, uint32_t *ranks,
                     nemo_tekken_work *w, size_t small_limit) {
    if (small_limit > SMALL_MAX) small_limit = SMALL_MAX;
    if (n <= small_limit) return bpe_small(t, w->lc, p, n, ranks);
    return bpe_heap(t, w, p, n, ranks);
}

/* Per-call memo of pre-tokens that needed BPE: natural text repeats its words, and a word's
 * BPE costs tens of table lookups where the memo costs one compare. Direct-mapped, keyed by the
 * piece's hash; a hit is confirmed by comparing bytes with the piece's first occurrence in the
 * text itself (which lives for the whole call). Only used for texts of MEMO_MIN_TEXT bytes or
 * more, so short calls allocate nothing. */
#define MEMO_SLOTS    4096
#define MEMO_MIN_TEXT 2048
typedef struct memo_ent {
    uint32_t len; /* 0 = empty */
    uint32_t text_off, out_off, n_out;
} memo_ent;
typedef struct memo {
    memo_ent *ent;   /* [MEMO_SLOTS] */
    uint32_t *ranks; /* arena of cached results */
    size_t n, cap;
} memo;

static const memo_ent *memo_find(const memo *m, const uint8_t *text, size_t off, size_t len,
                                 uint32_t hash) {
    const memo_ent *e = &m->ent[hash & (MEMO_SLOTS - 1)];
    if (e->len == len && !memcmp(text + e->text_off, text + off, len)) return e;
    return NULL;
}

static void memo_put(memo *m, size_t off, size_t len, uint32_t hash, const uint32_t *r, size_t k) {
    if (len > UINT32_MAX || off > UINT32_MAX) return;
    if (m->n + k > m->cap) {
        size_t nc = m->cap ? m->cap * 2 : 4096;
        while (nc < m->n + k) nc *= 2;
        if (nc > UINT32_MAX) return;
        uint32_t *nr = realloc(m->ranks, nc * sizeof *nr);
        if (!nr) return; /* the memo is optional */
        m->ranks = nr;
        m->cap = nc;
    }
    memcpy(m->ranks + m->n, r, k * sizeof *r);
    m->ent[hash & (MEMO_SLOTS - 1)] =
        (memo_ent){(uint32_t)len, (uint32_t)off, (uint32_t)m->n, (uint32_t)k};
    m->n += k;
}

nemo_status nemo_tekken_encode(const nemo_tekken *t, const char *text, size_t len, int add_bos,
                               int add_eos, int32_t *ids, size_t cap, size_t *n_out,
                               nemo_error *err) {
    *n_out = 0;
    if (!text && len) return nemo_fail(err, NEMO_ERR_ARG, "tekken encode: text is NULL");
    if ((add_bos && t->bos_id < 0) || (add_eos && t->eos_id < 0))
        return nemo_fail(err, NEMO_ERR_ARG, "tekken encode: the tokenizer has no %s token",
                         add_bos && t->bos_id < 0 ? "<s> (BOS)" : "</s> (EOS)");
    const uint8_t *s = (const uint8_t *)text;
    uint8_t *fixed = NULL;
    size_t n = len, valid = len ? nemo_utf8_valid_prefix(s, len) : 0;
    if (valid < len) {
        fixed = nemo_utf8_replace_invalid(s, len, valid, &n);
        if (!fixed) return nemo_fail(err, NEMO_ERR_NOMEM, "tekken encode: out of memory");
        s = fixed;
    }
    size_t cnt = 0;
#define EMIT(x)                                                                                    \
    do {                                                                                           \
        if (cnt < cap) ids[cnt] = (int32_t)(x);                                                    \
        cnt++;                                                                                     \
    } while (0)
    if (add_bos) EMIT(t->bos_id);
    uint32_t small[SMALL_MAX];
    uint32_t *big = NULL;
    size_t big_cap = 0;
    nemo_tekken_work work = {0};
    nemo_status st = NEMO_OK;
    memo mm = {0};
    if (n >= MEMO_MIN_TEXT) { /* NULL: no memo / no cache, still correct */
        mm.ent = calloc(MEMO_SLOTS, sizeof *mm.ent);
        nemo_tekken_work_cache(&work);
    }
    for (size_t i = 0; i < n;) {
        size_t e = nemo_tekken_pretok_next(s, n, i), pl = e - i;
        uint32_t r, hash = 0;
        if (pl <= 2) {
            r = nemo_tekken_rank(t, s + i, pl);
        } else {
            uint64_t head = nemo_tekken_head(s + i, pl);
            hash = nemo_tekken_hash(s + i, pl, head);
            r = pl <= t->max_len ? nemo_tekken_rank_hashed(t, s + i, pl, head, hash)
                                 : NEMO_TEKKEN_NO_RANK;
        }
        const memo_ent *me;
        if (r != NEMO_TEKKEN_NO_RANK) {
            EMIT(r + t->n_special);
        } else if (mm.ent && (me = memo_find(&mm, s, i, pl, hash))) {
            for (uint32_t q = 0; q < me->n_out; q++) EMIT(mm.ranks[me->out_off + q] + t->n_special);
        } else {
            uint32_t *buf = small;
            if (e - i > SMALL_MAX) {
                if (e - i > big_cap) {
                    uint32_t *nb = realloc(big, (e - i) * sizeof *big);
                    if (!nb) {
                        st = nemo_fail(err, NEMO_ERR_NOMEM, "tekken encode: out of memory");
                        break;
                    }
                    big = nb;
                    big_cap = e - i;
                }
                buf = big;
            }
            long k = nemo_tekken_bpe(t, s + i, e - i, buf, &work, NEMO_TEKKEN_SMALL_PIECE);
            if (k < 0) {
                st = nemo_fail(err, NEMO_ERR_NOMEM, "tekken encode: out of memory");
                break;
            }
            for (long q = 0; q < k; q++) EMIT(buf[q] + t->n_special);
            if (mm.ent) memo_put(&mm, i, pl, hash, buf, (size_t)k);
        }
        i = e;
    }
    if (!st && add_eos) EMIT(t->eos_id);
#undef EMIT
    free(mm.ent);
    free(mm.ranks);
    free(fixed);
    free(big);
    nemo_tekken_work_free(&work);
    if (st) return st;
    *n_out = cnt;
    if (cnt > cap)
        return nemo_fail(err, NEMO_ERR_FULL, "tekken encode: %zu ids do not fit in %zu", cnt, cap);
    return NEMO_OK;
}
