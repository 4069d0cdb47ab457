/* args.c — argument parsing and input reading helpers shared by the subcommands. */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>

int cli_report(const char *cmd, const nemo_error *err) {
    fprintf(stderr, "nemo %s: %s\n", cmd, err->msg[0] ? err->msg : nemo_status_name(err->status));
    return 1;
}

int cli_parse_ids(const char *s, int32_t **ids, int *n) {
    int cap = 16, cnt = 0;
    int32_t *v = malloc((size_t)cap * sizeof *v);
    if (!v) return -1;
    const char *p = s;
    for (;;) {
        while (*p == ',' || *p == ' ' || *p == '\t' || *p == '\n') p++;
        if (!*p) break;
        char *end;
        errno = 0;
        long x = strtol(p, &end, 10);
        if (end == p || errno || x < 0 || x > INT32_MAX ||
            (*end && *end != ',' && *end != ' ' && *end != '\t' && *end != '\n')) {
            free(v);
            return -1;
        }
        if (cnt == cap) {
            cap *= 2;
            int32_t *nv = realloc(v, (size_t)cap * sizeof *v);
            if (!nv) {
                free(v);
                return -1;
            }
            v = nv;
        }
        v[cnt++] = (int32_t)x;
        p = end;
    }
    *ids = v;
    *n = cnt;
    return 0;
}

int cli_int(const char *cmd, const char *flag, const char *val, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long x = val ? strtol(val, &end, 10) : 0;
    if (!val || end == val || *end || errno || x < lo || x > hi) {
        fprintf(stderr, "nemo %s: %s expects an integer in [%ld, %ld], got '%s'\n", cmd, flag, lo,
                hi, val ? val : "(nothing)");
        return -1;
    }
    *out = x;
    return 0;
}

char *cli_read_all(FILE *f, size_t *len) {
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    while (b) {
        if (n + 1 >= cap) {
            char *nb = realloc(b, cap *= 2);
            if (!nb) break;
            b = nb;
        }
        size_t k = fread(b + n, 1, cap - n - 1, f);
        if (!k) {
            if (ferror(f)) break;
            b[n] = 0;
            *len = n;
            return b;
        }
        n += k;
    }
    free(b);
    return NULL;
}
