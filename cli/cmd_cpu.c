/* cmd_cpu.c — `nemo cpu`: the CPU features found at run time and the kernels chosen for them. */
#include "cli.h"

#include <string.h>

int cmd_cpu(int argc, char **argv) {
    if (argc != 1) {
        int help = argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"));
        fprintf(help ? stdout : stderr,
                "usage: nemo cpu\n\n"
                "Prints the CPU features detected at run time and the kernel level in use.\n"
                "NEMO_CPU=scalar|avx2|avx512 forces a lower level (for comparisons).\n");
        return help ? 0 : 2;
    }
    char line[1024];
    nemo_cpu_info(line, sizeof line);
    printf("cpu %s\n", line);
    return 0;
}
