/* quantize.h — internals of `nemo quantize` (quantize.c: model -> GGUF tensors and llama.*
 * metadata; vocab_gguf.c: tekken.json -> a gpt2-style GGUF vocabulary). */
#ifndef NEMO_QUANTIZE_H
#define NEMO_QUANTIZE_H

#include "checkpoint/gguf_write.h"

/* Adds the tokenizer.ggml.* keys for the Tekken vocabulary at tekken_path, cut to vocab_size
 * ids, the way llama.cpp's converter writes Mistral NeMo (gguf-py MistralVocab): model "gpt2",
 * pre-tokenizer "tekken", tokens as GPT-2 byte-to-unicode strings (the special tokens by name,
 * type CONTROL; the rest NORMAL), scores 0, merges rebuilt from the ranks (for each token in
 * rank order, every split into two tokens, ordered by the ranks of the parts), bos/eos/unk/pad
 * ids, add_bos true, add_eos false. */
nemo_status nemo_quant_tekken_vocab(nemo_gguf_writer *w, const char *tekken_path, int vocab_size,
                                    nemo_error *err);

#endif
