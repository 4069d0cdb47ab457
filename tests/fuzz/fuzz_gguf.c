/* fuzz_gguf.c — libFuzzer target for the GGUF reader (nemo_gguf_open_bytes). Accepted inputs
 * are then read the way a model loader would: every metadata value through its getter, every
 * string-array element, and the first row of every tensor decoded, so an accepted file whose
 * ranges were not really checked shows up as an ASan report. The embedded vocabulary is loaded
 * too (tokenizer.ggml.*: gpt2 BPE or llama SentencePiece) and, when it loads, a fixed text and
 * the input's first bytes are encoded, decoded and streamed back.
 *
 * Build and run: scripts/fuzz.sh 60 fuzz_gguf (seeds: tests/fuzz/seeds/fuzz_gguf, including
 * small vocabularies written by scripts/gguf_vocab_make.py's tiny mode).
 */
#include "backend/cpu/dequant.h"
#include "checkpoint/gguf.h"
#include "tokenizer/tokenizer_impl.h"

#include <stdlib.h>

static volatile uint64_t sink; /* keeps the reads from being optimized away */

static void touch_kv(const nemo_gguf *g, const nemo_gguf_kv *kv) {
    nemo_error err;
    uint32_t u;
    int32_t i;
    uint64_t u64;
    float f;
    int b;
    const char *s;
    uint64_t len;
    nemo_gguf_array a;
    if (nemo_gguf_get_u32(g, kv->key, &u, &err) == NEMO_OK) sink += u;
    if (nemo_gguf_get_i32(g, kv->key, &i, &err) == NEMO_OK) sink += (uint64_t)i;
    if (nemo_gguf_get_u64(g, kv->key, &u64, &err) == NEMO_OK) sink += u64;
    if (nemo_gguf_get_f32(g, kv->key, &f, &err) == NEMO_OK) sink += f > 0;
    if (nemo_gguf_get_bool(g, kv->key, &b, &err) == NEMO_OK) sink += (uint64_t)b;
    if (nemo_gguf_get_str(g, kv->key, &s, &len, &err) == NEMO_OK && len)
        sink += (uint8_t)s[len - 1];
    if (nemo_gguf_get_strings(g, kv->key, &a, &err) == NEMO_OK) {
        for (uint64_t k = 0; k < a.count; k++) {
            s = nemo_gguf_arr_str(&a, k, &len);
            if (len) sink += (uint8_t)s[len - 1];
        }
    }
    if (nemo_gguf_get_ints(g, kv->key, &a, &err) == NEMO_OK && a.count)
        sink += (uint64_t)nemo_gguf_arr_int(&a, a.count - 1);
    if (nemo_gguf_get_floats(g, kv->key, &a, &err) == NEMO_OK && a.count)
        sink += nemo_gguf_arr_float(&a, a.count - 1) > 0;
}

/* Loads the vocabulary and pushes text through it. */
static void touch_vocab(const nemo_gguf *g, const uint8_t *data, size_t size) {
    nemo_error err;
    nemo_tokenizer *t = calloc(1, sizeof *t);
    if (!t) return;
    t->kind = NEMO_TOKENIZER_GGUF;
    if (nemo_gguf_vocab_load(g, t, &err) == NEMO_OK) {
        static const char fixed[] = "Hello, w\xc3\xb6rld 123 <|im_end|> [INST] \xff\n\n  x";
        int32_t ids[1024];
        char out[8192];
        size_t n, m;
        for (int pass = 0; pass < 2; pass++) {
            const char *s = pass ? (const char *)data : fixed;
            size_t len = pass ? (size < 256 ? size : 256) : sizeof fixed - 1;
            if (nemo_tokenizer_encode(t, s, len, 1, 0, ids, 1024, &n, &err) != NEMO_OK) continue;
            if (nemo_tokenizer_decode(t, ids, n, NEMO_SPECIAL_KEEP, out, sizeof out, &m, &err) ==
                NEMO_OK)
                sink += m;
            nemo_detok *d;
            if (nemo_detok_create(t, NEMO_SPECIAL_SKIP, &d, &err) == NEMO_OK) {
                for (size_t k = 0; k < n; k++)
                    if (nemo_detok_push(d, ids[k], out, sizeof out, &m, &err) == NEMO_OK) sink += m;
                nemo_detok_free(d);
            }
        }
        const char *tpl = nemo_tokenizer_chat_template(t);
        if (tpl) sink += strlen(tpl);
    }
    nemo_tokenizer_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    nemo_gguf *g = NULL;
    nemo_error err;
    if (nemo_gguf_open_bytes(data, size, "fuzz.gguf", &g, &err) != NEMO_OK) return 0;
    for (int k = 0; k < g->n_kv; k++) touch_kv(g, &g->kv[k]);
    float row[4096];
    for (int t = 0; t < g->dir.n_entries; t++) {
        const nemo_tensor_entry *e = &g->dir.entries[t];
        if (e->nbytes) sink += ((const uint8_t *)e->data)[e->nbytes - 1];
        int64_t n = e->ndim ? (int64_t)e->shape[e->ndim - 1] : 1;
        if (e->n_elems && n > 0 && n <= 4096) nemo_dequant_row(e->dtype, e->data, row, n);
    }
    touch_vocab(g, data, size);
    nemo_gguf_free(g);
    return 0;
}
