/* bpe_encode.c — encoding with a GGUF byte-level BPE vocabulary (bpe.h), as llama.cpp's
 * llama_tokenize(..., parse_special=false): USER_DEFINED tokens are cut out of the text first
 * (each in turn, longest first, every occurrence left to right), then every remaining fragment
 * is pre-tokenized (bpe_pretok.c) and each word is merged: start from one symbol per byte,
 * repeatedly merge the adjacent pair with the lowest merge priority (leftmost on ties), using a
 * binary heap with lazily dropped stale entries. A byte with no token of its own is dropped,
 * as llama.cpp drops it. */
#include "tokenizer/bpe.h"
#include "tokenizer/frag.h"
#include "tokenizer/merge_heap.h"

#include <stdlib.h>

/* Per-call memo of merged words: natural text repeats its words, and merging one costs tens
 * of hash look-ups where the memo costs one compare. Direct-mapped by the word's hash; words and
 * their ids are copied into arenas (bounded: when full, words are merged without memo). Only
 * for texts of MEMO_MIN_TEXT bytes or more, so short calls allocate nothing. */
#define MEMO_SLOTS     4096
#define MEMO_MIN_TEXT  2048
#define MEMO_MAX_ARENA (1u << 22)
typedef struct memo_ent {
    uint64_t hash;
    uint32_t len, boff, ioff, n; /* len 0 = empty */
} memo_ent;

typedef struct enc {
    const nemo_bpe *b;
    int32_t *ids;
    size_t cap, cnt;
    /* scratch, grown as needed */
    void *work;
    size_t work_cap;
    char *gtext; /* a word spelled in token-string form (ignore_merges look-up) */
    size_t gtext_cap;
    memo_ent *memo; /* [MEMO_SLOTS] or NULL */
    uint8_t *mbytes;
    int32_t *mids;
    size_t mb_n, mb_cap, mi_n, mi_cap;
} enc;

static uint64_t word_hash(const uint8_t *w, size_t n) {
    uint64_t h = 0xcbf29ce484222325ull ^ n;
    for (size_t i = 0; i < n; i++) h = (h ^ w[i]) * 0x100000001b3ull;
    return h;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem) {
    if (need <= *cap) return 0;
    size_t c = *cap ? *cap : 4096;
    while (c < need) c *= 2;
    void *q = realloc(*p, c * elem);
    if (!q) return -1;
    *p = q;
    *cap = c;
    return 0;
}

/* Remembers that word w (n bytes) merges to ids[0..k); best effort. */
static void memo_put(enc *e, memo_ent *slot, uint64_t hash, const uint8_t *w, size_t n,
                     const int32_t *ids, size_t k) {
    if (e->mb_n + n > MEMO_MAX_ARENA || e->mi_n + k > MEMO_MAX_ARENA) return;
    if (grow((void **)&e->mbytes, &e->mb_cap, e->mb_n + n, 1) ||
        grow((void **)&e->mids, &e->mi_cap, e->mi_n + k, sizeof *e->mids))
        return;
    memcpy(e->mbytes + e->mb_n, w, n);
    memcpy(e->mids + e->mi_n, ids, k * sizeof *ids);
    *slot = (memo_ent){hash, (uint32_t)n, (uint32_t)e->mb_n, (uint32_t)e->mi_n, (uint32_t)k};
    e->mb_n += n;
    e->mi_n += k;
}

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
    memo_ent *slot = NULL;
    uint64_t hash = 0;
    if (e->memo) {
        hash = word_hash(w, n);
        slot = &e->memo[hash & (MEMO_SLOTS - 1)];
        if (slot->len == n && slot->hash == hash && !memcmp(e->mbytes + slot->boff, w, n)) {
            for (uint32_t q = 0; q < slot->n; q++) put(e, e->mids[slot->ioff + q]);
            return 0;
        }
    }
    /* per symbol: token id, next symbol, previous symbol, pending pair priority and result;
     * then the heap (one live entry per symbol, each merge pushes at most two) */
    size_t need = n * (2 * sizeof(int32_t) + 3 * sizeof(uint32_t)) + 3 * n * sizeof(nemo_merge_ent);
    if (need > e->work_cap) {
        void *p = realloc(e->work, need);
        if (!p) return -1;
        e->work = p;
        e->work_cap = need;
    }
    uint32_t m = (uint32_t)n;
    int32_t *id = e->work, *res = id + n;
    uint32_t *next = (uint32_t *)(res + n), *prev = next + n, *prio = prev + n;
    nemo_merge_ent *h = (nemo_merge_ent *)(prio + n);
    size_t hn = 0;
    for (uint32_t i = 0; i < m; i++) {
        id[i] = b->byte_id[w[i]];
        next[i] = i + 1;
        prev[i] = i - 1; /* NONE for the first */
    }
    for (uint32_t i = 0; i < m; i++) {
        prio[i] = pair_prio(b, id, next, m, i, &res[i]);
        if (prio[i] != NONE) nemo_merge_push(h, &hn, (nemo_merge_ent){prio[i], i});
    }
    while (hn) {
        nemo_merge_ent top = nemo_merge_pop(h, &hn);
        uint32_t i = top.pos;
        if (id[i] == -2 || prio[i] != top.key) continue; /* merged away or changed: stale */
        uint32_t j = next[i];
        id[i] = res[i];
        id[j] = -2;
        next[i] = next[j];
        if (next[i] < m) prev[next[i]] = i;
        prio[i] = pair_prio(b, id, next, m, i, &res[i]);
        if (prio[i] != NONE) nemo_merge_push(h, &hn, (nemo_merge_ent){prio[i], i});
        if (prev[i] != NONE) {
            uint32_t a = prev[i];
            prio[a] = pair_prio(b, id, next, m, a, &res[a]);
            if (prio[a] != NONE) nemo_merge_push(h, &hn, (nemo_merge_ent){prio[a], a});
        }
    }
    size_t k = 0; /* the result, compacted into res[] (free now) */
    for (uint32_t i = 0; i < m; i = next[i])
        if (id[i] >= 0) res[k++] = id[i];
    for (size_t q = 0; q < k; q++) put(e, res[q]);
    if (slot) memo_put(e, slot, hash, w, n, res, k);
    return 0;
}

/* Cuts every USER_DEFINED token out of the text (b->user is longest first). */
static int partition(const nemo_bpe *b, const char *s, size_t n, nemo_frags *fs) {
    if (nemo_frags_init(fs, n)) return -1;
    for (int32_t u = 0; u < b->n_user; u++) {
        int32_t tok = b->user[u];
        if (nemo_frags_cut(fs, s, b->text + b->toff[tok], b->tlen[tok], tok)) return -1;
    }
    return 0;
}

nemo_status nemo_bpe_encode(const nemo_bpe *b, const char *text, size_t len, int32_t bos,
                            int32_t eos, int32_t *ids, size_t cap, size_t *n_out, nemo_error *err) {
    *n_out = 0;
    if (!text && len) return nemo_fail(err, NEMO_ERR_ARG, "gguf encode: text is NULL");
    enc e = {.b = b, .ids = ids, .cap = cap};
    if (len >= MEMO_MIN_TEXT) e.memo = calloc(MEMO_SLOTS, sizeof *e.memo); /* NULL: no memo */
    if (bos >= 0) put(&e, bos);
    const uint8_t *s = (const uint8_t *)text;
    nemo_frag one = {0, len, -1};
    nemo_frags fs = {&one, 1, 1}; /* no USER_DEFINED tokens: the whole text, no allocation */
    int fail = 0;
    if (b->n_user && len) fail = partition(b, text, len, &fs);
    for (size_t i = 0; i < fs.n && !fail; i++) {
        if (fs.f[i].id >= 0)
            put(&e, fs.f[i].id);
        else
            fail = nemo_bpe_pretok(b->pre, s + fs.f[i].off, fs.f[i].len, word_cb, &e);
    }
    if (fs.f != &one) nemo_frags_free(&fs);
    free(e.work);
    free(e.gtext);
    free(e.memo);
    free(e.mbytes);
    free(e.mids);
    if (fail) return nemo_fail(err, NEMO_ERR_NOMEM, "gguf encode: out of memory");
    if (eos >= 0) put(&e, eos);
    *n_out = e.cnt;
    if (e.cnt > cap)
        return nemo_fail(err, NEMO_ERR_FULL, "gguf encode: %zu ids do not fit in %zu", e.cnt, cap);
    return NEMO_OK;
}
