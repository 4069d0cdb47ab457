/* engine_out.c — what happens to one generated id: forced ids (tool_choice prefixes, the test
 * reply) or a draw from the job's own sampler, then end-of-turn ids, the [TOOL_CALLS] marker,
 * streaming detokenization, stop strings and the tool-call collector, in that order. Output is
 * appended to the job under its mutex and the waiting connection thread is woken. */
#include "engine_int.h"
#include "toolscan.h"

#include <math.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int srv_fail(nemo_error *err, nemo_status st, const char *fmt, ...) {
    if (!err) return -1;
    err->status = st;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return -1;
}

static int32_t pick(engine *e, job *j, const float *logits) {
    if (j->i_forced < j->n_forced) {
        int32_t t = j->forced[j->i_forced++];
        nemo_sampler_accept(j->sampler, t);
        return t;
    }
    if (j->ban_marker && j->marker >= 0) {
        int v = e->info.cfg->vocab_size;
        if (!j->logits_copy && !(j->logits_copy = malloc((size_t)v * sizeof(float))))
            return nemo_sampler_sample(j->sampler, logits);
        memcpy(j->logits_copy, logits, (size_t)v * sizeof(float));
        j->logits_copy[j->marker] = -INFINITY;
        return nemo_sampler_sample(j->sampler, j->logits_copy);
    }
    return nemo_sampler_sample(j->sampler, logits);
}

/* Visible content (after stop-string filtering) goes through the tool-call collector, which
 * passes on the part before a marker. Caller holds j->mu. */
static void push_content(job *j, const char *s, size_t n) {
    if (!n) return;
    if (j->tools && j->scan && nemo_tool_stream_in_calls(j->tools))
        tscan_feed(j->scan, s, n, nemo_sampler_rng(j->sampler));
    if (j->tools) {
        size_t cl = 0;
        nemo_error err = {0};
        if (nemo_tool_stream_feed(j->tools, s, n, 0, &cl, &err)) cl = n;
        n = cl;
    }
    sb_put(&j->text, s, n);
}

/* Decoded text of one id: returns 1 when a stop string completed. Caller holds j->mu. */
static int push_piece(job *j, const char *s, size_t n) {
    if (j->tools && nemo_tool_stream_in_calls(j->tools)) {
        push_content(j, s, n);
        return 0;
    }
    const char *em = NULL;
    size_t el = 0;
    int hit = nemo_stop_feed(j->stop, s, n, &em, &el);
    if (hit < 0) return 0;
    push_content(j, em, el);
    return hit;
}

static int is_end(const engine *e, int32_t t) {
    for (int i = 0; i < e->n_end; i++)
        if (e->end_ids[i] >= 0 && t == e->end_ids[i]) return 1;
    return 0;
}

/* Caller holds j->mu. why: "stop" after an end id or a stop string, "length", or NULL when the
 * client is gone. */
static void finish_locked(engine *e, job *j, const char *why, int by_stop_string) {
    if (why && !by_stop_string) {
        char buf[64];
        size_t n = 0;
        nemo_error err = {0};
        if (!nemo_detok_flush(j->detok, buf, sizeof buf, &n, &err) && n) push_piece(j, buf, n);
        const char *em = NULL;
        size_t el = 0;
        nemo_stop_flush(j->stop, &em, &el);
        push_content(j, em, el);
    }
    if (why && j->tools) {
        nemo_tool_calls *tc = NULL;
        nemo_error err = {0};
        if (!nemo_tool_stream_finish(j->tools, nemo_sampler_rng(j->sampler), &tc, &err) && tc) {
            if (tc->has_marker && !tc->malformed && tc->n_calls > 0) {
                /* the ids a stream already sent stay the calls' ids */
                for (int i = 0; j->scan && i < tscan_named(j->scan) && i < tc->n_calls; i++) {
                    const char *id = tscan_call_at(j->scan, i)->id;
                    char *nid = malloc(strlen(id) + 1);
                    if (!nid) continue;
                    strcpy(nid, id);
                    free(tc->calls[i].id);
                    tc->calls[i].id = nid;
                }
                j->calls = tc;
                why = "tool_calls";
                tc = NULL;
            } else if (tc->has_marker && tc->raw) {
                /* not a call list: the user sees what the model wrote */
                sb_puts(&j->text, tc->raw);
            }
            nemo_tool_calls_free(tc);
        }
    }
    j->finish = why;
    j->n_generated = j->n_gen;
    j->done = 1;
    j->ver++;
    pthread_cond_broadcast(&j->cv);
    if (why) metrics_tokens(e->met, j->n_prompt, j->n_gen);
}

void engine_finish(engine *e, slot *s, const char *why) {
    job *j = s->j;
    pthread_mutex_lock(&j->mu);
    finish_locked(e, j, why, 0);
    pthread_mutex_unlock(&j->mu);
    engine_slot_release(e, s);
}

void engine_token(engine *e, slot *s, const float *logits) {
    job *j = s->j;
    int32_t t = pick(e, j, logits);
    j->n_gen++;
    const char *why = NULL;
    int by_stop = 0;
    pthread_mutex_lock(&j->mu);
    if (is_end(e, t)) {
        why = "stop";
    } else if (j->tools && t == j->marker) {
        const char *em = NULL;
        size_t el = 0;
        nemo_stop_flush(j->stop, &em, &el);
        push_content(j, em, el);
        if (j->calls_at == SIZE_MAX) j->calls_at = j->text.len;
        size_t cl = 0;
        nemo_error err = {0};
        nemo_tool_stream_feed(j->tools, "", 0, 1, &cl, &err);
    } else {
        char buf[512];
        size_t n = 0;
        nemo_error err = {0};
        if (!nemo_detok_push(j->detok, t, buf, sizeof buf, &n, &err) && n && push_piece(j, buf, n))
            why = "stop", by_stop = 1;
    }
    if (!why && j->n_gen >= j->max_tokens) why = "length";
    if (!why && s->n_ids >= e->cfg.ctx) why = "length";
    j->n_generated = j->n_gen;
    j->ver++;
    if (why)
        finish_locked(e, j, why, by_stop);
    else
        pthread_cond_broadcast(&j->cv);
    pthread_mutex_unlock(&j->mu);
    if (why) {
        engine_slot_release(e, s);
    } else {
        s->next = t;
        s->has_next = 1;
    }
}
