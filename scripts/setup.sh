#!/usr/bin/env bash
# Prepares a checkout to run and test talkbox: system packages, npm packages, build.
# Idempotent and quick when nothing changed; both README commands start with it.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'setup: %s\n' "$*" >&2; }

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  say "talkbox needs Node.js 20 or newer (found: $(node --version 2>/dev/null || echo none))."
  say "On Debian 13 (trixie): sudo apt-get install nodejs npm. On bookworm (Node 18 in apt): see the README, 'Node 20 on bookworm'."
  exit 1
fi

# alsa-utils: arecord/aplay (capture driver, aplay fallback, device probes);
# libasound2-dev, g++, make, python3: building the native speaker module;
# gcc, libasound2-dev: building the test rig's virtual sound card; socat: pty pairs for the serial-panel tests.
# espeak-ng: the offline voice of announcements (the daemon needs it; the installer installs it).
# python3-prometheus-client: the official Prometheus text-format parser, which reads back the analytics file in the tests.
packages=(alsa-utils libasound2-dev gcc g++ make python3 socat systemd shellcheck fdisk dosfstools mtools e2fsprogs espeak-ng python3-prometheus-client)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else
    say "missing system packages: ${missing[*]}; install them as root: apt-get install ${missing[*]}"
    exit 1
  fi
  say "installing system packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# npm ci only when the lock file or a patch to a package (scripts/patches) changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] \
  || [ -n "$(find scripts/patches -newer node_modules/.package-lock.json -print -quit)" ]; then
  say "installing npm packages (scripts/deps.sh: npm ci --ignore-scripts, then the native builds)"
  bash scripts/deps.sh
fi

say "building (tsc)"
npx --no-install tsc -p .

# The ALSA plugin the tests and the bench play and record through (no-op when current).
bash test/rig/build.sh
