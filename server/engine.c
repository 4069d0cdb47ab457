/* engine.c — the scheduler: one thread owns the model's session and runs continuous batching.
 * Each step gathers the next token of every generating sequence plus bounded prefill chunks of
 * newly admitted ones into a single nemo_session_decode call; jobs join between steps (queue ->
 * free slot) and leave as soon as they finish or their client goes away. A slot remembers the
 * ids in its KV cache after its job ends, and a new job goes to the free slot sharing the
 * longest prefix with its prompt, so only the rest is prefilled (prompt-prefix cache).
 * Per-token output handling (sampling, detok, stop strings, tool calls) is in engine_out.c. */
#include "engine_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void fail_job(job *j, int status, const char *msg) {
    pthread_mutex_lock(&j->mu);
    j->err_status = status;
    snprintf(j->err_msg, sizeof j->err_msg, "%s", msg);
    j->done = 1;
    pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
}

static int job_cancelled(job *j) {
    pthread_mutex_lock(&j->mu);
    int c = j->cancelled;
    pthread_mutex_unlock(&j->mu);
    return c;
}

/* Called on the engine thread only; takes e->mu to keep n_active in step with /health. */
static void slot_release(engine *e, slot *s) {
    job_release(s->j);
    s->j = NULL;
    s->has_next = 0;
    pthread_mutex_lock(&e->mu);
    e->n_active--;
    pthread_mutex_unlock(&e->mu);
}

static int common_prefix(const int32_t *a, int na, const int32_t *b, int nb) {
    int n = na < nb ? na : nb, i = 0;
    while (i < n && a[i] == b[i]) i++;
    return i;
}

/* Under e->mu: moves queued jobs into free slots, each to the free slot whose cached ids share
 * the longest prefix with its prompt. */
static void admit(engine *e) {
    while (e->q_len > 0) {
        job *j = e->queue[e->q_head];
        int drop = job_cancelled(j), expired = now_mono() > j->deadline;
        int best = -1, best_lcp = -1;
        if (!drop && !expired)
            for (int i = 0; i < e->n_slots; i++) {
                slot *s = &e->slots[i];
                if (s->j) continue;
                int l = common_prefix(s->ids, s->n_ids, j->prompt, j->n_prompt);
                if (l > best_lcp) best_lcp = l, best = i;
            }
        if (!drop && !expired && best < 0) break;
        e->q_head = (e->q_head + 1) % e->q_cap;
        e->q_len--;
        if (drop || expired) {
            if (expired && !drop) fail_job(j, 503, "the request timed out waiting for a slot");
            job_release(j);
            continue;
        }
        slot *s = &e->slots[best];
        int keep = best_lcp < j->n_prompt - 1 ? best_lcp : j->n_prompt - 1;
        nemo_error err = {0};
        if (nemo_session_seq_truncate(e->sess, best, keep, &err)) {
            fail_job(j, 500, err.msg);
            job_release(j);
            continue;
        }
        s->n_ids = keep;
        s->prompt_i = keep;
        s->has_next = 0;
        s->j = j;
        e->n_active++;
        metrics_prefix(e->met, keep);
    }
}

static void add(engine *e, int *n, int32_t tok, int32_t pos, int seq, int want) {
    e->b_tok[*n] = tok;
    e->b_pos[*n] = pos;
    e->b_seq[*n] = seq;
    e->b_want[*n] = (int8_t)want;
    (*n)++;
}

/* One decode call over every active slot. */
static void step(engine *e) {
    int n = 0;
    double t0 = now_mono();
    for (int i = 0; i < e->n_slots; i++) {
        slot *s = &e->slots[i];
        if (!s->j) continue;
        if (job_cancelled(s->j)) {
            engine_finish(e, s, NULL);
            continue;
        }
        if (t0 > s->j->deadline) {
            engine_finish(e, s, "length");
            continue;
        }
        if (s->has_next) add(e, &n, s->next, s->n_ids, i, 1);
    }
    /* prefill chunks, starting at a rotating slot so no prompt waits behind the others */
    int budget = e->cfg.batch - n;
    for (int k = 0; k < e->n_slots && budget > 0; k++) {
        int i = (e->rr + k) % e->n_slots;
        slot *s = &e->slots[i];
        if (!s->j || s->has_next) continue;
        job *j = s->j;
        int take = j->n_prompt - s->prompt_i;
        if (take > budget) take = budget;
        if (take > e->cfg.prefill_chunk) take = e->cfg.prefill_chunk;
        for (int t = 0; t < take; t++) {
            int p = s->prompt_i + t;
            add(e, &n, j->prompt[p], p, i, p == j->n_prompt - 1);
        }
        budget -= take;
    }
    e->rr = (e->rr + 1) % e->n_slots;
    if (!n) return;
    nemo_batch b = {n, e->b_tok, e->b_pos, e->b_seq, e->b_want};
    nemo_error err = {0};
    if (nemo_session_decode(e->sess, &b, &err)) {
        for (int i = 0; i < e->n_slots; i++) {
            slot *s = &e->slots[i];
            if (!s->j) continue;
            fail_job(s->j, 500, err.msg);
            s->n_ids = 0;
            slot_release(e, s);
        }
        return;
    }
    /* the batch's ids are now in the cache */
    for (int i = 0; i < n; i++) {
        slot *s = &e->slots[e->b_seq[i]];
        s->ids[e->b_pos[i]] = e->b_tok[i];
        if (e->b_pos[i] + 1 > s->n_ids) s->n_ids = e->b_pos[i] + 1;
        if (!s->has_next) s->prompt_i = e->b_pos[i] + 1;
    }
    int generated = 0;
    for (int i = 0; i < n; i++) {
        if (!e->b_want[i]) continue;
        slot *s = &e->slots[e->b_seq[i]];
        if (!s->j) continue;
        engine_token(e, s, nemo_session_logits(e->sess, i));
        generated++;
    }
    metrics_step(e->met, generated, now_mono() - t0);
}

static void *run(void *arg) {
    engine *e = arg;
    pthread_mutex_lock(&e->mu);
    while (e->running) {
        admit(e);
        metrics_engine(e->met, e->q_len, e->n_active);
        if (!e->n_active) {
            /* wake at least once a second so queued deadlines are noticed */
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            ts.tv_sec += 1;
            pthread_cond_timedwait(&e->cv, &e->mu, &ts);
            continue;
        }
        pthread_mutex_unlock(&e->mu);
        step(e);
        pthread_mutex_lock(&e->mu);
    }
    pthread_mutex_unlock(&e->mu);
    return NULL;
}

static int32_t special(const nemo_tokenizer *t, const char *name) {
    return nemo_tokenizer_special_id(t, name);
}

int engine_create(const srv_config *c, srv_metrics *m, engine **out, nemo_error *err) {
    engine *e = calloc(1, sizeof *e);
    if (!e) return srv_fail(err, NEMO_ERR_NOMEM, "out of memory");
    e->cfg = *c;
    e->met = m;
    nemo_model_params mp = {0};
    if (nemo_model_open_ex(c->model_path, &mp, &e->model, err) ||
        nemo_tokenizer_open(c->tokenizer_path ? c->tokenizer_path : c->model_path, &e->tok, err))
        goto fail;
    const nemo_config *cfg = nemo_model_config(e->model);
    if (nemo_tokenizer_vocab_size(e->tok) > cfg->vocab_size) {
        srv_fail(err, NEMO_ERR_CONFIG, "the tokenizer has %d ids but the model's vocabulary is %d",
                 nemo_tokenizer_vocab_size(e->tok), cfg->vocab_size);
        goto fail;
    }
    nemo_session_params sp = {c->ctx, c->parallel, c->batch, c->threads};
    if (nemo_session_create(e->model, &sp, &e->sess, err)) goto fail;
    e->n_slots = c->parallel;
    e->slots = calloc((size_t)e->n_slots, sizeof *e->slots);
    e->q_cap = (c->queue > 0 ? c->queue : 1) + c->parallel;
    e->queue = calloc((size_t)e->q_cap, sizeof *e->queue);
    e->b_tok = malloc((size_t)c->batch * sizeof *e->b_tok);
    e->b_pos = malloc((size_t)c->batch * sizeof *e->b_pos);
    e->b_seq = malloc((size_t)c->batch * sizeof *e->b_seq);
    e->b_want = malloc((size_t)c->batch);
    if (!e->slots || !e->queue || !e->b_tok || !e->b_pos || !e->b_seq || !e->b_want) {
        srv_fail(err, NEMO_ERR_NOMEM, "out of memory");
        goto fail;
    }
    for (int i = 0; i < e->n_slots; i++)
        if (!(e->slots[i].ids = malloc((size_t)c->ctx * sizeof(int32_t)))) {
            srv_fail(err, NEMO_ERR_NOMEM, "out of memory");
            goto fail;
        }
    e->info.tok = e->tok;
    e->info.cfg = cfg;
    e->info.marker = special(e->tok, "[TOOL_CALLS]");
    e->end_ids[e->n_end++] = nemo_tokenizer_eos_id(e->tok);
    const char *ends[] = {"<|im_end|>", "<|eot_id|>", "<|endoftext|>"};
    for (size_t i = 0; i < sizeof ends / sizeof *ends; i++) {
        int32_t id = special(e->tok, ends[i]);
        if (id >= 0) e->end_ids[e->n_end++] = id;
    }
    pthread_mutex_init(&e->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&e->cv, &ca);
    pthread_condattr_destroy(&ca);
    e->running = 1;
    if (pthread_create(&e->th, NULL, run, e)) {
        e->running = 0;
        srv_fail(err, NEMO_ERR_NOMEM, "cannot start the engine thread");
        pthread_cond_destroy(&e->cv);
        pthread_mutex_destroy(&e->mu);
        goto fail;
    }
    e->started = 1;
    *out = e;
    return 0;
fail:
    engine_free(e);
    return -1;
}

void engine_stop(engine *e) {
    if (!e || !e->started) return;
    pthread_mutex_lock(&e->mu);
    int was = e->running;
    e->running = 0;
    pthread_cond_broadcast(&e->cv);
    pthread_mutex_unlock(&e->mu);
    if (!was) return;
    pthread_join(e->th, NULL);
    pthread_mutex_lock(&e->mu);
    for (int i = 0; i < e->n_slots; i++)
        if (e->slots[i].j) {
            fail_job(e->slots[i].j, 503, "the server is shutting down");
            job_release(e->slots[i].j);
            e->slots[i].j = NULL;
        }
    e->n_active = 0;
    for (; e->q_len > 0; e->q_len--, e->q_head = (e->q_head + 1) % e->q_cap) {
        fail_job(e->queue[e->q_head], 503, "the server is shutting down");
        job_release(e->queue[e->q_head]);
    }
    pthread_mutex_unlock(&e->mu);
}

void engine_free(engine *e) {
    if (!e) return;
    if (e->started) {
        engine_stop(e);
        pthread_cond_destroy(&e->cv);
        pthread_mutex_destroy(&e->mu);
    }
    for (int i = 0; e->slots && i < e->n_slots; i++) free(e->slots[i].ids);
    free(e->slots);
    free(e->queue);
    free(e->b_tok);
    free(e->b_pos);
    free(e->b_seq);
    free(e->b_want);
    nemo_session_free(e->sess);
    nemo_tokenizer_free(e->tok);
    nemo_model_free(e->model);
    free(e);
}

const engine_info *engine_get_info(const engine *e) {
    return &e->info;
}

int engine_submit(engine *e, job *j) {
    pthread_mutex_lock(&e->mu);
    /* the bound counts requests that will wait: those about to take a free slot do not */
    if (!e->running || e->q_len >= e->cfg.queue + (e->n_slots - e->n_active)) {
        pthread_mutex_unlock(&e->mu);
        return -1;
    }
    pthread_mutex_lock(&j->mu);
    j->refs++;
    pthread_mutex_unlock(&j->mu);
    e->queue[(e->q_head + e->q_len) % e->q_cap] = j;
    e->q_len++;
    pthread_cond_signal(&e->cv);
    pthread_mutex_unlock(&e->mu);
    return 0;
}

void engine_load(engine *e, int *active, int *queued) {
    pthread_mutex_lock(&e->mu);
    *active = e->n_active;
    *queued = e->q_len;
    pthread_mutex_unlock(&e->mu);
}

void engine_slot_release(engine *e, slot *s) {
    slot_release(e, s);
}
