/* fuzz_tokenizer.c — libFuzzer target for the Tekken tokenizer: the tekken.json loader on
 * arbitrary bytes, and the encoder/decoders on arbitrary text. The first input byte picks:
 *   even: the rest is a tekken.json; if it loads, encode and decode a fixed text with it;
 *   odd:  the rest is text for a small valid tokenizer (built once): encode must succeed,
 *         decode(encode(x)) must equal x with invalid UTF-8 replaced, the streaming decoder
 *         must agree with decode and emit only whole characters.
 * If $NEMO_TEKKEN names the real tekken_240718.json, odd inputs use that instead.
 * Build and run: scripts/fuzz.sh. */
#include "tokenizer/tokenizer_impl.h"
#include "tokenizer/unicode.h"

#include <stdio.h>
#include <stdlib.h>

static nemo_tokenizer *small_tok(void) {
    static nemo_tokenizer *tok;
    if (tok) return tok;
    const char *real = getenv("NEMO_TEKKEN");
    nemo_error err;
    if (real && *real && !nemo_tokenizer_open(real, &tok, &err)) return tok;
    /* 256 bytes + a few merges, enough to exercise BPE */
    static const char *extra[] = {"ab", "abc", "  ", "\xC3\xA9", "e\xCC", " the", "\xE2\x82"};
    size_t cap = 1 << 16, n = 0;
    char *j = malloc(cap);
    const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    n += (size_t)snprintf(j + n, cap - n, "{\"vocab\": [");
    int nv = 256 + (int)(sizeof extra / sizeof extra[0]);
    for (int r = 0; r < nv; r++) {
        uint8_t b[8];
        size_t bl = 1;
        b[0] = (uint8_t)r;
        if (r >= 256) {
            bl = strlen(extra[r - 256]);
            memcpy(b, extra[r - 256], bl);
        }
        char e[16];
        size_t o = 0;
        for (size_t i = 0; i < bl; i += 3) {
            uint32_t w = (uint32_t)b[i] << 16 | (i + 1 < bl ? (uint32_t)b[i + 1] << 8 : 0) |
                         (i + 2 < bl ? b[i + 2] : 0);
            e[o++] = a[w >> 18];
            e[o++] = a[(w >> 12) & 63];
            e[o++] = i + 1 < bl ? a[(w >> 6) & 63] : '=';
            e[o++] = i + 2 < bl ? a[w & 63] : '=';
        }
        e[o] = 0;
        n += (size_t)snprintf(j + n, cap - n, "%s{\"rank\": %d, \"token_bytes\": \"%s\"}",
                              r ? "," : "", r, e);
    }
    static const char pat[] =
        "[^\\\\r\\\\n\\\\p{L}\\\\p{N}]?[\\\\p{Lu}\\\\p{Lt}\\\\p{Lm}\\\\p{Lo}\\\\p{M}]*[\\\\p{Ll}"
        "\\\\p{Lm}\\\\p{Lo}\\\\p{M}]+|[^\\\\r\\\\n\\\\p{L}\\\\p{N}]?[\\\\p{Lu}\\\\p{Lt}\\\\p{Lm}"
        "\\\\p{Lo}\\\\p{M}]+[\\\\p{Ll}\\\\p{Lm}\\\\p{Lo}\\\\p{M}]*|\\\\p{N}| ?[^\\\\s\\\\p{L}"
        "\\\\p{N}]+[\\\\r\\\\n/]*|\\\\s*[\\\\r\\\\n]+|\\\\s+(?!\\\\S)|\\\\s+";
    n += (size_t)snprintf(j + n, cap - n,
                          "], \"config\": {\"pattern\": \"%s\", \"default_vocab_size\": %d, "
                          "\"default_num_special_tokens\": 10, \"version\": \"v3\"}}",
                          pat, nv + 10);
    tok = calloc(1, sizeof *tok);
    tok->kind = NEMO_TOKENIZER_TEKKEN;
    if (nemo_tekken_load(j, n, "fuzz.json", &tok->tekken, &err)) {
        fprintf(stderr, "fuzz: built-in tokenizer does not load: %s\n", err.msg);
        abort();
    }
    free(j);
    return tok;
}

static void check_text(nemo_tokenizer *t, const uint8_t *s, size_t n) {
    nemo_error err;
    size_t cap = 3 * n + 2, k; /* each invalid byte may become U+FFFD: 3 byte tokens */
    int32_t *ids = malloc(cap * sizeof *ids);
    if (nemo_tokenizer_encode(t, (const char *)s, n, 1, 1, ids, cap, &k, &err)) abort();
    /* expected text: the input with invalid UTF-8 replaced */
    nemo_outbuf want = {malloc(3 * n + 1), 3 * n + 1, 0};
    nemo_utf8_repair(s, n, 1, &want);
    size_t dcap = 3 * n + 16, dl;
    char *got = malloc(dcap);
    if (nemo_tokenizer_decode(t, ids, k, NEMO_SPECIAL_SKIP, got, dcap, &dl, &err)) abort();
    if (dl != want.len || memcmp(got, want.p, dl)) abort();
    nemo_detok *d;
    if (nemo_detok_create(t, NEMO_SPECIAL_KEEP, &d, &err)) abort();
    char chunk[4096];
    size_t total = 0, cl;
    for (size_t i = 0; i < k; i++) {
        if (nemo_detok_push(d, ids[i], chunk, sizeof chunk, &cl, &err)) abort();
        if (nemo_utf8_valid_prefix((const uint8_t *)chunk, cl) != cl) abort();
        total += cl;
    }
    if (nemo_detok_flush(d, chunk, sizeof chunk, &cl, &err)) abort();
    total += cl;
    size_t kl = 0;
    nemo_tokenizer_decode(t, ids, k, NEMO_SPECIAL_KEEP, NULL, 0, &kl, &err);
    if (total != kl) abort();
    nemo_detok_free(d);
    free(got);
    free(want.p);
    free(ids);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    if (data[0] & 1) {
        check_text(small_tok(), data + 1, size - 1);
        return 0;
    }
    nemo_tokenizer t = {.kind = NEMO_TOKENIZER_TEKKEN};
    nemo_error err;
    if (nemo_tekken_load((const char *)data + 1, size - 1, "fuzz.json", &t.tekken, &err)) return 0;
    static const char text[] = "Hello, world! \xC3\xA9t\xC3\xA9  \n\n 123 \xF0\x9F\x98\x80";
    if (t.tekken->bos_id >= 0 && t.tekken->eos_id >= 0)
        check_text(&t, (const uint8_t *)text, sizeof text - 1);
    nemo_tekken_free(t.tekken);
    return 0;
}
