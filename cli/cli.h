/* cli.h — the subcommands of the `nemo` program, one file each (cli/cmd_*.c), and the small
 * argument helpers they share. Front ends include only nemo.h from the library. */
#ifndef NEMO_CLI_H
#define NEMO_CLI_H

#include "nemo.h"

#include <stdint.h>
#include <stdio.h>

typedef struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the command name */
    const char *summary;
} cli_command;

/* one declaration per subcommand (cli/cmd_NAME.c) */
int cmd_cpu(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_logits(int argc, char **argv);
int cmd_generate(int argc, char **argv);
int cmd_perplexity(int argc, char **argv);
int cmd_synth(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_detokenize(int argc, char **argv);
int cmd_encode_chat(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_chat(int argc, char **argv);
int cmd_serve(int argc, char **argv); /* server/ (cli/cmd_serve.c parses its options) */

int cmd_quantize(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_divergence(int argc, char **argv);

/* Prints "nemo CMD: <err->msg>" on stderr and returns exit code 1. */
int cli_report(const char *cmd, const nemo_error *err);
/* Parses "1,22177,1044" (commas or spaces) into a malloc'd array. Returns -1 on bad input. */
int cli_parse_ids(const char *s, int32_t **ids, int *n);
/* Parses an integer flag value; prints an error naming flag and returns -1 if invalid. */
int cli_int(const char *cmd, const char *flag, const char *val, long lo, long hi, long *out);

#endif
