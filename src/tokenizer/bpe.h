/* bpe.h — byte-level BPE vocabularies embedded in GGUF files (tokenizer.ggml.model = "gpt2"):
 * the boundary between the loader (bpe_load.c), the pre-tokenizers (bpe_pretok.c), the encoder
 * (bpe_encode.c) and the tokenizer front (tokenizer.c, kind NEMO_TOKENIZER_GGUF).
 *
 * Tokens are stored as GPT-2 byte-to-unicode strings; merges "A B" give the merge priority by
 * their order. Encoding follows llama.cpp's llama_tokenize(..., parse_special=false):
 * USER_DEFINED tokens are cut out of the text first (longest first), CONTROL tokens never come
 * from text, each remaining fragment is pre-tokenized with the named pre-tokenizer and every
 * word is BPE-merged, lowest merge rank first and leftmost on ties. */
#ifndef NEMO_BPE_H
#define NEMO_BPE_H

#include "checkpoint/gguf.h"

/* llama.cpp token types (tokenizer.ggml.token_type) */
enum {
    NEMO_TT_UNDEFINED = 0,
    NEMO_TT_NORMAL = 1,
    NEMO_TT_UNKNOWN = 2,
    NEMO_TT_CONTROL = 3,
    NEMO_TT_USER_DEFINED = 4,
    NEMO_TT_UNUSED = 5,
    NEMO_TT_BYTE = 6,
};

/* Named pre-tokenizers (tokenizer.ggml.pre) this build implements. */
typedef enum nemo_bpe_pre {
    NEMO_BPE_PRE_GPT2 = 0, /* "gpt2", "gpt-2" (and "default" files written by old converters) */
    NEMO_BPE_PRE_SMOLLM,   /* "smollm": each \p{N} alone, then the GPT-2 pattern */
    NEMO_BPE_PRE_TEKKEN,   /* "tekken": Mistral NeMo's pattern (tekken_pretok.c) */
} nemo_bpe_pre;

typedef struct nemo_bpe_merge {
    uint64_t key;  /* left id << 32 | right id; 0 with res < 0 = empty slot */
    uint32_t prio; /* merge priority: lower merges first */
    int32_t res;   /* id of the merged token, -1 = empty slot */
} nemo_bpe_merge;

typedef struct nemo_bpe {
    int32_t n;      /* tokens; ids 0..n-1 */
    uint8_t *type;  /* [n] NEMO_TT_* */
    char *text;     /* arena: the token strings as stored (NUL-terminated) */
    uint32_t *toff; /* [n] offset of token i in text */
    uint32_t *tlen; /* [n] */
    uint8_t *piece; /* arena: the bytes each token decodes to */
    uint32_t *poff; /* [n] */
    uint32_t *plen; /* [n] */
    int32_t *htab;  /* open-addressing hash: stored string -> id (-1 empty) */
    uint32_t hmask;
    nemo_bpe_merge *merges; /* open-addressing hash of merges (load <= 1/2) */
    uint32_t mmask;
    int32_t byte_id[256]; /* id of the token spelling one byte, or -1 */
    int32_t *user;        /* USER_DEFINED ids, longest first (cut out of text before BPE) */
    int32_t n_user;
    nemo_bpe_pre pre;
    int ignore_merges; /* a word that is a whole token is that token (llama.cpp: tekken) */
} nemo_bpe;

/* Builds the vocabulary from tokenizer.ggml.tokens (tokens), token_type (types, NULL = all
 * NORMAL; same length, checked by the caller) and tokenizer.ggml.merges of g. */
nemo_status nemo_bpe_load(const nemo_gguf *g, const nemo_gguf_array *tokens,
                          const nemo_gguf_array *types, nemo_bpe_pre pre, nemo_bpe **out,
                          nemo_error *err);
/* Id of the token stored as s[0..n), or -1. */
int32_t nemo_bpe_lookup(const nemo_bpe *b, const char *s, size_t n);
/* The merge of left and right ids, or NULL. */
const nemo_bpe_merge *nemo_bpe_find_merge(const nemo_bpe *b, int32_t left, int32_t right);
void nemo_bpe_free(nemo_bpe *b);

/* GPT-2's byte-to-unicode map: the code point that stands for byte c in token strings. */
uint32_t nemo_bpe_byte_cp(uint8_t c);

/* Pre-tokenization of one fragment: calls emit(word bytes) for each word in order. Returns
 * nonzero (from emit or on allocation failure) to stop. */
typedef int (*nemo_bpe_emit)(void *user, const uint8_t *word, size_t n);
int nemo_bpe_pretok(nemo_bpe_pre pre, const uint8_t *s, size_t n, nemo_bpe_emit emit, void *user);

/* Same contract as nemo_tokenizer_encode. */
nemo_status nemo_bpe_encode(const nemo_bpe *b, const char *text, size_t len, int32_t bos,
                            int32_t eos, int32_t *ids, size_t cap, size_t *n_out, nemo_error *err);

#endif
