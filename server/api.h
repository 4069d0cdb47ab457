/* api.h — a request body turned into a ready job, apart from HTTP: the JSON of
 * /v1/chat/completions or /v1/completions is checked field by field and becomes a job (prompt
 * ids, sampler, stop strings, forced ids), or an OpenAI-shaped error (status, param, code,
 * message). The routes only add the connection; tests/fuzz/fuzz_request.c drives it directly. */
#ifndef NEMO_SERVER_API_H
#define NEMO_SERVER_API_H

#include "server.h"

typedef struct api_err {
    int status;        /* HTTP status: 400, 404, 500 */
    const char *param; /* the offending field or NULL (a string literal) */
    const char *code;  /* OpenAI's error code or NULL (a string literal) */
    char msg[1200];
} api_err;

/* What parsing needs to know about the server. */
typedef struct api_ctx {
    const srv_config *cfg;
    const char *model_id;
    const nemo_tokenizer *tok;
    int32_t marker; /* [TOOL_CALLS] or -1 */
    int vocab_size;
} api_ctx;

/* Fills e and returns -1. */
int api_fail(api_err *e, int status, const char *param, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* The body (len bytes, not necessarily NUL-terminated) as a job of kind; NULL with e filled. */
job *api_parse(const api_ctx *c, job_kind kind, const char *body, size_t len, api_err *e);

/* The prompt ids of a chat body (messages, tools) in the model's chat format; raw is the body's
 * text (read as is unless a turn must be changed); *ids is malloc'd. -1 with err filled. */
int api_chat_ids(const api_ctx *c, json_t *body, const char *raw, size_t raw_len, int32_t **ids,
                 size_t *n, nemo_error *err);

/* params.c: the generation fields shared by chat and completions. */
typedef struct gen_req {
    int stream, include_usage;
    int max_tokens; /* 0 = not given */
    json_t *stop;   /* borrowed: string or array */
    nemo_sampler_params sp;
} gen_req;
int params_parse(const api_ctx *c, json_t *body, gen_req *g, api_err *e);
/* Fills j's sampler, stop strings, detok and limits from g and the prompt length. */
int params_job(const api_ctx *c, const gen_req *g, job *j, api_err *e);

#endif
