#!/usr/bin/env bash
# One push-to-talk turn on the sim board against the built-in emulator, for arm-check.sh:
# starts the daemon (scripts/sim.yaml), holds the talk button for 2 s through the control
# socket and waits for the reply. Without a sound card the sim board's mic is a speech file
# and its speaker a directory of WAV files: a new WAV there is the agent's answer, played.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf /tmp/talkbox-sim talkbox-replies
node dist/src/cli.js run --config scripts/sim.yaml >/tmp/arm-check-sim.log 2>&1 &
daemon=$!
trap 'kill $daemon 2>/dev/null; wait $daemon 2>/dev/null; echo "--- daemon log"; cat /tmp/arm-check-sim.log' EXIT
sock=/tmp/talkbox-sim/control.sock
for _ in $(seq 1 240); do
  [ -S "$sock" ] && node dist/src/cli.js status --socket "$sock" >/dev/null 2>&1 && break
  kill -0 $daemon 2>/dev/null || { echo "the daemon exited before it was ready"; exit 1; }
  sleep 0.5
done
node dist/src/cli.js status --socket "$sock"
started=$(date +%s%N)
node dist/src/cli.js talk --socket "$sock" --seconds 2
for _ in $(seq 1 240); do
  if compgen -G 'talkbox-replies/*.wav' >/dev/null && node dist/src/cli.js status --socket "$sock" | grep -qE '^State: +idle'; then
    echo "reply played: $(ls talkbox-replies) ($(( ($(date +%s%N) - started) / 1000000 )) ms after the press)"
    node dist/src/cli.js status --socket "$sock"
    exit 0
  fi
  sleep 0.5
done
echo "no reply within 120 s"
node dist/src/cli.js status --socket "$sock" || true
exit 1
