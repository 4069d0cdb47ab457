/* routes_gen.c — POST /v1/chat/completions and POST /v1/completions: the body becomes a job
 * (api.c, no HTTP there), which goes to the engine; the answer streams (sse.c) or comes whole
 * (respond.c). */
#include "api.h"
#include "http.h"

void http_api_ctx(req *r, api_ctx *c) {
    const engine_info *in = engine_get_info(r->s->eng);
    c->cfg = &r->s->cfg;
    c->model_id = r->s->model_id;
    c->tok = in->tok;
    c->marker = in->marker;
    c->vocab_size = in->cfg->vocab_size;
}

enum MHD_Result params_run(req *r, job *j) {
    if (engine_submit(r->s->eng, j)) {
        job_release(j);
        return http_error(r, 503, NULL, "queue_full",
                          "the server is busy: %d requests are already waiting", r->s->cfg.queue);
    }
    return j->stream ? sse_start(r, j) : respond_whole(r, j);
}

static enum MHD_Result run(req *r, job_kind kind) {
    api_ctx c;
    http_api_ctx(r, &c);
    api_err e = {0};
    job *j = api_parse(&c, kind, r->body, r->len, &e);
    if (!j) return http_error(r, e.status, e.param, e.code, "%s", e.msg);
    return params_run(r, j);
}

enum MHD_Result route_chat(req *r) {
    return run(r, JOB_CHAT);
}

enum MHD_Result route_completions(req *r) {
    return run(r, JOB_COMPLETION);
}
