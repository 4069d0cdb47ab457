/* params.c — the request fields chat and completions share (model, n, stream, temperature,
 * top_p, max_tokens, stop, seed, penalties), checked with OpenAI's status codes, and turning
 * them into a job's sampler / stop / detok state. No HTTP here (see api.h). */
#include "api.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BAD(param, ...) return api_fail(e, 400, param, "invalid_value", __VA_ARGS__)

static int number(api_err *e, json_t *body, const char *key, double lo, double hi, double *out) {
    json_t *v = json_object_get(body, key);
    if (!v || json_is_null(v)) return 0;
    if (!json_is_number(v)) BAD(key, "'%s' must be a number", key);
    double x = json_number_value(v);
    if (!(x >= lo && x <= hi)) BAD(key, "'%s' must be in [%g, %g], got %g", key, lo, hi, x);
    *out = x;
    return 0;
}

static int integer(api_err *e, json_t *body, const char *key, long long lo, long long hi,
                   long long *out) {
    json_t *v = json_object_get(body, key);
    if (!v || json_is_null(v)) return 0;
    if (!json_is_integer(v)) BAD(key, "'%s' must be an integer", key);
    long long x = json_integer_value(v);
    if (x < lo || x > hi) BAD(key, "'%s' must be in [%lld, %lld], got %lld", key, lo, hi, x);
    *out = x;
    return 0;
}

int params_parse(const api_ctx *c, json_t *body, gen_req *g, api_err *e) {
    memset(g, 0, sizeof *g);
    nemo_sampler_defaults(&g->sp);
    g->sp.seed = (uint64_t)time(NULL) ^ ((uint64_t)(uintptr_t)g << 16);
    json_t *v = json_object_get(body, "model");
    if (v && !json_is_null(v)) {
        if (!json_is_string(v)) BAD("model", "'model' must be a string");
        if (strcmp(json_string_value(v), c->model_id)) {
            return api_fail(e, 404, "model", "model_not_found",
                            "the model '%s' does not exist; this server serves '%s'",
                            json_string_value(v), c->model_id);
        }
    }
    long long n = 1;
    if (integer(e, body, "n", 1, 128, &n)) return -1;
    if (n != 1) BAD("n", "only n=1 is supported");
    v = json_object_get(body, "stream");
    if (v && !json_is_null(v)) {
        if (!json_is_boolean(v)) BAD("stream", "'stream' must be a boolean");
        g->stream = json_is_true(v);
    }
    v = json_object_get(body, "stream_options");
    if (v && !json_is_null(v)) {
        if (!json_is_object(v)) BAD("stream_options", "'stream_options' must be an object");
        json_t *u = json_object_get(v, "include_usage");
        if (u && !json_is_boolean(u))
            BAD("stream_options.include_usage", "'include_usage' must be a boolean");
        g->include_usage = json_is_true(u);
    }
    v = json_object_get(body, "logprobs");
    if (v && json_is_true(v)) {
        return api_fail(e, 400, "logprobs", "unsupported", "logprobs are not supported");
    }
    v = json_object_get(body, "response_format");
    if (v && !json_is_null(v)) {
        json_t *t = json_is_object(v) ? json_object_get(v, "type") : NULL;
        if (!json_is_string(t) || strcmp(json_string_value(t), "text")) {
            /* JSON mode needs constrained decoding, which this server does not have */
            return api_fail(e, 400, "response_format", "unsupported",
                            "only response_format {\"type\": \"text\"} is supported");
        }
    }
    double x;
    x = g->sp.temperature;
    if (number(e, body, "temperature", 0, 2, &x)) return -1;
    g->sp.temperature = (float)x;
    x = g->sp.top_p;
    if (number(e, body, "top_p", 0, 1, &x)) return -1;
    if (x <= 0) BAD("top_p", "'top_p' must be greater than 0");
    g->sp.top_p = (float)x;
    x = 0;
    if (number(e, body, "frequency_penalty", -2, 2, &x)) return -1;
    g->sp.frequency_penalty = (float)x;
    x = 0;
    if (number(e, body, "presence_penalty", -2, 2, &x)) return -1;
    g->sp.presence_penalty = (float)x;
    x = 0;
    if (number(e, body, "min_p", 0, 1, &x)) return -1;
    g->sp.min_p = (float)x;
    x = 1;
    if (number(e, body, "repeat_penalty", 0.01, 100, &x)) return -1;
    g->sp.repeat_penalty = (float)x;
    long long k = 0;
    if (integer(e, body, "top_k", 0, 1 << 30, &k)) return -1;
    g->sp.top_k = (int)k;
    long long seed = -1;
    if (integer(e, body, "seed", INT64_MIN, INT64_MAX, &seed)) return -1;
    if (json_object_get(body, "seed") && json_is_integer(json_object_get(body, "seed")))
        g->sp.seed = (uint64_t)seed;
    long long mt = 0;
    const char *mt_key =
        json_object_get(body, "max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
    if (integer(e, body, mt_key, 1, c->cfg->max_tokens, &mt)) return -1;
    g->max_tokens = (int)mt;
    v = json_object_get(body, "stop");
    if (v && !json_is_null(v)) {
        if (json_is_array(v)) {
            if (json_array_size(v) > 16) BAD("stop", "'stop' holds at most 16 strings");
            size_t i;
            json_t *el;
            json_array_foreach(v, i, el) if (!json_is_string(el))
                BAD("stop", "'stop' must be a string or a list of strings");
        } else if (!json_is_string(v)) {
            BAD("stop", "'stop' must be a string or a list of strings");
        }
        g->stop = v;
    }
    return 0;
}

int params_job(const api_ctx *ac, const gen_req *g, job *j, api_err *e) {
    const srv_config *c = ac->cfg;
    if (j->n_prompt > c->max_prompt) {
        return api_fail(e, 400, "messages", "context_length_exceeded",
                        "the prompt has %d tokens; this server accepts at most %d", j->n_prompt,
                        c->max_prompt);
    }
    if (j->n_prompt + 1 > c->ctx) {
        return api_fail(e, 400, "messages", "context_length_exceeded",
                        "the prompt has %d tokens; the context holds %d", j->n_prompt, c->ctx);
    }
    int room = c->ctx - j->n_prompt;
    j->max_tokens = g->max_tokens ? g->max_tokens : c->max_tokens;
    if (j->max_tokens > room) j->max_tokens = room; /* ends with finish_reason "length" */
    j->stream = g->stream;
    j->include_usage = g->include_usage;
    j->deadline = now_mono() + c->timeout_s;
    nemo_error err = {0};
    const char *stops[16];
    int n_stop = 0;
    if (json_is_string(g->stop)) stops[n_stop++] = json_string_value(g->stop);
    size_t i;
    json_t *st;
    if (json_is_array(g->stop))
        json_array_foreach(g->stop, i, st) stops[n_stop++] = json_string_value(st);
    if (nemo_sampler_create(&g->sp, ac->vocab_size, &j->sampler, &err) ||
        nemo_stop_create(stops, n_stop, &j->stop, &err) ||
        nemo_detok_create(ac->tok, NEMO_SPECIAL_SKIP, &j->detok, &err)) {
        return api_fail(e, err.status == NEMO_ERR_NOMEM ? 500 : 400, NULL, NULL, "%s", err.msg);
    }
    for (int k = 0; k < j->n_prompt; k++) nemo_sampler_accept(j->sampler, j->prompt[k]);
    static unsigned long long counter;
    snprintf(j->id, sizeof j->id, "%s-%llx%04llx", j->kind == JOB_CHAT ? "chatcmpl" : "cmpl",
             (unsigned long long)time(NULL), __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED));
    return 0;
}
