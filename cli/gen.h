/* gen.h — what `nemo run` and `nemo chat` share: their common flags (gen_opts), opening model +
 * tokenizer + session + sampler once (gen_ctx), and the streaming generation loop that reuses
 * the KV cache across calls. Front-end code only: includes nemo.h and libc. */
#ifndef NEMO_CLI_GEN_H
#define NEMO_CLI_GEN_H

#include "nemo.h"

#include <signal.h>
#include <stdio.h>

#define GEN_MAX_STOPS 32

typedef struct gen_opts {
    const char *model, *tokenizer, *system, *tools_file;
    nemo_sampler_params sp;
    int seed_set;
    long max_tokens; /* -1: until EOS or the context is full */
    long threads, ctx, batch;
    const char *stops[GEN_MAX_STOPS];
    int n_stops;
    int raw, quiet, print_ids, no_prefault;
    int32_t *force_ids; /* testing aid: the first generated ids (malloc'd) */
    int n_force;
} gen_opts;

/* Defaults: chat format, temperature 0.3, random seed, no limit, --ctx 4096, --batch 512. */
void gen_opts_init(gen_opts *o);
void gen_opts_free(gen_opts *o);
/* Tries argv[*i] as one of the shared flags. Returns 1 if it was one (and advances *i past its
 * value), 0 if it is not a shared flag, -1 after printing an error about its value. */
int gen_opts_flag(const char *cmd, int argc, char **argv, int *i, gen_opts *o);
/* The --help text of the shared flags (chat != 0: without --raw). */
void gen_opts_help(FILE *f, int chat);

typedef enum gen_stop {
    GEN_STOP_EOS = 0,   /* the model ended its turn */
    GEN_STOP_STRING,    /* a --stop string matched */
    GEN_STOP_LIMIT,     /* -n tokens generated */
    GEN_STOP_CONTEXT,   /* the context (--ctx) is full */
    GEN_STOP_INTERRUPT, /* *interrupt became non-zero (Ctrl-C) */
} gen_stop;

typedef struct gen_result {
    gen_stop why;
    int n_prompt, n_cached; /* prompt ids, and how many of them the KV cache already held */
    int n_gen;              /* generated ids (incl. an ending EOS) */
    double t_prompt, t_gen; /* seconds: prefill, and from then to the last token */
    const char *content;    /* text shown to the user (after stop-string trimming); borrowed */
    size_t content_len;
    nemo_tool_calls *calls; /* owned: parsed [TOOL_CALLS] (has_marker 0 when none), or NULL */
} gen_result;

typedef struct gen_ctx gen_ctx;

/* Opens the model (with a progress bar on a terminal), tokenizer, session, sampler, detokenizer,
 * stop matcher and tool-call stream, and reserves every buffer the token loop uses.
 * Prints its own error messages ("nemo CMD: ..."); returns NULL on failure. */
gen_ctx *gen_open(const char *cmd, const gen_opts *o);
void gen_close(gen_ctx *g);
const nemo_tokenizer *gen_tokenizer(const gen_ctx *g);
/* Forget the KV cache (next prompt is decoded from its first id). */
void gen_reset_cache(gen_ctx *g);

/* Runs prompt ids[n] (reusing the cached common prefix), then samples until a stop condition,
 * writing content to `out` as it is generated (flushed per token). Returns 0, or 1 after
 * printing an error. r->calls must be freed with nemo_tool_calls_free. interrupt may be NULL. */
int gen_generate(gen_ctx *g, const int32_t *ids, int n, FILE *out, volatile sig_atomic_t *interrupt,
                 gen_result *r);

/* Prints parsed tool calls as one JSON line {"tool_calls": [{"id", "name", "arguments"}]} on
 * out, or, when malformed, the raw text after [TOOL_CALLS] with a note on stderr. */
void gen_print_calls(const char *cmd, const nemo_tool_calls *tc, FILE *out);
/* The timing line on stderr. */
void gen_print_timing(const char *cmd, const gen_result *r);

#endif
