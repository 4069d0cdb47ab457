/* cmd_cpu.c — `nemo cpu`: the CPU features found at run time and the kernels chosen for them. */
#include "cli.h"

#include <string.h>

int cmd_cpu(int argc, char **argv) {
    if (argc != 1) {
        int help = argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));
        fprintf(
            help ? stdout : stderr,
            "usage: nemo cpu\n\n"
            "Prints the CPU features detected at run time and the kernel level in use.\n"
            "NEMO_CPU=scalar|avx2|avx512 forces a lower level (for comparisons).\n"
            "Activations: matmuls with Q8_0/Q4_0/Q4_1/Q4_K/Q5_K/Q6_K weights quantize them to q8\n"
            "blocks by default, as llama.cpp does; NEMO_MATMUL=exact keeps f32 activations for\n"
            "every weight type (exact against f32 references). Exits 1 on any other value.\n");
        return help ? 0 : 2;
    }
    char line[1024];
    nemo_cpu_info(line, sizeof line);
    printf("cpu %s\n", line);
    nemo_error err;
    if (nemo_cpu_check(&err)) {
        fprintf(stderr, "nemo cpu: %s\n", err.msg);
        return 1;
    }
    return 0;
}
