/* test_golden_forward.c — reference parity: for every JSON file in tests/golden/forward (made by
 * scripts/golden_forward.py with transformers), synthesizes the same checkpoint through
 * nemo_synth_write in each listed layout, runs the prompt as one prefill batch and compares
 * the last-position logits (max|diff| / max|ref| against the golden's tolerance), the argmax of
 * every prompt position and the 32-token greedy continuation. The f32 window case is also run
 * token by token, and once with the window removed, which must NOT match (the test can fail).
 *
 * Cases marked big in nemo_layer_bf16 run here only in optimized builds; under ASan the same
 * golden is checked with the release binary by tests/cli/synth_golden_big.sh (NEMO_TEST_BIG=1
 * runs it here anyway). */
#include "core/core.h"
#include "test.h"

#include <dirent.h>
#include <jansson.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZED 1
#endif
#endif
#ifndef SANITIZED
#define SANITIZED 0
#endif

/* Params with more than this many weights are left to the release-binary CLI test under ASan
 * (the NeMo-layer case: 283M weights, ~1 min of sanitized matmuls). */
#define BIG_PARAMS 50000000ull

typedef struct {
    char name[128];
    nemo_synth_params sp;
    char layouts[2][16];
    int n_layouts;
    double tol;
    int32_t *prompt;
    int n_prompt;
    float *last_logits;
    int n_vocab;
    int32_t *prompt_argmax;
    float *prompt_gap;
    int32_t greedy[64];
    int n_greedy;
} golden;

static void golden_free(golden *g) {
    free(g->prompt);
    free(g->last_logits);
    free(g->prompt_argmax);
    free(g->prompt_gap);
    memset(g, 0, sizeof *g);
}

static int read_ints(json_t *a, int32_t **out, int *n) {
    if (!json_is_array(a)) return -1;
    *n = (int)json_array_size(a);
    *out = calloc((size_t)*n + 1, sizeof **out);
    for (int i = 0; i < *n; i++)
        (*out)[i] = (int32_t)json_integer_value(json_array_get(a, (size_t)i));
    return 0;
}

static int read_floats(json_t *a, float **out, int *n) {
    if (!json_is_array(a)) return -1;
    *n = (int)json_array_size(a);
    *out = calloc((size_t)*n + 1, sizeof **out);
    for (int i = 0; i < *n; i++) (*out)[i] = (float)json_number_value(json_array_get(a, (size_t)i));
    return 0;
}

static int load_golden(const char *path, golden *g) {
    memset(g, 0, sizeof *g);
    json_error_t je;
    json_t *r = json_load_file(path, 0, &je);
    if (!r) {
        fprintf(stderr, "  %s: %s\n", path, je.text);
        return -1;
    }
    int bad = 0;
    json_t *s = json_object_get(r, "synth");
    snprintf(g->name, sizeof g->name, "%s", json_string_value(json_object_get(r, "name")));
    nemo_synth_defaults(&g->sp);
    nemo_config *c = &g->sp.cfg;
    c->dim = (int)json_integer_value(json_object_get(s, "dim"));
    c->n_layers = (int)json_integer_value(json_object_get(s, "n_layers"));
    c->n_heads = (int)json_integer_value(json_object_get(s, "n_heads"));
    c->n_kv_heads = (int)json_integer_value(json_object_get(s, "n_kv_heads"));
    c->head_dim = (int)json_integer_value(json_object_get(s, "head_dim"));
    c->hidden_dim = (int)json_integer_value(json_object_get(s, "hidden_dim"));
    c->vocab_size = (int)json_integer_value(json_object_get(s, "vocab_size"));
    c->sliding_window = (int)json_integer_value(json_object_get(s, "sliding_window"));
    c->rope_theta = (float)json_number_value(json_object_get(s, "rope_theta"));
    c->norm_eps = (float)json_number_value(json_object_get(s, "norm_eps"));
    g->sp.seed = (uint64_t)json_integer_value(json_object_get(s, "seed"));
    g->sp.n_shards = (int)json_integer_value(json_object_get(s, "n_shards"));
    const char *dt = json_string_value(json_object_get(s, "dtype"));
    bad |= !dt || nemo_dtype_from_name(dt, &g->sp.dtype);
    json_t *lay = json_object_get(r, "layouts");
    for (size_t i = 0; i < json_array_size(lay) && i < 2; i++)
        snprintf(g->layouts[g->n_layouts++], sizeof g->layouts[0], "%s",
                 json_string_value(json_array_get(lay, i)));
    g->tol = json_number_value(json_object_get(r, "tolerance"));
    int n_gap = 0, n_am = 0, n_gr = 0;
    int32_t *gr = NULL;
    bad |= read_ints(json_object_get(r, "prompt"), &g->prompt, &g->n_prompt);
    bad |= read_floats(json_object_get(r, "last_logits"), &g->last_logits, &g->n_vocab);
    bad |= read_ints(json_object_get(r, "prompt_argmax"), &g->prompt_argmax, &n_am);
    bad |= read_floats(json_object_get(r, "prompt_top2_gap"), &g->prompt_gap, &n_gap);
    bad |= read_ints(json_object_get(r, "greedy"), &gr, &n_gr);
    if (!bad && n_gr <= 64) {
        memcpy(g->greedy, gr, (size_t)n_gr * sizeof *gr);
        g->n_greedy = n_gr;
    }
    free(gr);
    bad |= n_am != g->n_prompt || n_gap != g->n_prompt || g->n_vocab != c->vocab_size ||
           g->n_greedy == 0 || g->n_layouts == 0 || !(g->tol > 0);
    json_decref(r);
    if (bad) fprintf(stderr, "  %s: malformed golden file\n", path);
    return bad ? -1 : 0;
}

static void remove_folder(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char p[2048];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static double max_rel_diff(const float *a, const float *ref, int n) {
    double md = 0, mr = 0;
    for (int i = 0; i < n; i++) {
        double d = fabs((double)a[i] - ref[i]);
        if (d > md || isnan(d)) md = isnan(d) ? INFINITY : d;
        if (fabs(ref[i]) > mr) mr = fabs(ref[i]);
    }
    return mr > 0 ? md / mr : md;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

enum { BY_TOKEN = 1, CHECK_POSITIONS = 2, CHECK_GREEDY = 4 };

/* Runs the prompt (one batch, or one token per call with BY_TOKEN) and, as flags ask, checks
 * the argmax of every prompt position and the greedy continuation; returns the
 * last-prompt-position logits ratio, or -1 on a failed call. */
static double run_case(const golden *g, const char *dir, int flags) {
    nemo_error err = {0};
    nemo_model *m = NULL;
    nemo_session *s = NULL;
    double ratio = -1;
    int32_t *pos = NULL, *seq = NULL;
    int8_t *want = NULL;
    CHECK_OK(nemo_model_open(dir, &m, &err), &err);
    if (!m) return -1;
    const nemo_config *c = nemo_model_config(m);
    CHECK(c->vocab_size == g->n_vocab && c->head_dim == g->sp.cfg.head_dim &&
          c->sliding_window == g->sp.cfg.sliding_window);
    nemo_session_params sp = {
        .n_ctx = g->n_prompt + g->n_greedy + 1, .n_seq = 1, .n_batch = g->n_prompt, .n_threads = 0};
    CHECK_OK(nemo_session_create(m, &sp, &s, &err), &err);
    if (!s) goto done;
    int n = g->n_prompt;
    pos = calloc((size_t)n, sizeof *pos);
    seq = calloc((size_t)n, sizeof *seq);
    want = calloc((size_t)n, sizeof *want);
    for (int i = 0; i < n; i++) pos[i] = i, want[i] = 1;
    const float *last = NULL;
    if (!(flags & BY_TOKEN)) {
        nemo_batch b = {n, g->prompt, pos, seq, want};
        CHECK_OK(nemo_session_decode(s, &b, &err), &err);
        if (err.status) goto done;
        for (int i = 0; i < n; i++) {
            const float *row = nemo_session_logits(s, i);
            CHECK(row != NULL);
            if (!row) goto done;
            /* argmax of every prompt position, where the reference's top two are not a tie */
            if ((flags & CHECK_POSITIONS) && g->prompt_gap[i] > 1e-4f)
                CHECK_MSG(nemo_argmax(row, g->n_vocab) == g->prompt_argmax[i],
                          "%s: position %d argmax %d, reference %d", g->name, i,
                          nemo_argmax(row, g->n_vocab), g->prompt_argmax[i]);
        }
        last = nemo_session_logits(s, n - 1);
    } else {
        for (int i = 0; i < n; i++) {
            nemo_batch b = {1, &g->prompt[i], &pos[i], &seq[i], NULL};
            CHECK_OK(nemo_session_decode(s, &b, &err), &err);
            if (err.status) goto done;
        }
        last = nemo_session_logits(s, 0);
    }
    CHECK(last != NULL);
    if (!last) goto done;
    ratio = max_rel_diff(last, g->last_logits, g->n_vocab);
    if (!(flags & CHECK_GREEDY)) goto done;

    int32_t tok = nemo_argmax(last, g->n_vocab);
    for (int k = 0; k < g->n_greedy; k++) {
        if (tok != g->greedy[k]) {
            CHECK_MSG(0, "%s: greedy token %d is %d, reference %d", g->name, k, tok, g->greedy[k]);
            break;
        }
        if (k == g->n_greedy - 1) break;
        int32_t p = n + k, sq = 0;
        nemo_batch b = {1, &tok, &p, &sq, NULL};
        CHECK_OK(nemo_session_decode(s, &b, &err), &err);
        if (err.status) break;
        tok = nemo_argmax(nemo_session_logits(s, 0), g->n_vocab);
    }
done:
    free(pos);
    free(seq);
    free(want);
    nemo_session_free(s);
    nemo_model_free(m);
    return ratio;
}

static uint64_t n_weights(const nemo_config *c) {
    uint64_t D = (uint64_t)c->dim, Q = (uint64_t)c->n_heads * (uint64_t)c->head_dim;
    uint64_t KV = (uint64_t)c->n_kv_heads * (uint64_t)c->head_dim;
    uint64_t per = 2 * D * Q + 2 * D * KV + 3 * D * (uint64_t)c->hidden_dim + 2 * D;
    return (uint64_t)c->n_layers * per + 2 * (uint64_t)c->vocab_size * D + D;
}

static int cases_run, cases_skipped;

static void check_file(const char *path) {
    golden g;
    if (load_golden(path, &g)) {
        CHECK_MSG(0, "cannot read %s", path);
        return;
    }
    /* native and HF layouts of the same weights are held to the same numbers */
    CHECK_MSG(g.n_layouts == 2 && strcmp(g.layouts[0], g.layouts[1]) &&
                  (!strcmp(g.layouts[0], "hf") || !strcmp(g.layouts[1], "hf")),
              "%s: expected both layouts", g.name);
    const char *big = getenv("NEMO_TEST_BIG");
    if (SANITIZED && n_weights(&g.sp.cfg) > BIG_PARAMS && !(big && *big == '1')) {
        fprintf(stderr, "  %s: skipped under ASan (tests/cli/synth_golden_big.sh checks it)\n",
                g.name);
        cases_skipped++;
        golden_free(&g);
        return;
    }
    for (int li = 0; li < g.n_layouts; li++) {
        nemo_synth_params sp = g.sp;
        sp.cfg.layout = !strcmp(g.layouts[li], "hf") ? NEMO_LAYOUT_HF : NEMO_LAYOUT_NATIVE;
        if (sp.cfg.layout != NEMO_LAYOUT_HF) sp.n_shards = 0;
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/golden_%s_%s", test_tmpdir(), g.name, g.layouts[li]);
        nemo_error err = {0};
        double t0 = now_s();
        CHECK_OK(nemo_synth_write(&sp, dir, NULL, NULL, &err), &err);
        double t1 = now_s();
        double r = run_case(&g, dir, CHECK_POSITIONS | CHECK_GREEDY);
        fprintf(stderr,
                "  %-16s %-6s max|diff|/max|ref| = %.3g (tolerance %g)  synth %.1fs, "
                "forward %.1fs\n",
                g.name, g.layouts[li], r, g.tol, t1 - t0, now_s() - t1);
        CHECK_MSG(r >= 0 && r <= g.tol, "%s %s: ratio %g > %g", g.name, g.layouts[li], r, g.tol);

        if (!strcmp(g.name, "window16_f32") && li == 0) {
            /* the KV cache path: one token per call must give the same logits */
            double rt = run_case(&g, dir, BY_TOKEN | CHECK_GREEDY);
            fprintf(stderr, "  %-16s %-6s token by token: %.3g\n", g.name, g.layouts[li], rt);
            CHECK_MSG(rt >= 0 && rt <= g.tol, "token by token ratio %g", rt);
            /* negative control: the same weights without the window must disagree */
            remove_folder(dir);
            sp.cfg.sliding_window = 0;
            CHECK_OK(nemo_synth_write(&sp, dir, NULL, NULL, &err), &err);
            golden nw = g;
            nw.sp.cfg.sliding_window = 0;
            double rn = run_case(&nw, dir, 0);
            fprintf(stderr, "  %-16s %-6s without the window: %.3g (must exceed %g)\n", g.name,
                    g.layouts[li], rn, g.tol);
            CHECK_MSG(rn > g.tol, "ignoring the window still matched (%g)", rn);
        }
        remove_folder(dir);
    }
    cases_run++;
    golden_free(&g);
}

static int by_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static char current_path[4096];
static void test_one_golden(void) {
    check_file(current_path);
}

/* One test per golden file, named after it. */
static int run_goldens(void) {
    const char *dir = test_repo_path("tests/golden/forward");
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "cannot open %s\n", dir);
        return -1;
    }
    char *names[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64) {
        size_t l = strlen(e->d_name);
        if (l > 5 && !strcmp(e->d_name + l - 5, ".json")) names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, by_str);
    for (int i = 0; i < n; i++) {
        snprintf(current_path, sizeof current_path, "%s/%s", test_repo_path("tests/golden/forward"),
                 names[i]);
        test_run(names[i], test_one_golden);
        free(names[i]);
    }
    return n;
}

static int n_files;
static void test_coverage(void) {
    /* the cases issue 2 asks for: NeMo shape, head_dim != dim/heads with GQA, a window, both
     * layouts (every file lists both) */
    CHECK_MSG(n_files >= 6, "only %d golden files", n_files);
    CHECK_MSG(cases_run + cases_skipped == n_files && cases_skipped <= 1, "%d of %d cases ran",
              cases_run, n_files);
}

int main(void) {
    n_files = run_goldens();
    RUN(test_coverage);
    return test_finish();
}
