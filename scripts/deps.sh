#!/usr/bin/env bash
# Installs the npm packages and builds the native ones, so that no single native module can
# fail the install: `npm ci --ignore-scripts` (arguments are passed on, e.g. --omit=dev),
# then scripts/natives.js applies scripts/patches/ and builds each native package on its
# own. An optional one that does not build (speaker, @discordjs/opus) is reported and
# talkbox uses its fallback; a required one that does not build stops here with the fix.
set -euo pipefail
cd "$(dirname "$0")/.."
npm ci --ignore-scripts --no-audit --no-fund "$@"
node scripts/natives.js build
