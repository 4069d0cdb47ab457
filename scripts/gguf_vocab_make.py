#!/usr/bin/env python3
"""gguf_vocab_make.py — writes vocabulary-only GGUF files (no tensors) for the GGUF tokenizer
tests, the way llama.cpp's converter (llama.cpp 0.3.36 conversion/base.py _set_vocab_mistral and
gguf-py's MistralVocab) writes Mistral models:

  tekken  from a tekken.json: tokenizer.ggml.model "gpt2", pre "tekken", the special tokens as
          CONTROL then every rank as its GPT-2 byte-to-unicode string (NORMAL), scores 0, the
          merges rebuilt from the ranks (every split of a token into two tokens, ordered by the
          token's rank, then by the ranks of the halves), bos/eos/unk/pad ids, add_bos true.
  spm     from a SentencePiece tokenizer.model (Mistral 7B): model "llama", the pieces, their
          scores and types (NORMAL / UNKNOWN / CONTROL / UNUSED / BYTE, user-defined pieces
          written as NORMAL as MistralVocab does, or kept USER_DEFINED with --keep-user as
          the Hugging Face path of the converter keeps them), bos/eos/unk ids, add_bos true.
  tiny    (SRC ignored) a few-token vocabulary of each model, the fuzz seeds of
          tests/fuzz/seeds/fuzz_gguf: OUT-gpt2.gguf (pre smollm, a USER_DEFINED token, ChatML
          template) and OUT-llama.gguf (pieces, scores, byte pieces)
  repre   a copy of the tokenizer.* keys of a GGUF with tokenizer.ggml.pre replaced (the SmolLM2
          vocabulary under the gpt-2 pre-tokenizer).

Needs the `gguf` package (pinned in scripts/requirements-ci.txt) and, for tekken, mistral-common.
Usage: gguf_vocab_make.py {tekken|spm|tiny|repre} SRC OUT [--pre NAME] [--keep-user]
"""
import argparse
import os
import struct
import sys

import gguf


def bytes_to_unicode():
    bs = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) +
          list(range(ord("®"), ord("ÿ") + 1)))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, (chr(c) for c in cs)))


def new_writer(out):
    w = gguf.GGUFWriter(out, "llama")
    # llama.cpp reads the architecture's hyperparameters even for vocab_only loads
    w.add_context_length(4096)
    w.add_embedding_length(64)
    w.add_block_count(1)
    w.add_feed_forward_length(128)
    w.add_head_count(1)
    w.add_head_count_kv(1)
    w.add_layer_norm_rms_eps(1e-5)
    return w


def finish(w):
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def make_tekken(src, out):
    from mistral_common.tokens.tokenizers.tekken import Tekkenizer
    tok = Tekkenizer.from_file(src)
    enc = bytes_to_unicode()
    to_str = lambda b: "".join(enc[c] for c in b)  # noqa: E731
    n_special = tok.num_special_tokens
    tokens = [tok.id_to_piece(i) for i in range(n_special)]
    types = [gguf.TokenType.CONTROL] * n_special
    ranks = tok._model._mergeable_ranks  # bytes -> rank, as the converter reads it
    by_rank = {r: b for b, r in ranks.items()}
    n_ranks = tok.n_words - n_special
    for r in range(n_ranks):
        tokens.append(to_str(by_rank[r]))
        types.append(gguf.TokenType.NORMAL)
    merges = []
    for r in range(256, n_ranks):
        t = by_rank[r]
        local = [(t[:j], t[j:]) for j in range(1, len(t)) if t[:j] in ranks and t[j:] in ranks]
        if not local:
            sys.exit(f"no merge gives rank {r}")
        local.sort(key=lambda p: (ranks[p[0]], ranks[p[1]]))
        merges.extend(to_str(a) + " " + to_str(b) for a, b in local)
    w = new_writer(out)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("tekken")
    w.add_token_merges(merges)
    w.add_bos_token_id(tok.bos_id)
    w.add_eos_token_id(tok.eos_id)
    w.add_unk_token_id(tok.unk_id)
    w.add_pad_token_id(tok.pad_id if tok.pad_id >= 0 else tok.eos_id)
    w.add_token_list(tokens)
    w.add_token_scores([0.0] * len(tokens))
    w.add_token_types(types)
    w.add_vocab_size(len(tokens))
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    finish(w)
    print(f"wrote {out}: {len(tokens)} tokens, {len(merges)} merges", file=sys.stderr)


def pb_varint(buf, pos):
    """The protobuf varint at buf[pos:] and the position after it."""
    v = shift = 0
    while True:
        c = buf[pos]
        pos += 1
        v |= (c & 0x7F) << shift
        shift += 7
        if c < 0x80:
            return v, pos


def pb_fields(buf, pos, end):
    """Yields (field, wire type, value) of one protobuf message; value is an int or bytes."""
    while pos < end:
        key, pos = pb_varint(buf, pos)
        f, wt = key >> 3, key & 7
        if wt == 0:
            v, pos = pb_varint(buf, pos)
            yield f, wt, v
        elif wt == 1:
            yield f, wt, buf[pos:pos + 8]
            pos += 8
        elif wt == 2:
            n, pos = pb_varint(buf, pos)
            yield f, wt, buf[pos:pos + n]
            pos += n
        elif wt == 5:
            yield f, wt, buf[pos:pos + 4]
            pos += 4
        else:
            sys.exit(f"protobuf wire type {wt} not handled")


def make_spm(src, out, keep_user=False):
    buf = open(src, "rb").read()
    tokens, scores, types = [], [], []
    # sentencepiece types: 1 normal, 2 unknown, 3 control, 4 user defined, 5 unused, 6 byte
    to_gguf = {1: gguf.TokenType.NORMAL, 2: gguf.TokenType.UNKNOWN, 3: gguf.TokenType.CONTROL,
               4: gguf.TokenType.USER_DEFINED if keep_user else gguf.TokenType.NORMAL,
               5: gguf.TokenType.UNUSED, 6: gguf.TokenType.BYTE}
    for f, _, v in pb_fields(buf, 0, len(buf)):
        if f != 1:
            continue
        piece, score, typ = b"", 0.0, 1
        for pf, _, pv in pb_fields(v, 0, len(v)):
            if pf == 1:
                piece = bytes(pv)
            elif pf == 2:
                score = struct.unpack("<f", pv)[0]
            elif pf == 3:
                typ = pv
        tokens.append(piece.decode("utf-8"))
        scores.append(score)
        types.append(to_gguf[typ])
    w = new_writer(out)
    w.add_tokenizer_model("llama")
    w.add_bos_token_id(tokens.index("<s>"))
    w.add_eos_token_id(tokens.index("</s>"))
    w.add_unk_token_id(tokens.index("<unk>"))
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types(types)
    w.add_vocab_size(len(tokens))
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)
    finish(w)
    print(f"wrote {out}: {len(tokens)} pieces", file=sys.stderr)


def make_tiny(out):
    enc = bytes_to_unicode()
    w = new_writer(out + "-gpt2.gguf")
    toks = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<user>"] + [enc[b] for b in range(256)]
    toks += ["ab", enc[32] + "a", "ab" + "c"]
    types = [gguf.TokenType.CONTROL] * 3 + [gguf.TokenType.USER_DEFINED] + \
        [gguf.TokenType.NORMAL] * (len(toks) - 4)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("smollm")
    w.add_token_list(toks)
    w.add_token_types(types)
    w.add_token_merges(["a b", enc[32] + " a", "ab c"])
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_chat_template("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' "
                        "+ message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}")
    finish(w)
    w = new_writer(out + "-llama.gguf")
    toks = ["<unk>", "<s>", "</s>", "[INST]"] + ["<0x%02X>" % b for b in range(256)]
    toks += ["\u2581", "a", "b", "\u2581a", "ab", "\u2581ab"]
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL,
             gguf.TokenType.CONTROL] + [gguf.TokenType.BYTE] * 256 + [gguf.TokenType.NORMAL] * 6
    w.add_tokenizer_model("llama")
    w.add_token_list(toks)
    w.add_token_scores([0.0] * 260 + [-1.0, -2.0, -3.0, -4.0, -5.0, -6.0])
    w.add_token_types(types)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_unk_token_id(0)
    finish(w)


def make_repre(src, out, pre):
    r = gguf.GGUFReader(src)
    w = new_writer(out)
    for name, field in r.fields.items():
        if not name.startswith("tokenizer."):
            continue
        vt = field.types[0]
        if name == "tokenizer.ggml.pre":
            w.add_tokenizer_pre(pre)
        elif vt == gguf.GGUFValueType.ARRAY:
            et = field.types[-1]
            if et == gguf.GGUFValueType.STRING:
                vals = [bytes(field.parts[i]).decode("utf-8") for i in field.data]
            else:
                vals = [field.parts[i].tolist()[0] for i in field.data]
            w.add_array(name, vals) if et == gguf.GGUFValueType.STRING else \
                w.add_key_value(name, vals, vt, sub_type=et)
        elif vt == gguf.GGUFValueType.STRING:
            w.add_string(name, bytes(field.parts[-1]).decode("utf-8"))
        else:
            w.add_key_value(name, field.parts[-1].tolist()[0], vt)
    finish(w)
    print(f"wrote {out} (pre {pre})", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kind", choices=["tekken", "spm", "tiny", "repre"])
    ap.add_argument("src")
    ap.add_argument("out")
    ap.add_argument("--pre", default="gpt-2")
    ap.add_argument("--keep-user", action="store_true")
    a = ap.parse_args()
    if a.kind == "tiny":
        return make_tiny(a.out)
    tmp = a.out + ".tmp"
    if a.kind == "tekken":
        make_tekken(a.src, tmp)
    elif a.kind == "spm":
        make_spm(a.src, tmp, a.keep_user)
    else:
        make_repre(a.src, tmp, a.pre)
    os.replace(tmp, a.out)


if __name__ == "__main__":
    main()
