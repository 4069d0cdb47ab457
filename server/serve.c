/* serve.c — `nemo serve` from start to stop: loads the model into the engine, starts the HTTP
 * daemon, waits for SIGINT/SIGTERM, then shuts down in the order that lets every waiting
 * connection finish (engine jobs failed with 503, daemon stopped, engine freed). */
#include "http.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int serve_main(const srv_config *cfg) {
    /* every thread started from here inherits the blocked set; only sigwait sees the signals */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    srv s;
    memset(&s, 0, sizeof s);
    s.cfg = *cfg;
    s.started = (long)time(NULL);
    const char *name = cfg->model_name;
    if (!name) {
        /* the last path component, without a trailing slash or a weight-file extension */
        const char *p = cfg->model_path, *end = p + strlen(p);
        while (end > p && end[-1] == '/') end--;
        const char *b = end;
        while (b > p && b[-1] != '/') b--;
        size_t n = (size_t)(end - b);
        const char *exts[] = {".gguf", ".safetensors"};
        for (size_t i = 0; i < 2; i++) {
            size_t k = strlen(exts[i]);
            if (n > k && !strncmp(end - k, exts[i], k)) n -= k;
        }
        snprintf(s.model_id, sizeof s.model_id, "%.*s", (int)n, b);
    } else {
        snprintf(s.model_id, sizeof s.model_id, "%s", name);
    }
    nemo_error err = {0};
    int rc = 1;
    if (!(s.met = metrics_create())) {
        fprintf(stderr, "nemo serve: out of memory\n");
        return 1;
    }
    if (engine_create(cfg, s.met, &s.eng, &err) || http_start(&s, &err)) {
        fprintf(stderr, "nemo serve: %s\n", err.msg);
        goto done;
    }
    fprintf(stderr,
            "nemo serve: model '%s' on http://%s%s%s:%u/ (%d slots x %d positions, queue %d%s)\n",
            s.model_id, strchr(cfg->host, ':') ? "[" : "", cfg->host,
            strchr(cfg->host, ':') ? "]" : "", http_port(&s), cfg->parallel, cfg->ctx, cfg->queue,
            cfg->api_key ? ", API key required" : "");
    if (cfg->debug_reply)
        fprintf(stderr, "nemo serve: TEST MODE: every request generates the --debug-reply text\n");
    int sig = 0;
    sigwait(&set, &sig);
    fprintf(stderr, "nemo serve: %s, shutting down\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    rc = 0;
done:
    engine_stop(s.eng);
    http_stop(&s);
    engine_free(s.eng);
    metrics_free(s.met);
    return rc;
}
