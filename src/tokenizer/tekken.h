/* tekken.h — the Tekken tokenizer (tekken.json, tiktoken-style byte-level BPE): the boundary
 * between its parts (loader, pre-tokenizer, BPE encoder, decoder) and the tokenizer front
 * (tokenizer.c), which wraps it as a nemo_tokenizer of kind NEMO_TOKENIZER_TEKKEN. */
#ifndef NEMO_TEKKEN_H
#define NEMO_TEKKEN_H

#include "core/core.h"

#define NEMO_TEKKEN_NO_RANK UINT32_MAX

typedef struct nemo_tekken {
    /* ordinary tokens: rank r has bytes bytes[off[r] .. off[r + 1]); id = r + n_special */
    uint32_t n_ranks;
    uint8_t *bytes;   /* [off[n_ranks]] */
    uint32_t *off;    /* [n_ranks + 1] */
    uint32_t max_len; /* longest ordinary token, bytes */
    uint32_t *rank2;  /* [65536] rank of every 2-byte string (index b0 | b1 << 8), or NO_RANK:
                       * the first round of every BPE looks up only such pairs, and this 256 KiB
                       * table stays in cache where the hash table does not */
    /* open-addressing hash of byte strings -> rank (linear probing, load <= 1/2) */
    struct nemo_tekken_slot *slots; /* [mask + 1] */
    uint32_t mask;
    /* special tokens: ids 0 .. n_special-1 */
    uint32_t n_special;
    char **special_name;    /* [n_special], NUL-terminated UTF-8 */
    uint32_t *special_len;  /* [n_special] */
    int32_t bos_id, eos_id; /* -1 when the file names no "<s>" / "</s>" */
    char version[8];        /* "v3", ... */
} nemo_tekken;

/* Loads and validates a tekken.json held in memory (name is used in error messages). */
nemo_status nemo_tekken_load(const char *json, size_t len, const char *name, nemo_tekken **out,
                             nemo_error *err);
nemo_status nemo_tekken_open(const char *path, nemo_tekken **out, nemo_error *err);
void nemo_tekken_free(nemo_tekken *t);

/* A hash slot keeps the token's first 8 bytes inline (zero-padded), so the lookups BPE makes
 * (almost all of at most 8 bytes) touch one cache line instead of slot -> offset -> bytes:
 * that chain was half of the encoder's time in profiles. */
typedef struct nemo_tekken_slot {
    uint64_t head; /* first min(len, 8) bytes, little-endian, zero-padded */
    uint32_t len;  /* 0 = empty slot */
    uint32_t rank;
} nemo_tekken_slot;

/* The first min(n, 8) bytes of p as a zero-padded little-endian word, in at most two loads
 * (overlapping loads OR the same byte onto itself). Never reads outside p[0..n). */
static inline uint64_t nemo_tekken_head(const uint8_t *p, size_t n) {
    uint64_t w;
    if (n >= 8) {
        memcpy(&w, p, 8);
        return w;
    }
    if (n >= 4) {
        uint32_t lo, hi;
        memcpy(&lo, p, 4);
        memcpy(&hi, p + n - 4, 4);
        return (uint64_t)lo | ((uint64_t)hi << (8 * (n - 4)));
    }
    if (n >= 2) {
        uint16_t lo, hi;
        memcpy(&lo, p, 2);
        memcpy(&hi, p + n - 2, 2);
        return (uint64_t)lo | ((uint64_t)hi << (8 * (n - 2)));
    }
    return n ? p[0] : 0;
}

static inline uint32_t nemo_tekken_hash(const uint8_t *p, size_t n, uint64_t head) {
    uint64_t h = (head ^ ((uint64_t)n << 56)) * 0x9E3779B97F4A7C15ull;
    for (size_t i = 8; i < n; i += 8) {
        /* the tail of long keys: whole words, the last one overlapping */
        uint64_t w;
        memcpy(&w, p + (i + 8 <= n ? i : n - 8), 8);
        h = (h ^ (h >> 29) ^ w) * 0xBF58476D1CE4E5B9ull;
    }
    return (uint32_t)(h >> 32);
}

/* Table lookup of p[0..n) (n >= 3) given its head and hash. */
static inline uint32_t nemo_tekken_rank_hashed(const nemo_tekken *t, const uint8_t *p, size_t n,
                                               uint64_t head, uint32_t hash) {
    uint32_t i = hash & t->mask;
    for (;;) {
        const nemo_tekken_slot *s = &t->slots[i];
        if (!s->len) return NEMO_TEKKEN_NO_RANK;
        if (s->head == head && s->len == n &&
            (n <= 8 || !memcmp(t->bytes + t->off[s->rank] + 8, p + 8, n - 8)))
            return s->rank;
        i = (i + 1) & t->mask;
    }
}

/* Rank of the byte string p[0..n), or NEMO_TEKKEN_NO_RANK. */
static inline uint32_t nemo_tekken_rank(const nemo_tekken *t, const uint8_t *p, size_t n) {
    if (n == 1) return p[0]; /* ranks 0..255 are the single bytes (checked at load) */
    if (n == 2) return t->rank2[p[0] | (uint32_t)p[1] << 8];
    if (n > t->max_len) return NEMO_TEKKEN_NO_RANK;
    uint64_t head = nemo_tekken_head(p, n);
    return nemo_tekken_rank_hashed(t, p, n, head, nemo_tekken_hash(p, n, head));
}

/* End (byte offset) of the pre-token that starts at i < n in the valid UTF-8 text s[0..n):
 * the next match of the Tekken pattern (config.pattern) as tiktoken's find_iter yields it. */
size_t nemo_tekken_pretok_next(const uint8_t *s, size_t n, size_t i);

/* Scratch of one encode call: heap-BPE arrays (realloc'd as needed) and an optional lookup
 * cache (lc, NULL = none). Zero-initialize; release with nemo_tekken_work_free. */
typedef struct nemo_tekken_lc_ent nemo_tekken_lc_ent;
typedef struct nemo_tekken_work {
    void *heap;
    size_t heap_cap;
    nemo_tekken_lc_ent *lc;
} nemo_tekken_work;
void nemo_tekken_work_free(nemo_tekken_work *w);
/* Allocates w's lookup cache (worth it for long texts). Returns 0, or -1 (then no cache). */
int nemo_tekken_work_cache(nemo_tekken_work *w);

/* BPE of one pre-token (n >= 1 bytes) into ranks (room for n entries). Returns the number of
 * ranks, or -1 on allocation failure. small_limit: pieces up to this many bytes use the
 * quadratic scan tiktoken uses, longer ones a heap (same result; tests compare them). */
long nemo_tekken_bpe(const nemo_tekken *t, const uint8_t *p, size_t n, uint32_t *ranks,
                     nemo_tekken_work *w, size_t small_limit);
#define NEMO_TEKKEN_SMALL_PIECE 64

/* Same contract as nemo_tokenizer_encode. */
nemo_status nemo_tekken_encode(const nemo_tekken *t, const char *text, size_t len, int add_bos,
                               int add_eos, int32_t *ids, size_t cap, size_t *n_out,
                               nemo_error *err);

#endif
