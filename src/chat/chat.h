/* chat.h — the conversation as the chat module holds it between parsing (request.c),
 * validation (validate.c) and encoding (encode.c). Messages are kept as given (not merged):
 * mistral-common validates the raw list and merges same-role runs only when encoding. */
#ifndef NEMO_CHAT_CHAT_H
#define NEMO_CHAT_CHAT_H

#include "chat/pyjson.h"

typedef enum chat_role { CHAT_SYSTEM = 0, CHAT_USER, CHAT_ASSISTANT, CHAT_TOOL } chat_role;

typedef struct chat_text {
    char *p; /* NUL-terminated, may contain NUL bytes (n counts them); NULL = content was null */
    size_t n;
} chat_text;

typedef struct chat_call {
    chat_text id; /* "null" when the request had none (mistral-common's default) */
    chat_text name;
    json_t *args_value;  /* arguments given as a JSON object, or NULL */
    chat_text args_text; /* arguments given as a string (args_value NULL); p NULL: null/absent */
} chat_call;

typedef struct chat_msg {
    chat_role role;
    chat_text text; /* text chunks joined with "\n\n" (empty chunks skipped) */
    int truthy;     /* Python bool(content): non-empty string or non-empty chunk list */
    int has_calls;  /* tool_calls was a list (possibly empty), not null/absent */
    chat_call *calls;
    int n_calls;
    chat_text call_id; /* tool: tool_call_id (p NULL when null) */
    chat_text name;    /* tool: optional function name (p NULL when absent) */
    int prefix;        /* assistant: continue this message (no EOS) */
} chat_msg;

struct nemo_chat {
    chat_msg *msgs;
    int n, cap;
    json_t *tools; /* array of {"type","function":{"name","description","parameters"}}, or NULL */
};

const char *chat_role_name(chat_role r);
/* mistral-common's validator (v3, default "test" mode): NEMO_ERR_ARG with its message. */
nemo_status chat_validate(const struct nemo_chat *c, nemo_error *err);
/* Python's re.match(r"^[a-zA-Z0-9_-]{1,64}$") (extra_ok = "_-") or r"^[a-zA-Z0-9]{9}$": note
 * that `$` also matches before one final "\n". */
int chat_match_re(const chat_text *s, int min, int max, const char *extra_ok);
/* JSON Schema draft-7 meta-schema check of tool parameters (jsonschema's check_schema). */
nemo_status chat_check_schema(const json_t *schema, const char *where, nemo_error *err);

/* The ChatML format for vocabularies with a ChatML chat template tpl (chatml.c). */
nemo_status chat_encode_chatml(const struct nemo_chat *c, const nemo_tokenizer *t, const char *tpl,
                               int32_t **ids, size_t *n_ids, nemo_error *err);

#endif
