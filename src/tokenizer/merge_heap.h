/* merge_heap.h — the binary min-heap of candidate merges shared by the two rank-based BPE loops
 * (bpe_encode.c: GGUF merge priorities; tekken_encode.c: tiktoken ranks). An entry is keyed by
 * (key, pos): lowest key first, then leftmost, the merge order both reference implementations
 * use. The caller owns the storage, sized for the worst case (one live entry per symbol and at
 * most two pushes per merge: 3 n entries), and skips the entries a merge made stale when it pops
 * them. Static inline because it is the inner loop of encoding. The loops themselves stay apart:
 * one merges token ids through a merge table, the other byte spans through a rank lookup. */
#ifndef NEMO_TOKENIZER_MERGE_HEAP_H
#define NEMO_TOKENIZER_MERGE_HEAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct nemo_merge_ent {
    uint32_t key; /* merge priority or rank: lower merges first */
    uint32_t pos; /* the left symbol (fixed for its life): breaks ties, leftmost first */
} nemo_merge_ent;

static inline int nemo_merge_less(nemo_merge_ent a, nemo_merge_ent b) {
    return a.key < b.key || (a.key == b.key && a.pos < b.pos);
}

static inline void nemo_merge_push(nemo_merge_ent *h, size_t *n, nemo_merge_ent e) {
    size_t i = (*n)++;
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (!nemo_merge_less(e, h[up])) break;
        h[i] = h[up];
        i = up;
    }
    h[i] = e;
}

/* Removes and returns the least entry; *n must be > 0. */
static inline nemo_merge_ent nemo_merge_pop(nemo_merge_ent *h, size_t *n) {
    nemo_merge_ent top = h[0], last = h[--(*n)];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= *n) break;
        if (c + 1 < *n && nemo_merge_less(h[c + 1], h[c])) c++;
        if (!nemo_merge_less(h[c], last)) break;
        h[i] = h[c];
        i = c;
    }
    if (*n) h[i] = last;
    return top;
}

#endif
