/* metrics.c — counters and gauges for GET /metrics in Prometheus text format: requests by
 * route and status, prompt and generated tokens, prompt-prefix cache reuse, queue depth,
 * active slots, and generation throughput over the last second of decoding. */
#include "server.h"

#include <stdlib.h>
#include <string.h>

#define MAX_SERIES 64

typedef struct series {
    char route[32];
    int status;
    uint64_t count;
} series;

struct srv_metrics {
    pthread_mutex_t mu;
    series req[MAX_SERIES];
    int n_req;
    uint64_t prompt_tokens, generated_tokens, requests_done;
    uint64_t prefix_hits, prefix_tokens, prefix_lookups;
    int queue_depth, active_slots;
    /* throughput window */
    uint64_t win_tokens;
    double win_seconds, win_start;
    double rate, rate_at;
};

srv_metrics *metrics_create(void) {
    srv_metrics *m = calloc(1, sizeof *m);
    if (m) pthread_mutex_init(&m->mu, NULL);
    return m;
}

void metrics_free(srv_metrics *m) {
    if (!m) return;
    pthread_mutex_destroy(&m->mu);
    free(m);
}

void metrics_request(srv_metrics *m, const char *route, int status) {
    pthread_mutex_lock(&m->mu);
    int i = 0;
    while (i < m->n_req && (m->req[i].status != status || strcmp(m->req[i].route, route))) i++;
    if (i == m->n_req && m->n_req < MAX_SERIES) {
        snprintf(m->req[i].route, sizeof m->req[i].route, "%s", route);
        m->req[i].status = status;
        m->n_req++;
    }
    if (i < m->n_req) m->req[i].count++;
    pthread_mutex_unlock(&m->mu);
}

void metrics_tokens(srv_metrics *m, int prompt, int generated) {
    pthread_mutex_lock(&m->mu);
    m->prompt_tokens += (uint64_t)prompt;
    m->generated_tokens += (uint64_t)generated;
    m->requests_done++;
    pthread_mutex_unlock(&m->mu);
}

void metrics_prefix(srv_metrics *m, int reused_tokens) {
    pthread_mutex_lock(&m->mu);
    m->prefix_lookups++;
    if (reused_tokens > 0) {
        m->prefix_hits++;
        m->prefix_tokens += (uint64_t)reused_tokens;
    }
    pthread_mutex_unlock(&m->mu);
}

void metrics_engine(srv_metrics *m, int queue_depth, int active_slots) {
    pthread_mutex_lock(&m->mu);
    m->queue_depth = queue_depth;
    m->active_slots = active_slots;
    pthread_mutex_unlock(&m->mu);
}

void metrics_step(srv_metrics *m, int generated, double seconds) {
    pthread_mutex_lock(&m->mu);
    double now = now_mono();
    if (!m->win_start) m->win_start = now - seconds;
    m->win_tokens += (uint64_t)generated;
    m->win_seconds += seconds;
    if (now - m->win_start >= 1.0) {
        /* tokens per wall second while decoding; idle gaps inside the window count */
        m->rate = (double)m->win_tokens / (now - m->win_start);
        m->rate_at = now;
        m->win_tokens = 0;
        m->win_seconds = 0;
        m->win_start = now;
    }
    pthread_mutex_unlock(&m->mu);
}

void metrics_render(srv_metrics *m, sbuf *o) {
    pthread_mutex_lock(&m->mu);
    sb_puts(o, "# HELP nemo_requests_total HTTP requests by route and status code.\n"
               "# TYPE nemo_requests_total counter\n");
    for (int i = 0; i < m->n_req; i++)
        sb_printf(o, "nemo_requests_total{route=\"%s\",status=\"%d\"} %llu\n", m->req[i].route,
                  m->req[i].status, (unsigned long long)m->req[i].count);
    sb_printf(o,
              "# HELP nemo_prompt_tokens_total Prompt tokens of finished generations.\n"
              "# TYPE nemo_prompt_tokens_total counter\nnemo_prompt_tokens_total %llu\n"
              "# HELP nemo_generated_tokens_total Generated tokens of finished generations.\n"
              "# TYPE nemo_generated_tokens_total counter\nnemo_generated_tokens_total %llu\n"
              "# HELP nemo_generations_total Generations that ran to their end.\n"
              "# TYPE nemo_generations_total counter\nnemo_generations_total %llu\n",
              (unsigned long long)m->prompt_tokens, (unsigned long long)m->generated_tokens,
              (unsigned long long)m->requests_done);
    sb_printf(o,
              "# HELP nemo_prefix_cache_lookups_total Requests placed in a slot.\n"
              "# TYPE nemo_prefix_cache_lookups_total counter\n"
              "nemo_prefix_cache_lookups_total %llu\n"
              "# HELP nemo_prefix_cache_hits_total Requests that reused cached prompt ids.\n"
              "# TYPE nemo_prefix_cache_hits_total counter\nnemo_prefix_cache_hits_total %llu\n"
              "# HELP nemo_prefix_cache_tokens_total Prompt ids reused instead of prefilled.\n"
              "# TYPE nemo_prefix_cache_tokens_total counter\n"
              "nemo_prefix_cache_tokens_total %llu\n",
              (unsigned long long)m->prefix_lookups, (unsigned long long)m->prefix_hits,
              (unsigned long long)m->prefix_tokens);
    double rate = now_mono() - m->rate_at < 2.0 ? m->rate : 0.0;
    sb_printf(o,
              "# HELP nemo_queue_depth Requests waiting for a slot.\n"
              "# TYPE nemo_queue_depth gauge\nnemo_queue_depth %d\n"
              "# HELP nemo_active_slots Slots running a request.\n"
              "# TYPE nemo_active_slots gauge\nnemo_active_slots %d\n"
              "# HELP nemo_generation_tokens_per_second Tokens generated per second over the "
              "last second of activity.\n"
              "# TYPE nemo_generation_tokens_per_second gauge\n"
              "nemo_generation_tokens_per_second %.3f\n",
              m->queue_depth, m->active_slots, rate);
    pthread_mutex_unlock(&m->mu);
}
