/* server.h — the pieces of `nemo serve` and how they meet. The HTTP layer (http.c, routes_*.c)
 * turns requests into jobs; the engine (engine.c) owns the one nemo_session and runs every
 * active job's next token in a single nemo_session_decode per step (continuous batching); a
 * job (job.c) is the meeting point: the engine appends output under the job's mutex and the
 * connection thread waits on its condition variable. Front-end code: includes only nemo.h. */
#ifndef NEMO_SERVER_H
#define NEMO_SERVER_H

#include "nemo.h"

#include <jansson.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------------ configuration */

typedef struct srv_config {
    const char *model_path, *tokenizer_path, *model_name;
    const char *host;
    int port;
    const char *api_key; /* NULL: no authentication */
    int parallel;        /* KV slots = sequences decoded together */
    int queue;           /* requests waiting for a slot before 503 */
    int ctx;             /* positions per slot */
    int batch;           /* most tokens per decode call */
    int prefill_chunk;   /* most prompt tokens one request adds to a step */
    int threads;
    size_t max_body;         /* bytes */
    int max_prompt;          /* prompt tokens */
    int max_tokens;          /* generated tokens per request */
    int timeout_s;           /* whole-request deadline */
    const char *debug_reply; /* test only: every request generates exactly this text */
} srv_config;

/* ------------------------------------------------------------ text buffer */

typedef struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
} sbuf;
void sb_put(sbuf *b, const char *s, size_t n);
void sb_puts(sbuf *b, const char *s);
void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_free(sbuf *b);

/* ------------------------------------------------------------ metrics */

typedef struct srv_metrics srv_metrics;
srv_metrics *metrics_create(void);
void metrics_free(srv_metrics *m);
void metrics_request(srv_metrics *m, const char *route, int status);
void metrics_tokens(srv_metrics *m, int prompt, int generated);
void metrics_prefix(srv_metrics *m, int reused_tokens);
/* Engine-published gauges, read by /metrics. */
void metrics_engine(srv_metrics *m, int queue_depth, int active_slots);
void metrics_step(srv_metrics *m, int generated, double seconds);
void metrics_render(srv_metrics *m, sbuf *out);

/* ------------------------------------------------------------ jobs */

typedef enum job_kind { JOB_CHAT, JOB_COMPLETION } job_kind;

typedef struct job {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int refs; /* the connection and the engine each hold one */

    /* request: set before submit, read-only after */
    job_kind kind;
    int stream, include_usage;
    int32_t *prompt;
    int n_prompt;
    int max_tokens;
    nemo_sampler *sampler;
    nemo_stop *stop;
    nemo_detok *detok;
    nemo_tool_stream *tools; /* NULL: tool calls are not parsed (completions, no marker) */
    int32_t marker;          /* [TOOL_CALLS] id or -1 */
    int ban_marker;          /* tool_choice "none": the marker is never sampled */
    int32_t *forced;         /* ids generated instead of sampled, in order (tool_choice
                                required/named prefixes, --debug-reply) */
    int n_forced;
    double deadline; /* monotonic seconds */
    char id[48];
    long created;

    /* engine-private state */
    int i_forced, n_gen;
    float *logits_copy; /* vocab floats, only when ban_marker */
    int finishing;

    /* output, under mu */
    sbuf text;              /* user-visible content so far */
    int done;               /* the engine is finished with it */
    const char *finish;     /* "stop", "length", "tool_calls" */
    nemo_tool_calls *calls; /* at done, when tool calls were parsed */
    struct tool_scan *scan; /* streamed chat with a marker: the call list as it is written */
    size_t calls_at;        /* text length at the marker (SIZE_MAX: none): later text is the
                               fallback shown after the streamed calls */
    unsigned ver;           /* bumped whenever the engine adds output */
    int err_status;         /* non-zero: the request failed after submit */
    char err_msg[1100];
    int cancelled; /* the client went away */
    int n_prompt_done, n_generated;
} job;

job *job_create(void);
void job_release(job *j); /* drops one reference; frees at zero */
/* Marks the job abandoned by its client; the engine frees its slot at the next step. */
void job_cancel(job *j);

/* ------------------------------------------------------------ engine */

typedef struct engine engine;
typedef struct engine_info {
    const nemo_tokenizer *tok;
    const nemo_config *cfg;
    int32_t marker; /* [TOOL_CALLS] or -1 */
} engine_info;

int engine_create(const srv_config *c, srv_metrics *m, engine **out, nemo_error *err);
/* Stops the thread and fails every job it holds with 503 (idempotent); later submits fail. */
void engine_stop(engine *e);
void engine_free(engine *e); /* engine_stop, then frees */
const engine_info *engine_get_info(const engine *e);
/* Queues j (takes one reference). Returns 0, or -1 when the queue is full. */
int engine_submit(engine *e, job *j);
/* Requests over all slots right now, for /health. */
void engine_load(engine *e, int *active, int *queued);

/* Fills err (may be NULL) and returns -1. */
int srv_fail(nemo_error *err, nemo_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* serve.c: runs the server until SIGINT/SIGTERM; returns the exit code. */
int serve_main(const srv_config *cfg);

/* ------------------------------------------------------------ time */
double now_mono(void);

#endif
