/* routes_misc.c — the small endpoints: GET /v1/models[/ID], POST /tokenize, POST /detokenize,
 * GET /health, GET /metrics and the embedded chat page at GET /. */
#include "api.h"
#include "http.h"

#include <stdlib.h>
#include <string.h>

extern const unsigned char nemo_web_index_html[];
extern const unsigned int nemo_web_index_html_len;

static json_t *model_obj(srv *s) {
    return json_pack("{s:s, s:s, s:I, s:s}", "id", s->model_id, "object", "model", "created",
                     (json_int_t)s->started, "owned_by", "nemo.c");
}

enum MHD_Result route_models(req *r) {
    const char *prefix = "/v1/models/";
    if (!strncmp(r->url, prefix, strlen(prefix))) {
        if (strcmp(r->url + strlen(prefix), r->s->model_id))
            return http_error(r, 404, "model", "model_not_found", "the model '%s' does not exist",
                              r->url + strlen(prefix));
        return http_json(r, 200, model_obj(r->s));
    }
    json_t *data = json_array();
    json_array_append_new(data, model_obj(r->s));
    return http_json(r, 200, json_pack("{s:s, s:o}", "object", "list", "data", data));
}

static json_t *load_object(req *r, enum MHD_Result *res) {
    json_error_t je;
    json_t *body = json_loadb(r->body, r->len, 0, &je);
    if (!body) {
        *res =
            http_error(r, 400, NULL, "invalid_json", "invalid JSON body: %s (line %d, column %d)",
                       je.text, je.line, je.column);
        return NULL;
    }
    if (!json_is_object(body)) {
        json_decref(body);
        *res = http_error(r, 400, NULL, "invalid_json", "the body must be a JSON object");
        return NULL;
    }
    return body;
}

/* {"content": "text", "add_special": false} -> {"tokens": [...]}; or {"messages": [...]} (a
 * chat request) -> the prompt ids the chat endpoint would run. */
enum MHD_Result route_tokenize(req *r) {
    enum MHD_Result res;
    json_t *body = load_object(r, &res);
    if (!body) return res;
    const engine_info *in = engine_get_info(r->s->eng);
    int32_t *ids = NULL;
    size_t n = 0;
    nemo_error err = {0};
    json_t *content = json_object_get(body, "content"), *msgs = json_object_get(body, "messages");
    json_t *special = json_object_get(body, "add_special");
    if (json_is_string(content) && (!special || json_is_boolean(special))) {
        const char *s = json_string_value(content);
        size_t len = json_string_length(content);
        int bos = json_is_true(special);
        nemo_tokenizer_encode(in->tok, s, len, bos, 0, NULL, 0, &n, &err);
        ids = malloc((n ? n : 1) * sizeof *ids);
        if (!ids || nemo_tokenizer_encode(in->tok, s, len, bos, 0, ids, n, &n, &err)) {
            res = http_error(r, 500, NULL, NULL, "cannot encode: %s", err.msg);
            goto done;
        }
    } else if (json_is_array(msgs)) {
        api_ctx c;
        http_api_ctx(r, &c);
        if (api_chat_ids(&c, body, r->body, r->len, &ids, &n, &err)) {
            res = http_error(r, 400, "messages", "invalid_value", "%s", err.msg);
            goto done;
        }
    } else {
        res = http_error(r, 400, "content", "invalid_value",
                         "expected {\"content\": string, \"add_special\": bool} or "
                         "{\"messages\": [...]}");
        goto done;
    }
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(a, json_integer(ids[i]));
    res = http_json(r, 200, json_pack("{s:o, s:I}", "tokens", a, "count", (json_int_t)n));
done:
    free(ids);
    json_decref(body);
    return res;
}

/* {"tokens": [...]} -> {"content": "text"} (special tokens skipped). */
enum MHD_Result route_detokenize(req *r) {
    enum MHD_Result res;
    json_t *body = load_object(r, &res);
    if (!body) return res;
    const engine_info *in = engine_get_info(r->s->eng);
    json_t *t = json_object_get(body, "tokens");
    int32_t *ids = NULL;
    char *out = NULL;
    if (!json_is_array(t)) {
        res = http_error(r, 400, "tokens", "invalid_value", "'tokens' must be a list of ids");
        goto done;
    }
    size_t n = json_array_size(t), i;
    json_t *e;
    ids = malloc((n ? n : 1) * sizeof *ids);
    if (!ids) {
        res = http_error(r, 500, NULL, NULL, "out of memory");
        goto done;
    }
    int vocab = nemo_tokenizer_vocab_size(in->tok);
    json_array_foreach(t, i, e) {
        if (!json_is_integer(e) || json_integer_value(e) < 0 || json_integer_value(e) >= vocab) {
            res = http_error(r, 400, "tokens", "invalid_value",
                             "'tokens'[%zu] is not an id in [0, %d)", i, vocab);
            goto done;
        }
        ids[i] = (int32_t)json_integer_value(e);
    }
    nemo_error err = {0};
    size_t got = 0;
    nemo_tokenizer_decode(in->tok, ids, n, NEMO_SPECIAL_SKIP, NULL, 0, &got, &err);
    out = malloc(got + 1);
    if (!out ||
        nemo_tokenizer_decode(in->tok, ids, n, NEMO_SPECIAL_SKIP, out, got + 1, &got, &err)) {
        res = http_error(r, 500, NULL, NULL, "cannot decode: %s", err.msg);
        goto done;
    }
    res = http_json(r, 200, json_pack("{s:o}", "content", jstr(out, got)));
done:
    free(out);
    free(ids);
    json_decref(body);
    return res;
}

enum MHD_Result route_health(req *r) {
    int active, queued;
    engine_load(r->s->eng, &active, &queued);
    return http_json(r, 200,
                     json_pack("{s:s, s:s, s:i, s:i, s:i}", "status", "ok", "model", r->s->model_id,
                               "slots", r->s->cfg.parallel, "active", active, "queued", queued));
}

enum MHD_Result route_metrics(req *r) {
    int active, queued;
    engine_load(r->s->eng, &active, &queued);
    metrics_engine(r->s->met, queued, active);
    sbuf b = {0};
    metrics_render(r->s->met, &b);
    enum MHD_Result res =
        b.oom ? http_error(r, 500, NULL, NULL, "out of memory")
              : http_send(r, 200, "text/plain; version=0.0.4", b.p ? b.p : "", b.len);
    sb_free(&b);
    return res;
}

enum MHD_Result route_index(req *r) {
    return http_send(r, 200, "text/html; charset=utf-8", (const char *)nemo_web_index_html,
                     nemo_web_index_html_len);
}
