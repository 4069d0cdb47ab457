/* gen_print.c — how `nemo run` and `nemo chat` show what generation produced besides the
 * streamed text: parsed tool calls as one JSON line (or the raw text with a note when the model
 * wrote something that is not a call list — never dropped), and the timing line on stderr. */
#include "gen.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

void gen_print_calls(const char *cmd, const nemo_tool_calls *tc, FILE *out) {
    if (!tc || !tc->has_marker) return;
    if (tc->malformed) {
        fprintf(out, "[TOOL_CALLS]%s\n", tc->raw ? tc->raw : "");
        fflush(out);
        fprintf(stderr,
                "nemo %s: note: the model started a tool call ([TOOL_CALLS]) but what followed "
                "is not a JSON list of {\"name\", \"arguments\"}; its raw text is printed above\n",
                cmd);
        return;
    }
    json_t *list = json_array();
    for (int i = 0; list && i < tc->n_calls; i++) {
        const nemo_tool_call *c = &tc->calls[i];
        /* arguments: the JSON object the model wrote, or the string it gave instead */
        json_t *args = json_loads(c->arguments, JSON_DECODE_ANY, NULL);
        if (!args) args = json_string(c->arguments);
        json_t *o = json_object();
        if (o) {
            json_object_set_new(o, "id", json_string(c->id));
            json_object_set_new(o, "name", json_string(c->name));
            json_object_set_new(o, "arguments", args);
        } else {
            json_decref(args);
        }
        json_array_append_new(list, o);
    }
    json_t *root = json_object();
    if (root && list) json_object_set_new(root, "tool_calls", list);
    char *s = root ? json_dumps(root, JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII) : NULL;
    if (s) {
        fprintf(out, "%s\n", s);
        free(s);
    } else {
        fprintf(stderr, "nemo %s: out of memory printing tool calls\n", cmd);
    }
    json_decref(root);
    if (tc->trailing && tc->trailing[0]) fprintf(out, "%s\n", tc->trailing);
    fflush(out);
}

void gen_print_timing(const char *cmd, const gen_result *r) {
    static const char *const WHY[] = {"end of turn", "stop string", "token limit", "context full",
                                      "interrupted"};
    int decoded = r->n_prompt - r->n_cached;
    fprintf(stderr,
            "nemo %s: prompt %d tokens (%d cached) in %.2f s, %.1f tok/s | generated %d tokens in "
            "%.2f s, %.1f tok/s | %s\n",
            cmd, r->n_prompt, r->n_cached, r->t_prompt,
            r->t_prompt > 0 ? decoded / r->t_prompt : 0.0, r->n_gen, r->t_gen,
            r->t_gen > 0 ? r->n_gen / r->t_gen : 0.0, WHY[r->why]);
}
