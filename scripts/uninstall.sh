#!/usr/bin/env bash
# Removes what scripts/install.sh installed. Keeps /etc/talkbox (config, token) and
# /var/lib/talkbox (state) unless --purge. See --help.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: sudo scripts/uninstall.sh [--purge] [--prefix DIR] [--root DIR]

  --purge        also remove /etc/talkbox (config and token), /var/lib/talkbox (state)
                 and the talkbox user
  --prefix DIR   where the application was installed (default /opt/talkbox)
  --root DIR     remove from DIR as a root directory (no systemctl, no userdel)
  -h, --help     this text

Lines added to config.txt by --apply-overlays stay (other things may rely on them):
the script lists them.
EOF
}

say() { printf 'uninstall: %s\n' "$*" >&2; }
die() { printf 'uninstall: error: %s\n' "$*" >&2; exit 1; }

ROOT=""
PREFIX=/opt/talkbox
PURGE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --purge) PURGE=1; shift ;;
    --prefix) PREFIX=${2-}; shift 2 || die "--prefix needs a value" ;;
    --root) ROOT=${2-}; shift 2 || die "--root needs a value" ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option '$1'" ;;
  esac
done
case "$PREFIX" in /?*) ;; *) die "--prefix must be an absolute path other than / (got '$PREFIX')" ;; esac
PREFIX=${PREFIX%/}
if [ -n "$ROOT" ]; then
  [ -d "$ROOT" ] || die "--root $ROOT is not a directory"
  ROOT=$(cd "$ROOT" && pwd)
  [ "$ROOT" != / ] || ROOT=""
fi
LIVE=1
[ -z "$ROOT" ] || LIVE=0
[ "$LIVE" -eq 0 ] || [ "$(id -u)" -eq 0 ] || die "run as root: sudo $0 with the same options"
UNIT_DIR=$ROOT/etc/systemd/system

if [ "$LIVE" -eq 1 ] && [ -d /run/systemd/system ]; then
  systemctl disable --now talkbox.service talkbox-firstboot.service >/dev/null 2>&1 || true
fi

say "removing the application ($ROOT$PREFIX), the service and the device files"
rm -rf "$ROOT$PREFIX" "$ROOT$PREFIX.new" "$ROOT$PREFIX.old"
if [ "$(readlink "$ROOT/usr/local/bin/talkbox" 2>/dev/null || true)" = "$PREFIX/dist/src/cli.js" ]; then
  rm -f "$ROOT/usr/local/bin/talkbox"
fi
rm -rf "$UNIT_DIR/talkbox.service" "$UNIT_DIR/talkbox.service.d" "$UNIT_DIR/talkbox-firstboot.service" \
  "$UNIT_DIR/multi-user.target.wants/talkbox.service" "$UNIT_DIR/multi-user.target.wants/talkbox-firstboot.service"
rm -f "$ROOT/etc/udev/rules.d/90-talkbox.rules" "$ROOT/etc/modules-load.d/talkbox.conf" \
  "$ROOT/etc/alsa/conf.d/50-talkbox.conf"

if [ "$LIVE" -eq 1 ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  systemctl reset-failed talkbox.service >/dev/null 2>&1 || true
  if command -v udevadm >/dev/null; then udevadm control --reload || true; fi
fi

if [ "$PURGE" -eq 1 ]; then
  say "purging /etc/talkbox and /var/lib/talkbox"
  rm -rf "$ROOT/etc/talkbox" "$ROOT/var/lib/talkbox"
  if [ "$LIVE" -eq 1 ] && getent passwd talkbox >/dev/null; then
    say "removing the user talkbox"
    userdel talkbox
    # The user's own group goes with it; audio, gpio, spi and dialout stay.
    ! getent group talkbox >/dev/null || groupdel talkbox || true
  fi
else
  say "kept $ROOT/etc/talkbox and $ROOT/var/lib/talkbox (remove them with --purge)"
fi

for f in "$ROOT/boot/firmware/config.txt" "$ROOT/boot/config.txt"; do
  if [ -f "$f" ] && grep -q '^# talkbox (' "$f"; then
    say "$f still has the lines talkbox added (after '# talkbox (…)'); remove them by hand if nothing else needs them"
    break
  fi
done
say "done"
