/* frag.c — the fragment list of frag.h: USER_DEFINED tokens cut out of GGUF-vocabulary text. */
#include "tokenizer/frag.h"

#include <stdlib.h>
#include <string.h>

int nemo_frags_init(nemo_frags *fs, size_t len) {
    fs->cap = 8;
    fs->n = 1;
    fs->f = malloc(fs->cap * sizeof *fs->f);
    if (!fs->f) return -1;
    fs->f[0] = (nemo_frag){0, len, -1};
    return 0;
}

void nemo_frags_free(nemo_frags *fs) {
    free(fs->f);
    *fs = (nemo_frags){0};
}

/* The first occurrence of nd[0..nn) in h[0..hn), or NULL. */
static const char *find(const char *h, size_t hn, const char *nd, size_t nn) {
    if (nn == 0 || nn > hn) return NULL;
    for (const char *p = h; (p = memchr(p, nd[0], hn - (size_t)(p - h)));) {
        if (hn - (size_t)(p - h) < nn) return NULL;
        if (!memcmp(p, nd, nn)) return p;
        p++;
    }
    return NULL;
}

int nemo_frags_cut(nemo_frags *fs, const char *text, const char *piece, size_t pl, int32_t id) {
    for (size_t i = 0; i < fs->n; i++) {
        nemo_frag *f = fs->f;
        if (f[i].id >= 0) continue;
        const char *hit = find(text + f[i].off, f[i].len, piece, pl);
        if (!hit) continue;
        /* replace f[i] by left, token, right (right is searched again next iteration) */
        size_t at = (size_t)(hit - text), end = f[i].off + f[i].len;
        nemo_frag left = {f[i].off, at - f[i].off, -1}, right = {at + pl, end - at - pl, -1};
        size_t add = (left.len > 0) + (right.len > 0);
        if (fs->n + add > fs->cap) {
            size_t cap = 2 * (fs->n + add);
            nemo_frag *nf = realloc(f, cap * sizeof *f);
            if (!nf) return -1;
            fs->f = f = nf;
            fs->cap = cap;
        }
        memmove(f + i + 1 + add, f + i + 1, (fs->n - i - 1) * sizeof *f);
        fs->n += add;
        size_t w = i;
        if (left.len) f[w++] = left;
        f[w++] = (nemo_frag){at, pl, id};
        if (right.len) f[w] = right;
        i = w - 1; /* the loop's i++ lands on right */
    }
    return 0;
}
