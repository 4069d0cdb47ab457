/* test_safetensors.c — the safetensors validator on crafted files: every malformed header is
 * rejected with a message naming the problem; valid edge cases (scalars, empty tensors,
 * metadata, unpadded headers) are accepted. */
#include "checkpoint/safetensors.h"
#include "model/config.h"
#include "test.h"

#include <stdio.h>
#include <sys/stat.h>

/* Builds a file image: 8-byte length, header, then `data_len` bytes of data. */
static uint8_t *image(const char *header, uint64_t data_len, uint64_t *size) {
    uint64_t h = strlen(header);
    *size = 8 + h + data_len;
    uint8_t *b = calloc(1, *size);
    for (int i = 0; i < 8; i++) b[i] = (uint8_t)(h >> (8 * i));
    memcpy(b + 8, header, h);
    for (uint64_t i = 0; i < data_len; i++) b[8 + h + i] = (uint8_t)i;
    return b;
}

/* Parses; returns status and leaves the message in *err. */
static nemo_status parse(const char *header, uint64_t data_len, nemo_error *err,
                         nemo_tensor_dir *d) {
    uint64_t size;
    uint8_t *b = image(header, data_len, &size);
    memset(d, 0, sizeof *d);
    nemo_status st = nemo_st_parse(d, 0, b, size, "t.safetensors", err);
    free(b);
    return st;
}

static void expect_error(const char *header, uint64_t data_len, const char *needle) {
    nemo_error err = {0};
    nemo_tensor_dir d;
    nemo_status st = parse(header, data_len, &err, &d);
    CHECK_MSG(st == NEMO_ERR_FORMAT, "header %s: status %d", header, st);
    CHECK_MSG(strstr(err.msg, needle) != NULL, "message '%s' lacks '%s'", err.msg, needle);
    CHECK_MSG(strstr(err.msg, "t.safetensors") != NULL, "message '%s' lacks the file", err.msg);
    nemo_tdir_free(&d);
}

static void test_valid(void) {
    nemo_error err = {0};
    nemo_tensor_dir d;
    const char *h = "{\"__metadata__\":{\"format\":\"pt\"},"
                    "\"b\":{\"dtype\":\"BF16\",\"shape\":[2,3],\"data_offsets\":[8,20]},"
                    "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                    "\"s\":{\"dtype\":\"F32\",\"shape\":[],\"data_offsets\":[20,24]},"
                    "\"e\":{\"dtype\":\"F16\",\"shape\":[0,4],\"data_offsets\":[24,24]}}";
    CHECK_OK(parse(h, 24, &err, &d), &err);
    CHECK(d.n_entries == 4);
    const nemo_tensor_entry *b = nemo_tdir_find(&d, "b");
    CHECK(b && b->dtype == NEMO_DTYPE_BF16 && b->ndim == 2 && b->shape[1] == 3 && b->nbytes == 12);
    CHECK(b && b->file_offset == 8 + strlen(h) + 8);
    const nemo_tensor_entry *s = nemo_tdir_find(&d, "s");
    CHECK(s && s->ndim == 0 && s->n_elems == 1);
    const nemo_tensor_entry *e = nemo_tdir_find(&d, "e");
    CHECK(e && e->n_elems == 0 && e->nbytes == 0);
    CHECK(nemo_tdir_find(&d, "__metadata__") == NULL);
    nemo_tdir_free(&d);
    CHECK_OK(parse("{}", 0, &err, &d), &err); /* an empty file is a valid (useless) file */
    nemo_tdir_free(&d);
}

static void test_bad_headers(void) {
    const char *ok = "\"dtype\":\"F32\",\"shape\":[2]";
    char h[512];
    expect_error("{\"a\":", 8, "header JSON");
    expect_error("[1,2]", 0, "not a JSON object");
    expect_error("{\"a\":{\"dtype\":\"F7\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8,
                 "unknown dtype");
    expect_error("{\"a\":{\"dtype\":\"Q4_K\",\"shape\":[256],\"data_offsets\":[0,144]}}", 144,
                 "unknown dtype");
    expect_error("{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8, "dtype");
    expect_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8,
                 "shape[0]");
    expect_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}", 8,
                 "shape[0]");
    expect_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,4]}}",
                 4, "dimensions");
    snprintf(h, sizeof h, "{\"a\":{%s,\"data_offsets\":[0]}}", ok);
    expect_error(h, 8, "data_offsets");
    snprintf(h, sizeof h, "{\"a\":{%s,\"data_offsets\":[0,12]}}", ok);
    expect_error(h, 12, "expected 8");
    snprintf(h, sizeof h, "{\"a\":{%s,\"data_offsets\":[0,8]}}", ok);
    expect_error(h, 4, "outside the data buffer");
    snprintf(h, sizeof h, "{\"a\":{%s,\"data_offsets\":[8,0]}}", ok);
    expect_error(h, 8, "outside the data buffer");
    snprintf(h, sizeof h, "{\"a\":{%s,\"data_offsets\":[0,8]},\"b\":{%s,\"data_offsets\":[4,12]}}",
             ok, ok);
    expect_error(h, 12, "overlaps");
    snprintf(h, sizeof h, "{\"a\":{%s,\"data_offsets\":[0,8]},\"b\":{%s,\"data_offsets\":[12,20]}}",
             ok, ok);
    expect_error(h, 20, "gap");
    snprintf(h, sizeof h, "{\"a\":{%s,\"data_offsets\":[0,8]}}", ok);
    expect_error(h, 9, "truncated or padded");
    snprintf(h, sizeof h, "{\"a\":{%s,\"data_offsets\":[0,8]},\"a\":{%s,\"data_offsets\":[0,8]}}",
             ok, ok);
    expect_error(h, 8, "duplicate");
    expect_error("{\"__metadata__\":{\"format\":1}}", 0, "__metadata__");
    /* element count overflow must not wrap around into a small byte count */
    expect_error("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,2],"
                 "\"data_offsets\":[0,0]}}",
                 0, "overflow");
}

static void test_bad_framing(void) {
    nemo_error err = {0};
    nemo_tensor_dir d = {0};
    uint8_t small[5] = {1, 2, 3, 4, 5};
    CHECK(nemo_st_parse(&d, 0, small, sizeof small, "t.safetensors", &err) == NEMO_ERR_FORMAT);
    CHECK(strstr(err.msg, "too short") != NULL);
    uint8_t huge[16] = {0, 0, 0, 0, 0, 0, 0, 0x10};
    CHECK(nemo_st_parse(&d, 0, huge, sizeof huge, "t.safetensors", &err) == NEMO_ERR_FORMAT);
    CHECK(strstr(err.msg, "limit") != NULL);
    uint64_t size;
    uint8_t *b =
        image("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, &size);
    CHECK(nemo_st_parse(&d, 0, b, 20, "t.safetensors", &err) == NEMO_ERR_FORMAT); /* truncated */
    CHECK(strstr(err.msg, "truncated") != NULL);
    free(b);
    nemo_tdir_free(&d);
}

static void write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    CHECK(fwrite(data, 1, n, f) == n);
    fclose(f);
}

static void test_index(void) {
    char dir[1024], p[1200];
    snprintf(dir, sizeof dir, "%s/index", test_tmpdir());
    mkdir(dir, 0777);
    uint64_t size;
    uint8_t *b =
        image("{\"x\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, &size);
    snprintf(p, sizeof p, "%s/s1.safetensors", dir);
    write_file(p, b, size);
    free(b);
    b = image("{\"y\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, &size);
    snprintf(p, sizeof p, "%s/s2.safetensors", dir);
    write_file(p, b, size);
    free(b);
    struct {
        const char *json;
        nemo_status st;
        const char *needle;
    } cases[] = {
        {"{\"weight_map\":{\"x\":\"s1.safetensors\",\"y\":\"s2.safetensors\"}}", NEMO_OK, ""},
        {"{\"weight_map\":{\"x\":\"s1.safetensors\",\"y\":\"s3.safetensors\"}}", NEMO_ERR_MISSING,
         "s3.safetensors"},
        {"{\"weight_map\":{\"x\":\"s1.safetensors\",\"z\":\"s2.safetensors\"}}", NEMO_ERR_MISSING,
         "'z'"},
        {"{\"weight_map\":{\"x\":\"s2.safetensors\",\"y\":\"s1.safetensors\"}}", NEMO_ERR_FORMAT,
         "but it is in s1.safetensors"},
        {"{\"weight_map\":{\"x\":\"../s1.safetensors\"}}", NEMO_ERR_FORMAT, "same folder"},
        {"{\"metadata\":{}}", NEMO_ERR_FORMAT, "weight_map"},
        {"{\"weight_map\":", NEMO_ERR_FORMAT, "line 1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(p, sizeof p, "%s/model.safetensors.index.json", dir);
        write_file(p, cases[i].json, strlen(cases[i].json));
        nemo_tensor_dir d = {0};
        nemo_error err = {0};
        nemo_status st = nemo_st_load_index(&d, p, &err);
        CHECK_MSG(st == cases[i].st, "case %zu: status %d, msg %s", i, st, err.msg);
        if (st) CHECK_MSG(strstr(err.msg, cases[i].needle), "case %zu: %s", i, err.msg);
        if (!st) CHECK(nemo_tdir_find(&d, "x") && nemo_tdir_find(&d, "y") && d.n_files == 2);
        nemo_tdir_free(&d);
    }
}

static void test_config_errors(void) {
    char p[1200];
    snprintf(p, sizeof p, "%s/params.json", test_tmpdir());
    struct {
        const char *json;
        const char *needle;
    } cases[] = {
        {"{\"dim\": 64}", "n_layers"},
        {"{\"dim\": -64, \"n_layers\": 1, \"n_heads\": 4, \"n_kv_heads\": 2, \"hidden_dim\": 8, "
         "\"vocab_size\": 10}",
         "\"dim\""},
        {"{\"dim\": 64, \"n_layers\": 1, \"n_heads\": 4, \"n_kv_heads\": 3, \"hidden_dim\": 8, "
         "\"vocab_size\": 10}",
         "n_kv_heads 3"},
        {"{\"dim\": 64, \"n_layers\": 1, \"n_heads\": 4, \"n_kv_heads\": 2, \"hidden_dim\": 8, "
         "\"vocab_size\": 10, \"head_dim\": 7}",
         "head_dim 7"},
        {"{\"dim\": 64, \"n_layers\": 1, \"n_heads\": 4, \"n_kv_heads\": 2, \"hidden_dim\": 8, "
         "\"vocab_size\": 10, \"norm_eps\": \"x\"}",
         "norm_eps"},
        {"{\"dim\": 64, \"n_layers\": 1, \"n_heads\": 4, \"n_kv_heads\": 2, \"hidden_dim\": 8, "
         "\"vocab_size\": 10, \"quantization\": {}}",
         "quantization"},
        {"not json", "line 1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_file(p, cases[i].json, strlen(cases[i].json));
        nemo_config c;
        nemo_error err = {0};
        nemo_status st = nemo_config_from_params_json(p, &c, &err);
        CHECK_MSG(st != NEMO_OK, "case %zu accepted", i);
        CHECK_MSG(strstr(err.msg, cases[i].needle) && strstr(err.msg, "params.json"),
                  "case %zu: %s", i, err.msg);
    }
    const char *good = "{\"dim\": 5120, \"n_layers\": 40, \"head_dim\": 128, \"hidden_dim\": "
                       "14336, \"n_heads\": 32, \"n_kv_heads\": 8, \"norm_eps\": 1e-05, "
                       "\"vocab_size\": 131072, \"rope_theta\": 1000000.0}";
    write_file(p, good, strlen(good));
    nemo_config c;
    nemo_error err = {0};
    CHECK_OK(nemo_config_from_params_json(p, &c, &err), &err);
    CHECK(c.head_dim == 128 && c.rope_theta == 1e6f && c.sliding_window == 0);
    CHECK(c.max_seq_len == NEMO_MAX_TRAINED_CTX);
    /* HF config: 1,024,000 positions are clamped to the trained 128k */
    snprintf(p, sizeof p, "%s/config.json", test_tmpdir());
    const char *hf = "{\"model_type\": \"mistral\", \"hidden_size\": 5120, \"num_hidden_layers\": "
                     "40, \"num_attention_heads\": 32, \"num_key_value_heads\": 8, \"head_dim\": "
                     "128, \"intermediate_size\": 14336, \"vocab_size\": 131072, "
                     "\"max_position_embeddings\": 1024000, \"sliding_window\": null, "
                     "\"rope_theta\": 1000000.0, \"rms_norm_eps\": 1e-05}";
    write_file(p, hf, strlen(hf));
    CHECK_OK(nemo_config_from_hf_json(p, &c, &err), &err);
    CHECK(c.max_seq_len == NEMO_MAX_TRAINED_CTX && c.head_dim == 128 && c.n_kv_heads == 8);
}

int main(void) {
    RUN(test_valid);
    RUN(test_bad_headers);
    RUN(test_bad_framing);
    RUN(test_index);
    RUN(test_config_errors);
    return test_finish();
}
