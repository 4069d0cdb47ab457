/* cpu_features.h — what the running x86 CPU and OS support (cpuid + xgetbv), reduced to the
 * kernel levels nemo has code for. Detected once; NEMO_CPU=scalar|avx2|avx512 lowers the level
 * (for tests and comparisons; asking for more than the CPU has gives the best it has). */
#ifndef NEMO_CPU_FEATURES_H
#define NEMO_CPU_FEATURES_H

typedef enum {
    NEMO_CPU_SCALAR = 0, /* portable C */
    NEMO_CPU_AVX2,       /* AVX2 + FMA + F16C, OS saves YMM state */
    NEMO_CPU_AVX512,     /* AVX-512 F/BW/VL (+ the above), OS saves ZMM state */
    NEMO_CPU_LEVELS
} nemo_cpu_level;

typedef struct {
    unsigned avx2 : 1, fma : 1, f16c : 1, avx512f : 1, avx512bw : 1, avx512vl : 1, avx512_bf16 : 1,
        avx512_fp16 : 1, avx512_vnni : 1, avx_vnni : 1, os_ymm : 1, os_zmm : 1;
} nemo_cpu_flags;

/* The features of this CPU (cached after the first call; thread-safe). */
const nemo_cpu_flags *nemo_cpu_flags_get(void);
/* The best level the CPU and OS support. */
nemo_cpu_level nemo_cpu_level_max(void);
/* The level in use: nemo_cpu_level_max() lowered by $NEMO_CPU, read once. */
nemo_cpu_level nemo_cpu_level_active(void);
const char *nemo_cpu_level_name(nemo_cpu_level l);

#endif
