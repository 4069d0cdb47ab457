/* cpu_features.c — runtime CPU feature detection. cpuid says what the core implements; xgetbv
 * says whether the OS saves the wider register state (a kernel without XSAVE support for ZMM
 * would corrupt AVX-512 registers across context switches), so both must agree. */
#include "backend/cpu/cpu_features.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static unsigned long long xgetbv0(void) {
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}

static void detect(nemo_cpu_flags *f) {
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return;
    int osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    f->fma = (c >> 12) & 1;
    f->f16c = (c >> 29) & 1;
    if (osxsave && avx) {
        unsigned long long x = xgetbv0();
        f->os_ymm = (x & 0x6) == 0x6;   /* XMM and YMM state */
        f->os_zmm = (x & 0xe6) == 0xe6; /* + opmask, ZMM_Hi256, Hi16_ZMM */
    }
    if (__get_cpuid_max(0, NULL) < 7) return;
    __cpuid_count(7, 0, a, b, c, d);
    f->avx2 = (b >> 5) & 1;
    f->avx512f = (b >> 16) & 1;
    f->avx512bw = (b >> 30) & 1;
    f->avx512vl = (b >> 31) & 1;
    f->avx512_vnni = (c >> 11) & 1;
    f->avx512_fp16 = (d >> 23) & 1;
    __cpuid_count(7, 1, a, b, c, d);
    f->avx_vnni = (a >> 4) & 1;
    f->avx512_bf16 = (a >> 5) & 1;
}
#else
static void detect(nemo_cpu_flags *f) {
    (void)f;
}
#endif

static nemo_cpu_flags g_flags;
static nemo_cpu_level g_max, g_active;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void init(void) {
    detect(&g_flags);
    const nemo_cpu_flags *f = &g_flags;
    g_max = NEMO_CPU_SCALAR;
    if (f->os_ymm && f->avx2 && f->fma && f->f16c) g_max = NEMO_CPU_AVX2;
    if (g_max == NEMO_CPU_AVX2 && f->os_zmm && f->avx512f && f->avx512bw && f->avx512vl)
        g_max = NEMO_CPU_AVX512;
    g_active = g_max;
    const char *e = getenv("NEMO_CPU");
    if (e && *e)
        for (int l = 0; l < NEMO_CPU_LEVELS; l++)
            if (!strcmp(e, nemo_cpu_level_name((nemo_cpu_level)l)) && l < (int)g_max)
                g_active = (nemo_cpu_level)l;
}

const nemo_cpu_flags *nemo_cpu_flags_get(void) {
    pthread_once(&g_once, init);
    return &g_flags;
}

nemo_cpu_level nemo_cpu_level_max(void) {
    pthread_once(&g_once, init);
    return g_max;
}

nemo_cpu_level nemo_cpu_level_active(void) {
    pthread_once(&g_once, init);
    return g_active;
}

const char *nemo_cpu_level_name(nemo_cpu_level l) {
    switch (l) {
    case NEMO_CPU_SCALAR: return "scalar";
    case NEMO_CPU_AVX2: return "avx2";
    case NEMO_CPU_AVX512: return "avx512";
    default: return "?";
    }
}
