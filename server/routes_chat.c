/* routes_chat.c — POST /v1/chat/completions: the conversation goes through nemo_chat_parse /
 * nemo_chat_encode (the model's own chat format), tool_choice becomes forced output ids (there
 * is no constrained decoding, see README "Serving"), and the job goes to the engine. */
#include "http.h"
#include "toolscan.h"

#include <stdlib.h>
#include <string.h>

/* Appends the encoding of text to *ids, where each "[TOOL_CALLS]" spelled in text becomes the
 * marker control token. */
static int add_text(const nemo_tokenizer *t, int32_t marker, const char *text, int32_t **ids,
                    int *n) {
    const char *m = "[TOOL_CALLS]";
    while (*text) {
        const char *hit = marker >= 0 ? strstr(text, m) : NULL;
        size_t len = hit ? (size_t)(hit - text) : strlen(text), got = 0;
        nemo_error err = {0};
        nemo_tokenizer_encode(t, text, len, 0, 0, NULL, 0, &got, &err);
        int32_t *nv = realloc(*ids, (size_t)(*n + (int)got + 1) * sizeof **ids);
        if (!nv) return -1;
        *ids = nv;
        if (got && nemo_tokenizer_encode(t, text, len, 0, 0, nv + *n, got, &got, &err)) return -1;
        *n += (int)got;
        if (!hit) break;
        nv[(*n)++] = marker;
        text = hit + strlen(m);
    }
    return 0;
}

/* tool_choice: "auto" (default), "none" (the marker is never sampled), "required" (the first
 * generated id is forced to be the marker) or {"type": "function", "function": {"name": N}}
 * (the marker and the text `[{"name": "N", "arguments": ` are forced; the model writes the
 * arguments). */
static int tool_choice(req *r, json_t *body, job *j, enum MHD_Result *res) {
    const engine_info *in = engine_get_info(r->s->eng);
    json_t *tc = json_object_get(body, "tool_choice"), *tools = json_object_get(body, "tools");
    size_t n_tools = json_is_array(tools) ? json_array_size(tools) : 0;
    if (!tc || json_is_null(tc)) return 0;
    const char *name = NULL;
    if (json_is_string(tc)) {
        const char *s = json_string_value(tc);
        if (!strcmp(s, "none")) {
            j->ban_marker = 1;
            return 0;
        }
        if (!strcmp(s, "auto")) return 0;
        if (strcmp(s, "required")) {
            *res = http_error(r, 400, "tool_choice", "invalid_value",
                              "'tool_choice' must be \"none\", \"auto\", \"required\" or a "
                              "{\"type\": \"function\", ...} object, got \"%s\"",
                              s);
            return -1;
        }
    } else if (json_is_object(tc)) {
        json_t *f = json_object_get(tc, "function");
        json_t *nm = json_is_object(f) ? json_object_get(f, "name") : NULL;
        if (!json_is_string(nm) || !json_is_string(json_object_get(tc, "type")) ||
            strcmp(json_string_value(json_object_get(tc, "type")), "function")) {
            *res = http_error(r, 400, "tool_choice", "invalid_value",
                              "'tool_choice' object must be {\"type\": \"function\", "
                              "\"function\": {\"name\": ...}}");
            return -1;
        }
        name = json_string_value(nm);
        int found = 0;
        size_t i;
        json_t *t;
        json_array_foreach(tools, i, t) {
            json_t *tn = json_object_get(json_object_get(t, "function"), "name");
            if (json_is_string(tn) && !strcmp(json_string_value(tn), name)) found = 1;
        }
        if (!found) {
            *res = http_error(r, 400, "tool_choice", "invalid_value",
                              "'tool_choice' names function '%s', which is not in 'tools'", name);
            return -1;
        }
    } else {
        *res = http_error(r, 400, "tool_choice", "invalid_value",
                          "'tool_choice' must be a string or an object");
        return -1;
    }
    if (!n_tools) {
        *res = http_error(r, 400, "tool_choice", "invalid_value",
                          "'tool_choice' requires a non-empty 'tools' list");
        return -1;
    }
    if (in->marker < 0) {
        *res = http_error(r, 400, "tool_choice", "unsupported",
                          "this model's chat format has no tool-call marker, so tool_choice "
                          "\"required\" or a named function cannot be enforced");
        return -1;
    }
    if (r->s->cfg.debug_reply) return 0; /* the test reply decides */
    sbuf pre = {0};
    sb_puts(&pre, "[TOOL_CALLS]");
    if (name) {
        json_t *q = json_string(name);
        char *qs = json_dumps(q, JSON_ENCODE_ANY);
        sb_printf(&pre, "[{\"name\": %s, \"arguments\": ", qs ? qs : "\"\"");
        free(qs);
        json_decref(q);
    }
    int rc = pre.oom ? -1 : add_text(in->tok, in->marker, pre.p, &j->forced, &j->n_forced);
    sb_free(&pre);
    if (rc) *res = http_error(r, 500, NULL, NULL, "out of memory");
    return rc;
}

int chat_encode_body(req *r, json_t *body, int32_t **ids, size_t *n, nemo_error *err) {
    /* Mistral's format cannot hold an assistant turn with both text and tool calls (and
     * mistral-common rejects it), yet OpenAI clients send back exactly that; the text of such a
     * turn is dropped, as it never reaches the model's view of a tool-call turn. */
    json_t *msgs = json_object_get(body, "messages"), *m;
    size_t i;
    int changed = 0;
    json_array_foreach(msgs, i, m) {
        json_t *tc = json_object_get(m, "tool_calls");
        json_t *role = json_object_get(m, "role");
        if (json_is_string(role) && !strcmp(json_string_value(role), "assistant") &&
            json_is_array(tc) && json_array_size(tc) > 0 && json_object_get(m, "content") &&
            !json_is_null(json_object_get(m, "content"))) {
            json_object_set_new(m, "content", json_null());
            changed = 1;
        }
    }
    char *txt = changed ? json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    if (changed && !txt) return srv_fail(err, NEMO_ERR_NOMEM, "out of memory");
    nemo_chat *chat = NULL;
    int rc = 0;
    if (nemo_chat_parse(txt ? txt : r->body, txt ? strlen(txt) : r->len, &chat, err) ||
        nemo_chat_encode(chat, engine_get_info(r->s->eng)->tok, ids, n, err))
        rc = -1;
    nemo_chat_free(chat);
    free(txt);
    return rc;
}

enum MHD_Result route_chat(req *r) {
    json_error_t je;
    json_t *body = json_loadb(r->body, r->len, 0, &je);
    if (!body)
        return http_error(r, 400, NULL, "invalid_json",
                          "invalid JSON body: %s (line %d, column %d)", je.text, je.line,
                          je.column);
    enum MHD_Result res = MHD_NO;
    gen_req g;
    job *j = NULL;
    if (!json_is_object(body)) {
        res = http_error(r, 400, NULL, "invalid_json", "the body must be a JSON object");
        goto done;
    }
    if (!json_is_array(json_object_get(body, "messages"))) {
        res = http_error(r, 400, "messages", "invalid_value", "'messages' must be a list");
        goto done;
    }
    if (params_parse(r, body, &g, &res)) goto done;
    const engine_info *in = engine_get_info(r->s->eng);
    if (!(j = job_create())) {
        res = http_error(r, 500, NULL, NULL, "out of memory");
        goto done;
    }
    j->kind = JOB_CHAT;
    j->marker = in->marker;
    if (tool_choice(r, body, j, &res)) goto done;
    nemo_error err = {0};
    int32_t *ids = NULL;
    size_t n = 0;
    if (chat_encode_body(r, body, &ids, &n, &err)) {
        res = http_error(r, err.status == NEMO_ERR_NOMEM ? 500 : 400, "messages",
                         err.status == NEMO_ERR_UNSUPPORTED ? "unsupported" : "invalid_value", "%s",
                         err.msg);
        goto done;
    }
    j->prompt = ids;
    j->n_prompt = (int)n;
    if (r->s->cfg.debug_reply) {
        free(j->forced);
        j->forced = NULL;
        j->n_forced = 0;
        if (add_text(in->tok, in->marker, r->s->cfg.debug_reply, &j->forced, &j->n_forced)) {
            res = http_error(r, 500, NULL, NULL, "out of memory");
            goto done;
        }
        int32_t *nv = realloc(j->forced, (size_t)(j->n_forced + 1) * sizeof *nv);
        if (!nv) {
            res = http_error(r, 500, NULL, NULL, "out of memory");
            goto done;
        }
        j->forced = nv;
        j->forced[j->n_forced++] = nemo_tokenizer_eos_id(in->tok);
    }
    if (in->marker >= 0 && nemo_tool_stream_create(&j->tools, &err)) {
        res = http_error(r, 500, NULL, NULL, "%s", err.msg);
        goto done;
    }
    if (j->tools && g.stream && !(j->scan = tscan_create())) {
        res = http_error(r, 500, NULL, NULL, "out of memory");
        goto done;
    }
    if (params_job(r, &g, j, &res)) goto done;
    res = params_run(r, j);
    j = NULL;
done:
    job_release(j);
    json_decref(body);
    return res;
}
