/* test_tokenizer_format.c — the tekken.json loader on small synthetic files: a valid one (BPE
 * merges checked by hand) and one malformed variant per rule (truncated JSON, bad base64,
 * duplicate/missing ranks, wrong counts, unknown version, ...), each with a clear error; and
 * nemo_tokenizer_open's choice of tokenizer in a folder. Needs no fixture. */
#include "test.h"
#include "tokenizer/tekken.h"

#include <stdlib.h>
#include <sys/stat.h>

enum {
    M_NONE,
    M_TRUNCATED,
    M_BAD_BASE64,
    M_DUP_RANK,
    M_MISSING_RANK,
    M_WRONG_COUNT,
    M_UNKNOWN_VERSION,
    M_DUP_BYTES,
    M_BYTE_RANK,
    M_PATTERN,
    M_V13_NO_SPECIALS,
    M_V13_SPECIALS,
    M_VOCAB_TOO_BIG,
    M_DUP_SPECIAL,
};

static const char PATTERN[] =
    "[^\\\\r\\\\n\\\\p{L}\\\\p{N}]?[\\\\p{Lu}\\\\p{Lt}\\\\p{Lm}\\\\p{Lo}\\\\p{M}]*[\\\\p{Ll}"
    "\\\\p{Lm}\\\\p{Lo}\\\\p{M}]+|[^\\\\r\\\\n\\\\p{L}\\\\p{N}]?[\\\\p{Lu}\\\\p{Lt}\\\\p{Lm}"
    "\\\\p{Lo}\\\\p{M}]+[\\\\p{Ll}\\\\p{Lm}\\\\p{Lo}\\\\p{M}]*|\\\\p{N}| ?[^\\\\s\\\\p{L}"
    "\\\\p{N}]+[\\\\r\\\\n/]*|\\\\s*[\\\\r\\\\n]+|\\\\s+(?!\\\\S)|\\\\s+";

static void b64(const uint8_t *s, size_t n, char *out) {
    const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t w = (uint32_t)s[i] << 16;
        if (i + 1 < n) w |= (uint32_t)s[i + 1] << 8;
        if (i + 2 < n) w |= s[i + 2];
        out[o++] = a[w >> 18];
        out[o++] = a[(w >> 12) & 63];
        out[o++] = i + 1 < n ? a[(w >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? a[w & 63] : '=';
    }
    out[o] = 0;
}

/* 256 byte tokens + "ab" (256), "abc" (257), "  " (258); 3 special tokens. */
static char *make_file(int m, size_t *len) {
    size_t cap = 1 << 16, n = 0;
    char *j = malloc(cap);
    const char *extra[] = {"ab", "abc", "  "};
    int n_vocab = 259;
    n += (size_t)snprintf(j + n, cap - n, "{\"vocab\": [");
    for (int r = 0; r < n_vocab; r++) {
        if (m == M_MISSING_RANK && r == 100) continue;
        uint8_t byte = (uint8_t)r;
        const uint8_t *src = &byte;
        size_t sl = 1;
        if (r == 65 && m == M_BYTE_RANK) byte = 'B';
        if (r >= 256) {
            const char *e = extra[r - 256];
            if (m == M_DUP_BYTES && r == 257) e = "ab";
            src = (const uint8_t *)e;
            sl = strlen(e);
        }
        char enc[16];
        b64(src, sl, enc);
        if (m == M_BAD_BASE64 && r == 257) strcpy(enc, "Y!j=");
        int rank = m == M_DUP_RANK && r == 257 ? 256 : r;
        n += (size_t)snprintf(j + n, cap - n,
                              "%s{\"rank\": %d, \"token_bytes\": \"%s\", "
                              "\"token_str\": null}",
                              r ? ", " : "", rank, enc);
    }
    const char *ver = m == M_UNKNOWN_VERSION                            ? "v99"
                      : (m == M_V13_NO_SPECIALS || m == M_V13_SPECIALS) ? "v13"
                                                                        : "v3";
    n += (size_t)snprintf(
        j + n, cap - n,
        "], \"config\": {\"pattern\": \"%s%s\", \"num_vocab_tokens\": %d, "
        "\"default_vocab_size\": %d, \"default_num_special_tokens\": 3, \"version\": \"%s\"}",
        PATTERN, m == M_PATTERN ? "|x" : "",
        m == M_WRONG_COUNT ? 300 : n_vocab - (m == M_MISSING_RANK),
        m == M_VOCAB_TOO_BIG ? 3 + n_vocab + 1 : 3 + n_vocab - (m == M_MISSING_RANK), ver);
    if (m == M_V13_SPECIALS || m == M_DUP_SPECIAL)
        n += (size_t)snprintf(j + n, cap - n,
                              ", \"special_tokens\": [{\"rank\": 0, \"token_str\": \"<unk>\", "
                              "\"is_control\": true}, {\"rank\": 1, \"token_str\": \"%s\", "
                              "\"is_control\": true}]",
                              m == M_DUP_SPECIAL ? "<unk>" : "<s>");
    n += (size_t)snprintf(j + n, cap - n, "}");
    if (m == M_TRUNCATED) n /= 2;
    *len = n;
    return j;
}

static nemo_status load(int m, nemo_tekken **t, nemo_error *err) {
    size_t len;
    char *j = make_file(m, &len);
    nemo_status st = nemo_tekken_load(j, len, "t.json", t, err);
    free(j);
    return st;
}

static void test_valid_file(void) {
    nemo_tekken *t = NULL;
    nemo_error err = {0};
    CHECK_OK(load(M_NONE, &t, &err), &err);
    if (!t) return;
    CHECK(t->n_ranks == 259 && t->n_special == 3 && t->bos_id == 1 && t->eos_id == 2);
    CHECK(nemo_tekken_rank(t, (const uint8_t *)"abc", 3) == 257);
    CHECK(nemo_tekken_rank(t, (const uint8_t *)"abd", 3) == NEMO_TEKKEN_NO_RANK);
    int32_t ids[16];
    size_t n;
    /* "abc" whole; " ab" -> ' ' + "ab"; "  " before "x" leaves one space: "  x" -> " ", " x" */
    CHECK_OK(nemo_tekken_encode(t, "abc ab  x", 9, 1, 1, ids, 16, &n, &err), &err);
    int32_t want[] = {1, 3 + 257, 3 + ' ', 3 + 256, 3 + ' ', 3 + ' ', 3 + 'x', 2};
    CHECK(n == 8 && !memcmp(ids, want, sizeof want));
    nemo_tekken_free(t);
    nemo_tekken_free(NULL);
}

static void expect_error(int m, nemo_status want, const char *needle) {
    nemo_tekken *t = NULL;
    nemo_error err = {0};
    nemo_status st = load(m, &t, &err);
    CHECK_MSG(st == want && t == NULL && strstr(err.msg, needle) && strstr(err.msg, "t.json"),
              "mutation %d: status %d, message '%s' (want '%s')", m, (int)st, err.msg, needle);
    nemo_tekken_free(t);
}

static void test_malformed(void) {
    expect_error(M_TRUNCATED, NEMO_ERR_FORMAT, "invalid JSON");
    expect_error(M_BAD_BASE64, NEMO_ERR_FORMAT, "vocab[257].token_bytes: expected base64");
    expect_error(M_DUP_RANK, NEMO_ERR_FORMAT, "vocab[257].rank: expected 257");
    expect_error(M_MISSING_RANK, NEMO_ERR_FORMAT, "vocab[100].rank: expected 100");
    expect_error(M_WRONG_COUNT, NEMO_ERR_FORMAT, "num_vocab_tokens: says 300");
    expect_error(M_UNKNOWN_VERSION, NEMO_ERR_UNSUPPORTED, "found 'v99'");
    expect_error(M_DUP_BYTES, NEMO_ERR_FORMAT, "same bytes as vocab[256]");
    expect_error(M_BYTE_RANK, NEMO_ERR_FORMAT, "vocab[65].token_bytes: ranks 0..255");
    expect_error(M_PATTERN, NEMO_ERR_UNSUPPORTED, "config.pattern");
    expect_error(M_V13_NO_SPECIALS, NEMO_ERR_MISSING, "special_tokens: missing");
    expect_error(M_VOCAB_TOO_BIG, NEMO_ERR_FORMAT, "default_vocab_size");
    expect_error(M_DUP_SPECIAL, NEMO_ERR_FORMAT, "repeats special token 0");
    nemo_tekken *t = NULL;
    nemo_error err = {0};
    CHECK(nemo_tekken_load("[]", 2, "t.json", &t, &err) == NEMO_ERR_FORMAT);
    CHECK(nemo_tekken_load("", 0, "t.json", &t, &err) == NEMO_ERR_FORMAT);
}

static void test_file_special_tokens(void) {
    nemo_tekken *t = NULL;
    nemo_error err = {0};
    CHECK_OK(load(M_V13_SPECIALS, &t, &err), &err);
    if (!t) return;
    /* the file names <unk> and <s>; id 2 is filler, so there is no EOS */
    CHECK(t->bos_id == 1 && t->eos_id == -1 && !strcmp(t->special_name[2], "<SPECIAL_2>"));
    int32_t ids[4];
    size_t n;
    CHECK(nemo_tekken_encode(t, "a", 1, 0, 1, ids, 4, &n, &err) == NEMO_ERR_ARG);
    nemo_tekken_free(t);
}

static void write_file(const char *path, const char *s, size_t n) {
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    fwrite(s, 1, n, f);
    fclose(f);
}

static void test_open_dispatch(void) {
    char dir[1024], p[1100];
    snprintf(dir, sizeof dir, "%s/tokdir", test_tmpdir());
    mkdir(dir, 0777);
    nemo_tokenizer *tok = NULL;
    nemo_error err = {0};
    CHECK(nemo_tokenizer_open(dir, &tok, &err) == NEMO_ERR_MISSING &&
          strstr(err.msg, "tekken.json"));
    size_t len;
    char *j = make_file(M_NONE, &len);
    snprintf(p, sizeof p, "%s/tekken.json", dir);
    write_file(p, j, len);
    free(j);
    /* a broken tokenizer.model next to it is never read: tekken.json is preferred */
    snprintf(p, sizeof p, "%s/tokenizer.model.v3", dir);
    write_file(p, "junk", 4);
    CHECK_OK(nemo_tokenizer_open(dir, &tok, &err), &err);
    if (tok) {
        CHECK(nemo_tokenizer_get_kind(tok) == NEMO_TOKENIZER_TEKKEN);
        CHECK(nemo_tokenizer_vocab_size(tok) == 262);
    }
    nemo_tokenizer_free(tok);
    tok = NULL;
    snprintf(p, sizeof p, "%s/model.gguf", dir);
    write_file(p, "GGUF", 4);
    /* a truncated GGUF: the GGUF reader's error, naming the file */
    CHECK(nemo_tokenizer_open(p, &tok, &err) == NEMO_ERR_FORMAT && strstr(err.msg, "model.gguf") &&
          tok == NULL);
    CHECK(nemo_tokenizer_open("/nonexistent/x.json", &tok, &err) == NEMO_ERR_IO);
    /* without tekken.json the folder's tokenizer.model.v3 is the SentencePiece choice */
    snprintf(p, sizeof p, "%s/tekken.json", dir);
    remove(p);
    CHECK(nemo_tokenizer_open(dir, &tok, &err) != NEMO_OK && tok == NULL &&
          strstr(err.msg, "tokenizer.model.v3"));
    nemo_tokenizer_free(NULL);
}

int main(void) {
    RUN(test_valid_file);
    RUN(test_malformed);
    RUN(test_file_special_tokens);
    RUN(test_open_dispatch);
    return test_finish();
}
