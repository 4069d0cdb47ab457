/* spm_internal.h — the in-memory SentencePiece model shared by the loader (spm_load.c), the
 * encoder (spm_encode.c) and the decoder (spm_decode.c). Not visible outside src/tokenizer. */
#ifndef NEMO_SPM_INTERNAL_H
#define NEMO_SPM_INTERNAL_H

#include "tokenizer/spm.h"

/* ModelProto.SentencePiece.Type values (sentencepiece_model.proto). */
enum {
    NEMO_SPM_NORMAL = 1,
    NEMO_SPM_UNKNOWN = 2,
    NEMO_SPM_CONTROL = 3,
    NEMO_SPM_USER_DEFINED = 4,
    NEMO_SPM_UNUSED = 5,
    NEMO_SPM_BYTE = 6,
};

struct nemo_spm {
    int32_t n;         /* number of pieces (ids are 0..n-1) */
    char *arena;       /* piece strings, then decode surfaces; each NUL-terminated */
    uint32_t *off;     /* [n] piece string offset in arena */
    uint32_t *len;     /* [n] piece string length */
    uint32_t *surf;    /* [n] decode surface offset in arena (see nemo_spm_piece_bytes) */
    uint32_t *surflen; /* [n] decode surface length */
    float *score;      /* [n] merge priority: higher merges first */
    uint8_t *type;     /* [n] NEMO_SPM_* */

    /* Open-addressing hash of every piece string -> id (duplicates are rejected at load, so one
     * table serves both of sentencepiece's maps: normal pieces and reserved ones). */
    int32_t *htab;
    uint32_t hmask;
    uint32_t max_piece_len; /* no merge can produce a longer piece: skips hopeless look-ups */

    int32_t unk_id; /* the one UNKNOWN piece */
    int32_t bos_id; /* id of trainer_spec.bos_piece if it is a CONTROL piece, else -1 */
    int32_t eos_id;
    int32_t byte_id[256]; /* id of "<0xXX>", or unk_id when absent (as PieceToId does) */

    int byte_fallback;    /* trainer_spec.byte_fallback */
    int add_dummy_prefix; /* normalizer_spec.add_dummy_prefix */
    int remove_extra_ws;  /* normalizer_spec.remove_extra_whitespaces */
    int escape_ws;        /* normalizer_spec.escape_whitespaces */
    int raw_utf8;         /* invalid UTF-8 bytes stay bytes (llama.cpp, GGUF vocabularies)
                           * instead of becoming U+FFFD (sentencepiece) */

    /* USER_DEFINED pieces: matched greedily (longest first) from text before BPE, never split. */
    int32_t n_user;
    int32_t *user_ids;
    uint8_t user_first[32]; /* bitset of the first bytes of user-defined pieces */
};

/* Normalizer / trainer settings given directly (GGUF vocabularies have no ModelProto). */
typedef struct nemo_spm_settings {
    int add_dummy_prefix, remove_extra_ws, escape_ws, byte_fallback, raw_utf8;
} nemo_spm_settings;

/* Builds a model from piece arrays (n pieces: strings str[i] of len[i] bytes, scores, types
 * NEMO_SPM_*), with the checks and tables of a .model file. name is used in messages. */
nemo_status nemo_spm_from_pieces(const char *name, int32_t n, const char *const *str,
                                 const size_t *len, const float *score, const uint8_t *type,
                                 const nemo_spm_settings *set, nemo_spm **out, nemo_error *err);

/* Id of the piece spelled by s[0..len), or -1. */
int32_t nemo_spm_lookup(const nemo_spm *s, const char *str, size_t len);

static inline const char *nemo_spm_str(const nemo_spm *s, int32_t id) {
    return s->arena + s->off[id];
}

#endif
