/* tokenizer.c — the public tokenizer API of nemo.h: picks the tokenizer kind from a path
 * (tekken.json, tokenizer.model*, a .gguf, or a model folder holding one of the first two) and
 * forwards each call to the Tekken (tekken_*.c), SentencePiece (spm*.c) or GGUF byte-level BPE
 * (bpe_*.c) implementation. A GGUF "llama" vocabulary is a SentencePiece model of kind GGUF. */
#include "tokenizer/tokenizer_impl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

static nemo_status open_file(const char *path, nemo_tokenizer *t, nemo_error *err) {
    const char *base = nemo_basename(path);
    if (ends_with(base, ".gguf")) {
        t->kind = NEMO_TOKENIZER_GGUF;
        return nemo_gguf_vocab_open(path, t, err);
    }
    int spm = strstr(base, ".model") != NULL;
    if (!spm && !ends_with(base, ".json")) {
        /* unknown name: a JSON object is a Tekken file, anything else a protobuf */
        FILE *f = fopen(path, "rb");
        if (!f) return nemo_fail(err, NEMO_ERR_IO, "%s: cannot open", path);
        int c;
        while ((c = fgetc(f)) == ' ' || c == '\n' || c == '\r' || c == '\t') {
        }
        fclose(f);
        spm = c != '{';
    }
    if (spm) {
        t->kind = NEMO_TOKENIZER_SPM;
        return nemo_spm_open(path, &t->spm, err);
    }
    t->kind = NEMO_TOKENIZER_TEKKEN;
    return nemo_tekken_open(path, &t->tekken, err);
}

nemo_status nemo_tokenizer_open(const char *path, nemo_tokenizer **out, nemo_error *err) {
    if (!out || !path) return nemo_fail(err, NEMO_ERR_ARG, "tokenizer: NULL path or out");
    *out = NULL;
    struct stat sb;
    if (stat(path, &sb)) return nemo_fail(err, NEMO_ERR_IO, "%s: no such file or folder", path);
    nemo_tokenizer *t = calloc(1, sizeof *t);
    if (!t) return nemo_fail(err, NEMO_ERR_NOMEM, "tokenizer: out of memory");
    nemo_status st;
    if (S_ISDIR(sb.st_mode)) {
        /* preference order of the model folder (spec 3, issue 3) */
        static const char *const names[] = {"tekken.json", "tokenizer.model.v3",
                                            "tokenizer.model.v2", "tokenizer.model.v1",
                                            "tokenizer.model"};
        char p[4096];
        st = nemo_fail(err, NEMO_ERR_MISSING,
                       "%s: no tokenizer in this folder (looked for tekken.json, "
                       "tokenizer.model.v3, .v2, .v1, tokenizer.model)",
                       path);
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            if (nemo_path_join(p, sizeof p, path, names[i])) {
                st = nemo_fail(err, NEMO_ERR_ARG, "%s: path too long", path);
                break;
            }
            if (nemo_file_exists(p)) {
                st = open_file(p, t, err);
                break;
            }
        }
    } else {
        st = open_file(path, t, err);
    }
    if (st) {
        nemo_tokenizer_free(t);
        return st;
    }
    *out = t;
    return NEMO_OK;
}

void nemo_tokenizer_free(nemo_tokenizer *t) {
    if (!t) return;
    nemo_tekken_free(t->tekken);
    nemo_spm_free(t->spm);
    nemo_bpe_free(t->bpe);
    free(t->chat_template);
    free(t);
}

nemo_tokenizer_kind nemo_tokenizer_get_kind(const nemo_tokenizer *t) {
    return t->kind;
}

int nemo_tokenizer_vocab_size(const nemo_tokenizer *t) {
    if (t->bpe) return t->bpe->n;
    if (t->spm) return nemo_spm_vocab_size(t->spm);
    return (int)(t->tekken->n_special + t->tekken->n_ranks);
}

int32_t nemo_tokenizer_bos_id(const nemo_tokenizer *t) {
    if (t->kind == NEMO_TOKENIZER_GGUF) return t->bos_id;
    return t->kind == NEMO_TOKENIZER_SPM ? nemo_spm_bos_id(t->spm) : t->tekken->bos_id;
}

int32_t nemo_tokenizer_eos_id(const nemo_tokenizer *t) {
    if (t->kind == NEMO_TOKENIZER_GGUF) return t->eos_id;
    return t->kind == NEMO_TOKENIZER_SPM ? nemo_spm_eos_id(t->spm) : t->tekken->eos_id;
}

int nemo_tokenizer_add_bos(const nemo_tokenizer *t) {
    return t->kind == NEMO_TOKENIZER_GGUF ? t->add_bos && t->bos_id >= 0 : 1;
}

int nemo_tokenizer_add_eos(const nemo_tokenizer *t) {
    return t->kind == NEMO_TOKENIZER_GGUF ? t->add_eos && t->eos_id >= 0 : 0;
}

const char *nemo_tokenizer_chat_template(const nemo_tokenizer *t) {
    return t->chat_template; /* Tekken and SentencePiece files carry none */
}

int32_t nemo_tokenizer_special_id(const nemo_tokenizer *t, const char *name) {
    if (!name) return -1;
    if (t->bpe) {
        int32_t id = nemo_bpe_lookup(t->bpe, name, strlen(name));
        return id >= 0 &&
                       (t->bpe->type[id] == NEMO_TT_CONTROL || t->bpe->type[id] == NEMO_TT_UNKNOWN)
                   ? id
                   : -1;
    }
    if (t->spm) {
        int32_t id = nemo_spm_piece_id(t->spm, name);
        return id >= 0 && nemo_spm_is_control(t->spm, id) ? id : -1;
    }
    for (uint32_t i = 0; i < t->tekken->n_special; i++)
        if (!strcmp(t->tekken->special_name[i], name)) return (int32_t)i;
    return -1;
}

int nemo_tokenizer_is_special(const nemo_tokenizer *t, int32_t id) {
    if (id < 0 || id >= nemo_tokenizer_vocab_size(t)) return 0;
    if (t->bpe) return t->bpe->type[id] == NEMO_TT_CONTROL || t->bpe->type[id] == NEMO_TT_UNKNOWN;
    if (t->spm) return nemo_spm_is_control(t->spm, id);
    return (uint32_t)id < t->tekken->n_special;
}

nemo_status nemo_tokenizer_encode(const nemo_tokenizer *t, const char *text, size_t len,
                                  int add_bos, int add_eos, int32_t *ids, size_t cap, size_t *n_out,
                                  nemo_error *err) {
    if (!t || !n_out || (cap && !ids))
        return nemo_fail(err, NEMO_ERR_ARG, "encode: NULL tokenizer, ids or n_out");
    if (t->kind == NEMO_TOKENIZER_GGUF &&
        ((add_bos && t->bos_id < 0) || (add_eos && t->eos_id < 0))) {
        *n_out = 0;
        return nemo_fail(err, NEMO_ERR_ARG, "encode: this GGUF vocabulary names no %s token",
                         add_bos && t->bos_id < 0 ? "BOS" : "EOS");
    }
    if (t->bpe)
        return nemo_bpe_encode(t->bpe, text, len, add_bos ? t->bos_id : -1,
                               add_eos ? t->eos_id : -1, ids, cap, n_out, err);
    if (t->spm) return nemo_spm_encode(t->spm, text, len, add_bos, add_eos, ids, cap, n_out, err);
    return nemo_tekken_encode(t->tekken, text, len, add_bos, add_eos, ids, cap, n_out, err);
}

const uint8_t *nemo_tokenizer_piece_bytes(const nemo_tokenizer *t, int32_t id, size_t *len,
                                          int *special) {
    if (id < 0 || id >= nemo_tokenizer_vocab_size(t)) return NULL;
    if (t->bpe) {
        const nemo_bpe *b = t->bpe;
        *special = b->type[id] == NEMO_TT_CONTROL || b->type[id] == NEMO_TT_UNKNOWN;
        *len = b->plen[id];
        return b->piece + b->poff[id];
    }
    if (t->spm) {
        *special = nemo_spm_is_control(t->spm, id);
        return (const uint8_t *)nemo_spm_piece_bytes(t->spm, id, len);
    }
    const nemo_tekken *k = t->tekken;
    if ((uint32_t)id < k->n_special) {
        *special = 1;
        *len = k->special_len[id];
        return (const uint8_t *)k->special_name[id];
    }
    uint32_t r = (uint32_t)id - k->n_special;
    *special = 0;
    *len = k->off[r + 1] - k->off[r];
    return k->bytes + k->off[r];
}

const char *nemo_tokenizer_piece(const nemo_tokenizer *t, int32_t id, size_t *len) {
    size_t l = 0;
    int special;
    const uint8_t *p = nemo_tokenizer_piece_bytes(t, id, &l, &special);
    if (len) *len = l;
    return (const char *)p;
}
