#!/usr/bin/env bash
# Turns an official Raspberry Pi OS Lite image into a talkbox image: the app in /opt/talkbox,
# the config and token in /etc/talkbox, the unit, udev rules and ALSA devices, the board's
# config.txt lines, and a first-boot service that finishes the install on the device.
#
# It needs no root, no loop devices and no mounts: the files are staged in a directory by
# scripts/install.sh --root, then written into the image's partitions with mtools (the FAT
# boot partition) and debugfs (the ext4 root), both addressed by byte offset in the image.
# Tools: sfdisk (fdisk), mtools, debugfs (e2fsprogs), node.
set -euo pipefail
umask 022

usage() {
  cat <<'EOF'
Usage: firmware/image/build-image.sh INPUT.img OUTPUT.img --board NAME [options]

  INPUT.img           an unpacked Raspberry Pi OS (Lite) image (xz -d the download first);
                      it is not changed
  OUTPUT.img          the talkbox image to write (then flash it like any image)
  --board NAME        board profile (boards/NAME.yaml)
  --token-file FILE   the agent token, stored as /etc/talkbox/token (mode 0640)
  --config FILE       your talkbox.yaml (default: one made from the template)
  --bot-id ID         agent.coze.bot_id for a config made from the template
  --backend NAME      agent.backend for a config made from the template
  --host HOST         agent.voiceapi.host for a config made from the template (voiceapi)
  --node-tarball FILE an official Node.js 20+ tarball for the Pi's CPU (node-v20.*-linux-arm64
                      .tar.xz for 64-bit Raspberry Pi OS, linux-armv7l for 32-bit), unpacked into
                      /usr/local. Needed for images based on bookworm, whose apt has Node 18 only
  --userconf FILE     the first user, as Raspberry Pi OS's userconf.txt ("name:" + the output
                      of `openssl passwd -6`); without it the Pi asks on its first boot
  --ssh               enable the SSH server on first boot
  --no-build          use the checkout's dist/ as it is (see scripts/install.sh --help)
  -h, --help          this text

On the device's first boot with a network, talkbox-firstboot.service runs
/opt/talkbox/scripts/install.sh: apt packages, `npm ci --omit=dev` (native modules must be
built for the Pi's CPU, which cannot be done here), the talkbox user; then it starts talkbox.
EOF
}

say() { printf 'build-image: %s\n' "$*" >&2; }
die() { printf 'build-image: error: %s\n' "$*" >&2; exit 1; }

SRC=$(cd "$(dirname "$0")/../.." && pwd)
INPUT=""
OUTPUT=""
BOARD=""
TOKEN_FILE=""
CONFIG_FILE=""
BOT_ID=""
BACKEND=""
HOST=""
NODE_TARBALL=""
USERCONF=""
SSH=0
NO_BUILD=0
while [ $# -gt 0 ]; do
  case "$1" in
    --board) BOARD=${2-}; shift 2 || die "--board needs a value" ;;
    --token-file) TOKEN_FILE=${2-}; shift 2 || die "--token-file needs a value" ;;
    --config) CONFIG_FILE=${2-}; shift 2 || die "--config needs a value" ;;
    --bot-id) BOT_ID=${2-}; shift 2 || die "--bot-id needs a value" ;;
    --backend) BACKEND=${2-}; shift 2 || die "--backend needs a value" ;;
    --host) HOST=${2-}; shift 2 || die "--host needs a value" ;;
    --node-tarball) NODE_TARBALL=${2-}; shift 2 || die "--node-tarball needs a value" ;;
    --userconf) USERCONF=${2-}; shift 2 || die "--userconf needs a value" ;;
    --ssh) SSH=1; shift ;;
    --no-build) NO_BUILD=1; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) usage >&2; die "unknown option '$1'" ;;
    *)
      if [ -z "$INPUT" ]; then INPUT=$1; elif [ -z "$OUTPUT" ]; then OUTPUT=$1; else die "unexpected argument '$1'"; fi
      shift ;;
  esac
done
if [ -z "$INPUT" ] || [ -z "$OUTPUT" ]; then usage >&2; die "give the input and the output image"; fi
[ -n "$BOARD" ] || die "--board NAME is required"
[ -f "$INPUT" ] || die "no input image $INPUT (unpack the .img.xz first: xz -dk FILE.img.xz)"
[ "$(realpath -m "$INPUT")" != "$(realpath -m "$OUTPUT")" ] || die "the output must be a new file, not the input"
for f in "$TOKEN_FILE" "$CONFIG_FILE" "$NODE_TARBALL" "$USERCONF"; do
  [ -z "$f" ] || [ -r "$f" ] || die "cannot read $f"
done
for tool in sfdisk mtype mcopy debugfs node; do
  command -v "$tool" >/dev/null || die "$tool is missing: sudo apt-get install fdisk mtools e2fsprogs (and Node.js 20)"
done
# mtools refuses FAT geometry it finds unusual in a partition of an image; the data is fine.
export MTOOLS_SKIP_CHECK=1

WORK=$(mktemp -d)
DONE=0
cleanup() {
  rm -rf "$WORK"
  if [ "$DONE" -eq 0 ]; then rm -f "$OUTPUT"; fi
}
trap cleanup EXIT
STAGE=$WORK/root

# ---- the partitions ---------------------------------------------------------------------

# "start" or "size" (in 512-byte sectors) or "type" of partition N, from sfdisk's dump.
part_field() {
  { sfdisk --dump "$INPUT" 2>/dev/null || true; } \
    | sed -n "s/^[^ ]*[^0-9]$1 : .*$2= *\\([0-9a-fA-F]*\\).*/\\1/p"
}
boot_start=$(part_field 1 start)
root_start=$(part_field 2 start)
boot_type=$(part_field 1 type)
root_type=$(part_field 2 type)
if [ -z "$boot_start" ] || [ -z "$root_start" ]; then
  die "$INPUT has no DOS partition table with a boot and a root partition (is it a Raspberry Pi OS image?)"
fi
case "$boot_type" in b|c|e) ;; *) die "partition 1 of $INPUT is type $boot_type, not FAT (b, c or e)" ;; esac
[ "$root_type" = 83 ] || die "partition 2 of $INPUT is type $root_type, not Linux (83)"
BOOT="@@$((boot_start * 512))"
ROOT_FS="?offset=$((root_start * 512))"

# An image whose apt has no Node 20 can never finish its first boot without a Node tarball:
# refuse it here rather than ship a device that retries and gives up.
codename=$(debugfs -R "cat /etc/os-release" "$INPUT$ROOT_FS" 2>/dev/null | sed -n 's/^VERSION_CODENAME=//p' | tr -d '"')
case "$codename" in
  buster|bullseye|bookworm)
    [ -n "$NODE_TARBALL" ] || die "$INPUT is Raspberry Pi OS $codename, whose apt has no Node.js 20: pass --node-tarball node-v20.*-linux-arm64.tar.xz (64-bit) or linux-armv7l (32-bit), or start from a trixie image" ;;
  "") say "could not read /etc/os-release from $INPUT: not checking that its apt has Node.js 20" ;;
esac

# ---- stage: everything the device gets, as a directory tree ---------------------------

mkdir -p "$STAGE/boot/firmware" "$STAGE/etc/talkbox"
mtype -i "$INPUT$BOOT" ::config.txt >"$STAGE/boot/firmware/config.txt" 2>/dev/null \
  || die "no config.txt on the boot partition of $INPUT (is it a Raspberry Pi OS image?)"
[ -z "$CONFIG_FILE" ] || cp "$CONFIG_FILE" "$STAGE/etc/talkbox/talkbox.yaml"
install_args=(--root "$STAGE" --prefix /opt/talkbox --board "$BOARD" --skip-npm --no-start --apply-overlays)
[ -z "$TOKEN_FILE" ] || install_args+=(--token-file "$TOKEN_FILE")
[ -z "$BOT_ID" ] || install_args+=(--bot-id "$BOT_ID")
[ -z "$BACKEND" ] || install_args+=(--backend "$BACKEND")
[ -z "$HOST" ] || install_args+=(--host "$HOST")
[ "$NO_BUILD" -eq 0 ] || install_args+=(--no-build)
say "staging the files (scripts/install.sh --root)"
bash "$SRC/scripts/install.sh" "${install_args[@]}" </dev/null

install -D -m 0644 "$SRC/firmware/image/talkbox-firstboot.service" "$STAGE/etc/systemd/system/talkbox-firstboot.service"
mkdir -p "$STAGE/etc/systemd/system/multi-user.target.wants"
ln -sfn /etc/systemd/system/talkbox-firstboot.service "$STAGE/etc/systemd/system/multi-user.target.wants/talkbox-firstboot.service"

if [ -n "$NODE_TARBALL" ]; then
  say "unpacking $(basename "$NODE_TARBALL") into /usr/local"
  mkdir -p "$WORK/node"
  tar -xf "$NODE_TARBALL" -C "$WORK/node" --strip-components=1 --no-same-owner
  [ -e "$WORK/node/bin/node" ] || die "$NODE_TARBALL has no bin/node: use an official node-v20.*-linux-*.tar.xz"
  mkdir -p "$STAGE/usr/local"
  for d in bin lib share include; do
    [ ! -d "$WORK/node/$d" ] || cp -R "$WORK/node/$d" "$STAGE/usr/local/"
  done
fi

# ---- write the image --------------------------------------------------------------------

say "copying $INPUT to $OUTPUT"
cp --sparse=always "$INPUT" "$OUTPUT"

say "boot partition: config.txt${USERCONF:+, userconf.txt}$([ "$SSH" -eq 0 ] || printf ', ssh')"
mcopy -o -i "$OUTPUT$BOOT" "$STAGE/boot/firmware/config.txt" ::config.txt
[ -z "$USERCONF" ] || mcopy -o -i "$OUTPUT$BOOT" "$USERCONF" ::userconf.txt
if [ "$SSH" -eq 1 ]; then
  : >"$WORK/ssh"
  mcopy -o -i "$OUTPUT$BOOT" "$WORK/ssh" ::ssh
fi
rm -rf "${STAGE:?}/boot"

# debugfs reads its commands from a file; a path with a quote or a newline would break one.
if [ -n "$(find "$STAGE" \( -name '*"*' -o -name $'*\n*' \) -print -quit)" ]; then
  die "a staged file name holds a quote or a newline; debugfs cannot write it"
fi

free_kb=$(debugfs -R stats "$OUTPUT$ROOT_FS" 2>/dev/null | awk -F: '
  /^Free blocks:/ { free = $2 } /^Block size:/ { bs = $2 } END { printf "%d", free * bs / 1024 }')
need_kb=$(du -sk "$STAGE" | cut -f1)
[ "$free_kb" -gt $((need_kb + need_kb / 10 + 1024)) ] \
  || die "the root partition has ${free_kb} KiB free and needs about ${need_kb} KiB: grow it first (e.g. truncate -s +512M, then parted resizepart 2 and resize2fs)"

# New directories are made 0755 root:root by debugfs (what nearly every one should be);
# existing ones (/etc, /opt, …) are left exactly as they are. Files and links get their
# staged mode and root:root: the talkbox group does not exist until the first boot, when
# install.sh gives /etc/talkbox and its files their group.
cmds=$WORK/debugfs.cmds
(
  cd "$STAGE"
  find . -mindepth 1 -type d | sort | while IFS= read -r d; do
    p=${d#.}
    printf 'mkdir "%s"\n' "$p"
    mode=$(stat -c %a "$d")
    [ "$mode" = 755 ] || printf 'sif "%s" mode 040%s\n' "$p" "$mode"
  done
  find . -mindepth 1 \( -type f -o -type l \) | sort | while IFS= read -r f; do
    p=${f#.}
    printf 'rm "%s"\n' "$p"
    if [ -L "$f" ]; then
      printf 'symlink "%s" "%s"\n' "$p" "$(readlink "$f")"
    else
      printf 'write "%s" "%s"\n' "$STAGE$p" "$p"
      printf 'sif "%s" mode 0100%s\nsif "%s" uid 0\nsif "%s" gid 0\n' "$p" "$(stat -c %a "$f")" "$p" "$p"
    fi
  done
) >"$cmds"
say "root partition: writing $(grep -c '^rm ' "$cmds") files with debugfs"
# debugfs reports a failed command on stderr but still exits 0; "mkdir" of an existing
# directory and "rm" of a missing file are expected to fail, anything else is an error.
errors=$(debugfs -w -f "$cmds" "$OUTPUT$ROOT_FS" 2>&1 >/dev/null \
  | grep -v -e '^debugfs [0-9]' -e 'mkdir: Ext2 directory already exists' -e '^rm: File not found by ext2_lookup' || true)
[ -z "$errors" ] || die "debugfs failed: $errors"

# Read back what was written and compare it with the stage.
mkdir -p "$WORK/check"
debugfs -R "rdump /opt/talkbox $WORK/check" "$OUTPUT$ROOT_FS" >/dev/null 2>&1
diff -r "$STAGE/opt/talkbox" "$WORK/check/talkbox" >/dev/null || die "/opt/talkbox in $OUTPUT differs from what was staged"

DONE=1
say "done: $OUTPUT (board $BOARD). Flash it, boot the Pi with a network, then: journalctl -u talkbox-firstboot -f"
