/* spm_gguf.c — a SentencePiece model (spm_internal.h) built from a GGUF "llama" vocabulary
 * (Mistral 7B GGUFs): pieces from tokenizer.ggml.tokens, scores from tokenizer.ggml.scores,
 * types from tokenizer.ggml.token_type (llama.cpp's numbering is sentencepiece's), byte
 * fallback when <0xNN> BYTE pieces exist, and llama.cpp's normalizer settings
 * (tokenizer.ggml.add_space_prefix, default true; remove_extra_whitespaces, default false). */
#include "checkpoint/gguf.h"
#include "tokenizer/spm_internal.h"

#include <stdlib.h>

nemo_status nemo_spm_from_gguf(const nemo_gguf *g, const nemo_gguf_array *tokens,
                               const nemo_gguf_array *types, int32_t bos, int32_t eos, int32_t unk,
                               nemo_spm **out, nemo_error *err) {
    *out = NULL;
    nemo_gguf_array sc;
    nemo_status st = nemo_gguf_get_floats(g, "tokenizer.ggml.scores", &sc, err);
    if (st == NEMO_ERR_MISSING)
        return nemo_fail(err, NEMO_ERR_FORMAT,
                         "%s: key 'tokenizer.ggml.scores' is missing (a llama vocabulary needs "
                         "its piece scores)",
                         g->name);
    if (st) return st;
    if (sc.count != tokens->count)
        return nemo_fail(err, NEMO_ERR_FORMAT,
                         "%s: key 'tokenizer.ggml.scores': %llu entries for %llu tokens", g->name,
                         (unsigned long long)sc.count, (unsigned long long)tokens->count);
    int add_prefix = 1, remove_ws = 0;
    if (nemo_gguf_find(g, "tokenizer.ggml.add_space_prefix") &&
        (st = nemo_gguf_get_bool(g, "tokenizer.ggml.add_space_prefix", &add_prefix, err)))
        return st;
    if (nemo_gguf_find(g, "tokenizer.ggml.remove_extra_whitespaces") &&
        (st = nemo_gguf_get_bool(g, "tokenizer.ggml.remove_extra_whitespaces", &remove_ws, err)))
        return st;
    size_t n = (size_t)tokens->count;
    const char **str = malloc(n * sizeof *str);
    size_t *len = malloc(n * sizeof *len);
    float *score = malloc(n * sizeof *score);
    uint8_t *type = malloc(n);
    if (!str || !len || !score || !type) {
        st = nemo_fail(err, NEMO_ERR_NOMEM, "%s: out of memory", g->name);
        goto done;
    }
    int byte_fallback = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t l;
        str[i] = nemo_gguf_arr_str(tokens, i, &l);
        len[i] = (size_t)l;
        score[i] = (float)nemo_gguf_arr_float(&sc, i);
        int64_t t = types ? nemo_gguf_arr_int(types, i) : NEMO_SPM_NORMAL;
        if (t < NEMO_SPM_NORMAL || t > NEMO_SPM_BYTE) {
            st = nemo_fail(err, NEMO_ERR_FORMAT,
                           "%s: key 'tokenizer.ggml.token_type': token %zu has type %lld, "
                           "expected 1..6",
                           g->name, i, (long long)t);
            goto done;
        }
        type[i] = (uint8_t)t;
        byte_fallback |= t == NEMO_SPM_BYTE;
    }
    nemo_spm_settings set = {.add_dummy_prefix = add_prefix,
                             .remove_extra_ws = remove_ws,
                             .escape_ws = 1,
                             .byte_fallback = byte_fallback,
                             .raw_utf8 = 1};
    st = nemo_spm_from_pieces(g->name, (int32_t)n, str, len, score, type, &set, out, err);
    if (!st) {
        nemo_spm *s = *out;
        if (unk >= 0 && s->type[unk] != NEMO_SPM_UNKNOWN) {
            st = nemo_fail(err, NEMO_ERR_FORMAT,
                           "%s: key 'tokenizer.ggml.unknown_token_id': token %d is not of type "
                           "UNKNOWN",
                           g->name, (int)unk);
            nemo_spm_free(s);
            *out = NULL;
        } else {
            s->bos_id = bos;
            s->eos_id = eos;
        }
    }
done:
    free(str);
    free(len);
    free(score);
    free(type);
    return st;
}
