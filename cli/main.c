/* main.c — `nemo` entry point: dispatches to the subcommand table. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#define NEMO_VERSION "0.1.0"

static int cmd_version(int argc, char **argv) {
    (void)argc;
    (void)argv;
    printf("nemo %s\n", NEMO_VERSION);
    return 0;
}

static const cli_command COMMANDS[] = {
    /* one line per subcommand; keep in the order `nemo --help` should list them */
    {"info", cmd_info, "print a model's architecture, parameter count, dtype and memory"},
    {"logits", cmd_logits, "run the forward pass over token ids, write last logits (f32)"},
    {"generate", cmd_generate, "greedy-generate token ids after token ids"},
    {"perplexity", cmd_perplexity,
     "perplexity over a text file, llama.cpp's method (chunks of --ctx)"},
    {"synth", cmd_synth, "write a synthetic checkpoint (deterministic random weights)"},
    {"tokenize", cmd_tokenize,
     "UTF-8 text on stdin -> token ids (Tekken, SentencePiece or a GGUF vocabulary)"},
    {"detokenize", cmd_detokenize, "token ids on stdin -> UTF-8 text"},
    {"encode-chat", cmd_encode_chat, "OpenAI-style chat request on stdin -> prompt token ids"},
    {"run", cmd_run, "text in, text out: one answer (chat template) or completion (--raw)"},
    {"chat", cmd_chat, "interactive multi-turn chat (libedit; one message per line from pipes)"},
    {"cpu", cmd_cpu, "print the CPU features detected and the kernels chosen"},
    {"serve", cmd_serve, "OpenAI-compatible HTTP server with continuous batching and a chat page"},

    {"quantize", cmd_quantize, "write a GGUF (q8_0, q4_k, q4_0, f16, bf16, fp8) from a model"},
    {"divergence", cmd_divergence, "KL divergence and top-1 agreement of a model against a base"},
    {"bench", cmd_bench, "prompt-processing and generation speed (llama-bench style)"},
    {"version", cmd_version, "print the version"},
};

static void usage(FILE *f) {
    fprintf(f, "usage: nemo COMMAND [ARGS]   (nemo COMMAND --help for details)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
        fprintf(f, "  %-12s %s\n", COMMANDS[i].name, COMMANDS[i].summary);
    fprintf(
        f, "\nNEMO_MATMUL=exact: f32 activations for quantized weights (default q8, as llama.cpp;\n"
           "see nemo cpu --help)\n");
}

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
        if (!strcmp(argv[1], COMMANDS[i].name)) return COMMANDS[i].run(argc - 1, argv + 1);
    fprintf(stderr, "nemo: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
