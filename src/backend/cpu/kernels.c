/* kernels.c — picks the kernel table for the CPU once, and lets tests switch levels. */
#include "backend/cpu/kernels.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const nemo_kernels *g_active;
/* Activation mode: q8 unless NEMO_MATMUL=exact. An unknown value keeps the default and is kept
 * here so nemo_cpu_check (model open, `nemo cpu`) can report it: the library never prints. */
static int g_q8 = 1, g_env_q8 = 1;
static char g_bad_mode[48];
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

const nemo_kernels *nemo_kernels_for(nemo_cpu_level l) {
    if (l > nemo_cpu_level_max()) return NULL;
    switch (l) {
    case NEMO_CPU_SCALAR: return nemo_kernels_scalar();
    case NEMO_CPU_AVX2: return nemo_kernels_avx2();
    case NEMO_CPU_AVX512: return nemo_kernels_avx512();
    default: return NULL;
    }
}

static void init(void) {
    const char *m = getenv("NEMO_MATMUL");
    if (m && !strcmp(m, "exact"))
        g_q8 = 0;
    else if (m && *m && strcmp(m, "q8"))
        snprintf(g_bad_mode, sizeof g_bad_mode, "%s", m);
    g_env_q8 = g_q8;
    /* a level compiled out falls back to the next lower one */
    for (int l = nemo_cpu_level_active(); l >= 0 && !g_active; l--)
        g_active = nemo_kernels_for((nemo_cpu_level)l);
}

const nemo_kernels *nemo_kernels_get(void) {
    pthread_once(&g_once, init);
    return g_active;
}

int nemo_kernels_use(nemo_cpu_level l) {
    pthread_once(&g_once, init);
    const nemo_kernels *k = nemo_kernels_for(l);
    if (!k) return -1;
    g_active = k;
    return 0;
}

int nemo_kernels_q8(void) {
    pthread_once(&g_once, init);
    return g_q8;
}

void nemo_kernels_set_q8(int on) {
    pthread_once(&g_once, init);
    g_q8 = on != 0;
}

nemo_status nemo_cpu_check(nemo_error *err) {
    pthread_once(&g_once, init);
    if (!g_bad_mode[0]) return NEMO_OK;
    return nemo_fail(err, NEMO_ERR_ARG,
                     "NEMO_MATMUL=%s: unknown activation mode (expected q8, the default, or exact)",
                     g_bad_mode);
}

nemo_status nemo_cpu_set_matmul(const char *mode, nemo_error *err) {
    pthread_once(&g_once, init);
    if (mode && strcmp(mode, "q8") && strcmp(mode, "exact"))
        return nemo_fail(err, NEMO_ERR_ARG, "activation mode '%s': expected q8 or exact", mode);
    g_q8 = mode ? !strcmp(mode, "q8") : g_env_q8;
    return NEMO_OK;
}

#define APPEND(...)                                                                                \
    do {                                                                                           \
        if (o >= 0 && o < cap) o += snprintf(buf + o, (size_t)(cap - o), __VA_ARGS__);             \
    } while (0)

void nemo_cpu_info(char *buf, int cap) {
    if (!buf || cap <= 0) return;
    buf[0] = 0;
    const nemo_cpu_flags *f = nemo_cpu_flags_get();
    const struct {
        unsigned on;
        const char *name;
    } t[] = {{f->avx2, "avx2"},
             {f->fma, "fma"},
             {f->f16c, "f16c"},
             {f->avx512f, "avx512f"},
             {f->avx512bw, "avx512bw"},
             {f->avx512vl, "avx512vl"},
             {f->avx512_bf16, "avx512_bf16"},
             {f->avx512_fp16, "avx512_fp16"},
             {f->avx512_vnni, "avx512_vnni"},
             {f->avx_vnni, "avx_vnni"},
             {f->os_ymm, "os_ymm"},
             {f->os_zmm, "os_zmm"}};
    int o = 0;
    APPEND("features:");
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (t[i].on) APPEND(" %s", t[i].name);
    const nemo_kernels *k = nemo_kernels_get();
    APPEND("; kernels %s (best %s; NEMO_CPU=scalar|avx2|avx512 lowers it)",
           nemo_cpu_level_name(k->level), nemo_cpu_level_name(nemo_cpu_level_max()));
    APPEND("; activations %s",
           g_q8 ? "q8 for Q8_0/Q4_0/Q4_1/Q4_K/Q5_K/Q6_K weights, f32 for the others (default, as "
                  "llama.cpp; NEMO_MATMUL=exact keeps f32 for all)"
                : "f32 for every weight type (NEMO_MATMUL=exact)");
    if (g_bad_mode[0]) APPEND("; NEMO_MATMUL=%s is not a mode (q8 or exact)", g_bad_mode);
}
