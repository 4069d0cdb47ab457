/* vocab_gguf.c — tekken.json as a GGUF vocabulary, byte for byte what llama.cpp's converter
 * (gguf-py vocab.py, MistralVocab._tekken_tokens and extract_vocab_merges_from_model) writes
 * for Mistral NeMo, so llama.cpp loads our files with its "tekken" pre-tokenizer. */
#include "quantize/quantize.h"
#include "tokenizer/tekken.h"

#include <stdlib.h>

/* GPT-2's bytes_to_unicode: printable Latin-1 bytes map to themselves, the other 68 bytes to
 * U+0100.. in byte order; cs[b] is the UTF-8 of byte b's character (1 or 2 bytes). */
typedef struct {
    char cs[256][2];
    uint8_t len[256];
} byte_chars;

static void byte_chars_init(byte_chars *t) {
    int n = 0;
    for (int c = 0; c < 256; c++) {
        int keep = (c >= '!' && c <= '~') || (c >= 0xA1 && c <= 0xAC) || (c >= 0xAE);
        uint32_t cp = keep ? (uint32_t)c : (uint32_t)(256 + n++);
        if (cp < 0x80) {
            t->cs[c][0] = (char)cp;
            t->len[c] = 1;
        } else {
            t->cs[c][0] = (char)(0xC0 | (cp >> 6));
            t->cs[c][1] = (char)(0x80 | (cp & 0x3F));
            t->len[c] = 2;
        }
    }
}

/* A growing pool of strings addressed by offset. */
typedef struct {
    char *s;
    size_t len, cap;
    uint64_t *off; /* start of string i */
    uint32_t *slen;
    uint64_t n, ncap;
    int bad;
} strpool;

static void sp_reserve(strpool *p, size_t more) {
    if (p->bad || p->len + more <= p->cap) return;
    size_t cap = p->cap ? p->cap : 1 << 20;
    while (cap < p->len + more) cap *= 2;
    char *s = realloc(p->s, cap);
    if (!s) {
        p->bad = 1;
        return;
    }
    p->s = s;
    p->cap = cap;
}

static void sp_begin(strpool *p) {
    if (p->bad) return;
    if (p->n == p->ncap) {
        uint64_t cap = p->ncap ? 2 * p->ncap : 4096;
        uint64_t *o = realloc(p->off, cap * sizeof *o);
        uint32_t *l = o ? realloc(p->slen, cap * sizeof *l) : NULL;
        if (o) p->off = o;
        if (!o || !l) {
            p->bad = 1;
            return;
        }
        p->slen = l;
        p->ncap = cap;
    }
    p->off[p->n] = p->len;
    p->slen[p->n] = 0;
}

static void sp_bytes_as_chars(strpool *p, const byte_chars *bc, const uint8_t *b, size_t n) {
    sp_reserve(p, 2 * n);
    if (p->bad) return;
    for (size_t i = 0; i < n; i++) {
        memcpy(p->s + p->len, bc->cs[b[i]], bc->len[b[i]]);
        p->len += bc->len[b[i]];
    }
}

static void sp_raw(strpool *p, const char *s, size_t n) {
    sp_reserve(p, n);
    if (p->bad) return;
    memcpy(p->s + p->len, s, n);
    p->len += n;
}

static void sp_end(strpool *p) {
    if (p->bad) return;
    p->slen[p->n] = (uint32_t)(p->len - p->off[p->n]);
    p->n++;
}

/* pointers into the pool (valid once no more strings are added) */
static const char **sp_ptrs(const strpool *p) {
    const char **v = malloc((p->n ? p->n : 1) * sizeof *v);
    if (v)
        for (uint64_t i = 0; i < p->n; i++) v[i] = p->s + p->off[i];
    return v;
}

static void sp_free(strpool *p) {
    free(p->s);
    free(p->off);
    free(p->slen);
}

typedef struct {
    uint32_t left, right; /* ranks of the parts */
    uint32_t split;       /* bytes in the left part */
} merge;

static int by_ranks(const void *a, const void *b) {
    const merge *x = a, *y = b;
    if (x->left != y->left) return x->left < y->left ? -1 : 1;
    return (x->right > y->right) - (x->right < y->right);
}

nemo_status nemo_quant_tekken_vocab(nemo_gguf_writer *w, const char *tekken_path, int vocab_size,
                                    nemo_error *err) {
    nemo_tekken *t = NULL;
    nemo_status st = nemo_tekken_open(tekken_path, &t, err);
    if (st) return st;
    uint32_t n_norm = (uint32_t)vocab_size - t->n_special;
    if ((uint32_t)vocab_size <= t->n_special + 256 || n_norm > t->n_ranks) {
        st = nemo_fail(err, NEMO_ERR_CONFIG,
                       "%s: the model's vocabulary of %d ids does not fit this tokenizer (%u "
                       "special tokens + %u ranks; at least %u ids)",
                       tekken_path, vocab_size, t->n_special, t->n_ranks, t->n_special + 257);
        nemo_tekken_free(t);
        return st;
    }
    strpool tok = {0}, mer = {0};
    byte_chars bc;
    byte_chars_init(&bc);
    int32_t *types = malloc((size_t)vocab_size * sizeof *types);
    float *scores = calloc((size_t)vocab_size, sizeof *scores);
    merge *local = malloc((t->max_len + 1) * sizeof *local);
    const char **tp = NULL, **mp = NULL;
    if (!types || !scores || !local) goto nomem;
    for (uint32_t i = 0; i < t->n_special; i++) {
        sp_begin(&tok);
        sp_raw(&tok, t->special_name[i], t->special_len[i]);
        sp_end(&tok);
        types[i] = 3; /* CONTROL */
    }
    for (uint32_t r = 0; r < n_norm; r++) {
        sp_begin(&tok);
        sp_bytes_as_chars(&tok, &bc, t->bytes + t->off[r], t->off[r + 1] - t->off[r]);
        sp_end(&tok);
        types[t->n_special + r] = 1; /* NORMAL */
    }
    for (uint32_t r = 256; r < n_norm; r++) {
        const uint8_t *b = t->bytes + t->off[r];
        uint32_t len = t->off[r + 1] - t->off[r], nl = 0;
        for (uint32_t j = 1; j < len; j++) {
            uint32_t rl = nemo_tekken_rank(t, b, j), rr = nemo_tekken_rank(t, b + j, len - j);
            if (rl < n_norm && rr < n_norm) local[nl++] = (merge){rl, rr, j};
        }
        if (!nl) {
            st = nemo_fail(err, NEMO_ERR_FORMAT,
                           "%s: token of rank %u cannot be split into two tokens (no BPE merge "
                           "makes it)",
                           tekken_path, r);
            goto out;
        }
        qsort(local, nl, sizeof *local, by_ranks);
        for (uint32_t k = 0; k < nl; k++) {
            sp_begin(&mer);
            sp_bytes_as_chars(&mer, &bc, b, local[k].split);
            sp_raw(&mer, " ", 1);
            sp_bytes_as_chars(&mer, &bc, b + local[k].split, len - local[k].split);
            sp_end(&mer);
        }
    }
    if (tok.bad || mer.bad || !(tp = sp_ptrs(&tok)) || !(mp = sp_ptrs(&mer))) goto nomem;
    nemo_gguf_w_str(w, "tokenizer.ggml.model", "gpt2");
    nemo_gguf_w_str(w, "tokenizer.ggml.pre", "tekken");
    nemo_gguf_w_arr_str(w, "tokenizer.ggml.merges", mp, mer.slen, mer.n);
    int32_t unk = 0, pad = -1;
    for (uint32_t i = 0; i < t->n_special; i++) {
        if (t->special_len[i] == 5 && !memcmp(t->special_name[i], "<unk>", 5)) unk = (int32_t)i;
        if (t->special_len[i] == 5 && !memcmp(t->special_name[i], "<pad>", 5)) pad = (int32_t)i;
    }
    nemo_gguf_w_u32(w, "tokenizer.ggml.bos_token_id", (uint32_t)(t->bos_id >= 0 ? t->bos_id : 1));
    nemo_gguf_w_u32(w, "tokenizer.ggml.eos_token_id", (uint32_t)(t->eos_id >= 0 ? t->eos_id : 2));
    nemo_gguf_w_u32(w, "tokenizer.ggml.unknown_token_id", (uint32_t)unk);
    /* MistralVocab.pad_id: the eos id when the tokenizer has no pad token */
    nemo_gguf_w_u32(w, "tokenizer.ggml.padding_token_id",
                    (uint32_t)(pad >= 0 ? pad : (t->eos_id >= 0 ? t->eos_id : 2)));
    nemo_gguf_w_arr_str(w, "tokenizer.ggml.tokens", tp, tok.slen, tok.n);
    nemo_gguf_w_arr_f32(w, "tokenizer.ggml.scores", scores, (uint64_t)vocab_size);
    nemo_gguf_w_arr_i32(w, "tokenizer.ggml.token_type", types, (uint64_t)vocab_size);
    nemo_gguf_w_bool(w, "tokenizer.ggml.add_bos_token", 1);
    nemo_gguf_w_bool(w, "tokenizer.ggml.add_eos_token", 0);
    st = NEMO_OK;
    goto out;
nomem:
    st = nemo_fail(err, NEMO_ERR_NOMEM, "%s: out of memory building the GGUF vocabulary",
                   tekken_path);
out:
    /* the writer copied every string into its metadata buffer */
    free(tp);
    free(mp);
    free(types);
    free(scores);
    free(local);
    sp_free(&tok);
    sp_free(&mer);
    nemo_tekken_free(t);
    return st;
}
