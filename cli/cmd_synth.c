/* cmd_synth.c — `nemo synth`: writes a synthetic checkpoint folder (deterministic random
 * weights in an exact NeMo / Mistral 7B shape) through nemo_synth_write, with presets, dim
 * overrides and progress for big writes. */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f) {
    fprintf(f,
            "usage: nemo synth OUT_DIR [options]\n"
            "\n"
            "Writes a checkpoint folder with deterministic pseudo-random weights (same seed and\n"
            "options: same bytes on every machine), exact tensor names, shapes and dtype.\n"
            "native layout: consolidated.safetensors + params.json (interleaved q/k rows);\n"
            "hf layout: config.json + model.safetensors, or model-0000k-of-0000n.safetensors\n"
            "shards + model.safetensors.index.json (q/k rows permuted as transformers expects).\n"
            "The native and hf folders of one seed hold the same model.\n"
            "\n"
            "options (applied on top of the preset, in any order):\n"
            "  --preset NAME     nemo-12b (default: 40 layers, 24.5 GB in bf16), nemo-tiny,\n"
            "                    mistral-7b-v0.1 (window 4096, theta 1e4), mistral-7b-v0.2,\n"
            "                    mistral-7b-v0.3\n"
            "  --layers N        number of layers\n"
            "  --dim N           model dim (hidden_size)\n"
            "  --heads N         query heads\n"
            "  --kv-heads N      key/value heads (divides --heads)\n"
            "  --head-dim N      head dim (even; need not be dim/heads)\n"
            "  --hidden N        FFN hidden dim (intermediate_size)\n"
            "  --vocab N         vocabulary size\n"
            "  --window N        sliding window (0 = none)\n"
            "  --theta X         RoPE base\n"
            "  --eps X           RMSNorm epsilon\n"
            "  --max-seq N       max_position_embeddings written to config.json\n"
            "  --layout L        native (default) or hf\n"
            "  --dtype T         bf16 (default), f16, f32 or f8_e4m3 (FP8: layer matrices in\n"
            "                    F8_E4M3 with per-tensor F32 scales, named X.qscale_weight /\n"
            "                    X.qscale_act (native) or X.weight_scale / X.input_scale (hf);\n"
            "                    embeddings, LM head and norms bf16, like Mistral's FP8 releases)\n"
            "  --seed S          64-bit seed (default 0)\n"
            "  --shards N        hf layout: number of shard files (default 1)\n"
            "  --tokenizer FILE  copy a tokenizer into the folder (a .json as tekken.json, else\n"
            "                    under its own name) so text commands find it; its vocabulary\n"
            "                    must fit --vocab (tekken.json: --vocab 131072)\n"
            "  --force           write into a non-empty folder (replaces the model files there)\n"
            "  --quiet           no progress\n"
            "\n"
            "Progress goes to stderr when it is a terminal or the write exceeds 100 MB.\n");
}

typedef struct {
    const char *name;
    int dim, n_layers, n_heads, n_kv_heads, head_dim, hidden_dim, vocab_size, window, max_seq;
    float theta;
} preset;

static const preset PRESETS[] = {
    {"nemo-12b", 5120, 40, 32, 8, 128, 14336, 131072, 0, 131072, 1e6f},
    /* NeMo's peculiarities in small: head_dim != dim/heads, GQA 4:1 */
    {"nemo-tiny", 256, 2, 8, 2, 64, 512, 1024, 0, 131072, 1e6f},
    {"mistral-7b-v0.1", 4096, 32, 32, 8, 128, 14336, 32000, 4096, 32768, 1e4f},
    {"mistral-7b-v0.2", 4096, 32, 32, 8, 128, 14336, 32000, 0, 32768, 1e6f},
    {"mistral-7b-v0.3", 4096, 32, 32, 8, 128, 14336, 32768, 0, 32768, 1e6f},
};

static int dir_state(const char *path) { /* -1 absent, 0 empty, 1 has entries */
    DIR *d = opendir(path);
    if (!d) return -1;
    struct dirent *e;
    int any = 0;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) any = 1;
    closedir(d);
    return any;
}

/* --force: remove the files of either layout, so the folder is not left ambiguous (a stale
 * params.json next to a fresh config.json). Other files stay. */
static int remove_model_files(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d))) {
        const char *n = e->d_name;
        size_t len = strlen(n);
        int model = !strcmp(n, "params.json") || !strcmp(n, "config.json") ||
                    !strcmp(n, "model.safetensors.index.json") ||
                    (len > 12 && !strcmp(n + len - 12, ".safetensors"));
        if (!model) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, n);
        if (unlink(path) != 0) {
            fprintf(stderr, "nemo synth: cannot remove %s: %s\n", path, strerror(errno));
            rc = -1;
        }
    }
    closedir(d);
    return rc;
}

typedef struct {
    int tty;
    int last; /* last printed per-mille (tty) or tenth (log) */
} progress_state;

static void on_progress(uint64_t done, uint64_t total, void *user) {
    progress_state *ps = user;
    int permille = total ? (int)(done * 1000 / total) : 1000;
    if (ps->tty) {
        if (permille == ps->last && done != total) return;
        ps->last = permille;
        fprintf(stderr, "\rsynth: %.2f / %.2f GB (%.1f%%)", (double)done / 1e9, (double)total / 1e9,
                permille / 10.0);
        if (done == total) fputc('\n', stderr);
    } else {
        if (permille / 100 == ps->last) return;
        ps->last = permille / 100;
        fprintf(stderr, "synth: %.2f / %.2f GB (%d%%)\n", (double)done / 1e9, (double)total / 1e9,
                permille / 10);
    }
}

/* The tokenizer must not name ids the model does not have. */
static int check_tokenizer(const char *path, int vocab) {
    nemo_tokenizer *t = NULL;
    nemo_error err = {0};
    if (nemo_tokenizer_open(path, &t, &err)) return cli_report("synth", &err);
    int tv = nemo_tokenizer_vocab_size(t);
    nemo_tokenizer_free(t);
    if (tv > vocab) {
        fprintf(stderr,
                "nemo synth: --tokenizer %s has %d ids but --vocab is %d (use --vocab %d)\n", path,
                tv, vocab, tv);
        return 1;
    }
    return 0;
}

static int copy_tokenizer(const char *src, const char *dir) {
    const char *base = strrchr(src, '/');
    base = base ? base + 1 : src;
    size_t bl = strlen(base);
    char dst[4096];
    snprintf(dst, sizeof dst, "%s/%s", dir,
             bl > 5 && !strcmp(base + bl - 5, ".json") ? "tekken.json" : base);
    FILE *in = fopen(src, "rb"), *o = in ? fopen(dst, "wb") : NULL;
    int rc = 0;
    char buf[1 << 16];
    size_t k;
    while (o && (k = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, k, o) != k) rc = -1;
    if (!in || !o || ferror(in)) rc = -1;
    if (o && fclose(o)) rc = -1;
    if (rc) {
        fprintf(stderr, "nemo synth: cannot copy %s to %s: %s\n", src, dst, strerror(errno));
        rc = -1;
    }
    if (in) fclose(in);
    return rc;
}

static int parse_float(const char *flag, const char *val, float *out) {
    char *end;
    errno = 0;
    float x = val ? strtof(val, &end) : 0;
    if (!val || end == val || *end || errno || !(x > 0)) {
        fprintf(stderr, "nemo synth: %s expects a positive number, got '%s'\n", flag,
                val ? val : "(nothing)");
        return -1;
    }
    *out = x;
    return 0;
}

int cmd_synth(int argc, char **argv) {
    const char *out = NULL, *preset_name = "nemo-12b", *tok = NULL;
    long ov[9];               /* overrides, -1 = keep the preset's */
    float theta = 0, eps = 0; /* 0 = keep */
    int force = 0, quiet = 0;
    for (int i = 0; i < 9; i++) ov[i] = -1;
    static const char *const INT_FLAGS[9] = {"--layers",   "--dim",      "--heads",
                                             "--kv-heads", "--head-dim", "--hidden",
                                             "--vocab",    "--window",   "--max-seq"};
    nemo_synth_params p;
    nemo_synth_defaults(&p);
    unsigned long long seed = 0;
    long shards = 1;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int known = 0;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        for (int k = 0; k < 9; k++) {
            if (strcmp(a, INT_FLAGS[k])) continue;
            long lo = (k == 7) ? 0 : 1; /* --window 0 = none */
            if (cli_int("synth", a, v, lo, 1L << 30, &ov[k])) return 2;
            i++;
            known = 1;
        }
        if (known) continue;
        if (!strcmp(a, "--preset") && v) {
            preset_name = v;
            i++;
        } else if (!strcmp(a, "--theta")) {
            if (parse_float(a, v, &theta)) return 2;
            i++;
        } else if (!strcmp(a, "--eps")) {
            if (parse_float(a, v, &eps)) return 2;
            i++;
        } else if (!strcmp(a, "--layout") && v) {
            if (!strcmp(v, "native"))
                p.cfg.layout = NEMO_LAYOUT_NATIVE;
            else if (!strcmp(v, "hf"))
                p.cfg.layout = NEMO_LAYOUT_HF;
            else {
                fprintf(stderr, "nemo synth: --layout expects native or hf, got '%s'\n", v);
                return 2;
            }
            i++;
        } else if (!strcmp(a, "--dtype") && v) {
            nemo_dtype t;
            if (nemo_dtype_from_name(v, &t) || (t != NEMO_DTYPE_BF16 && t != NEMO_DTYPE_F16 &&
                                                t != NEMO_DTYPE_F32 && t != NEMO_DTYPE_F8_E4M3)) {
                fprintf(stderr, "nemo synth: --dtype expects bf16, f16, f32 or f8_e4m3, got '%s'\n",
                        v);
                return 2;
            }
            p.dtype = t;
            i++;
        } else if (!strcmp(a, "--seed") && v) {
            char *end;
            errno = 0;
            seed = strtoull(v, &end, 0);
            if (end == v || *end || errno || v[0] == '-') {
                fprintf(stderr, "nemo synth: --seed expects an unsigned 64-bit integer, got '%s'\n",
                        v);
                return 2;
            }
            i++;
        } else if (!strcmp(a, "--shards")) {
            if (cli_int("synth", a, v, 1, 99999, &shards)) return 2;
            i++;
        } else if (!strcmp(a, "--tokenizer") && v) {
            tok = v;
            i++;
        } else if (!strcmp(a, "--force")) {
            force = 1;
        } else if (!strcmp(a, "--quiet")) {
            quiet = 1;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "nemo synth: unknown option or missing value: %s\n\n", a);
            usage(stderr);
            return 2;
        } else if (!out) {
            out = a;
        } else {
            fprintf(stderr, "nemo synth: more than one OUT_DIR ('%s', '%s')\n", out, a);
            return 2;
        }
    }
    if (!out) {
        usage(stderr);
        return 2;
    }

    const preset *pr = NULL;
    for (size_t k = 0; k < sizeof PRESETS / sizeof PRESETS[0]; k++)
        if (!strcmp(PRESETS[k].name, preset_name)) pr = &PRESETS[k];
    if (!pr) {
        fprintf(stderr, "nemo synth: unknown preset '%s' (see nemo synth --help)\n", preset_name);
        return 2;
    }
    nemo_config *c = &p.cfg;
    c->dim = ov[1] >= 0 ? (int)ov[1] : pr->dim;
    c->n_layers = ov[0] >= 0 ? (int)ov[0] : pr->n_layers;
    c->n_heads = ov[2] >= 0 ? (int)ov[2] : pr->n_heads;
    c->n_kv_heads = ov[3] >= 0 ? (int)ov[3] : pr->n_kv_heads;
    c->head_dim = ov[4] >= 0 ? (int)ov[4] : pr->head_dim;
    c->hidden_dim = ov[5] >= 0 ? (int)ov[5] : pr->hidden_dim;
    c->vocab_size = ov[6] >= 0 ? (int)ov[6] : pr->vocab_size;
    c->sliding_window = ov[7] >= 0 ? (int)ov[7] : pr->window;
    c->max_seq_len = ov[8] >= 0 ? (int)ov[8] : pr->max_seq;
    c->rope_theta = theta > 0 ? theta : pr->theta;
    if (eps > 0) c->norm_eps = eps;
    p.seed = seed;
    p.n_shards = (int)shards;

    if (tok && check_tokenizer(tok, c->vocab_size)) return 1;
    int ds = dir_state(out);
    if (ds == 1) {
        if (!force) {
            fprintf(stderr, "nemo synth: %s is not empty (use --force to write into it)\n", out);
            return 1;
        }
        if (remove_model_files(out)) return 1;
    }

    /* bytes to write, to decide on progress output */
    uint64_t D = (uint64_t)c->dim, F = (uint64_t)c->hidden_dim, V = (uint64_t)c->vocab_size;
    uint64_t Q = (uint64_t)c->n_heads * (uint64_t)c->head_dim;
    uint64_t KV = (uint64_t)c->n_kv_heads * (uint64_t)c->head_dim;
    uint64_t per_layer = 2 * D * Q + 2 * D * KV + 3 * D * F + 2 * D;
    uint64_t n_params = (uint64_t)c->n_layers * per_layer + 2 * V * D + D;
    uint64_t bytes = nemo_dtype_bytes(p.dtype, n_params);
    if (p.dtype == NEMO_DTYPE_F8_E4M3) /* FP8 layers, bf16 embeddings / head / norms */
        bytes = (uint64_t)c->n_layers * (per_layer - 2 * D) + 2 * (2 * V * D + D) +
                (uint64_t)c->n_layers * (2 * 2 * D + 7 * 2 * 4);

    progress_state ps = {isatty(2), -1};
    int show = !quiet && (ps.tty || bytes > 100000000ull);
    nemo_error err = {0};
    nemo_status st = nemo_synth_write(&p, out, show ? on_progress : NULL, &ps, &err);
    if (st) return cli_report("synth", &err);
    if (tok && copy_tokenizer(tok, out)) return 1;
    printf("%s: %s layout, %s, %d layers, %llu parameters, %.3f GB, seed %llu\n", out,
           c->layout == NEMO_LAYOUT_HF ? "hf" : "native", nemo_dtype_name(p.dtype), c->n_layers,
           (unsigned long long)n_params, (double)bytes / 1e9, seed);
    return 0;
}
