/* respond.c — non-streaming answers: waits for the engine to finish the job (noticing a client
 * that hangs up meanwhile) and writes the chat.completion / text_completion object; also the
 * usage and tool_calls objects the streaming side reuses. */
#include "http.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

json_t *resp_usage(const job *j) {
    return json_pack("{s:i, s:i, s:i}", "prompt_tokens", j->n_prompt, "completion_tokens",
                     j->n_generated, "total_tokens", j->n_prompt + j->n_generated);
}

json_t *resp_tool_calls(const nemo_tool_calls *tc, int with_index) {
    json_t *a = json_array();
    for (int i = 0; i < tc->n_calls; i++) {
        const nemo_tool_call *c = &tc->calls[i];
        json_t *f = json_object();
        json_object_set_new(f, "name", jstr(c->name, strlen(c->name)));
        json_object_set_new(f, "arguments", jstr(c->arguments, strlen(c->arguments)));
        json_t *o = json_object();
        if (with_index) json_object_set_new(o, "index", json_integer(i));
        json_object_set_new(o, "id", jstr(c->id, strlen(c->id)));
        json_object_set_new(o, "type", json_string("function"));
        json_object_set_new(o, "function", f);
        json_array_append_new(a, o);
    }
    return a;
}

/* Waits until the engine is done with j. Returns 1 if the client went away first. */
static int wait_done(req *r, job *j) {
    pthread_mutex_lock(&j->mu);
    while (!j->done) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += 200 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) ts.tv_sec++, ts.tv_nsec -= 1000000000L;
        pthread_cond_timedwait(&j->cv, &j->mu, &ts);
        if (!j->done && http_peer_closed(r->c)) {
            j->cancelled = 1;
            pthread_mutex_unlock(&j->mu);
            return 1;
        }
    }
    pthread_mutex_unlock(&j->mu);
    return 0;
}

enum MHD_Result respond_whole(req *r, job *j) {
    if (wait_done(r, j)) {
        job_release(j);
        metrics_request(r->s->met, r->route, 499);
        return MHD_NO; /* nobody to answer */
    }
    enum MHD_Result res;
    if (j->err_status) {
        res = http_error(r, j->err_status, NULL, NULL, "%s", j->err_msg);
        job_release(j);
        return res;
    }
    json_t *choice = json_object();
    json_object_set_new(choice, "index", json_integer(0));
    if (j->kind == JOB_CHAT) {
        json_t *msg = json_object();
        json_object_set_new(msg, "role", json_string("assistant"));
        json_object_set_new(
            msg, "content",
            j->calls && !j->text.len ? json_null() : jstr(j->text.p ? j->text.p : "", j->text.len));
        if (j->calls) json_object_set_new(msg, "tool_calls", resp_tool_calls(j->calls, 0));
        json_object_set_new(choice, "message", msg);
    } else {
        json_object_set_new(choice, "text", jstr(j->text.p ? j->text.p : "", j->text.len));
    }
    json_object_set_new(choice, "logprobs", json_null());
    json_object_set_new(choice, "finish_reason", json_string(j->finish ? j->finish : "stop"));
    json_t *o = json_object();
    json_object_set_new(o, "id", json_string(j->id));
    json_object_set_new(o, "object",
                        json_string(j->kind == JOB_CHAT ? "chat.completion" : "text_completion"));
    json_object_set_new(o, "created", json_integer(j->created));
    json_object_set_new(o, "model", json_string(r->s->model_id));
    json_t *choices = json_array();
    json_array_append_new(choices, choice);
    json_object_set_new(o, "choices", choices);
    json_object_set_new(o, "usage", resp_usage(j));
    job_release(j);
    return http_json(r, 200, o);
}
