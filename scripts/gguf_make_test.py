#!/usr/bin/env python3
"""gguf_make_test.py — writes tests/golden/gguf/small.gguf, a small GGUF v3 file made with the
`gguf` package's writer, for tests/unit/test_gguf.c (which parses it and corrupts copies of it).

Usage: /work/venv/bin/python scripts/gguf_make_test.py [OUT_FILE]

It holds:
- every metadata value type (u8..f64, bool, string, arrays of numbers / bools / strings, an
  array of arrays) under test.*, with values the C test checks, and llama-style hyperparameters
  of a tiny NeMo-shaped model (head_dim 16 != dim/heads, like NeMo's 128 != 5120/32);
- one tensor per supported type (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K,
  Q6_K) and, for each non-F32 tensor X, an F32 tensor "X.ref" holding what the gguf package
  decodes X to, so the C test checks offsets, shapes and decoding end to end;
- a 1-d, a 3-d and a zero-size tensor.
"""
import os
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T
from gguf.quants import dequantize, quantize

SEED = 7


def random_blocks(rng, qtype, n_blocks, scale_at):
    """Random quant bits with small finite fp16 scales at the given byte offsets."""
    _, nbytes = gguf.GGML_QUANT_SIZES[qtype]
    b = rng.integers(0, 256, (n_blocks, nbytes), dtype=np.uint8)
    for off in scale_at:
        s = rng.uniform(0.001, 0.1, n_blocks).astype(np.float16).view(np.uint8).reshape(-1, 2)
        b[:, off:off + 2] = s
    return b


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(root, "tests", "golden", "gguf",
                                                             "small.gguf")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    rng = np.random.default_rng(SEED)
    w = gguf.GGUFWriter(out, "llama")
    # tiny NeMo-shaped hyperparameters
    w.add_name("nemo.c test file")
    w.add_block_count(2)
    w.add_context_length(4096)
    w.add_embedding_length(64)
    w.add_feed_forward_length(128)
    w.add_head_count(4)
    w.add_head_count_kv(2)
    w.add_key_length(16)
    w.add_value_length(16)
    w.add_rope_dimension_count(16)
    w.add_rope_freq_base(1000000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(8)
    w.add_file_type(7)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("tekken")
    w.add_token_list(["<unk>", "<s>", "</s>", "a", "b", "ab", "Ġ", "ĠĠ"])
    w.add_token_types([3, 3, 3, 1, 1, 1, 1, 1])
    w.add_token_merges(["a b", "Ġ Ġ"])
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    # every value type
    w.add_uint8("test.u8", 200)
    w.add_int8("test.i8", -100)
    w.add_uint16("test.u16", 60000)
    w.add_int16("test.i16", -30000)
    w.add_uint32("test.u32", 4000000000)
    w.add_int32("test.i32", -2000000000)
    w.add_float32("test.f32", 1.5)
    w.add_uint64("test.u64", 1 << 40)
    w.add_int64("test.i64", -(1 << 40))
    w.add_float64("test.f64", 0.1)
    w.add_bool("test.bool", True)
    w.add_string("test.str", "h\u00e9llo")
    w.add_array("test.arr_str", ["a", "", "ccc"])
    w.add_key_value("test.arr_i16", [-1, 2, -3], gguf.GGUFValueType.ARRAY,
                    sub_type=gguf.GGUFValueType.INT16)
    w.add_array("test.arr_f32", [0.5, -2.0])
    w.add_key_value("test.arr_f64", [0.25], gguf.GGUFValueType.ARRAY,
                    sub_type=gguf.GGUFValueType.FLOAT64)
    w.add_array("test.arr_bool", [True, False, True])
    w.add_array("test.arr_nested", [[1, 2], [3]])
    w.add_array("test.arr_nested_str", [["x", "yy"], ["zzz"]])

    def add_with_ref(name, raw, qtype, shape):
        w.add_tensor(name, raw, raw_shape=None, raw_dtype=qtype)
        ref = dequantize(raw, qtype).astype(np.float32).reshape(shape)
        w.add_tensor(name + ".ref", ref)

    x = rng.standard_normal((3, 64)).astype(np.float32)
    w.add_tensor("w.f32", x)
    h = rng.standard_normal((2, 64)).astype(np.float16)
    w.add_tensor("w.f16", h)
    w.add_tensor("w.f16.ref", h.astype(np.float32))
    bf = rng.integers(0, 1 << 16, (2, 64), dtype=np.uint16)
    bf[(bf & 0x7F80) == 0x7F80] = 0x3F80  # no inf/nan
    add_with_ref("w.bf16", bf.view(np.uint8), T.BF16, (2, 64))
    for qt in (T.Q8_0, T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1):
        q = quantize(rng.standard_normal((2, 64)).astype(np.float32), qt)
        add_with_ref("w." + qt.name.lower(), q, qt, (2, 64))
    for qt, scale_at in ((T.Q4_K, (0, 2)), (T.Q5_K, (0, 2)), (T.Q6_K, (208,))):
        q = random_blocks(rng, qt, 2, scale_at).reshape(2, -1)
        add_with_ref("w." + qt.name.lower(), q, qt, (2, 256))
    w.add_tensor("vec", np.arange(7, dtype=np.float32))
    w.add_tensor("cube", np.arange(2 * 3 * 32, dtype=np.float32).reshape(2, 3, 32))
    w.add_tensor("empty", np.zeros((0, 32), dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print(out, os.path.getsize(out), "bytes")


if __name__ == "__main__":
    main()
