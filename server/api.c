/* api.c — a chat or completions request body to a job, apart from HTTP (see api.h): the
 * conversation goes through nemo_chat_parse / nemo_chat_encode (the model's own chat format),
 * tool_choice becomes forced output ids (there is no constrained decoding, see README
 * "Serving"), a completions prompt is text or token ids; then the shared fields (params.c). */
#include "api.h"
#include "toolscan.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int api_fail(api_err *e, int status, const char *param, const char *code, const char *fmt, ...) {
    e->status = status;
    e->param = param;
    e->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return -1;
}

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
static int tool_choice(const api_ctx *c, json_t *body, job *j, api_err *e) {
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
            return api_fail(e, 400, "tool_choice", "invalid_value",
                            "'tool_choice' must be \"none\", \"auto\", \"required\" or a "
                            "{\"type\": \"function\", ...} object, got \"%s\"",
                            s);
        }
    } else if (json_is_object(tc)) {
        json_t *f = json_object_get(tc, "function");
        json_t *nm = json_is_object(f) ? json_object_get(f, "name") : NULL;
        if (!json_is_string(nm) || !json_is_string(json_object_get(tc, "type")) ||
            strcmp(json_string_value(json_object_get(tc, "type")), "function")) {
            return api_fail(e, 400, "tool_choice", "invalid_value",
                            "'tool_choice' object must be {\"type\": \"function\", "
                            "\"function\": {\"name\": ...}}");
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
            return api_fail(e, 400, "tool_choice", "invalid_value",
                            "'tool_choice' names function '%s', which is not in 'tools'", name);
        }
    } else {
        return api_fail(e, 400, "tool_choice", "invalid_value",
                        "'tool_choice' must be a string or an object");
    }
    if (!n_tools) {
        return api_fail(e, 400, "tool_choice", "invalid_value",
                        "'tool_choice' requires a non-empty 'tools' list");
    }
    if (c->marker < 0) {
        return api_fail(e, 400, "tool_choice", "unsupported",
                        "this model's chat format has no tool-call marker, so tool_choice "
                        "\"required\" or a named function cannot be enforced");
    }
    if (c->cfg->debug_reply) return 0; /* the test reply decides */
    sbuf pre = {0};
    sb_puts(&pre, "[TOOL_CALLS]");
    if (name) {
        json_t *q = json_string(name);
        char *qs = json_dumps(q, JSON_ENCODE_ANY);
        sb_printf(&pre, "[{\"name\": %s, \"arguments\": ", qs ? qs : "\"\"");
        free(qs);
        json_decref(q);
    }
    int rc = pre.oom ? -1 : add_text(c->tok, c->marker, pre.p, &j->forced, &j->n_forced);
    sb_free(&pre);
    return rc ? api_fail(e, 500, NULL, NULL, "out of memory") : 0;
}

int api_chat_ids(const api_ctx *c, json_t *body, const char *raw, size_t raw_len, int32_t **ids,
                 size_t *n, nemo_error *err) {
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
    if (changed && !txt) {
        err->status = NEMO_ERR_NOMEM;
        snprintf(err->msg, sizeof err->msg, "out of memory");
        return -1;
    }
    nemo_chat *chat = NULL;
    int rc = 0;
    if (nemo_chat_parse(txt ? txt : raw, txt ? strlen(txt) : raw_len, &chat, err) ||
        nemo_chat_encode(chat, c->tok, ids, n, err))
        rc = -1;
    nemo_chat_free(chat);
    free(txt);
    return rc;
}

static int chat_job(const api_ctx *c, json_t *body, const char *raw, size_t len, gen_req *g, job *j,
                    api_err *e) {
    if (!json_is_array(json_object_get(body, "messages")))
        return api_fail(e, 400, "messages", "invalid_value", "'messages' must be a list");
    if (params_parse(c, body, g, e)) return -1;
    j->marker = c->marker;
    if (tool_choice(c, body, j, e)) return -1;
    nemo_error err = {0};
    int32_t *ids = NULL;
    size_t n = 0;
    if (api_chat_ids(c, body, raw, len, &ids, &n, &err))
        return api_fail(e, err.status == NEMO_ERR_NOMEM ? 500 : 400, "messages",
                        err.status == NEMO_ERR_UNSUPPORTED ? "unsupported" : "invalid_value", "%s",
                        err.msg);
    j->prompt = ids;
    j->n_prompt = (int)n;
    if (c->cfg->debug_reply) {
        free(j->forced);
        j->forced = NULL;
        j->n_forced = 0;
        if (add_text(c->tok, c->marker, c->cfg->debug_reply, &j->forced, &j->n_forced))
            return api_fail(e, 500, NULL, NULL, "out of memory");
        int32_t *nv = realloc(j->forced, (size_t)(j->n_forced + 1) * sizeof *nv);
        if (!nv) return api_fail(e, 500, NULL, NULL, "out of memory");
        j->forced = nv;
        j->forced[j->n_forced++] = nemo_tokenizer_eos_id(c->tok);
    }
    if (c->marker >= 0 && nemo_tool_stream_create(&j->tools, &err))
        return api_fail(e, 500, NULL, NULL, "%s", err.msg);
    if (j->tools && g->stream && !(j->scan = tscan_create()))
        return api_fail(e, 500, NULL, NULL, "out of memory");
    return 0;
}

/* prompt: "text" | ["text"] | [1, 2, 3] | [[1, 2, 3]] */
static int prompt_ids(const api_ctx *c, json_t *p, job *j, api_err *e) {
    if (json_is_array(p) && json_array_size(p) == 1 &&
        (json_is_string(json_array_get(p, 0)) || json_is_array(json_array_get(p, 0))))
        p = json_array_get(p, 0);
    if (json_is_string(p)) {
        const char *s = json_string_value(p);
        size_t len = json_string_length(p), n = 0;
        nemo_error err = {0};
        nemo_tokenizer_encode(c->tok, s, len, 1, 0, NULL, 0, &n, &err);
        if (!(j->prompt = malloc((n ? n : 1) * sizeof *j->prompt)) ||
            nemo_tokenizer_encode(c->tok, s, len, 1, 0, j->prompt, n, &n, &err))
            return api_fail(e, 500, NULL, NULL, "cannot encode the prompt: %s", err.msg);
        j->n_prompt = (int)n;
    } else if (json_is_array(p) && json_array_size(p) > 0) {
        size_t n = json_array_size(p), i;
        json_t *v;
        if (!(j->prompt = malloc(n * sizeof *j->prompt)))
            return api_fail(e, 500, NULL, NULL, "out of memory");
        json_array_foreach(p, i, v) {
            if (!json_is_integer(v) || json_integer_value(v) < 0 ||
                json_integer_value(v) >= c->vocab_size)
                return api_fail(e, 400, "prompt", "invalid_value",
                                "'prompt' token %zu is not an id in [0, %d)", i, c->vocab_size);
            j->prompt[i] = (int32_t)json_integer_value(v);
        }
        j->n_prompt = (int)n;
    } else {
        return api_fail(e, 400, "prompt", "invalid_value",
                        "'prompt' must be a string, a list of one string, or a non-empty list of "
                        "token ids (batched prompts are not supported)");
    }
    if (!j->n_prompt)
        return api_fail(e, 400, "prompt", "invalid_value", "'prompt' encodes to no tokens");
    return 0;
}

static int completion_job(const api_ctx *c, json_t *body, gen_req *g, job *j, api_err *e) {
    const char *unsupported[] = {"suffix", "echo", "best_of"};
    for (size_t i = 0; i < sizeof unsupported / sizeof *unsupported; i++) {
        json_t *v = json_object_get(body, unsupported[i]);
        if (v && !json_is_null(v) && !json_is_false(v) &&
            !(json_is_integer(v) && json_integer_value(v) == 1))
            return api_fail(e, 400, unsupported[i], "unsupported", "'%s' is not supported",
                            unsupported[i]);
    }
    if (!json_object_get(body, "prompt"))
        return api_fail(e, 400, "prompt", "missing", "'prompt' is required");
    if (params_parse(c, body, g, e)) return -1;
    if (!g->max_tokens) g->max_tokens = 16 < c->cfg->max_tokens ? 16 : c->cfg->max_tokens;
    return prompt_ids(c, json_object_get(body, "prompt"), j, e);
}

job *api_parse(const api_ctx *c, job_kind kind, const char *raw, size_t len, api_err *e) {
    json_error_t je;
    json_t *body = json_loadb(raw, len, 0, &je);
    if (!body) {
        api_fail(e, 400, NULL, "invalid_json", "invalid JSON body: %s (line %d, column %d)",
                 je.text, je.line, je.column);
        return NULL;
    }
    job *j = NULL;
    gen_req g;
    if (!json_is_object(body)) {
        api_fail(e, 400, NULL, "invalid_json", "the body must be a JSON object");
    } else if (!(j = job_create())) {
        api_fail(e, 500, NULL, NULL, "out of memory");
    } else {
        j->kind = kind;
        int rc = kind == JOB_CHAT ? chat_job(c, body, raw, len, &g, j, e)
                                  : completion_job(c, body, &g, j, e);
        if (rc || params_job(c, &g, j, e)) {
            job_release(j);
            j = NULL;
        }
    }
    json_decref(body);
    return j;
}
