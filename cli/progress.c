/* progress.c — a one-line loading bar on stderr ("loading [#####     ] 45%  5.5 / 12.2 GB"),
 * redrawn in place with \r, only on a terminal and only for large weights. */
#include "progress.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

void cli_progress_init(cli_progress *p, int quiet) {
    p->enabled = !quiet && isatty(2);
    p->drawn = 0;
    p->last = -1;
    const char *env = getenv("NEMO_PROGRESS_MIN_BYTES");
    p->min_bytes = env && *env ? strtoull(env, NULL, 10) : CLI_PROGRESS_MIN_BYTES;
}

void cli_progress_cb(uint64_t done, uint64_t total, void *user) {
    cli_progress *p = user;
    if (!p->enabled || total <= p->min_bytes) return;
    int permille = (int)(done >= total ? 1000 : done * 1000 / total);
    if (permille == p->last) return;
    p->last = permille;
    enum { W = 30 };
    char bar[W + 1];
    int fill = permille * W / 1000;
    for (int i = 0; i < W; i++) bar[i] = i < fill ? '#' : ' ';
    bar[W] = 0;
    fprintf(stderr, "\rloading [%s] %3d%%  %.1f / %.1f GB", bar, permille / 10, (double)done / 1e9,
            (double)total / 1e9);
    p->drawn = 1;
    if (done >= total) {
        fputc('\n', stderr);
        p->drawn = 0;
    }
    fflush(stderr);
}
