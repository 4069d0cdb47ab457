/* frag.h — cutting USER_DEFINED tokens out of a text before BPE, as llama.cpp's
 * tokenizer_st_partition does with parse_special=false, for both kinds of GGUF vocabulary
 * (bpe_encode.c for "gpt2", spm_encode.c for "llama"): the text becomes a list of fragments,
 * each raw text or one token. The callers own the order the tokens are cut in (longest first). */
#ifndef NEMO_TOKENIZER_FRAG_H
#define NEMO_TOKENIZER_FRAG_H

#include <stddef.h>
#include <stdint.h>

typedef struct nemo_frag {
    size_t off, len; /* bytes [off, off + len) of the text */
    int32_t id;      /* the token, or -1: raw text */
} nemo_frag;

typedef struct nemo_frags {
    nemo_frag *f; /* malloc'd */
    size_t n, cap;
} nemo_frags;

/* One raw fragment: the whole text of len bytes. Returns 0, or -1 when out of memory. */
int nemo_frags_init(nemo_frags *fs, size_t len);
/* Replaces every occurrence of piece[0..pl) (pl > 0) in the raw fragments of text, left to
 * right, by a fragment of token id. Returns 0, or -1 when out of memory (fs stays valid). */
int nemo_frags_cut(nemo_frags *fs, const char *text, const char *piece, size_t pl, int32_t id);
void nemo_frags_free(nemo_frags *fs);

#endif
