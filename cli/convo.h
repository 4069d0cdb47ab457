/* convo.h — the conversation (system prompt, messages, tools) of `nemo run` and `nemo chat`,
 * and the prompt ids it encodes to. */
#ifndef NEMO_CLI_CONVO_H
#define NEMO_CLI_CONVO_H

#include "nemo.h"

#include <stdio.h>

typedef struct convo convo;

/* system and tools_file may be NULL. The tools file must hold a JSON array of OpenAI-style
 * tools; it is checked at once (JSON syntax, then the library's validation of names and
 * parameter schemas). Prints its errors; NULL on failure. */
convo *convo_create(const char *cmd, const char *system, const char *tools_file);
void convo_free(convo *c);
int convo_count(const convo *c);
/* Replaces the system prompt (NULL or "" = none). */
int convo_set_system(convo *c, const char *system);
/* Drops every message (the system prompt and tools stay). */
void convo_reset(convo *c);
void convo_pop(convo *c);
/* Appends a text message ("user" or "assistant"). 0 or -1 (printed). */
int convo_add(convo *c, const char *role, const char *text, size_t len);
/* Appends the model's answer: its text, plus its tool calls when tc parsed some (the calls then
 * wait for results, see convo_add_tool_result). */
int convo_add_answer(convo *c, const char *content, size_t len, const nemo_tool_calls *tc);
/* How many tool calls of the last answer still have no result. */
int convo_pending_calls(const convo *c);
/* The result of the next pending call, as a "tool" message. -1 when none is pending. */
int convo_add_tool_result(convo *c, const char *text, size_t len);
/* Chat-template prompt ids of the conversation (malloc'd, caller frees). */
nemo_status convo_encode(const convo *c, const nemo_tokenizer *t, int32_t **ids, size_t *n,
                         nemo_error *err);
/* --raw prompt ids: BOS + text (malloc'd, caller frees). */
nemo_status convo_encode_raw(const nemo_tokenizer *t, const char *text, size_t len, int32_t **ids,
                             size_t *n, nemo_error *err);

#endif
