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
echo "greedy continuation of ids 1,22177,1044,4304:"
$NEMO generate "$DIR" --ids 1,22177,1044,4304 -n 16
