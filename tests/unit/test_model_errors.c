/* test_model_errors.c — nemo_model_open on damaged synthetic checkpoints: each mutation (a
 * truncated or corrupt safetensors file, inconsistent offsets, a missing tensor, a wrong shape,
 * a bad params.json / config.json, a missing shard) must fail with the expected status and a
 * message naming the file and the tensor or key, never crash (this runs under ASan/UBSan). */
#include "core/core.h"
#include "test.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

/* A small model with NeMo's traits (head_dim != dim/heads, GQA). */
static const char *synth(const char *name, nemo_layout layout, int n_shards, int dim) {
    nemo_synth_params p;
    nemo_synth_defaults(&p);
    p.cfg.dim = dim;
    p.cfg.n_layers = 2;
    p.cfg.n_heads = 4;
    p.cfg.n_kv_heads = 2;
    p.cfg.head_dim = 24;
    p.cfg.hidden_dim = 96;
    p.cfg.vocab_size = 100;
    p.cfg.layout = layout;
    p.n_shards = n_shards;
    p.seed = 77;
    const char *dir = test_sub(name);
    nemo_error err = {0};
    CHECK_OK(nemo_synth_write(&p, dir, NULL, NULL, &err), &err);
    return dir;
}

/* Opens dir, expects failure with status st and every non-NULL needle in the message. */
static void expect_fail(const char *what, const char *dir, nemo_status st, const char *n1,
                        const char *n2) {
    nemo_model *m = NULL;
    nemo_error err = {0};
    nemo_status got = nemo_model_open(dir, &m, &err);
    CHECK_MSG(got != NEMO_OK && m == NULL, "%s: opened anyway", what);
    nemo_model_free(m);
    CHECK_MSG(got == st, "%s: status %s, expected %s (%s)", what, nemo_status_name(got),
              nemo_status_name(st), err.msg);
    CHECK_MSG(!n1 || strstr(err.msg, n1), "%s: message lacks '%s': %s", what, n1, err.msg);
    CHECK_MSG(!n2 || strstr(err.msg, n2), "%s: message lacks '%s': %s", what, n2, err.msg);
    fprintf(stderr, "  %-28s -> %s\n", what, err.msg);
}

static void expect_ok(const char *dir) {
    nemo_model *m = NULL;
    nemo_error err = {0};
    CHECK_OK(nemo_model_open(dir, &m, &err), &err);
    nemo_model_free(m);
}

static uint8_t *slurp(const char *path, uint64_t *len) {
    char *buf = NULL;
    nemo_error err = {0};
    CHECK_OK(nemo_read_file(path, 1u << 28, &buf, len, &err), &err);
    return (uint8_t *)buf;
}

static void spit(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f) return;
    CHECK(fwrite(p, 1, n, f) == n);
    fclose(f);
}

static uint64_t le64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void put_le64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

typedef void (*header_edit)(json_t *hdr, void *ctx);

/* Rewrites a safetensors file with an edited header. repack != 0: the tensors still listed are
 * laid out again back to back in their old order with their own bytes (so removing a tensor
 * leaves a valid file without it); otherwise the data buffer is kept as is. */
static void rewrite(const char *path, header_edit edit, void *ctx, int repack) {
    uint64_t len;
    uint8_t *f = slurp(path, &len);
    if (!f) return;
    uint64_t hl = le64(f);
    const uint8_t *data = f + 8 + hl;
    json_error_t je;
    json_t *h = json_loadb((const char *)f + 8, hl, 0, &je);
    CHECK_MSG(h != NULL, "%s", je.text);
    if (!h) {
        free(f);
        return;
    }
    edit(h, ctx);
    uint8_t *nd = malloc(len + 1);
    uint64_t nlen = 0;
    if (repack) {
        uint64_t at = 0;
        for (;;) { /* in order of old begin offsets */
            const char *key, *best = NULL;
            json_t *v;
            uint64_t bb = UINT64_MAX;
            json_object_foreach(h, key, v) {
                json_t *o = json_object_get(v, "data_offsets");
                if (!o || json_array_size(o) != 2) continue;
                uint64_t b = (uint64_t)json_integer_value(json_array_get(o, 0));
                if (b >= at && b < bb && !json_object_get(v, "_moved")) bb = b, best = key;
            }
            if (!best) break;
            json_t *v2 = json_object_get(h, best), *o = json_object_get(v2, "data_offsets");
            uint64_t b = (uint64_t)json_integer_value(json_array_get(o, 0));
            uint64_t e = (uint64_t)json_integer_value(json_array_get(o, 1));
            memcpy(nd + nlen, data + b, e - b);
            json_array_set_new(o, 0, json_integer((json_int_t)nlen));
            json_array_set_new(o, 1, json_integer((json_int_t)(nlen + e - b)));
            json_object_set_new(v2, "_moved", json_true());
            nlen += e - b;
            at = b;
        }
        const char *key;
        json_t *v;
        json_object_foreach(h, key, v) json_object_del(v, "_moved");
    } else {
        nlen = len - 8 - hl;
        memcpy(nd, data, nlen);
    }
    char *js = json_dumps(h, JSON_COMPACT | JSON_PRESERVE_ORDER);
    size_t jl = strlen(js), padded = (jl + 7) / 8 * 8;
    uint8_t *out = malloc(8 + padded + nlen + 1);
    put_le64(out, padded);
    memcpy(out + 8, js, jl);
    memset(out + 8 + jl, ' ', padded - jl);
    memcpy(out + 8 + padded, nd, nlen);
    spit(path, out, 8 + padded + nlen);
    free(out);
    free(js);
    free(nd);
    json_decref(h);
    free(f);
}

static void edit_json_file(const char *path, void (*edit)(json_t *, void *), void *ctx) {
    json_error_t je;
    json_t *j = json_load_file(path, 0, &je);
    CHECK_MSG(j != NULL, "%s", je.text);
    if (!j) return;
    edit(j, ctx);
    CHECK(json_dump_file(j, path, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0);
    json_decref(j);
}

/* ---- mutations */

static void del_key(json_t *o, void *key) {
    json_object_del(o, key);
}

static void set_shape_65(json_t *h, void *name) {
    json_t *s = json_object_get(json_object_get(h, name), "shape");
    json_array_set_new(s, 0, json_integer(65));
}

static void copy_offsets(json_t *h, void *names) {
    const char *const *n = names; /* n[1] gets the data_offsets of n[0] */
    json_t *from = json_object_get(json_object_get(h, n[0]), "data_offsets");
    json_object_set_new(json_object_get(h, n[1]), "data_offsets", json_deep_copy(from));
}

static void set_dtype(json_t *h, void *name) {
    json_object_set_new(json_object_get(h, name), "dtype", json_string("BF17"));
}

static void set_int(json_t *o, void *kv) {
    const char *const *p = kv;
    json_object_set_new(o, p[0], json_integer(atoi(p[1])));
}

/* ---- tests */

static void test_truncated(void) {
    const char *dir = synth("trunc", NEMO_LAYOUT_NATIVE, 0, 64);
    expect_ok(dir);
    const char *st = test_file_in(dir, "consolidated.safetensors");
    CHECK(truncate(st, 20000) == 0);
    expect_fail("truncated data", dir, NEMO_ERR_FORMAT, "consolidated.safetensors", NULL);
    CHECK(truncate(st, 5) == 0);
    expect_fail("truncated to 5 bytes", dir, NEMO_ERR_FORMAT, "consolidated.safetensors",
                "too short");
    CHECK(truncate(st, 0) == 0);
    expect_fail("empty file", dir, NEMO_ERR_FORMAT, "consolidated.safetensors", NULL);
}

static void test_header_length(void) {
    const char *dir = synth("hlen", NEMO_LAYOUT_NATIVE, 0, 64);
    const char *st = test_file_in(dir, "consolidated.safetensors");
    uint64_t len;
    uint8_t *f = slurp(st, &len);
    if (!f) return;
    put_le64(f, len); /* one header byte more than the file holds after the length */
    spit(st, f, len);
    expect_fail("header length past the end", dir, NEMO_ERR_FORMAT, "consolidated.safetensors",
                "header length");
    put_le64(f, UINT64_MAX - 3); /* wraps if added to 8 unchecked */
    spit(st, f, len);
    expect_fail("header length 2^64-4", dir, NEMO_ERR_FORMAT, "consolidated.safetensors",
                "header length");
    free(f);
}

static void test_bad_json_header(void) {
    const char *dir = synth("badjson", NEMO_LAYOUT_NATIVE, 0, 64);
    const char *st = test_file_in(dir, "consolidated.safetensors");
    uint64_t len;
    uint8_t *f = slurp(st, &len);
    if (!f) return;
    uint8_t *colon = memchr(f + 8, ':', (size_t)(len - 8)); /* a structural byte */
    CHECK(colon != NULL);
    if (!colon) {
        free(f);
        return;
    }
    *colon = '#';
    spit(st, f, len);
    expect_fail("bad JSON header", dir, NEMO_ERR_FORMAT, "consolidated.safetensors", "JSON");
    *colon = ':';
    f[8] = '['; /* an array opener in front of object members */
    spit(st, f, len);
    expect_fail("header starts with [", dir, NEMO_ERR_FORMAT, "consolidated.safetensors", NULL);
    free(f);
}

static void test_offsets(void) {
    const char *dir = synth("shape_range", NEMO_LAYOUT_NATIVE, 0, 64);
    const char *st = test_file_in(dir, "consolidated.safetensors");
    rewrite(st, set_shape_65, "norm.weight", 0);
    expect_fail("range disagrees with shape", dir, NEMO_ERR_FORMAT, "consolidated.safetensors",
                "norm.weight");

    dir = synth("overlap", NEMO_LAYOUT_NATIVE, 0, 64);
    const char *pair[2] = {"layers.0.attention.wk.weight", "layers.0.attention.wv.weight"};
    rewrite(test_file_in(dir, "consolidated.safetensors"), copy_offsets, pair, 0);
    expect_fail("overlapping ranges", dir, NEMO_ERR_FORMAT, "consolidated.safetensors", "overlap");

    dir = synth("dtype", NEMO_LAYOUT_NATIVE, 0, 64);
    rewrite(test_file_in(dir, "consolidated.safetensors"), set_dtype, "layers.1.ffn_norm.weight",
            0);
    expect_fail("unknown dtype", dir, NEMO_ERR_FORMAT, "layers.1.ffn_norm.weight", "BF17");

    /* data_offsets beyond the data buffer: lengthen the header, keep the file */
    dir = synth("beyond", NEMO_LAYOUT_NATIVE, 0, 64);
    st = test_file_in(dir, "consolidated.safetensors");
    uint64_t len;
    uint8_t *f = slurp(st, &len);
    if (f) {
        spit(st, f, len - 2); /* the last tensor's end now lies past the file */
        expect_fail("range past the file end", dir, NEMO_ERR_FORMAT, "consolidated.safetensors",
                    NULL);
        free(f);
    }
}

static void test_missing_tensor(void) {
    const char *dir = synth("missing", NEMO_LAYOUT_NATIVE, 0, 64);
    rewrite(test_file_in(dir, "consolidated.safetensors"), del_key, "layers.1.ffn_norm.weight", 1);
    expect_fail("missing tensor", dir, NEMO_ERR_MISSING, "layers.1.ffn_norm.weight", NULL);

    dir = synth("missing_hf", NEMO_LAYOUT_HF, 0, 64);
    rewrite(test_file_in(dir, "model.safetensors"), del_key, "lm_head.weight", 1);
    expect_fail("missing lm_head (hf)", dir, NEMO_ERR_MISSING, "lm_head.weight", NULL);
}

static void test_wrong_shape(void) {
    /* the weights of a dim-64 model under the params.json of a dim-128 one */
    const char *small = synth("shape64", NEMO_LAYOUT_NATIVE, 0, 64);
    const char *big = synth("shape128", NEMO_LAYOUT_NATIVE, 0, 128);
    uint64_t len;
    uint8_t *pj = slurp(test_file_in(big, "params.json"), &len);
    if (!pj) return;
    spit(test_file_in(small, "params.json"), pj, len);
    free(pj);
    expect_fail("params.json of another dim", small, NEMO_ERR_SHAPE, "tok_embeddings.weight",
                "128");
}

static void test_bad_params_json(void) {
    const char *dir = synth("pj_missing", NEMO_LAYOUT_NATIVE, 0, 64);
    edit_json_file(test_file_in(dir, "params.json"), del_key, "dim");
    expect_fail("params.json without dim", dir, NEMO_ERR_CONFIG, "params.json", "dim");

    dir = synth("pj_negative", NEMO_LAYOUT_NATIVE, 0, 64);
    const char *neg[2] = {"dim", "-64"};
    edit_json_file(test_file_in(dir, "params.json"), set_int, neg);
    expect_fail("negative dim", dir, NEMO_ERR_CONFIG, "params.json", "dim");

    /* head_dim 16 * 4 heads = 64 rows, but wq has 96 */
    dir = synth("pj_headdim", NEMO_LAYOUT_NATIVE, 0, 64);
    const char *hd[2] = {"head_dim", "16"};
    edit_json_file(test_file_in(dir, "params.json"), set_int, hd);
    expect_fail("head_dim*heads != wq rows", dir, NEMO_ERR_SHAPE, "attention.wq.weight", "96");

    dir = synth("pj_nonjson", NEMO_LAYOUT_NATIVE, 0, 64);
    spit(test_file_in(dir, "params.json"), "dim = 64\n", 9);
    expect_fail("params.json not JSON", dir, NEMO_ERR_CONFIG, "params.json", NULL);

    dir = synth("pj_kv", NEMO_LAYOUT_NATIVE, 0, 64);
    const char *kv[2] = {"n_kv_heads", "3"};
    edit_json_file(test_file_in(dir, "params.json"), set_int, kv);
    expect_fail("kv heads not dividing", dir, NEMO_ERR_CONFIG, "params.json", "n_kv_heads");

    dir = synth("cfg_missing", NEMO_LAYOUT_HF, 0, 64);
    edit_json_file(test_file_in(dir, "config.json"), del_key, "hidden_size");
    expect_fail("config.json without hidden_size", dir, NEMO_ERR_CONFIG, "config.json",
                "hidden_size");
}

static void test_shards(void) {
    const char *dir = synth("shards", NEMO_LAYOUT_HF, 3, 64);
    expect_ok(dir);
    CHECK(unlink(test_file_in(dir, "model-00002-of-00003.safetensors")) == 0);
    nemo_model *m = NULL;
    nemo_error err = {0};
    nemo_status st = nemo_model_open(dir, &m, &err);
    CHECK(st == NEMO_ERR_MISSING || st == NEMO_ERR_IO);
    CHECK_MSG(strstr(err.msg, "model-00002-of-00003.safetensors"), "%s", err.msg);
    fprintf(stderr, "  %-28s -> %s\n", "index names a missing shard", err.msg);
    nemo_model_free(m);
}

static void test_not_a_model(void) {
    const char *dir = test_sub("empty_dir");
    CHECK(mkdir(dir, 0777) == 0);
    nemo_model *m = NULL;
    nemo_error err = {0};
    CHECK(nemo_model_open(dir, &m, &err) != NEMO_OK && m == NULL);
    CHECK_MSG(strstr(err.msg, "empty_dir"), "%s", err.msg);
    CHECK(nemo_model_open(test_sub("no_such_dir"), &m, &err) != NEMO_OK && m == NULL);
    CHECK_MSG(strstr(err.msg, "no_such_dir"), "%s", err.msg);
}

int main(void) {
    RUN(test_truncated);
    RUN(test_header_length);
    RUN(test_bad_json_header);
    RUN(test_offsets);
    RUN(test_missing_tensor);
    RUN(test_wrong_shape);
    RUN(test_bad_params_json);
    RUN(test_shards);
    RUN(test_not_a_model);
    return test_finish();
}
