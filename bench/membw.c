/* membw.c — memory read bandwidth probe for bench/compare_llamacpp.py: T threads each sum the
 * 64-bit words of their share of a buffer much larger than the caches; best of R passes.
 * Decode speed of a memory-bound engine is bounded by this number divided by the bytes of
 * weights read per token.
 *
 * build: cc -O2 -march=native -pthread bench/membw.c -o build/membw
 * run:   build/membw [MiB=1024] [threads=1] [passes=5]   -> prints "GB/s <value>" */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct {
    const uint64_t *p;
    size_t n;
    uint64_t sum;
} slice;

static void *reader(void *arg) {
    slice *s = arg;
    uint64_t a = 0, b = 0, c = 0, d = 0;
    for (size_t i = 0; i + 4 <= s->n; i += 4) { /* 4 chains: the loads, not the adds, bound it */
        a += s->p[i];
        b += s->p[i + 1];
        c += s->p[i + 2];
        d += s->p[i + 3];
    }
    s->sum = a + b + c + d;
    return NULL;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv) {
    size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 1024;
    int nt = argc > 2 ? atoi(argv[2]) : 1, passes = argc > 3 ? atoi(argv[3]) : 5;
    if (nt < 1 || nt > 256 || passes < 1 || mib < 16) return 2;
    size_t n = mib * 1024 * 1024 / 8;
    uint64_t *buf = malloc(n * 8);
    if (!buf) return 1;
    for (size_t i = 0; i < n; i++) buf[i] = i; /* touch every page */
    double best = 0;
    uint64_t check = 0;
    for (int r = 0; r < passes; r++) {
        pthread_t th[256];
        slice s[256];
        double t0 = now();
        for (int k = 0; k < nt; k++) {
            s[k] = (slice){buf + n / nt * k, n / nt, 0};
            pthread_create(&th[k], NULL, reader, &s[k]);
        }
        for (int k = 0; k < nt; k++) {
            pthread_join(th[k], NULL);
            check += s[k].sum;
        }
        double gbs = (double)(n / nt * nt * 8) / (now() - t0) / 1e9;
        if (gbs > best) best = gbs;
    }
    printf("GB/s %.2f (%zu MiB, %d thread%s, best of %d; checksum %llu)\n", best, mib, nt,
           nt > 1 ? "s" : "", passes, (unsigned long long)(check & 0xffff));
    free(buf);
    return 0;
}
