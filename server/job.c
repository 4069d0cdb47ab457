/* job.c — one request's life between its connection thread and the engine: creation,
 * reference counting (both sides hold one; the last release frees the sampler, stop, detok and
 * tool-call state), and cancellation when the client goes away. */
#include "server.h"
#include "toolscan.h"

#include <stdint.h>
#include <stdlib.h>
#include <time.h>

double now_mono(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

job *job_create(void) {
    job *j = calloc(1, sizeof *j);
    if (!j) return NULL;
    pthread_mutex_init(&j->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&j->cv, &ca);
    pthread_condattr_destroy(&ca);
    j->refs = 1;
    j->marker = -1;
    j->calls_at = SIZE_MAX;
    j->created = (long)time(NULL);
    return j;
}

void job_release(job *j) {
    if (!j) return;
    pthread_mutex_lock(&j->mu);
    int left = --j->refs;
    pthread_mutex_unlock(&j->mu);
    if (left) return;
    free(j->prompt);
    free(j->forced);
    free(j->logits_copy);
    nemo_sampler_free(j->sampler);
    nemo_stop_free(j->stop);
    nemo_detok_free(j->detok);
    nemo_tool_stream_free(j->tools);
    nemo_tool_calls_free(j->calls);
    tscan_free(j->scan);
    sb_free(&j->text);
    pthread_cond_destroy(&j->cv);
    pthread_mutex_destroy(&j->mu);
    free(j);
}

void job_cancel(job *j) {
    pthread_mutex_lock(&j->mu);
    j->cancelled = 1;
    pthread_mutex_unlock(&j->mu);
}
