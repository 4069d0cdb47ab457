/* tokenizer_impl.h — the nemo_tokenizer object behind the public tokenizer API (tokenizer.c)
 * and the UTF-8 output helpers its decoders share (decode.c, detok.c). */
#ifndef NEMO_TOKENIZER_IMPL_H
#define NEMO_TOKENIZER_IMPL_H

#include "tokenizer/bpe.h"
#include "tokenizer/spm.h"
#include "tokenizer/tekken.h"

struct nemo_tokenizer {
    nemo_tokenizer_kind kind;
    nemo_tekken *tekken; /* kind TEKKEN */
    nemo_spm *spm;       /* kind SPM, or GGUF with tokenizer.ggml.model "llama" */
    nemo_bpe *bpe;       /* kind GGUF with tokenizer.ggml.model "gpt2" */
    /* kind GGUF: what the metadata says (-1: none) */
    char *chat_template; /* tokenizer.chat_template, NUL-terminated, or NULL */
    int32_t bos_id, eos_id, unk_id, pad_id;
    int add_bos, add_eos; /* tokenizer.ggml.add_bos_token / add_eos_token (llama.cpp defaults) */
};

/* Loads the vocabulary of an opened GGUF into t (kind GGUF; gguf_vocab.c). */
nemo_status nemo_gguf_vocab_load(const nemo_gguf *g, nemo_tokenizer *t, nemo_error *err);
nemo_status nemo_gguf_vocab_open(const char *path, nemo_tokenizer *t, nemo_error *err);

/* Bytes id contributes to decoded text and whether it is special/control. NULL if invalid. */
const uint8_t *nemo_tokenizer_piece_bytes(const nemo_tokenizer *t, int32_t id, size_t *len,
                                          int *special);

/* Output buffer that counts the full length even past cap. */
typedef struct nemo_outbuf {
    char *p;
    size_t cap, len;
} nemo_outbuf;

static inline void nemo_outbuf_put(nemo_outbuf *o, const void *s, size_t n) {
    if (o->p && o->len < o->cap) {
        size_t k = o->cap - o->len < n ? o->cap - o->len : n;
        memcpy(o->p + o->len, s, k);
    }
    o->len += n;
}

/* Writes s[0..n) to o with invalid UTF-8 replaced by U+FFFD (Python's errors="replace").
 * If final is 0, a trailing sequence that is a valid but incomplete prefix is not written;
 * the return value is the number of bytes consumed (n minus that held-back tail, <= 3). */
size_t nemo_utf8_repair(const uint8_t *s, size_t n, int final, nemo_outbuf *o);

#endif
