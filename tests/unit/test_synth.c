/* test_synth.c — the synthetic checkpoint generator: same seed same bytes (pinned by a hash,
 * because the committed forward goldens depend on these exact bytes), different seed different
 * bytes, the HF folder equal to the native one up to the q/k row permutation of spec 1.4,
 * shard/index consistency, the safetensors layout, value scales, dtype encodings, config files
 * and argument checks. */
#include "checkpoint/safetensors.h"
#include "core/core.h"
#include "synth/synth.h"
#include "test.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static void small_params(nemo_synth_params *p, nemo_layout layout, nemo_dtype dt, uint64_t seed) {
    nemo_synth_defaults(p);
    nemo_config *c = &p->cfg;
    c->dim = 64;
    c->n_layers = 2;
    c->n_heads = 4;
    c->n_kv_heads = 2;
    c->head_dim = 24; /* != dim / n_heads, like NeMo */
    c->hidden_dim = 96;
    c->vocab_size = 100;
    c->layout = layout;
    p->dtype = dt;
    p->seed = seed;
}

static int write_dir(const nemo_synth_params *p, const char *dir) {
    nemo_error err = {0};
    nemo_status st = nemo_synth_write(p, dir, NULL, NULL, &err);
    CHECK_MSG(st == NEMO_OK, "%s", err.msg);
    return st == NEMO_OK ? 0 : -1;
}

static char *slurp(const char *path, uint64_t *len) {
    char *buf = NULL;
    nemo_error err = {0};
    if (nemo_read_file(path, 1u << 30, &buf, len, &err) != NEMO_OK) {
        CHECK_MSG(0, "%s", err.msg);
        return NULL;
    }
    return buf;
}

static uint64_t fnv(const uint8_t *p, uint64_t n) {
    uint64_t h = 0xcbf29ce484222325ull;
    for (uint64_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static void test_determinism(void) {
    nemo_synth_params p;
    small_params(&p, NEMO_LAYOUT_NATIVE, NEMO_DTYPE_BF16, 42);
    if (write_dir(&p, test_sub("det_a")) || write_dir(&p, test_sub("det_b"))) return;
    p.seed = 43;
    if (write_dir(&p, test_sub("det_c"))) return;
    uint64_t la, lb, lc;
    char *a = slurp(test_file_in(test_sub("det_a"), "consolidated.safetensors"), &la);
    char *b = slurp(test_file_in(test_sub("det_b"), "consolidated.safetensors"), &lb);
    char *c = slurp(test_file_in(test_sub("det_c"), "consolidated.safetensors"), &lc);
    if (a && b && c) {
        CHECK(la == lb && memcmp(a, b, la) == 0);
        /* another seed: same header (so same length), different data almost everywhere */
        CHECK(la == lc);
        uint64_t hl = 0;
        for (int i = 0; i < 8; i++) hl |= (uint64_t)(uint8_t)a[i] << (8 * i);
        CHECK(memcmp(a, c, 8 + hl) == 0);
        uint64_t same = 0;
        for (uint64_t i = 8 + hl; i < la; i += 2) same += !memcmp(a + i, c + i, 2);
        CHECK_MSG(same < (la - 8 - hl) / 2 / 50, "%llu of %llu values equal across seeds",
                  (unsigned long long)same, (unsigned long long)(la - 8 - hl) / 2);
        /* Pinned: the forward goldens in tests/golden/forward were made from these bytes. If this
         * changes on purpose, regenerate them with scripts/golden_forward.py. */
        uint64_t h = fnv((const uint8_t *)a, la);
        CHECK_MSG(h == 0xd9b852b6a57ef3c3ull,
                  "generator output hash %016llx changed (platform dependence or "
                  "a generator change: regenerate the goldens)",
                  (unsigned long long)h);
    }
    free(a);
    free(b);
    free(c);
}

/* Loads every .safetensors file of a folder with the project's reader. */
static int load_dir(const char *dir, nemo_tensor_dir *td) {
    memset(td, 0, sizeof *td);
    DIR *d = opendir(dir);
    if (!d) return -1;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 12 || strcmp(e->d_name + l - 12, ".safetensors")) continue;
        nemo_error err = {0};
        if (nemo_st_load(td, test_file_in(dir, e->d_name), &err) != NEMO_OK) {
            CHECK_MSG(0, "%s", err.msg);
            rc = -1;
        }
    }
    closedir(d);
    return rc;
}

static const struct {
    const char *native, *hf;
    int permuted;
} NAMES[] = {
    {"tok_embeddings.weight", "model.embed_tokens.weight", 0},
    {"norm.weight", "model.norm.weight", 0},
    {"output.weight", "lm_head.weight", 0},
    {"layers.%d.attention_norm.weight", "model.layers.%d.input_layernorm.weight", 0},
    {"layers.%d.attention.wq.weight", "model.layers.%d.self_attn.q_proj.weight", 1},
    {"layers.%d.attention.wk.weight", "model.layers.%d.self_attn.k_proj.weight", 1},
    {"layers.%d.attention.wv.weight", "model.layers.%d.self_attn.v_proj.weight", 0},
    {"layers.%d.attention.wo.weight", "model.layers.%d.self_attn.o_proj.weight", 0},
    {"layers.%d.ffn_norm.weight", "model.layers.%d.post_attention_layernorm.weight", 0},
    {"layers.%d.feed_forward.w1.weight", "model.layers.%d.mlp.gate_proj.weight", 0},
    {"layers.%d.feed_forward.w2.weight", "model.layers.%d.mlp.down_proj.weight", 0},
    {"layers.%d.feed_forward.w3.weight", "model.layers.%d.mlp.up_proj.weight", 0},
};

static void test_native_hf_permutation(void) {
    nemo_synth_params p;
    small_params(&p, NEMO_LAYOUT_NATIVE, NEMO_DTYPE_F32, 5);
    if (write_dir(&p, test_sub("perm_n"))) return;
    p.cfg.layout = NEMO_LAYOUT_HF;
    p.n_shards = 2;
    if (write_dir(&p, test_sub("perm_h"))) return;
    nemo_tensor_dir n, h;
    if (load_dir(test_sub("perm_n"), &n) || load_dir(test_sub("perm_h"), &h)) goto done;
    CHECK(n.n_entries == 9 * 2 + 3 && h.n_entries == n.n_entries);
    const int hd = p.cfg.head_dim;
    int compared = 0;
    for (int l = 0; l < 2; l++) {
        for (size_t k = 0; k < sizeof NAMES / sizeof NAMES[0]; k++) {
            if (k < 3 && l > 0) continue;
            char nn[128], hn[128];
            snprintf(nn, sizeof nn, NAMES[k].native, l);
            snprintf(hn, sizeof hn, NAMES[k].hf, l);
            const nemo_tensor_entry *a = nemo_tdir_find(&n, nn), *b = nemo_tdir_find(&h, hn);
            CHECK_MSG(a && b, "%s / %s missing", nn, hn);
            if (!a || !b) continue;
            CHECK(a->dtype == NEMO_DTYPE_F32 && b->dtype == NEMO_DTYPE_F32);
            CHECK(a->ndim == b->ndim && a->shape[0] == b->shape[0] && a->nbytes == b->nbytes);
            if (a->nbytes != b->nbytes) continue;
            uint64_t rows = a->ndim == 2 ? a->shape[0] : 1, cols = a->n_elems / rows;
            size_t rb = (size_t)cols * 4;
            const uint8_t *A = a->data, *B = b->data;
            int ok = 1;
            for (uint64_t r = 0; r < rows; r++) {
                /* spec 1.4: HF row s*hd/2 + i of each head = native row 2i + s */
                uint64_t head = r / (uint64_t)hd, j = r % (uint64_t)hd;
                uint64_t nr = NAMES[k].permuted ? head * hd + 2 * (j % (hd / 2)) + j / (hd / 2) : r;
                ok &= !memcmp(B + r * rb, A + nr * rb, rb);
            }
            CHECK_MSG(ok, "%s: HF rows are not the permuted native rows", hn);
            /* and the permutation is not the identity for q/k */
            if (NAMES[k].permuted) CHECK(memcmp(A, B, a->nbytes) != 0);
            compared++;
        }
    }
    CHECK(compared == 21);
done:
    nemo_tdir_free(&n);
    nemo_tdir_free(&h);
}

static void test_row_mapping(void) {
    nemo_synth_tensor t = {.permuted = 1, .head_dim = 8};
    /* head 0: HF rows 0..3 = native 0,2,4,6; HF rows 4..7 = native 1,3,5,7; head 1 likewise */
    const uint64_t want[16] = {0, 2, 4, 6, 1, 3, 5, 7, 8, 10, 12, 14, 9, 11, 13, 15};
    for (uint64_t r = 0; r < 16; r++) CHECK(nemo_synth_native_row(&t, r) == want[r]);
    t.permuted = 0;
    CHECK(nemo_synth_native_row(&t, 5) == 5);
}

static void test_shards_and_index(void) {
    nemo_synth_params p;
    small_params(&p, NEMO_LAYOUT_HF, NEMO_DTYPE_BF16, 9);
    p.n_shards = 4;
    const char *dir = test_sub("shards");
    if (write_dir(&p, dir)) return;
    CHECK(!nemo_file_exists(test_file_in(dir, "model.safetensors")));
    CHECK(!nemo_file_exists(test_file_in(dir, "params.json")));
    json_error_t je;
    json_t *idx = json_load_file(test_file_in(dir, "model.safetensors.index.json"), 0, &je);
    CHECK_MSG(idx != NULL, "%s", je.text);
    if (!idx) return;
    json_t *wm = json_object_get(idx, "weight_map");
    CHECK(json_object_size(wm) == 21);
    uint64_t total = 0;
    int per_shard[4] = {0};
    for (int k = 0; k < 4; k++) {
        char name[64];
        nemo_synth_shard_name(k, 4, name, sizeof name);
        CHECK(!strcmp(name, k == 0   ? "model-00001-of-00004.safetensors"
                            : k == 3 ? "model-00004-of-00004.safetensors"
                                     : name));
        nemo_tensor_dir td = {0};
        nemo_error err = {0};
        CHECK_OK(nemo_st_load(&td, test_file_in(dir, name), &err), &err);
        for (int i = 0; i < td.n_entries; i++) {
            const char *f = json_string_value(json_object_get(wm, td.entries[i].name));
            CHECK_MSG(f && !strcmp(f, name), "%s in %s, index says %s", td.entries[i].name, name,
                      f ? f : "nothing");
            total += td.entries[i].nbytes;
            per_shard[k]++;
        }
        nemo_tdir_free(&td);
    }
    for (int k = 0; k < 4; k++) CHECK_MSG(per_shard[k] > 0, "shard %d is empty", k + 1);
    CHECK(per_shard[0] + per_shard[1] + per_shard[2] + per_shard[3] == 21);
    CHECK(total == (uint64_t)json_integer_value(
                       json_object_get(json_object_get(idx, "metadata"), "total_size")));
    json_decref(idx);
    /* the project's index loader agrees */
    nemo_tensor_dir td = {0};
    nemo_error err = {0};
    CHECK_OK(nemo_st_load_index(&td, test_file_in(dir, "model.safetensors.index.json"), &err),
             &err);
    CHECK(td.n_entries == 21);
    nemo_tdir_free(&td);
}

static void test_safetensors_layout(void) {
    nemo_synth_params p;
    small_params(&p, NEMO_LAYOUT_NATIVE, NEMO_DTYPE_F16, 3);
    const char *dir = test_sub("layout");
    if (write_dir(&p, dir)) return;
    uint64_t len;
    uint8_t *f = (uint8_t *)slurp(test_file_in(dir, "consolidated.safetensors"), &len);
    if (!f) return;
    uint64_t n = 0;
    for (int i = 0; i < 8; i++) n |= (uint64_t)f[i] << (8 * i);
    CHECK(n % 8 == 0 && 8 + n <= len);
    CHECK(f[8] == '{');
    json_error_t je;
    json_t *h = json_loadb((const char *)f + 8, n, 0, &je);
    CHECK_MSG(h != NULL, "%s", je.text);
    if (h) {
        /* tensors back to back from 0 to the end of the file, in name order */
        uint64_t off = 0;
        const char *prev = "";
        int seen = 0;
        for (;;) {
            const char *best = NULL;
            json_t *bv = NULL;
            const char *key;
            json_t *v;
            json_object_foreach(h, key, v) {
                if (!strcmp(key, "__metadata__")) continue;
                json_t *o = json_object_get(v, "data_offsets");
                if ((uint64_t)json_integer_value(json_array_get(o, 0)) == off &&
                    (uint64_t)json_integer_value(json_array_get(o, 1)) > off)
                    best = key, bv = v;
            }
            if (!best) break;
            CHECK_MSG(strcmp(prev, best) < 0, "%s after %s", best, prev);
            CHECK(!strcmp(json_string_value(json_object_get(bv, "dtype")), "F16"));
            prev = best;
            off = (uint64_t)json_integer_value(
                json_array_get(json_object_get(bv, "data_offsets"), 1));
            seen++;
        }
        CHECK(seen == 21);
        CHECK(8 + n + off == len);
        CHECK(json_object_get(h, "__metadata__") != NULL);
        json_decref(h);
    }
    free(f);
}

static void test_value_scales(void) {
    nemo_synth_params p;
    small_params(&p, NEMO_LAYOUT_NATIVE, NEMO_DTYPE_F32, 1);
    p.cfg.dim = 512;
    nemo_synth_plan pl;
    nemo_error err = {0};
    CHECK_OK(nemo_synth_plan_make(&p, &pl, &err), &err);
    if (err.status) return;
    float *row = malloc(512 * sizeof *row);
    for (int i = 0; i < pl.n; i++) {
        const nemo_synth_tensor *t = &pl.t[i];
        if (t->cols != 512 || t->ndim != (t->role == NEMO_SYNTH_ATTN_NORM ? 1 : 2)) continue;
        if (t->role != NEMO_SYNTH_WQ && t->role != NEMO_SYNTH_ATTN_NORM) continue;
        double s2 = 0, mn = 1e9, mx = -1e9;
        uint64_t cnt = 0;
        for (uint64_t r = 0; r < (t->rows < 8 ? t->rows : 8); r++) {
            nemo_synth_row_values(p.seed, t, r, row);
            for (int c = 0; c < 512; c++) {
                double v = t->ndim == 1 ? row[c] - 1.0 : row[c];
                s2 += v * v, cnt++;
                if (row[c] < mn) mn = row[c];
                if (row[c] > mx) mx = row[c];
            }
        }
        double sd = sqrt(s2 / (double)cnt);
        if (t->role == NEMO_SYNTH_WQ) /* std 1/sqrt(fan_in) */
            CHECK_MSG(fabs(sd * sqrt(512.0) - 1) < 0.06, "wq std %g", sd);
        else /* norm weights 1 +- 0.1, not all 1 */
            CHECK_MSG(mn >= 0.9 && mx <= 1.1 && mx - mn > 0.15, "norm in [%g, %g]", mn, mx);
    }
    free(row);
    nemo_synth_plan_free(&pl);
}

static void test_dtype_encodings(void) {
    /* the bf16 / f16 files hold the f32 values rounded, tensor by tensor */
    nemo_synth_params p;
    const nemo_dtype dts[3] = {NEMO_DTYPE_F32, NEMO_DTYPE_BF16, NEMO_DTYPE_F16};
    nemo_tensor_dir td[3];
    memset(td, 0, sizeof td);
    for (int d = 0; d < 3; d++) {
        small_params(&p, NEMO_LAYOUT_NATIVE, dts[d], 11);
        char name[32];
        snprintf(name, sizeof name, "dt%d", d);
        if (write_dir(&p, test_sub(name)) || load_dir(test_sub(name), &td[d])) goto done;
    }
    const nemo_tensor_entry *e32 = nemo_tdir_find(&td[0], "layers.1.feed_forward.w2.weight");
    const nemo_tensor_entry *e16b = nemo_tdir_find(&td[1], "layers.1.feed_forward.w2.weight");
    const nemo_tensor_entry *e16 = nemo_tdir_find(&td[2], "layers.1.feed_forward.w2.weight");
    CHECK(e32 && e16b && e16);
    if (!e32 || !e16b || !e16) goto done;
    CHECK(e16b->dtype == NEMO_DTYPE_BF16 && e16->dtype == NEMO_DTYPE_F16);
    int bad = 0;
    for (uint64_t i = 0; i < e32->n_elems; i++) {
        float f;
        uint16_t hb, hh;
        memcpy(&f, (const uint8_t *)e32->data + 4 * i, 4);
        memcpy(&hb, (const uint8_t *)e16b->data + 2 * i, 2);
        memcpy(&hh, (const uint8_t *)e16->data + 2 * i, 2);
        bad += hb != nemo_f32_to_bf16(f) || hh != nemo_f32_to_f16(f);
    }
    CHECK_MSG(bad == 0, "%d values differ", bad);
done:
    for (int d = 0; d < 3; d++) nemo_tdir_free(&td[d]);
}

static void test_config_files(void) {
    nemo_synth_params p;
    small_params(&p, NEMO_LAYOUT_NATIVE, NEMO_DTYPE_BF16, 0);
    p.cfg.sliding_window = 16;
    p.cfg.rope_theta = 10000.0f;
    const char *dir = test_sub("cfg_v01");
    if (write_dir(&p, dir)) return;
    json_error_t je;
    json_t *j = json_load_file(test_file_in(dir, "params.json"), 0, &je);
    CHECK_MSG(j != NULL, "%s", je.text);
    if (j) {
        /* Mistral 7B v0.1 style: a window, and no rope_theta when it is the default 1e4 */
        CHECK(json_integer_value(json_object_get(j, "sliding_window")) == 16);
        CHECK(json_object_get(j, "rope_theta") == NULL);
        CHECK(json_integer_value(json_object_get(j, "head_dim")) == 24);
        CHECK(json_integer_value(json_object_get(j, "n_kv_heads")) == 2);
        CHECK(fabs(json_number_value(json_object_get(j, "norm_eps")) - 1e-5) < 1e-12);
        json_decref(j);
    }
    small_params(&p, NEMO_LAYOUT_NATIVE, NEMO_DTYPE_BF16, 0);
    dir = test_sub("cfg_nemo");
    if (write_dir(&p, dir)) return;
    j = json_load_file(test_file_in(dir, "params.json"), 0, &je);
    if (j) {
        CHECK(json_object_get(j, "sliding_window") == NULL);
        CHECK(json_number_value(json_object_get(j, "rope_theta")) == 1e6);
        json_decref(j);
    }
    p.cfg.layout = NEMO_LAYOUT_HF;
    dir = test_sub("cfg_hf");
    if (write_dir(&p, dir)) return;
    CHECK(nemo_file_exists(test_file_in(dir, "model.safetensors")));
    CHECK(!nemo_file_exists(test_file_in(dir, "model.safetensors.index.json")));
    j = json_load_file(test_file_in(dir, "config.json"), 0, &je);
    CHECK_MSG(j != NULL, "%s", je.text);
    if (j) {
        CHECK(!strcmp(json_string_value(json_array_get(json_object_get(j, "architectures"), 0)),
                      "MistralForCausalLM"));
        CHECK(json_integer_value(json_object_get(j, "head_dim")) == 24);
        CHECK(json_integer_value(json_object_get(j, "hidden_size")) == 64);
        CHECK(json_integer_value(json_object_get(j, "num_key_value_heads")) == 2);
        CHECK(json_is_null(json_object_get(j, "sliding_window")));
        CHECK(json_is_false(json_object_get(j, "tie_word_embeddings")));
        CHECK(!strcmp(json_string_value(json_object_get(j, "torch_dtype")), "bfloat16"));
        CHECK(json_number_value(json_object_get(j, "rope_theta")) == 1e6);
        json_decref(j);
    }
}

static void test_bad_params(void) {
    nemo_synth_params p;
    nemo_error err = {0};
    const char *dir = test_sub("bad");
    small_params(&p, NEMO_LAYOUT_NATIVE, NEMO_DTYPE_BF16, 0);
    p.cfg.head_dim = 23;
    CHECK(nemo_synth_write(&p, dir, NULL, NULL, &err) == NEMO_ERR_CONFIG);
    CHECK(strstr(err.msg, "head_dim") != NULL);
    small_params(&p, NEMO_LAYOUT_NATIVE, NEMO_DTYPE_BF16, 0);
    p.cfg.n_kv_heads = 3;
    CHECK(nemo_synth_write(&p, dir, NULL, NULL, &err) == NEMO_ERR_CONFIG);
    small_params(&p, NEMO_LAYOUT_NATIVE, NEMO_DTYPE_Q4_0, 0);
    CHECK(nemo_synth_write(&p, dir, NULL, NULL, &err) == NEMO_ERR_ARG);
    small_params(&p, NEMO_LAYOUT_NATIVE, NEMO_DTYPE_BF16, 0);
    p.n_shards = 2; /* native is one consolidated file */
    CHECK(nemo_synth_write(&p, dir, NULL, NULL, &err) == NEMO_ERR_ARG);
    p.cfg.layout = NEMO_LAYOUT_HF;
    p.n_shards = 22; /* more shards than the 21 tensors */
    CHECK(nemo_synth_write(&p, dir, NULL, NULL, &err) == NEMO_ERR_ARG);
    small_params(&p, NEMO_LAYOUT_GGUF, NEMO_DTYPE_BF16, 0);
    CHECK(nemo_synth_write(&p, dir, NULL, NULL, &err) == NEMO_ERR_ARG);
    small_params(&p, NEMO_LAYOUT_NATIVE, NEMO_DTYPE_BF16, 0);
    p.cfg.vocab_size = 0;
    CHECK(nemo_synth_write(&p, dir, NULL, NULL, &err) == NEMO_ERR_CONFIG);
    /* nothing was written for any of them */
    struct stat st;
    CHECK(stat(dir, &st) != 0);
    /* unwritable target: a path under a regular file */
    small_params(&p, NEMO_LAYOUT_NATIVE, NEMO_DTYPE_BF16, 0);
    FILE *f = fopen(test_sub("plainfile"), "w");
    if (f) fclose(f);
    CHECK(nemo_synth_write(&p, test_file_in(test_sub("plainfile"), "x"), NULL, NULL, &err) ==
          NEMO_ERR_IO);
    CHECK(strstr(err.msg, "plainfile") != NULL);
}

typedef struct {
    uint64_t last, total;
    int calls, monotonic;
} prog_seen;

static void on_prog(uint64_t done, uint64_t total, void *user) {
    prog_seen *s = user;
    s->monotonic &= done >= s->last && done <= total;
    s->last = done;
    s->total = total;
    s->calls++;
}

static void test_progress_and_defaults(void) {
    nemo_synth_params p;
    nemo_synth_defaults(&p);
    /* the full NeMo 12B shape: 12,247,782,400 weights, 24.5 GB of bf16 (spec 1.2) */
    nemo_synth_plan pl;
    nemo_error err = {0};
    CHECK_OK(nemo_synth_plan_make(&p, &pl, &err), &err);
    CHECK(pl.n == 363);
    CHECK(pl.data_bytes == 24495564800ull);
    nemo_synth_plan_free(&pl);

    small_params(&p, NEMO_LAYOUT_HF, NEMO_DTYPE_F32, 2);
    p.n_shards = 3;
    prog_seen s = {0, 0, 0, 1};
    CHECK_OK(nemo_synth_write(&p, test_sub("prog"), on_prog, &s, &err), &err);
    CHECK(s.calls >= 21 && s.monotonic && s.last == s.total);
    CHECK_OK(nemo_synth_plan_make(&p, &pl, &err), &err);
    CHECK(s.total == pl.data_bytes);
    nemo_synth_plan_free(&pl);
}

int main(void) {
    RUN(test_determinism);
    RUN(test_row_mapping);
    RUN(test_native_hf_permutation);
    RUN(test_shards_and_index);
    RUN(test_safetensors_layout);
    RUN(test_value_scales);
    RUN(test_dtype_encodings);
    RUN(test_config_files);
    RUN(test_bad_params);
    RUN(test_progress_and_defaults);
    return test_finish();
}
