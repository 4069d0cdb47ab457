/* routes_complete.c — POST /v1/completions: a raw prompt (a string, a one-string list, or token
 * ids) continued by the model; no chat format and no tool calls. */
#include "http.h"

#include <stdlib.h>
#include <string.h>

/* prompt: "text" | ["text"] | [1, 2, 3] | [[1, 2, 3]] */
static int prompt_ids(req *r, json_t *p, job *j, enum MHD_Result *res) {
    const engine_info *in = engine_get_info(r->s->eng);
    if (json_is_array(p) && json_array_size(p) == 1 &&
        (json_is_string(json_array_get(p, 0)) || json_is_array(json_array_get(p, 0))))
        p = json_array_get(p, 0);
    if (json_is_string(p)) {
        const char *s = json_string_value(p);
        size_t len = json_string_length(p), n = 0;
        nemo_error err = {0};
        nemo_tokenizer_encode(in->tok, s, len, 1, 0, NULL, 0, &n, &err);
        if (!(j->prompt = malloc((n ? n : 1) * sizeof *j->prompt)) ||
            nemo_tokenizer_encode(in->tok, s, len, 1, 0, j->prompt, n, &n, &err)) {
            *res = http_error(r, 500, NULL, NULL, "cannot encode the prompt: %s", err.msg);
            return -1;
        }
        j->n_prompt = (int)n;
    } else if (json_is_array(p) && json_array_size(p) > 0) {
        size_t n = json_array_size(p), i;
        json_t *e;
        if (!(j->prompt = malloc(n * sizeof *j->prompt))) {
            *res = http_error(r, 500, NULL, NULL, "out of memory");
            return -1;
        }
        json_array_foreach(p, i, e) {
            if (!json_is_integer(e) || json_integer_value(e) < 0 ||
                json_integer_value(e) >= in->cfg->vocab_size) {
                *res = http_error(r, 400, "prompt", "invalid_value",
                                  "'prompt' token %zu is not an id in [0, %d)", i,
                                  in->cfg->vocab_size);
                return -1;
            }
            j->prompt[i] = (int32_t)json_integer_value(e);
        }
        j->n_prompt = (int)n;
    } else {
        *res = http_error(r, 400, "prompt", "invalid_value",
                          "'prompt' must be a string, a list of one string, or a non-empty list of "
                          "token ids (batched prompts are not supported)");
        return -1;
    }
    if (!j->n_prompt) {
        *res = http_error(r, 400, "prompt", "invalid_value", "'prompt' encodes to no tokens");
        return -1;
    }
    return 0;
}

enum MHD_Result route_completions(req *r) {
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
    const char *unsupported[] = {"suffix", "echo", "best_of"};
    for (size_t i = 0; i < sizeof unsupported / sizeof *unsupported; i++) {
        json_t *v = json_object_get(body, unsupported[i]);
        if (v && !json_is_null(v) && !json_is_false(v) &&
            !(json_is_integer(v) && json_integer_value(v) == 1)) {
            res = http_error(r, 400, unsupported[i], "unsupported", "'%s' is not supported",
                             unsupported[i]);
            goto done;
        }
    }
    if (!json_object_get(body, "prompt")) {
        res = http_error(r, 400, "prompt", "missing", "'prompt' is required");
        goto done;
    }
    if (params_parse(r, body, &g, &res)) goto done;
    if (!g.max_tokens) g.max_tokens = 16 < r->s->cfg.max_tokens ? 16 : r->s->cfg.max_tokens;
    if (!(j = job_create())) {
        res = http_error(r, 500, NULL, NULL, "out of memory");
        goto done;
    }
    j->kind = JOB_COMPLETION;
    if (prompt_ids(r, json_object_get(body, "prompt"), j, &res)) goto done;
    if (params_job(r, &g, j, &res)) goto done;
    res = params_run(r, j);
    j = NULL;
done:
    job_release(j);
    json_decref(body);
    return res;
}
