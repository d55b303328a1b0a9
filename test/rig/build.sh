#!/usr/bin/env bash
# Builds the test rig's virtual sound card (an ALSA I/O plugin, see rigpcm.c) when the
# library is missing or older than its source. Needs gcc and libasound2-dev.
set -euo pipefail
cd "$(dirname "$0")"

src=rigpcm.c
lib=build/libasound_module_pcm_talkbox_rig.so
if [ -f "$lib" ] && [ "$lib" -nt "$src" ]; then
  exit 0
fi
mkdir -p build
# Build under a private name and rename: concurrent test runs never load a half-written file.
tmp="$lib.$$.tmp"
trap 'rm -f "$tmp"' EXIT
# PIC: alsa-lib's plugin macros define the versioned entry symbol only for shared objects;
# -z defs: an unresolved symbol fails here, not when ALSA loads the plugin.
gcc -shared -fPIC -DPIC -O2 -Wall -Wextra -Werror -Wl,-z,defs -o "$tmp" "$src" -lasound -lpthread
mv -f "$tmp" "$lib"
