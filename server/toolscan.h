/* toolscan.h — incremental reading of a tool-call list as the model writes it (toolscan.c), so
 * streamed answers can send tool-call names and argument fragments as they appear. */
#ifndef NEMO_SERVER_TOOLSCAN_H
#define NEMO_SERVER_TOOLSCAN_H

#include "server.h"

typedef struct tscan_call {
    char id[16]; /* the model's id when it came before the name and is 9 [A-Za-z0-9], else drawn */
    sbuf name;   /* decoded */
    sbuf args;   /* the arguments as written (a string value: its decoded content) */
    int named;   /* the name is complete: the call may be streamed */
} tscan_call;

typedef struct tool_scan tool_scan;
tool_scan *tscan_create(void); /* NULL when out of memory */
void tscan_free(tool_scan *t);
/* Feeds text written after [TOOL_CALLS]; ids missing before a call's name are drawn from rng. */
void tscan_feed(tool_scan *t, const char *s, size_t n, uint64_t *rng);
/* Calls whose name is complete: always the first tscan_named() calls, which only grows. */
int tscan_named(const tool_scan *t);
const tscan_call *tscan_call_at(const tool_scan *t, int i);
/* 1 once the text stopped looking like a call list (it then stops growing). */
int tscan_bad(const tool_scan *t);
/* 1 once the list (or the one call object) closed. */
int tscan_done(const tool_scan *t);

#endif
