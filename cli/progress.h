/* progress.h — the loading bar front ends draw while nemo_model_open_ex reads the weights. */
#ifndef NEMO_CLI_PROGRESS_H
#define NEMO_CLI_PROGRESS_H

#include <stdint.h>

typedef struct cli_progress {
    int enabled; /* stderr is a terminal and progress was not turned off */
    int drawn;   /* a bar is on screen (needs a newline at the end) */
    int last;    /* last drawn per-mille */
    uint64_t min_bytes;
} cli_progress;

/* Bars are drawn only when stderr is a terminal (never into pipes or files) and `quiet` is 0. */
void cli_progress_init(cli_progress *p, int quiet);
/* nemo_model_params.progress callback (user = cli_progress *): draws nothing for weights of at
 * most CLI_PROGRESS_MIN_BYTES, which load too fast to need a bar (the environment variable
 * NEMO_PROGRESS_MIN_BYTES overrides it, so tests can see the bar on a small model). */
void cli_progress_cb(uint64_t done, uint64_t total, void *user);
#define CLI_PROGRESS_MIN_BYTES (256ull << 20)

#endif
