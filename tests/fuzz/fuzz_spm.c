/* fuzz_spm.c — libFuzzer target for the SentencePiece module: the first byte picks the mode.
 * Odd: the rest is a .model file for nemo_spm_open_bytes; if it loads, a few texts are encoded
 * and decoded through it. Even: the rest is text, encoded with a built-in model (and with the
 * model at $NEMO_SPM_FUZZ_MODEL if set, e.g. tokenizer.model.v3); decoding must give the text
 * back whenever it is valid UTF-8 without '▁' (U+2581), as sentencepiece guarantees for models
 * with byte fallback and a '▁' piece. Any violation or crash aborts.
 *
 * Build: clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Isrc tests/fuzz/fuzz_spm.c
 *        src/tokenizer/spm_*.c src/core/(all .c) -ljansson -lm -lpthread */
#include "tokenizer/spm.h"

#include <stdio.h>
#include <stdlib.h>

/* ---- a tiny protobuf writer for the built-in model */
typedef struct buf {
    uint8_t *d;
    size_t n;
} buf;

static void put_varint(buf *b, uint64_t v) {
    do {
        b->d[b->n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
}
static void put_bytes(buf *b, uint32_t field, const void *p, size_t n) {
    put_varint(b, (uint64_t)field << 3 | 2);
    put_varint(b, n);
    memcpy(b->d + b->n, p, n);
    b->n += n;
}
static void put_piece(buf *b, const char *piece, float score, int type) {
    uint8_t tmp[128];
    buf m = {tmp, 0};
    put_bytes(&m, 1, piece, strlen(piece));
    put_varint(&m, 2 << 3 | 5);
    memcpy(m.d + m.n, &score, 4);
    m.n += 4;
    put_varint(&m, 3 << 3), put_varint(&m, (uint64_t)type);
    put_bytes(b, 1, m.d, m.n);
}

/* <unk>, <s>, </s>, [INST] (control), [U] (user-defined), 256 byte pieces, and normal pieces
 * with scores chosen so merges interact (ties, overlapping candidates). */
static nemo_spm *builtin_model(void) {
    static uint8_t mem[1 << 16];
    buf b = {mem, 0};
    put_piece(&b, "<unk>", 0, 2);
    put_piece(&b, "<s>", 0, 3);
    put_piece(&b, "</s>", 0, 3);
    put_piece(&b, "[INST]", 0, 3);
    put_piece(&b, "[U]", 0, 4);
    for (int v = 0; v < 256; v++) {
        char p[8];
        snprintf(p, sizeof p, "<0x%02X>", v);
        put_piece(&b, p, 0, 6);
    }
    static const char *normal[] = {"\xE2\x96\x81",
                                   "a",
                                   "b",
                                   "c",
                                   "ab",
                                   "bc",
                                   "abc",
                                   "ca",
                                   "\xE2\x96\x81"
                                   "a",
                                   "\xE2\x96\x81\xE2\x96\x81",
                                   "aa",
                                   "aaa",
                                   "\xE4\xBD\xA0",
                                   "\xE4\xBD\xA0\xE5\xA5\xBD",
                                   "\n",
                                   "\n\n"};
    for (int i = 0; i < (int)(sizeof normal / sizeof *normal); i++)
        put_piece(&b, normal[i], (float)-(i % 5), 1);
    uint8_t tmp[64];
    buf t = {tmp, 0};
    put_varint(&t, 3 << 3), put_varint(&t, 2);  /* model_type BPE */
    put_varint(&t, 35 << 3), put_varint(&t, 1); /* byte_fallback */
    put_bytes(&b, 2, t.d, t.n);
    t.n = 0; /* normalizer_spec: keep whitespace runs as the Mistral models do */
    put_varint(&t, 4 << 3), put_varint(&t, 0); /* remove_extra_whitespaces = false */
    put_bytes(&b, 3, t.d, t.n);
    nemo_spm *s = NULL;
    nemo_error err;
    if (nemo_spm_open_bytes(mem, b.n, "builtin", &s, &err) != NEMO_OK) {
        fprintf(stderr, "fuzz_spm: built-in model: %s\n", err.msg);
        abort();
    }
    return s;
}

/* Strict UTF-8 check (sentencepiece's rules); also rejects U+2581. */
static int plain_utf8(const uint8_t *p, size_t n) {
    for (size_t i = 0; i < n;) {
        uint8_t c = p[i];
        size_t l = c < 0x80             ? 1
                   : (c & 0xE0) == 0xC0 ? 2
                   : (c & 0xF0) == 0xE0 ? 3
                   : (c & 0xF8) == 0xF0 ? 4
                                        : 0;
        if (!l || i + l > n) return 0;
        uint32_t cp = l == 1 ? c : (uint32_t)(c & (0x7F >> l));
        for (size_t k = 1; k < l; k++) {
            if ((p[i + k] & 0xC0) != 0x80) return 0;
            cp = cp << 6 | (p[i + k] & 0x3F);
        }
        static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min[l] || cp > 0x10FFFF || (cp >= 0xD800 && cp < 0xE000) || cp == 0x2581) return 0;
        i += l;
    }
    return 1;
}

static void roundtrip(const nemo_spm *s, const uint8_t *text, size_t len, int check) {
    size_t cap = 3 * len + 8, n = 0, out_len = 0;
    int32_t *ids = malloc(cap * sizeof *ids);
    char *out = malloc(4 * cap + 16);
    nemo_error err;
    if (nemo_spm_encode(s, (const char *)text, len, 1, 1, ids, cap, &n, &err) != NEMO_OK) abort();
    for (size_t i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= nemo_spm_vocab_size(s)) abort();
    /* control pieces are never produced from text, only the BOS/EOS we asked for */
    for (size_t i = 1; i + 1 < n; i++)
        if (nemo_spm_piece_type(s, ids[i]) == 3) abort();
    nemo_status st = nemo_spm_decode(s, ids, n, 0, out, 4 * cap + 16, &out_len, &err);
    if (st != NEMO_OK) abort();
    if (check && (out_len != len || memcmp(out, text, len) != 0)) abort();
    free(out);
    free(ids);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static nemo_spm *builtin, *external;
    static int init;
    if (!init) {
        init = 1;
        builtin = builtin_model();
        const char *path = getenv("NEMO_SPM_FUZZ_MODEL");
        nemo_error err;
        if (path && nemo_spm_open(path, &external, &err) != NEMO_OK) {
            fprintf(stderr, "fuzz_spm: %s\n", err.msg);
            abort();
        }
    }
    if (size == 0) return 0;
    if (data[0] & 1) {
        nemo_spm *s = NULL;
        nemo_error err;
        if (nemo_spm_open_bytes(data + 1, size - 1, "fuzz", &s, &err) == NEMO_OK) {
            static const char *texts[] = {"", " ", "hello world", "a\xff\xfe b", "[INST]x\n\n"};
            for (int i = 0; i < 5; i++)
                roundtrip(s, (const uint8_t *)texts[i], strlen(texts[i]), 0);
            for (int32_t id = -1; id <= nemo_spm_vocab_size(s); id++) {
                size_t l;
                const char *p = nemo_spm_piece(s, id, &l);
                if ((p == NULL) != (id < 0 || id >= nemo_spm_vocab_size(s))) abort();
            }
            nemo_spm_free(s);
        } else if (s != NULL || err.msg[0] == 0) {
            abort();
        }
        return 0;
    }
    int check = plain_utf8(data + 1, size - 1);
    roundtrip(builtin, data + 1, size - 1, check);
    if (external) roundtrip(external, data + 1, size - 1, check);
    return 0;
}
