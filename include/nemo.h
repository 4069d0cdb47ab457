/* nemo.h — the one public header of libnemo, an inference engine for Mistral NeMo 12B
 * (and the Mistral 7B family).
 *
 * Conventions
 * - Every fallible call returns nemo_status and, on failure, fills *err (err may be NULL).
 *   The library never prints and never exits.
 * - Objects come in _open/_create and _free pairs; every _free(NULL) is a no-op.
 * - Ownership of each returned pointer is stated next to the function.
 * - Shapes are written [rows, cols] in PyTorch order: a weight is [out, in] and y = W·x.
 */
#ifndef NEMO_H
#define NEMO_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- errors */

typedef enum nemo_status {
    NEMO_OK = 0,
    NEMO_ERR_IO,          /* open/read/mmap/write failed */
    NEMO_ERR_FORMAT,      /* bytes that do not follow the file format */
    NEMO_ERR_CONFIG,      /* bad or inconsistent hyperparameters */
    NEMO_ERR_MISSING,     /* a required tensor, file or key is absent */
    NEMO_ERR_SHAPE,       /* a tensor has the wrong shape or dtype */
    NEMO_ERR_NOMEM,       /* allocation failed */
    NEMO_ERR_ARG,         /* the caller passed an invalid argument */
    NEMO_ERR_UNSUPPORTED, /* valid input that this build does not handle */
    NEMO_ERR_FULL,        /* a capacity (KV cache, batch, sequences) is exhausted */
} nemo_status;

/* A human-readable message that names the file, the offset or key, what was expected and what
 * was found, e.g. "model.safetensors: tensor 'norm.weight': data_offsets [0, 10] hold 10 bytes,
 * expected 20 (shape [5] of F32)". */
typedef struct nemo_error {
    nemo_status status;
    char msg[1024];
} nemo_error;

/* Static string naming a status, e.g. "format error". */
const char *nemo_status_name(nemo_status s);

/* ---------------------------------------------------------------- dtypes */

/* Element types of weights. Block-quantized types hold `block_elems` values in `block_bytes`. */
typedef enum nemo_dtype {
    NEMO_DTYPE_F32 = 0,
    NEMO_DTYPE_F16,
    NEMO_DTYPE_BF16,
    NEMO_DTYPE_F8_E4M3,
    NEMO_DTYPE_F8_E5M2,
    NEMO_DTYPE_F64,
    NEMO_DTYPE_I8,
    NEMO_DTYPE_U8,
    NEMO_DTYPE_I16,
    NEMO_DTYPE_U16,
    NEMO_DTYPE_I32,
    NEMO_DTYPE_U32,
    NEMO_DTYPE_I64,
    NEMO_DTYPE_U64,
    NEMO_DTYPE_BOOL,
    /* GGUF block quantizations (ggml layouts) */
    NEMO_DTYPE_Q4_0,
    NEMO_DTYPE_Q4_1,
    NEMO_DTYPE_Q5_0,
    NEMO_DTYPE_Q5_1,
    NEMO_DTYPE_Q8_0,
    NEMO_DTYPE_Q4_K,
    NEMO_DTYPE_Q5_K,
    NEMO_DTYPE_Q6_K,
    NEMO_DTYPE_COUNT
} nemo_dtype;

/* Static name as written in safetensors ("BF16", "F8_E4M3") or by ggml ("Q4_K"). */
const char *nemo_dtype_name(nemo_dtype t);
/* Parses a name as nemo_dtype_name writes it (case-insensitive). Returns 0 on success. */
int nemo_dtype_from_name(const char *name, nemo_dtype *out);
/* Bytes needed for n elements (n must be a multiple of the block size); 0 if it is not. */
uint64_t nemo_dtype_bytes(nemo_dtype t, uint64_t n);

/* ---------------------------------------------------------------- model */

typedef enum nemo_layout {
    NEMO_LAYOUT_NATIVE = 0, /* consolidated.safetensors + params.json: interleaved-pair RoPE */
    NEMO_LAYOUT_HF,         /* config.json + shards: q/k rows permuted, half-split RoPE */
    NEMO_LAYOUT_GGUF,       /* GGUF: rows in native order */
} nemo_layout;

/* Hyperparameters, read from params.json / config.json / GGUF metadata. */
typedef struct nemo_config {
    int dim;             /* D, hidden size (5120 for NeMo) */
    int n_layers;        /* L (40) */
    int n_heads;         /* H, query heads (32) */
    int n_kv_heads;      /* Hkv (8) */
    int head_dim;        /* hd (128, NOT dim / n_heads for NeMo) */
    int hidden_dim;      /* F, FFN hidden (14336) */
    int vocab_size;      /* V (131072) */
    float norm_eps;      /* RMSNorm epsilon (1e-5) */
    float rope_theta;    /* RoPE base (1e6; 1e4 for Mistral 7B v0.1) */
    int sliding_window;  /* attend to at most this many positions incl. self; 0 = unlimited */
    int max_seq_len;     /* trained context the engine allows by default (clamped to 131072) */
    int tied_embeddings; /* output projection is the embedding matrix */
    int bos_id, eos_id;
    nemo_layout layout;
} nemo_config;

typedef struct nemo_model nemo_model;

/* Opens a model: a folder (native or HF layout, detected from its files), a .safetensors file
 * next to its params.json/config.json, or a .gguf file. Weights are memory-mapped and stay in
 * their file dtype. *out is owned by the caller: release with nemo_model_free. */
nemo_status nemo_model_open(const char *path, nemo_model **out, nemo_error *err);
/* Options for nemo_model_open_ex; zero-initialize for defaults. */
typedef struct nemo_model_params {
    /* Called while weights are read into memory (page cache) with bytes done and their total,
     * so front ends can draw a progress bar for large files; NULL = no calls. */
    void (*progress)(uint64_t done, uint64_t total, void *user);
    void *user;
    int prefault; /* non-zero: bring every weight page in at open (progress reports it), so the
                     first token is not slowed by page faults; files of 32 MiB and more are then
                     copied into huge-page anonymous memory that replaces their file mapping
                     (faster decode) when that leaves memory to spare; NEMO_MMAP=1 keeps the
                     file mapping */
} nemo_model_params;
/* nemo_model_open with options; p may be NULL (same as nemo_model_open). */
nemo_status nemo_model_open_ex(const char *path, const nemo_model_params *p, nemo_model **out,
                               nemo_error *err);
void nemo_model_free(nemo_model *m);
/* Borrowed; valid while m lives. */
const nemo_config *nemo_model_config(const nemo_model *m);

typedef struct nemo_model_info {
    uint64_t n_params;           /* every weight element counted once */
    uint64_t weight_bytes;       /* bytes of weights as stored */
    nemo_dtype main_dtype;       /* dtype of the largest weights */
    uint64_t kv_bytes_per_token; /* KV cache bytes per token per sequence (f32 cache) */
    const char *format;          /* static: "native safetensors", "hf safetensors", "gguf" */
} nemo_model_info;
void nemo_model_get_info(const nemo_model *m, nemo_model_info *out);

/* ---------------------------------------------------------------- session */

/* A session owns a KV cache for up to n_seq sequences of n_ctx positions each, scratch space
 * for batches of up to n_batch tokens, and a worker pool. The model is shared read-only: many
 * sessions may use one model from different threads. */
typedef struct nemo_session_params {
    int n_ctx;     /* positions per sequence; 0 = min(config max_seq_len, 4096) */
    int n_seq;     /* concurrent sequences (ids 0..n_seq-1); 0 = 1 */
    int n_batch;   /* most tokens in one nemo_session_decode call; 0 = 512 */
    int n_threads; /* worker threads incl. the caller; 0 = number of online CPUs */
} nemo_session_params;

typedef struct nemo_session nemo_session;

nemo_status nemo_session_create(const nemo_model *m, const nemo_session_params *p,
                                nemo_session **out, nemo_error *err);
void nemo_session_free(nemo_session *s);

/* One forward step over a batch of tokens that may belong to several sequences.
 * token[i] is at position pos[i] of sequence seq[i]. Every position of a sequence before pos[i]
 * must already be in the cache (from earlier calls or earlier in this batch); the token's key
 * and value are written at pos[i], replacing what was there (so rewinding is just reusing a
 * position). want_logits[i] != 0 asks for the logits of token i (NULL: only the last token). */
typedef struct nemo_batch {
    int n_tokens;
    const int32_t *token;
    const int32_t *pos;
    const int32_t *seq;
    const int8_t *want_logits;
} nemo_batch;

nemo_status nemo_session_decode(nemo_session *s, const nemo_batch *b, nemo_error *err);
/* Logits (vocab_size floats) of batch token i from the last decode call, or NULL if they were
 * not asked for. Borrowed; valid until the next decode. */
const float *nemo_session_logits(const nemo_session *s, int i);
/* Forget every cached position of sequence seq at or after pos (0 = the whole sequence). */
nemo_status nemo_session_seq_truncate(nemo_session *s, int seq, int pos, nemo_error *err);
/* Number of positions currently cached for sequence seq. */
int nemo_session_seq_len(const nemo_session *s, int seq);

/* Convenience: greedy argmax of a logits row. */
int nemo_argmax(const float *logits, int n);

/* ---------------------------------------------------------------- synthetic checkpoints */

/* Writes a NeMo-shaped checkpoint with deterministic pseudo-random weights (same seed, same
 * bytes), exact tensor names, shapes and dtypes. Used by tests and benchmarks. */
typedef struct nemo_synth_params {
    nemo_config cfg;  /* architecture; layout NATIVE or HF */
    nemo_dtype dtype; /* F32, F16, BF16, or F8_E4M3 (layer matrices FP8 with per-tensor scales
                         in the layout's naming, the rest BF16) */
    uint64_t seed;
    int n_shards; /* HF layout: number of model-0000k-of-0000n files (0 = 1); native: 0 or 1 */
} nemo_synth_params;

/* Fills p with the full Mistral NeMo 12B shape (bf16, native layout, seed 0). */
void nemo_synth_defaults(nemo_synth_params *p);
/* Creates dir (and parents) if needed and writes the layout's files into it, replacing files
 * of the same names. The native and HF folders of one seed hold the same model (HF q/k rows
 * permuted per spec 1.4). Data is streamed: memory use stays small for any shape.
 * progress may be NULL; it is called with tensor bytes written so far and their total. */
nemo_status nemo_synth_write(const nemo_synth_params *p, const char *dir,
                             void (*progress)(uint64_t done, uint64_t total, void *user),
                             void *user, nemo_error *err);

/* ---------------------------------------------------------------- quantize */
/* (section owned by the quantize module; see src/quantize/) */

typedef struct nemo_quantize_params {
    /* Weight type of every 2-D weight ("pure"): NEMO_DTYPE_Q8_0, Q4_0, Q4_K, F16, BF16, F32,
     * or F8_E4M3 (our FP8 GGUF extension, docs/fp8.md: layer matrices FP8 with a
     * per-tensor scale, embeddings and LM head BF16; llama.cpp cannot load it). Norms are F32. */
    nemo_dtype type;
    const char *vocab; /* tekken.json to embed as the GGUF vocabulary (llama.cpp needs one);
                          NULL = none (our engine does not need it) */
    int n_threads;     /* 0 = number of online CPUs */
    void (*progress)(uint64_t done, uint64_t total, void *user); /* may be NULL */
    void *user;
} nemo_quantize_params;

/* Converts the model at `in` (anything nemo_model_open accepts) into a llama-architecture GGUF
 * v3 file at `out` with llama.cpp's metadata for NeMo/Mistral (HF q/k rows un-permuted to
 * GGUF order). Streams: memory stays small for any model size. */
nemo_status nemo_quantize(const char *in, const char *out, const nemo_quantize_params *p,
                          nemo_error *err);

/* ---------------------------------------------------------------- tokenizer */
/* (section owned by the tokenizer module; see src/tokenizer/)
 * A tokenizer is immutable once opened: encode/decode may run from many threads at once. */

typedef struct nemo_tokenizer nemo_tokenizer;

typedef enum nemo_tokenizer_kind {
    NEMO_TOKENIZER_TEKKEN = 0, /* tekken.json: tiktoken-style byte-level BPE (NeMo) */
    NEMO_TOKENIZER_SPM,        /* SentencePiece .model (Mistral 7B v1/v2/v3) */
    NEMO_TOKENIZER_GGUF,       /* vocabulary embedded in a GGUF file */
} nemo_tokenizer_kind;

/* path: a tekken.json, a tokenizer.model* file, a .gguf file (its embedded vocabulary: gpt2-style
 * BPE with its pre-tokenizer, or SentencePiece "llama"), or a model folder (tekken.json is
 * preferred, else tokenizer.model.v3, .v2, .v1, tokenizer.model). *out is owned by the
 * caller. */
nemo_status nemo_tokenizer_open(const char *path, nemo_tokenizer **out, nemo_error *err);
void nemo_tokenizer_free(nemo_tokenizer *t);
nemo_tokenizer_kind nemo_tokenizer_get_kind(const nemo_tokenizer *t);
int nemo_tokenizer_vocab_size(const nemo_tokenizer *t);
int32_t nemo_tokenizer_bos_id(const nemo_tokenizer *t);
int32_t nemo_tokenizer_eos_id(const nemo_tokenizer *t);
/* Whether prompts start with BOS / end with EOS for this vocabulary: GGUF
 * tokenizer.ggml.add_bos_token / add_eos_token (llama.cpp's defaults when absent: yes for
 * "llama" and "tekken" vocabularies, no for other gpt2 ones); Tekken and SentencePiece files:
 * BOS yes, EOS no. 0 when the token does not exist. */
int nemo_tokenizer_add_bos(const nemo_tokenizer *t);
int nemo_tokenizer_add_eos(const nemo_tokenizer *t);
/* Id of a special/control token by its name ("[INST]", "</s>"), or -1 if there is none. */
int32_t nemo_tokenizer_special_id(const nemo_tokenizer *t, const char *name);
/* The chat template the vocabulary came with (GGUF tokenizer.chat_template, Jinja text), or
 * NULL. Borrowed; valid while t lives. nemo_chat_encode uses it to pick the prompt format. */
const char *nemo_tokenizer_chat_template(const nemo_tokenizer *t);
/* Non-zero if id is a special/control token (never produced by encoding text). */
int nemo_tokenizer_is_special(const nemo_tokenizer *t, int32_t id);

/* Encodes len bytes of UTF-8 text as ordinary text (text spelling "[INST]" is not the control
 * token). Writes at most cap ids; *n_out is set to the number of ids of the full encoding.
 * Returns NEMO_ERR_FULL if cap < *n_out (call again with a larger buffer). */
nemo_status nemo_tokenizer_encode(const nemo_tokenizer *t, const char *text, size_t len,
                                  int add_bos, int add_eos, int32_t *ids, size_t cap, size_t *n_out,
                                  nemo_error *err);

/* The raw bytes of one token (special tokens: their name). Borrowed; NULL if id is invalid. */
const char *nemo_tokenizer_piece(const nemo_tokenizer *t, int32_t id, size_t *len);

typedef enum nemo_special_policy {
    NEMO_SPECIAL_SKIP = 0, /* drop special tokens (mistral-common IGNORE) */
    NEMO_SPECIAL_KEEP,     /* write their names, e.g. "[INST]" */
    NEMO_SPECIAL_ERROR,    /* fail with NEMO_ERR_ARG */
} nemo_special_policy;

/* Decodes ids to UTF-8 (invalid byte sequences become U+FFFD, as tiktoken's decode does).
 * Writes at most cap bytes plus a NUL when room allows; *n_out is the full length.
 * Returns NEMO_ERR_FULL if cap <= *n_out. */
nemo_status nemo_tokenizer_decode(const nemo_tokenizer *t, const int32_t *ids, size_t n,
                                  nemo_special_policy policy, char *out, size_t cap, size_t *n_out,
                                  nemo_error *err);

/* Streaming decode for generation: push one id at a time; only whole UTF-8 characters come
 * out (an incomplete trailing sequence is held back until it completes or is proven invalid). */
typedef struct nemo_detok nemo_detok;
nemo_status nemo_detok_create(const nemo_tokenizer *t, nemo_special_policy policy, nemo_detok **out,
                              nemo_error *err);
void nemo_detok_free(nemo_detok *d);
/* Appends the text that became complete to out (at most cap bytes; 32 + the longest token
 * always suffices); *n_out = bytes written. */
nemo_status nemo_detok_push(nemo_detok *d, int32_t id, char *out, size_t cap, size_t *n_out,
                            nemo_error *err);
/* Emits what is held back (as U+FFFD for incomplete sequences) and resets. */
nemo_status nemo_detok_flush(nemo_detok *d, char *out, size_t cap, size_t *n_out, nemo_error *err);

/* ---------------------------------------------------------------- chat */
/* (section owned by the chat module; see src/chat/)
 * Instruct chat in Mistral's v3 format with Tekken control tokens, the format Mistral NeMo
 * Instruct was trained on. Encoding matches mistral-common 1.13.1's
 * MistralTokenizer.encode_chat_completion id for id, and requests are validated like its
 * default ("test") validation mode. Known limits: numbers beyond 64-bit integers / doubles and
 * NaN/Infinity literals inside string arguments; image/audio/thinking content is
 * NEMO_ERR_UNSUPPORTED. */

typedef struct nemo_chat nemo_chat; /* a conversation: messages (+ tools) as given */

/* Parses and validates an OpenAI-style request (UTF-8 JSON):
 *   {"messages": [{"role": "system"|"developer"|"user"|"assistant"|"tool", "content": string |
 *     [{"type": "text", "text": ...}] | null (assistant), "tool_calls": [{"id", "type":
 *     "function", "function": {"name", "arguments": string | object}}], "tool_call_id", "name"}],
 *    "tools": [{"type": "function", "function": {"name", "description", "parameters"}}],
 *    "continue_final_message": bool}          (other keys are ignored)
 * Invalid conversations fail with NEMO_ERR_ARG and mistral-common's wording (wrong role order,
 * unpaired tool results, empty conversation, tool-call ids not [A-Za-z0-9]{9}, function names
 * not [A-Za-z0-9_-]{1,64}, parameters that are not a draft-7 JSON schema...).
 * *out is owned by the caller: release with nemo_chat_free. */
nemo_status nemo_chat_parse(const char *json, size_t len, nemo_chat **out, nemo_error *err);
/* An empty conversation for building turn by turn (interactive chat). Owned by the caller. */
nemo_status nemo_chat_create(nemo_chat **out, nemo_error *err);
void nemo_chat_free(nemo_chat *c);
/* Appends a text message; role is "system", "user" or "assistant"; text (len bytes) is copied. */
nemo_status nemo_chat_add(nemo_chat *c, const char *role, const char *text, size_t len,
                          nemo_error *err);
/* Removes the last message (no-op when empty), e.g. to retry an interrupted turn. */
void nemo_chat_pop(nemo_chat *c);
int nemo_chat_count(const nemo_chat *c);
/* Runs the validator (nemo_chat_parse already did; builders may call it before encoding). */
nemo_status nemo_chat_validate(const nemo_chat *c, nemo_error *err);
/* The prompt ids in the tokenizer's chat format. Mistral tokenizers (those with an [INST]
 * control token: Tekken, SentencePiece v1-v3, a NeMo GGUF) get mistral-common's format: BOS, the
 * turns, ending where the model continues ([/INST] after a user message, [/TOOL_RESULTS] after
 * tool results, or inside a continued assistant message). Other GGUF vocabularies get the
 * format their chat template names (ChatML: <|im_start|>role\ncontent<|im_end|>\n ... then
 * <|im_start|>assistant\n); NEMO_ERR_UNSUPPORTED names the template when it is unknown.
 * *ids is malloc'd and owned by the caller (free()); *n_ids is its length. */
nemo_status nemo_chat_encode(const nemo_chat *c, const nemo_tokenizer *t, int32_t **ids,
                             size_t *n_ids, nemo_error *err);

/* Tool calls parsed out of generated text. */
typedef struct nemo_tool_call {
    char *name;      /* NUL-terminated UTF-8 */
    char *arguments; /* JSON text of the arguments (an object as json.dumps writes it, or the
                        string the model wrote when it gave a string) */
    char *id;        /* the model's id when it is 9 [A-Za-z0-9], else a fresh random one */
} nemo_tool_call;

typedef struct nemo_tool_calls {
    char *content;  /* text before [TOOL_CALLS] ("" when none); never NULL */
    int has_marker; /* [TOOL_CALLS] was emitted */
    char *raw;      /* the text after [TOOL_CALLS] as generated (NULL without marker) */
    int malformed;  /* marker present but raw is not a list of {name, arguments}: calls
                       is empty and raw must be shown to the user instead */
    char *trailing; /* text after the JSON array (NULL if none) */
    nemo_tool_call *calls;
    int n_calls;
} nemo_tool_calls;

/* Parses model output: `before` is the text decoded before the [TOOL_CALLS] control token (id 9
 * for NeMo) and `after` the text decoded after it (after = NULL when the token was not emitted).
 * Passing the two parts separately keeps a literal "[TOOL_CALLS]" typed as text from counting.
 * Missing or invalid ids are drawn from *rng (any 64-bit state; advanced). Malformed output is
 * not an error: see `malformed`. *out is owned by the caller: nemo_tool_calls_free. */
nemo_status nemo_tool_calls_parse(const char *before, size_t before_len, const char *after,
                                  size_t after_len, uint64_t *rng, nemo_tool_calls **out,
                                  nemo_error *err);
/* Same from generated ids: splits at the first [TOOL_CALLS] and decodes both sides (special
 * tokens skipped). */
nemo_status nemo_tool_calls_parse_ids(const nemo_tokenizer *t, const int32_t *ids, size_t n,
                                      uint64_t *rng, nemo_tool_calls **out, nemo_error *err);
void nemo_tool_calls_free(nemo_tool_calls *tc);

/* Streaming: feed decoded pieces as they are generated. Text before the marker is content to
 * show at once; from the marker on the text is collected for nemo_tool_stream_finish. */
typedef struct nemo_tool_stream nemo_tool_stream;
nemo_status nemo_tool_stream_create(nemo_tool_stream **out, nemo_error *err);
void nemo_tool_stream_free(nemo_tool_stream *s);
/* is_marker != 0: this piece is the [TOOL_CALLS] token itself (its text is not kept).
 * *content_len (may be NULL) = how many bytes of piece are user-visible content (0 once in a
 * tool call). */
nemo_status nemo_tool_stream_feed(nemo_tool_stream *s, const char *piece, size_t len, int is_marker,
                                  size_t *content_len, nemo_error *err);
/* 1 once the marker was seen. */
int nemo_tool_stream_in_calls(const nemo_tool_stream *s);
/* Number of complete top-level {...} objects of the call list so far (progress display). */
int nemo_tool_stream_calls_done(const nemo_tool_stream *s);
/* Parses everything fed so far (see nemo_tool_calls_parse) and resets the stream. */
nemo_status nemo_tool_stream_finish(nemo_tool_stream *s, uint64_t *rng, nemo_tool_calls **out,
                                    nemo_error *err);

/* ---------------------------------------------------------------- sampler */
/* (section owned by the sampler module; see src/sampler/)
 * Turns a logits row into the next id. All memory is reserved at create: sampling a token
 * allocates nothing. Order: penalties, then greedy (temperature <= 0) or top-k, softmax at
 * temperature, min-p, top-p, and a draw from the sampler's own PRNG. */

typedef struct nemo_sampler_params {
    float temperature;       /* <= 0: greedy (argmax, lowest id on ties). NeMo chat: 0.3 */
    int top_k;               /* keep the k most likely; 0 = off */
    float top_p;             /* nucleus: smallest set with probability >= top_p; 1 = off */
    float min_p;             /* drop ids with p < min_p * p_max; 0 = off */
    float repeat_penalty;    /* ids in the window: logit / r if > 0 else logit * r; 1 = off */
    float frequency_penalty; /* logit -= f * (occurrences in the window); 0 = off */
    float presence_penalty;  /* logit -= p if it occurs in the window; 0 = off */
    int penalty_window;      /* how many previous ids the penalties look at (0 = 64) */
    uint64_t seed;           /* same seed, same logits, same ids */
} nemo_sampler_params;

/* Defaults: temperature 0.3, top_p 1, no top-k/min-p/penalties, window 64, seed 0. */
void nemo_sampler_defaults(nemo_sampler_params *p);

typedef struct nemo_sampler nemo_sampler;
/* *out is owned by the caller: nemo_sampler_free. */
nemo_status nemo_sampler_create(const nemo_sampler_params *p, int vocab_size, nemo_sampler **out,
                                nemo_error *err);
void nemo_sampler_free(nemo_sampler *s);
/* Forgets the penalty history and restarts the PRNG from the seed. */
void nemo_sampler_reset(nemo_sampler *s);
/* Records an id in the penalty window (prompt ids, or ids chosen elsewhere). */
void nemo_sampler_accept(nemo_sampler *s, int32_t id);
/* Picks the next id from logits[vocab_size] (not modified) and records it in the window. */
int32_t nemo_sampler_sample(nemo_sampler *s, const float *logits);
/* The sampler's PRNG state, borrowed (e.g. for nemo_tool_calls_parse ids). */
uint64_t *nemo_sampler_rng(nemo_sampler *s);

/* Stop strings matched across token boundaries: feed each piece of generated text; what can no
 * longer be the start of a stop string comes out, the rest is held back. */
typedef struct nemo_stop nemo_stop;
/* n strings (copied; empty ones ignored). *out owned by the caller: nemo_stop_free. */
nemo_status nemo_stop_create(const char *const *strings, int n, nemo_stop **out, nemo_error *err);
void nemo_stop_free(nemo_stop *s);
/* Returns 1 when a stop string completed (generation should end), else 0, or -1 when out of
 * memory. *emit / *emit_len: text to output now (borrowed; valid until the next call); on a
 * stop it is the text before the stop string, which is itself dropped. */
int nemo_stop_feed(nemo_stop *s, const char *text, size_t len, const char **emit, size_t *emit_len);
/* At the end of generation: the held-back text (borrowed), and a reset. */
void nemo_stop_flush(nemo_stop *s, const char **emit, size_t *emit_len);

/* ---------------------------------------------------------------- cpu */
/* (section owned by the CPU kernels; see src/backend/cpu/kernels.h) */

/* Writes one line into buf (NUL-terminated, truncated to cap): the CPU features detected at run
 * time (cpuid + the OS's saved register state) and the kernel level in use. The level is the
 * best the CPU supports unless the NEMO_CPU environment variable (scalar, avx2, avx512) asks for
 * a lower one; it is read once per process. */
void nemo_cpu_info(char *buf, int cap);
/* Matmuls with Q8_0/Q4_0/Q4_1/Q4_K/Q5_K/Q6_K weights quantize their activations to q8 blocks by
 * default (llama.cpp's numerics and speed); NEMO_MATMUL=exact keeps f32 activations for every
 * weight type (results exact against f32 references); NEMO_MATMUL=q8 names the default. Read
 * once per process. Any other value fails here with NEMO_ERR_ARG naming it; nemo_model_open
 * calls this, so a typo stops the load instead of being ignored. */
nemo_status nemo_cpu_check(nemo_error *err);
/* Sets the activation mode for the whole process, overriding NEMO_MATMUL: mode "q8" or "exact",
 * NULL for NEMO_MATMUL's mode again (anything else: NEMO_ERR_ARG). For tools that compare the two
 * modes in one process (`nemo divergence --base-matmul/--quant-matmul`); call it only while no
 * decode is running. */
nemo_status nemo_cpu_set_matmul(const char *mode, nemo_error *err);

/* ---------------------------------------------------------------- perplexity */
/* (section owned by the eval module; see src/eval/)
 * Perplexity over a token sequence with llama.cpp's method (llama-perplexity): whole chunks of
 * n_ctx tokens, each from an empty cache with its first token replaced by BOS when add_bos,
 * only the second half of each chunk scored; the numbers compare directly with llama.cpp's. */

typedef struct nemo_ppl_params {
    int n_ctx;     /* tokens per chunk; 0 = 512 (llama.cpp's default) */
    int n_chunks;  /* chunks to score; <= 0 = every whole chunk */
    int n_batch;   /* tokens per decode call; 0 = n_ctx. Below n_ctx: each chunk in pieces;
                      a multiple of n_ctx: that many chunks side by side (sequences) */
    int n_threads; /* 0 = number of online CPUs */
    int add_bos;   /* -1 = the model's default (nemo_model_add_bos), 0 = no, 1 = yes */
    /* Called after each chunk with its number (1-based), the total and the running estimate;
     * NULL = no calls. */
    void (*on_chunk)(int chunk, int n_chunks, double ppl, void *user);
    void *user;
} nemo_ppl_params;

typedef struct nemo_ppl_result {
    double ppl;     /* exp(mean negative log-likelihood) */
    double ppl_err; /* ± its standard error, llama.cpp's formula */
    double nll;     /* mean negative log-likelihood (nats per token) */
    int n_chunks;   /* chunks scored */
    int n_scored;   /* tokens scored: n_chunks · (n_ctx - n_ctx/2 - 1) */
} nemo_ppl_result;

/* Whether text for this model starts with BOS, by llama.cpp's rule for GGUF vocabularies
 * (tokenizer.ggml.add_bos_token, else yes for SentencePiece and Llama-3/Tekken BPE, no for
 * other BPE) and yes for safetensors checkpoints (Mistral). */
int nemo_model_add_bos(const nemo_model *m);
/* Scores ids[0..n) (at least 2 · n_ctx of them); p may be NULL for defaults. */
nemo_status nemo_perplexity(const nemo_model *m, const int32_t *ids, size_t n,
                            const nemo_ppl_params *p, nemo_ppl_result *out, nemo_error *err);

/* ---------------------------------------------------------------- end */

#ifdef __cplusplus
}
#endif
#endif /* NEMO_H */
