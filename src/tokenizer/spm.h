/* spm.h — SentencePiece tokenizers of the Mistral 7B family (tokenizer.model.v1/v2/v3): the
 * boundary between the SentencePiece module (spm*.c) and the tokenizer front (tokenizer.c),
 * which wraps it as a nemo_tokenizer of kind NEMO_TOKENIZER_SPM. */
#ifndef NEMO_SPM_H
#define NEMO_SPM_H

#include "core/core.h"

typedef struct nemo_spm nemo_spm;

/* Parses a SentencePiece ModelProto file (.model). *out is owned by the caller. */
nemo_status nemo_spm_open(const char *path, nemo_spm **out, nemo_error *err);
/* Same, from bytes in memory (used by the fuzz target); the bytes are not kept. */
nemo_status nemo_spm_open_bytes(const uint8_t *data, size_t len, const char *name, nemo_spm **out,
                                nemo_error *err);
/* Builds one from a GGUF "llama" vocabulary (spm_gguf.c): tokens, token types (NULL = all
 * normal), tokenizer.ggml.scores and the add_space_prefix / remove_extra_whitespaces flags of
 * g; bos/eos/unk ids as the GGUF names them (-1 = none). */
struct nemo_gguf;
struct nemo_gguf_array;
nemo_status nemo_spm_from_gguf(const struct nemo_gguf *g, const struct nemo_gguf_array *tokens,
                               const struct nemo_gguf_array *types, int32_t bos, int32_t eos,
                               int32_t unk, nemo_spm **out, nemo_error *err);
void nemo_spm_free(nemo_spm *s);
int nemo_spm_vocab_size(const nemo_spm *s);
int32_t nemo_spm_bos_id(const nemo_spm *s);
int32_t nemo_spm_eos_id(const nemo_spm *s);
/* Id of a piece by its exact string (e.g. "[INST]", "<s>"), or -1. */
int32_t nemo_spm_piece_id(const nemo_spm *s, const char *piece);
/* The piece's sentencepiece type: 1 normal, 2 unknown, 3 control, 4 user-defined, 6 byte;
 * 0 if id is invalid. (Decoding applies the special policy to control pieces only: <unk>
 * decodes as " \u2047 " like sentencepiece, and mistral-common's special_ids are the controls.) */
int nemo_spm_piece_type(const nemo_spm *s, int32_t id);
/* Non-zero for control/unknown pieces (never produced from text except <unk>). */
int nemo_spm_is_control(const nemo_spm *s, int32_t id);
/* The piece's text form (e.g. "▁Hello", "<0x0A>"). Borrowed; NULL if id is invalid. */
const char *nemo_spm_piece(const nemo_spm *s, int32_t id, size_t *len);
/* Same contract as nemo_tokenizer_encode (ids equal sentencepiece's encode as mistral-common
 * calls it). */
nemo_status nemo_spm_encode(const nemo_spm *s, const char *text, size_t len, int add_bos,
                            int add_eos, int32_t *ids, size_t cap, size_t *n_out, nemo_error *err);
/* The bytes id contributes to decoded text when it follows other text: '▁' becomes ' ', byte
 * pieces <0xAB> become the byte, control pieces yield their name (the caller applies the special
 * policy). Borrowed; NULL if id is invalid. */
const char *nemo_spm_piece_bytes(const nemo_spm *s, int32_t id, size_t *len);
/* Same contract as nemo_tokenizer_decode (equal to sentencepiece's decode, which drops the
 * leading space of the first piece). */
nemo_status nemo_spm_decode(const nemo_spm *s, const int32_t *ids, size_t n, int policy, char *out,
                            size_t cap, size_t *n_out, nemo_error *err);

#endif
