/* gguf_vocab.c — opens the vocabulary embedded in a GGUF file as a nemo_tokenizer of kind
 * NEMO_TOKENIZER_GGUF: reads the tokenizer.* metadata common to every model (token list and
 * types, special ids, add_bos / add_eos, chat template), checks it, and hands the rest to the
 * byte-level BPE loader (tokenizer.ggml.model "gpt2", bpe_load.c) or the SentencePiece builder
 * ("llama", spm_gguf.c). Defaults follow llama.cpp 0.3.36's llama_vocab::load. */
#include "checkpoint/gguf.h"
#include "tokenizer/tokenizer_impl.h"

#include <stdlib.h>

static int str_is(const char *s, uint64_t n, const char *want) {
    return n == strlen(want) && !memcmp(s, want, n);
}

/* An optional token id key: -1 (or dflt) when absent, an error when not an id of the vocab. */
static nemo_status opt_id(const nemo_gguf *g, const char *key, int32_t n, int32_t dflt,
                          int32_t *out, nemo_error *err) {
    *out = dflt;
    if (!nemo_gguf_find(g, key)) return NEMO_OK;
    uint32_t v;
    nemo_status st = nemo_gguf_get_u32(g, key, &v, err);
    if (st) return st;
    if (v >= (uint32_t)n)
        return nemo_fail(err, NEMO_ERR_FORMAT, "%s: key '%s': token id %u, expected 0..%d", g->name,
                         key, v, (int)n - 1);
    *out = (int32_t)v;
    return NEMO_OK;
}

static nemo_status opt_bool(const nemo_gguf *g, const char *key, int *out, nemo_error *err) {
    if (!nemo_gguf_find(g, key)) return NEMO_OK;
    return nemo_gguf_get_bool(g, key, out, err);
}

nemo_status nemo_gguf_vocab_load(const nemo_gguf *g, nemo_tokenizer *t, nemo_error *err) {
    const char *model, *pre = NULL;
    uint64_t model_len, pre_len = 0;
    nemo_status st = nemo_gguf_get_str(g, "tokenizer.ggml.model", &model, &model_len, err);
    if (st == NEMO_ERR_MISSING)
        return nemo_fail(err, NEMO_ERR_MISSING,
                         "%s: no vocabulary in this GGUF (key 'tokenizer.ggml.model' is missing)",
                         g->name);
    if (st) return st;
    int is_bpe = str_is(model, model_len, "gpt2"), is_spm = str_is(model, model_len, "llama");
    if (!is_bpe && !is_spm)
        return nemo_fail(err, NEMO_ERR_UNSUPPORTED,
                         "%s: key 'tokenizer.ggml.model' is '%.*s'; supported: 'gpt2' (byte-level "
                         "BPE), 'llama' (SentencePiece)",
                         g->name, (int)(model_len < 64 ? model_len : 64), model);
    nemo_bpe_pre pre_kind = NEMO_BPE_PRE_GPT2;
    if (is_bpe) {
        st = nemo_gguf_get_str(g, "tokenizer.ggml.pre", &pre, &pre_len, err);
        if (st == NEMO_ERR_MISSING)
            return nemo_fail(err, NEMO_ERR_UNSUPPORTED,
                             "%s: key 'tokenizer.ggml.pre' is missing: llama.cpp's 'default' "
                             "pre-tokenizer is not supported (supported: smollm, gpt-2, tekken)",
                             g->name);
        if (st) return st;
        if (str_is(pre, pre_len, "smollm"))
            pre_kind = NEMO_BPE_PRE_SMOLLM;
        else if (str_is(pre, pre_len, "tekken"))
            pre_kind = NEMO_BPE_PRE_TEKKEN;
        else if (!str_is(pre, pre_len, "gpt-2") && !str_is(pre, pre_len, "gpt2"))
            return nemo_fail(err, NEMO_ERR_UNSUPPORTED,
                             "%s: key 'tokenizer.ggml.pre': pre-tokenizer '%.*s' is not supported "
                             "(supported: smollm, gpt-2, tekken)",
                             g->name, (int)(pre_len < 64 ? pre_len : 64), pre);
    }

    nemo_gguf_array tok, types = {0};
    if ((st = nemo_gguf_get_strings(g, "tokenizer.ggml.tokens", &tok, err))) return st;
    if (tok.count == 0 || tok.count > INT32_MAX / 2)
        return nemo_fail(err, NEMO_ERR_FORMAT,
                         "%s: key 'tokenizer.ggml.tokens': %llu tokens, expected 1..%d", g->name,
                         (unsigned long long)tok.count, INT32_MAX / 2);
    int32_t n = (int32_t)tok.count;
    int have_types = nemo_gguf_find(g, "tokenizer.ggml.token_type") != NULL;
    if (have_types) {
        if ((st = nemo_gguf_get_ints(g, "tokenizer.ggml.token_type", &types, err))) return st;
        if (types.count != tok.count)
            return nemo_fail(err, NEMO_ERR_FORMAT,
                             "%s: key 'tokenizer.ggml.token_type': %llu entries for %d tokens",
                             g->name, (unsigned long long)types.count, (int)n);
    }

    /* special ids and flags: llama.cpp's defaults per model, then the file's keys */
    t->add_bos = is_spm || pre_kind == NEMO_BPE_PRE_TEKKEN;
    t->add_eos = 0;
    if ((st = opt_id(g, "tokenizer.ggml.bos_token_id", n, is_spm && n > 1 ? 1 : -1, &t->bos_id,
                     err)) ||
        (st = opt_id(g, "tokenizer.ggml.eos_token_id", n, is_spm && n > 2 ? 2 : -1, &t->eos_id,
                     err)) ||
        (st = opt_id(g, "tokenizer.ggml.unknown_token_id", n, is_spm ? 0 : -1, &t->unk_id, err)) ||
        (st = opt_id(g, "tokenizer.ggml.padding_token_id", n, -1, &t->pad_id, err)) ||
        (st = opt_bool(g, "tokenizer.ggml.add_bos_token", &t->add_bos, err)) ||
        (st = opt_bool(g, "tokenizer.ggml.add_eos_token", &t->add_eos, err)))
        return st;
    if (nemo_gguf_find(g, "tokenizer.chat_template")) {
        const char *tpl;
        uint64_t tl;
        if ((st = nemo_gguf_get_str(g, "tokenizer.chat_template", &tpl, &tl, err))) return st;
        t->chat_template = malloc(tl + 1);
        if (!t->chat_template) return nemo_fail(err, NEMO_ERR_NOMEM, "gguf vocab: out of memory");
        memcpy(t->chat_template, tpl, tl);
        t->chat_template[tl] = 0;
    }
    if (is_spm)
        return nemo_spm_from_gguf(g, &tok, have_types ? &types : NULL, t->bos_id, t->eos_id,
                                  t->unk_id, &t->spm, err);
    return nemo_bpe_load(g, &tok, have_types ? &types : NULL, pre_kind, &t->bpe, err);
}

nemo_status nemo_gguf_vocab_open(const char *path, nemo_tokenizer *t, nemo_error *err) {
    nemo_gguf *g;
    nemo_status st = nemo_gguf_open(path, &g, err);
    if (st) return st;
    st = nemo_gguf_vocab_load(g, t, err);
    nemo_gguf_free(g); /* everything the tokenizer keeps was copied */
    return st;
}
