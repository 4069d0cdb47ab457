/* fuzz_gguf.c — libFuzzer target for the GGUF reader (nemo_gguf_open_bytes). Accepted inputs
 * are then read the way a model loader would: every metadata value through its getter, every
 * string-array element, and the first row of every tensor decoded, so an accepted file whose
 * ranges were not really checked shows up as an ASan report.
 *
 * Build and run (from the repository root; seed with the committed small file):
 *   clang -g -O1 -std=c11 -D_DEFAULT_SOURCE -Iinclude -Isrc \
 *     -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
 *     tests/fuzz/fuzz_gguf.c src/checkpoint/gguf.c src/checkpoint/gguf_kv.c \
 *     src/checkpoint/tensor_dir.c src/backend/cpu/dequant.c src/backend/cpu/quant.c \
 *     src/core/error.c src/core/dtype.c src/core/file.c -lm -o build/fuzz_gguf
 *   mkdir -p build/corpus_gguf && cp tests/golden/gguf/small.gguf build/corpus_gguf/
 *   build/fuzz_gguf -max_total_time=60 -max_len=65536 build/corpus_gguf
 */
#include "backend/cpu/dequant.h"
#include "checkpoint/gguf.h"

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
    nemo_gguf_free(g);
    return 0;
}
