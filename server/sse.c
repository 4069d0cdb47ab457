/* sse.c — streaming answers as Server-Sent Events: `data: {chunk}\n\n` lines with content
 * deltas as the engine produces them, tool_call deltas as the model writes the calls, a last
 * chunk with finish_reason, an optional usage chunk, then `data: [DONE]`. The content reader
 * runs on the connection's own thread and blocks on the job's condition variable; while it
 * waits it polls the socket, so a client that hangs up frees its slot at once. */
#include "http.h"
#include "toolscan.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { ST_HEAD, ST_BODY, ST_END };

typedef struct stream {
    srv *s;
    struct MHD_Connection *c;
    job *j;
    int state;
    size_t sent; /* bytes of j->text already sent */
    sbuf out;
    size_t off;
    int finished;      /* the job reached done and the tail was queued */
    unsigned ver;      /* j->ver last turned into events */
    int calls_begun;   /* tool calls whose first delta (index, id, type, name) went out */
    size_t *args_sent; /* [calls_begun] bytes of each call's streamed arguments sent */
} stream;

static void emit(stream *st, json_t *o) {
    char *txt = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!txt) {
        st->out.oom = 1;
        return;
    }
    sb_puts(&st->out, "data: ");
    sb_puts(&st->out, txt);
    sb_puts(&st->out, "\n\n");
    free(txt);
}

static json_t *chunk(stream *st, json_t *delta, const char *finish) {
    job *j = st->j;
    json_t *c = json_object();
    json_object_set_new(c, "index", json_integer(0));
    if (j->kind == JOB_CHAT) {
        json_object_set_new(c, "delta", delta);
    } else {
        json_object_set_new(c, "text", delta);
    }
    json_object_set_new(c, "logprobs", json_null());
    json_object_set_new(c, "finish_reason", finish ? json_string(finish) : json_null());
    json_t *choices = json_array();
    json_array_append_new(choices, c);
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(j->id));
    json_object_set_new(
        o, "object",
        json_string(j->kind == JOB_CHAT ? "chat.completion.chunk" : "text_completion"));
    json_object_set_new(o, "created", json_integer(j->created));
    json_object_set_new(o, "model", json_string(st->s->model_id));
    json_object_set_new(o, "choices", choices);
    return o;
}

static json_t *content_delta(stream *st, const char *s, size_t n) {
    if (st->j->kind != JOB_CHAT) return jstr(s, n);
    json_t *d = json_object();
    json_object_set_new(d, "content", jstr(s, n));
    return d;
}

static json_t *call_delta(int index, const char *id, const char *name, const char *args,
                          size_t n_args) {
    json_t *f = json_object(), *o = json_object();
    if (name) json_object_set_new(f, "name", jstr(name, strlen(name)));
    json_object_set_new(f, "arguments", jstr(args, n_args));
    json_object_set_new(o, "index", json_integer(index));
    if (id) {
        json_object_set_new(o, "id", json_string(id));
        json_object_set_new(o, "type", json_string("function"));
    }
    json_object_set_new(o, "function", f);
    json_t *a = json_array();
    json_array_append_new(a, o);
    return json_pack("{s:o}", "tool_calls", a);
}

/* Tool-call deltas as OpenAI streams them: per call, a first delta with index, id, type, name
 * and empty arguments, then argument fragments as the model writes them (toolscan.c). */
static void produce_calls(stream *st) {
    job *j = st->j;
    int named = j->scan ? tscan_named(j->scan) : 0;
    if (named > st->calls_begun) {
        size_t *ns = realloc(st->args_sent, (size_t)named * sizeof *ns);
        if (!ns) {
            st->out.oom = 1;
            return;
        }
        st->args_sent = ns;
    }
    for (int i = 0; i < named; i++) {
        const tscan_call *c = tscan_call_at(j->scan, i);
        if (i == st->calls_begun) {
            emit(st, chunk(st, call_delta(i, c->id, c->name.p ? c->name.p : "", "", 0), NULL));
            st->args_sent[st->calls_begun++] = 0;
        }
        if (c->args.len > st->args_sent[i]) {
            emit(st, chunk(st,
                           call_delta(i, NULL, NULL, c->args.p + st->args_sent[i],
                                      c->args.len - st->args_sent[i]),
                           NULL));
            st->args_sent[i] = c->args.len;
        }
    }
    if (!j->done || !j->calls) return;
    /* the parsed list: calls the scan did not stream (it gave up on text the parser still
     * read) go whole; a streamed call whose arguments were left out gets the parser's "{}" */
    for (int i = 0; i < j->calls->n_calls; i++) {
        const nemo_tool_call *c = &j->calls->calls[i];
        if (i >= st->calls_begun)
            emit(st, chunk(st, call_delta(i, c->id, c->name, c->arguments, strlen(c->arguments)),
                           NULL));
        else if (!st->args_sent[i])
            emit(st,
                 chunk(st, call_delta(i, NULL, NULL, c->arguments, strlen(c->arguments)), NULL));
    }
}

/* Caller holds j->mu: turns what the job has produced since the last call into events. Text
 * before the tool-call marker, then the calls, then text added after them (the model's output
 * shown as content when it was not a call list after all). */
static void produce(stream *st) {
    job *j = st->j;
    st->ver = j->ver;
    if (st->state == ST_HEAD) {
        if (j->kind == JOB_CHAT)
            emit(st, chunk(st, json_pack("{s:s, s:s}", "role", "assistant", "content", ""), NULL));
        st->state = ST_BODY;
    }
    size_t split = j->calls_at < j->text.len ? j->calls_at : j->text.len;
    if (split > st->sent) {
        emit(st, chunk(st, content_delta(st, j->text.p + st->sent, split - st->sent), NULL));
        st->sent = split;
    }
    if (j->kind == JOB_CHAT) produce_calls(st);
    if (j->text.len > st->sent) {
        emit(st, chunk(st, content_delta(st, j->text.p + st->sent, j->text.len - st->sent), NULL));
        st->sent = j->text.len;
    }
    if (!j->done) return;
    if (j->err_status) {
        emit(st, error_body(j->err_status, NULL, NULL, j->err_msg));
    } else {
        json_t *last = j->kind == JOB_CHAT ? json_object() : json_string("");
        emit(st, chunk(st, last, j->finish ? j->finish : "stop"));
        if (j->include_usage) {
            json_t *u = chunk(st, j->kind == JOB_CHAT ? json_object() : json_string(""), NULL);
            json_object_set_new(u, "choices", json_array());
            json_object_set_new(u, "usage", resp_usage(j));
            emit(st, u);
        }
    }
    sb_puts(&st->out, "data: [DONE]\n\n");
    st->finished = 1;
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max) {
    (void)pos;
    stream *st = cls;
    for (;;) {
        if (st->off < st->out.len) {
            size_t n = st->out.len - st->off < max ? st->out.len - st->off : max;
            memcpy(buf, st->out.p + st->off, n);
            st->off += n;
            return (ssize_t)n;
        }
        st->out.len = st->off = 0;
        if (st->out.oom) return MHD_CONTENT_READER_END_WITH_ERROR;
        if (st->finished) return MHD_CONTENT_READER_END_OF_STREAM;
        job *j = st->j;
        pthread_mutex_lock(&j->mu);
        while (!j->done && j->ver == st->ver && st->state != ST_HEAD) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            ts.tv_nsec += 100 * 1000000L;
            if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
            pthread_cond_timedwait(&j->cv, &j->mu, &ts);
            if (!j->done && j->ver == st->ver && http_peer_closed(st->c)) {
                j->cancelled = 1;
                pthread_mutex_unlock(&j->mu);
                return MHD_CONTENT_READER_END_WITH_ERROR;
            }
        }
        produce(st);
        pthread_mutex_unlock(&j->mu);
    }
}

/* Called by libmicrohttpd when the response is done with, normally or because the client
 * went away: a job still running is cancelled so its slot frees at the next step. */
static void stream_free(void *cls) {
    stream *st = cls;
    if (!st->finished) {
        job_cancel(st->j);
        metrics_request(st->s->met, "stream_aborted", 499);
    }
    job_release(st->j);
    free(st->args_sent);
    sb_free(&st->out);
    free(st);
}

enum MHD_Result sse_start(req *r, job *j) {
    stream *st = calloc(1, sizeof *st);
    if (!st) {
        job_cancel(j);
        job_release(j);
        return http_error(r, 500, NULL, NULL, "out of memory");
    }
    st->s = r->s;
    st->c = r->c;
    st->j = j;
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, reader, st, stream_free);
    if (!resp) {
        stream_free(st);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "text/event-stream");
    MHD_add_response_header(resp, "Cache-Control", "no-cache");
    enum MHD_Result ok = MHD_queue_response(r->c, 200, resp);
    MHD_destroy_response(resp);
    metrics_request(r->s->met, r->route, 200);
    return ok;
}
