/* gen.c — the streaming generation loop of `nemo run` and `nemo chat`: prefill in batches of
 * --batch tokens (reusing the KV cache's common prefix with the previous prompt), then sample,
 * detokenize, match stop strings, split off [TOOL_CALLS], print, and decode the next token.
 * Every buffer the token loop touches is reserved in gen_open: the loop itself allocates
 * nothing (the library's stop matcher and tool-call stream reserve their own). */
#include "gen.h"

#include "progress.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct gen_ctx {
    const char *cmd;
    nemo_model *m;
    nemo_tokenizer *t;
    nemo_session *s;
    nemo_sampler *smp;
    nemo_detok *dt;
    nemo_stop *stop;
    nemo_tool_stream *ts;
    int n_ctx, n_batch;
    long max_tokens;
    int print_ids;
    const int32_t *force;
    int n_force;
    int32_t *cached; /* [n_ctx] ids whose keys/values are in the cache (sequence 0) */
    int n_cached;
    int32_t *pos, *seq; /* [n_batch] */
    int32_t *gen;       /* [n_ctx] generated ids of the current answer */
    char *piece;        /* one detokenizer output: 32 + the longest token */
    size_t piece_cap;
    char *content; /* the answer's visible text: at most piece_cap bytes per generated id */
    size_t content_cap, n_content;
    int32_t end_ids[3];
    int n_end;
    int32_t marker; /* [TOOL_CALLS], or -1 */
    FILE *out;
};

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int fail(const gen_ctx *g, const nemo_error *err) {
    fprintf(stderr, "nemo %s: %s\n", g->cmd,
            err->msg[0] ? err->msg : nemo_status_name(err->status));
    return 1;
}

const nemo_tokenizer *gen_tokenizer(const gen_ctx *g) {
    return g->t;
}

void gen_reset_cache(gen_ctx *g) {
    nemo_session_seq_truncate(g->s, 0, 0, NULL);
    g->n_cached = 0;
}

void gen_close(gen_ctx *g) {
    if (!g) return;
    nemo_tool_stream_free(g->ts);
    nemo_stop_free(g->stop);
    nemo_detok_free(g->dt);
    nemo_sampler_free(g->smp);
    nemo_session_free(g->s);
    nemo_tokenizer_free(g->t);
    nemo_model_free(g->m);
    free(g->cached);
    free(g->pos);
    free(g->seq);
    free(g->gen);
    free(g->piece);
    free(g->content);
    free(g);
}

gen_ctx *gen_open(const char *cmd, const gen_opts *o) {
    gen_ctx *g = calloc(1, sizeof *g);
    if (!g) {
        fprintf(stderr, "nemo %s: out of memory\n", cmd);
        return NULL;
    }
    g->cmd = cmd;
    nemo_error err = {0};
    cli_progress prog;
    cli_progress_init(&prog, o->quiet);
    nemo_model_params mp = {cli_progress_cb, &prog, !o->no_prefault};
    if (nemo_model_open_ex(o->model, &mp, &g->m, &err)) goto fail_err;
    if (prog.drawn) fputc('\n', stderr);
    /* default tokenizer: the model path itself (a folder, or a .gguf with its vocabulary); for
     * a .safetensors file inside a model folder, that folder */
    char tdir[4096];
    const char *tpath = o->tokenizer ? o->tokenizer : o->model;
    size_t ml = strlen(o->model);
    if (!o->tokenizer && ml > 12 && !strcmp(o->model + ml - 12, ".safetensors") &&
        ml < sizeof tdir) {
        memcpy(tdir, o->model, ml + 1);
        char *slash = strrchr(tdir, '/');
        if (slash)
            *slash = 0;
        else
            strcpy(tdir, ".");
        tpath = tdir;
    }
    if (nemo_tokenizer_open(tpath, &g->t, &err)) goto fail_err;
    const nemo_config *c = nemo_model_config(g->m);
    int tv = nemo_tokenizer_vocab_size(g->t);
    if (tv > c->vocab_size) {
        fprintf(stderr,
                "nemo %s: the tokenizer (%s) has %d ids but the model only %d: they do not "
                "belong together (see --tokenizer)\n",
                cmd, tpath, tv, c->vocab_size);
        gen_close(g);
        return NULL;
    }
    nemo_session_params sp = {0};
    sp.n_ctx = (int)o->ctx;
    sp.n_batch = (int)(o->batch ? o->batch : 512);
    sp.n_threads = (int)o->threads;
    if (!sp.n_ctx) sp.n_ctx = c->max_seq_len < 4096 ? c->max_seq_len : 4096;
    if (nemo_session_create(g->m, &sp, &g->s, &err)) goto fail_err;
    g->n_ctx = sp.n_ctx;
    g->n_batch = sp.n_batch;
    if (nemo_sampler_create(&o->sp, c->vocab_size, &g->smp, &err) ||
        nemo_detok_create(g->t, NEMO_SPECIAL_SKIP, &g->dt, &err) ||
        nemo_stop_create(o->stops, o->n_stops, &g->stop, &err) ||
        nemo_tool_stream_create(&g->ts, &err))
        goto fail_err;
    g->max_tokens = o->max_tokens;
    g->print_ids = o->print_ids;
    g->force = o->force_ids;
    g->n_force = o->n_force;
    for (int i = 0; i < o->n_force; i++)
        if (o->force_ids[i] >= c->vocab_size) {
            fprintf(stderr, "nemo %s: --force-ids: id %d is outside the vocabulary (%d ids)\n", cmd,
                    (int)o->force_ids[i], c->vocab_size);
            gen_close(g);
            return NULL;
        }
    size_t longest = 0;
    for (int32_t id = 0; id < tv; id++) {
        size_t len = 0;
        if (nemo_tokenizer_piece(g->t, id, &len) && len > longest) longest = len;
    }
    g->piece_cap = 32 + longest + 1;
    g->content_cap = g->piece_cap * (size_t)(g->n_ctx + 1);
    g->cached = malloc((size_t)g->n_ctx * sizeof *g->cached);
    g->gen = malloc((size_t)(g->n_ctx + 1) * sizeof *g->gen);
    g->pos = malloc((size_t)g->n_batch * sizeof *g->pos);
    g->seq = calloc((size_t)g->n_batch, sizeof *g->seq);
    g->piece = malloc(g->piece_cap);
    g->content = malloc(g->content_cap);
    if (!g->cached || !g->gen || !g->pos || !g->seq || !g->piece || !g->content) {
        fprintf(stderr, "nemo %s: out of memory reserving buffers for a context of %d\n", cmd,
                g->n_ctx);
        gen_close(g);
        return NULL;
    }
    /* the ids that end an answer: the vocabulary's EOS, the model's, and ChatML's end of turn */
    int32_t cand[3] = {nemo_tokenizer_eos_id(g->t), c->eos_id,
                       nemo_tokenizer_special_id(g->t, "<|im_end|>")};
    for (int i = 0; i < 3; i++)
        if (cand[i] >= 0) g->end_ids[g->n_end++] = cand[i];
    g->marker = nemo_tokenizer_special_id(g->t, "[TOOL_CALLS]");
    return g;
fail_err:
    if (prog.drawn) fputc('\n', stderr);
    fail(g, &err);
    gen_close(g);
    return NULL;
}

static int is_end(const gen_ctx *g, int32_t id) {
    for (int i = 0; i < g->n_end; i++)
        if (g->end_ids[i] == id) return 1;
    return 0;
}

/* Text on its way to the user: through the stop matcher, then printed and kept. Returns 1 on a
 * stop string, -1 on error. */
static int show(gen_ctx *g, const char *text, size_t len, nemo_error *err) {
    const char *e;
    size_t el;
    int hit = nemo_stop_feed(g->stop, text, len, &e, &el);
    if (hit < 0) {
        err->status = NEMO_ERR_NOMEM;
        snprintf(err->msg, sizeof err->msg, "out of memory matching stop strings");
        return -1;
    }
    if (el) {
        fwrite(e, 1, el, g->out);
        fflush(g->out);
        if (nemo_tool_stream_feed(g->ts, e, el, 0, NULL, err)) return -1;
        size_t room = g->content_cap - 1 - g->n_content;
        size_t k = el < room ? el : room; /* cannot happen: content_cap bounds all output */
        memcpy(g->content + g->n_content, e, k);
        g->n_content += k;
    }
    return hit;
}

/* Held-back stop-string text is content: out with it (before a tool call or at the end). */
static int flush_stop(gen_ctx *g, nemo_error *err) {
    const char *e;
    size_t el;
    nemo_stop_flush(g->stop, &e, &el);
    if (!el) return 0;
    fwrite(e, 1, el, g->out);
    fflush(g->out);
    size_t room = g->content_cap - 1 - g->n_content;
    size_t k = el < room ? el : room;
    memcpy(g->content + g->n_content, e, k);
    g->n_content += k;
    return nemo_tool_stream_feed(g->ts, e, el, 0, NULL, err) ? -1 : 0;
}

/* Text from the detokenizer: content until [TOOL_CALLS], then the call list. */
static int route(gen_ctx *g, const char *text, size_t len, nemo_error *err) {
    if (!len) return 0;
    if (nemo_tool_stream_in_calls(g->ts))
        return nemo_tool_stream_feed(g->ts, text, len, 0, NULL, err) ? -1 : 0;
    return show(g, text, len, err);
}

static int flush_detok(gen_ctx *g, nemo_error *err) {
    size_t n = 0;
    if (nemo_detok_flush(g->dt, g->piece, g->piece_cap, &n, err)) return -1;
    return route(g, g->piece, n, err);
}

/* One generated id on its way out. Returns 1 when a stop string completed, -1 on error. */
static int emit(gen_ctx *g, int32_t id, nemo_error *err) {
    if (id == g->marker) {
        if (flush_detok(g, err) < 0 || flush_stop(g, err) < 0) return -1;
        return nemo_tool_stream_feed(g->ts, "", 0, 1, NULL, err) ? -1 : 0;
    }
    size_t n = 0;
    if (nemo_detok_push(g->dt, id, g->piece, g->piece_cap, &n, err)) return -1;
    return route(g, g->piece, n, err);
}

static void print_ids(const char *what, const int32_t *ids, int n) {
    fprintf(stderr, "%s:", what);
    for (int i = 0; i < n; i++) fprintf(stderr, " %d", (int)ids[i]);
    fputc('\n', stderr);
}

/* Decodes ids[from..n) at their positions in batches; the last batch's last logits remain. */
static int prefill(gen_ctx *g, const int32_t *ids, int from, int n,
                   volatile sig_atomic_t *interrupt, nemo_error *err) {
    for (int p = from; p < n;) {
        if (interrupt && *interrupt) return 1;
        int k = n - p < g->n_batch ? n - p : g->n_batch;
        for (int j = 0; j < k; j++) g->pos[j] = p + j;
        nemo_batch b = {k, ids + p, g->pos, g->seq, NULL};
        if (nemo_session_decode(g->s, &b, err)) return -1;
        memcpy(g->cached + p, ids + p, (size_t)k * sizeof *ids);
        g->n_cached = p + k;
        p += k;
    }
    return 0;
}

int gen_generate(gen_ctx *g, const int32_t *ids, int n, FILE *out, volatile sig_atomic_t *interrupt,
                 gen_result *r) {
    memset(r, 0, sizeof *r);
    nemo_error err = {0};
    g->out = out;
    g->n_content = 0;
    r->content = g->content;
    r->n_prompt = n;
    if (n <= 0) {
        fprintf(stderr, "nemo %s: the prompt is empty\n", g->cmd);
        return 1;
    }
    if (n >= g->n_ctx) {
        fprintf(stderr,
                "nemo %s: the prompt has %d tokens but the context holds %d positions (raise "
                "--ctx%s)\n",
                g->cmd, n, g->n_ctx, strcmp(g->cmd, "chat") ? "" : ", or /reset to start over");
        return 1;
    }
    if (g->print_ids) print_ids("prompt ids", ids, n);
    /* keep the cached common prefix; at least the last prompt id is decoded for its logits */
    int common = 0;
    while (common < g->n_cached && common < n && g->cached[common] == ids[common]) common++;
    if (common == n) common = n - 1;
    if (nemo_session_seq_truncate(g->s, 0, common, &err)) return fail(g, &err);
    g->n_cached = common;
    r->n_cached = common;
    for (int i = 0; i < n; i++) nemo_sampler_accept(g->smp, ids[i]);

    double t0 = now();
    int pr = prefill(g, ids, common, n, interrupt, &err);
    if (pr < 0) {
        gen_reset_cache(g);
        return fail(g, &err);
    }
    double t1 = now();
    r->t_prompt = t1 - t0;
    if (pr > 0) {
        r->why = GEN_STOP_INTERRUPT;
        return 0;
    }
    const float *logits = nemo_session_logits(g->s, (n - common - 1) % g->n_batch);
    long limit = g->max_tokens < 0 ? LONG_MAX : g->max_tokens;
    int ng = 0, rc = 0;
    r->why = GEN_STOP_LIMIT;
    while (ng < limit) {
        if (interrupt && *interrupt) {
            r->why = GEN_STOP_INTERRUPT;
            break;
        }
        int32_t id;
        if (ng < g->n_force) {
            id = g->force[ng];
            nemo_sampler_accept(g->smp, id);
        } else {
            id = nemo_sampler_sample(g->smp, logits);
        }
        g->gen[ng++] = id;
        if (is_end(g, id)) {
            r->why = GEN_STOP_EOS;
            break;
        }
        int hit = emit(g, id, &err);
        if (hit < 0) {
            rc = fail(g, &err);
            break;
        }
        if (hit) {
            r->why = GEN_STOP_STRING;
            break;
        }
        if (ng >= limit) break;
        if (interrupt && *interrupt) {
            r->why = GEN_STOP_INTERRUPT;
            break;
        }
        int32_t p = n + ng - 1; /* the new id's position */
        if (p >= g->n_ctx) {
            r->why = GEN_STOP_CONTEXT;
            break;
        }
        nemo_batch b = {1, &id, &p, g->seq, NULL};
        if (nemo_session_decode(g->s, &b, &err)) {
            rc = fail(g, &err);
            break;
        }
        g->cached[p] = id;
        g->n_cached = p + 1;
        logits = nemo_session_logits(g->s, 0);
    }
    if (r->why == GEN_STOP_STRING) { /* what followed the stop string is dropped */
        size_t dummy;
        nemo_detok_flush(g->dt, g->piece, g->piece_cap, &dummy, &err);
    } else if (!rc && (flush_detok(g, &err) < 0 || flush_stop(g, &err) < 0)) {
        rc = fail(g, &err);
    }
    const char *e;
    size_t el;
    nemo_stop_flush(g->stop, &e, &el); /* resets the matcher (empty unless an error cut in) */
    if (nemo_tool_stream_finish(g->ts, nemo_sampler_rng(g->smp), &r->calls, &err) && !rc)
        rc = fail(g, &err);
    r->t_gen = now() - t1;
    r->n_gen = ng;
    g->content[g->n_content] = 0;
    r->content_len = g->n_content;
    if (g->print_ids) print_ids("generated ids", g->gen, ng);
    return rc;
}
