#!/usr/bin/env bash
# Installs talkbox as a system service on Raspberry Pi OS / Debian (bookworm, trixie;
# arm64, armhf, x86_64). Idempotent: run it again to upgrade (git pull && sudo ./scripts/install.sh).
# Never overwrites /etc/talkbox/talkbox.yaml. See --help.
set -euo pipefail
umask 022

usage() {
  cat <<'EOF'
Usage: sudo scripts/install.sh [options]

  --board NAME        board profile (boards/NAME.yaml; `talkbox boards` lists them). Needed
                      for a first install; later runs keep the one in talkbox.yaml
  --token TOKEN       the agent token, stored in /etc/talkbox/token (mode 0640) and passed
                      to the service as a systemd credential. Visible in `ps` while this runs:
                      prefer --token-file, or the prompt
  --token-file FILE   read the token from FILE (- = stdin)
  --bot-id ID         agent.coze.bot_id for a new talkbox.yaml
  --backend NAME      agent.backend for a new talkbox.yaml: coze (default), realtime or
                      voiceapi
  --host HOST         agent.voiceapi.host for a new talkbox.yaml (--backend voiceapi): the
                      host of the platform where the bot was built, e.g. voice.example.com
  --apply-overlays    append the board's boot.config_txt lines to /boot/firmware/config.txt
                      (or /boot/config.txt) when missing; reboot afterwards
  --no-start          install and enable, but do not start or restart the service
  --prefix DIR        where the application goes (default /opt/talkbox)
  --root DIR          install into DIR as a root directory (an image or a test tree): no apt,
                      no users, no systemctl; prints what it skipped
  --skip-npm          do not install node_modules (an image for another architecture; the
                      first boot runs this script again on the device)
  --no-build          install the checkout's dist/ as it is, even when src/ is newer (tests)
  -h, --help          this text

Missing values are asked for when stdin is a terminal.
EOF
}

say() { printf 'install: %s\n' "$*" >&2; }
die() { printf 'install: error: %s\n' "$*" >&2; exit 1; }

SRC=$(cd "$(dirname "$0")/.." && pwd)
ROOT=""
PREFIX=/opt/talkbox
BOARD=""
TOKEN=""
TOKEN_FILE=""
BOT_ID=""
BACKEND=""
HOST=""
APPLY_OVERLAYS=0
START=1
SKIP_NPM=0
NO_BUILD=0

while [ $# -gt 0 ]; do
  case "$1" in
    --board) BOARD=${2-}; shift 2 || die "--board needs a value" ;;
    --token) TOKEN=${2-}; shift 2 || die "--token needs a value" ;;
    --token-file) TOKEN_FILE=${2-}; shift 2 || die "--token-file needs a value" ;;
    --bot-id) BOT_ID=${2-}; shift 2 || die "--bot-id needs a value" ;;
    --backend) BACKEND=${2-}; shift 2 || die "--backend needs a value" ;;
    --host) HOST=${2-}; shift 2 || die "--host needs a value" ;;
    --apply-overlays) APPLY_OVERLAYS=1; shift ;;
    --no-start) START=0; shift ;;
    --prefix) PREFIX=${2-}; shift 2 || die "--prefix needs a value" ;;
    --root) ROOT=${2-}; shift 2 || die "--root needs a value" ;;
    --skip-npm) SKIP_NPM=1; shift ;;
    --no-build) NO_BUILD=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option '$1'" ;;
  esac
done

case "$PREFIX" in /*) ;; *) die "--prefix must be an absolute path (got '$PREFIX')" ;; esac
PREFIX=${PREFIX%/}
if [ -n "$ROOT" ]; then
  [ -d "$ROOT" ] || die "--root $ROOT is not a directory"
  ROOT=$(cd "$ROOT" && pwd)
  [ "$ROOT" != / ] || ROOT=""
fi
[ -z "$TOKEN" ] || [ -z "$TOKEN_FILE" ] || die "give --token or --token-file, not both"
case "$BACKEND" in ""|coze|realtime|voiceapi) ;; *) die "--backend must be coze, realtime or voiceapi (got '$BACKEND')" ;; esac
# The same rule as agent.voiceapi.host in the config (src/agent/voiceapi/descriptor.ts).
HOST_RE='^[A-Za-z0-9.-]+(:[0-9]{1,5})?$'
[ -z "$HOST" ] || [[ "$HOST" =~ $HOST_RE ]] || die "--host takes a host name, optionally with :port, e.g. voice.example.com (no wss://, no path)"
[ -z "$HOST" ] || [ "$BACKEND" = voiceapi ] || die "--host is the voice API's host: give it with --backend voiceapi"
[ -z "$BOT_ID" ] || [[ "$BOT_ID" =~ ^[A-Za-z0-9._-]+$ ]] || die "--bot-id may hold letters, digits, '.', '_' and '-' only"

# Real system: root is needed. Under --root, the tree decides (a test tree needs no root).
LIVE=1
[ -z "$ROOT" ] || LIVE=0
if [ "$LIVE" -eq 1 ] && [ "$(id -u)" -ne 0 ]; then
  # Not "$*": the options may hold the token.
  die "run as root: sudo $0 with the same options"
fi
IS_ROOT=0
[ "$(id -u)" -ne 0 ] || IS_ROOT=1

APP=$ROOT$PREFIX
ETC=$ROOT/etc/talkbox
CONFIG=$ETC/talkbox.yaml
TOKEN_PATH=$ETC/token
UNIT_DIR=$ROOT/etc/systemd/system
INTERACTIVE=0
[ -t 0 ] && INTERACTIVE=1
# On the device's first boot (talkbox-firstboot.service) the app is already in place.
IN_PLACE=0
[ "$SRC" != "$APP" ] || IN_PLACE=1

skip() { say "skipped under --root: $*"; }
# A copy that failed half-way is not left behind (the installed version stays as it was).
BUILT=""
cleanup() {
  rm -rf "$APP.new" "$ETC"/.talkbox.yaml.?????? "$ETC"/.token.??????
  if [ -n "$BUILT" ] && [ "$BUILT" != "$SRC" ]; then rm -rf "$BUILT"; fi
  if [ -n "${TEMP_HOME:-}" ]; then rm -rf "$TEMP_HOME"; fi
}
trap cleanup EXIT

# ---- values ---------------------------------------------------------------------------

# The board of an existing config: install.sh never rewrites the file, so it is the truth.
config_board() {
  [ -f "$CONFIG" ] || return 0
  sed -n 's/^board:[[:space:]]*["'\'']\{0,1\}\([A-Za-z0-9_-]*\).*/\1/p' "$CONFIG" | head -n 1
}

board_names() { local f; for f in "$SRC"/boards/*.yaml; do basename "$f" .yaml; done | tr '\n' ' '; }
existing_board=$(config_board)
if [ -n "$existing_board" ]; then
  if [ -n "$BOARD" ] && [ "$BOARD" != "$existing_board" ]; then
    say "$CONFIG says board: $existing_board, and it is never overwritten: installing for $existing_board."
    say "To switch to $BOARD, change board: in $CONFIG, then run this again."
  fi
  BOARD=$existing_board
fi
if [ -z "$BOARD" ] && [ "$INTERACTIVE" -eq 1 ]; then
  say "boards: $(board_names)"
  read -r -p "board: " BOARD
fi
[ -n "$BOARD" ] || die "no board: pass --board NAME (one of: $(board_names))"
if ! [[ "$BOARD" =~ ^[A-Za-z0-9_-]+$ ]] || [ ! -f "$SRC/boards/$BOARD.yaml" ]; then
  die "no board profile '$BOARD' in $SRC/boards (one of: $(board_names))"
fi

if [ ! -f "$CONFIG" ] && [ -z "$HOST" ] && [ "$BACKEND" = voiceapi ] && [ "$INTERACTIVE" -eq 1 ]; then
  read -r -p "voice API host, e.g. voice.example.com (empty: set agent.voiceapi.host in $CONFIG later): " HOST
  [ -z "$HOST" ] || [[ "$HOST" =~ $HOST_RE ]] || die "the host is a host name, optionally with :port (no wss://, no path)"
fi
# Only Coze has a bot id (the other backends name their agent otherwise).
if [ ! -f "$CONFIG" ] && [ -z "$BOT_ID" ] && [ "${BACKEND:-coze}" = coze ] && [ "$INTERACTIVE" -eq 1 ]; then
  read -r -p "agent bot id (empty: set agent.coze.bot_id in $CONFIG later): " BOT_ID
  [ -z "$BOT_ID" ] || [[ "$BOT_ID" =~ ^[A-Za-z0-9._-]+$ ]] || die "the bot id may hold letters, digits, '.', '_' and '-' only"
fi

if [ -n "$TOKEN_FILE" ]; then
  if [ "$TOKEN_FILE" = - ]; then TOKEN=$(cat); else
    [ -r "$TOKEN_FILE" ] || die "cannot read the token file $TOKEN_FILE"
    TOKEN=$(cat -- "$TOKEN_FILE")
  fi
  [ -n "$TOKEN" ] || die "the token file $TOKEN_FILE is empty"
fi
if [ -z "$TOKEN" ] && [ ! -s "$TOKEN_PATH" ] && [ "$INTERACTIVE" -eq 1 ]; then
  read -r -s -p "agent token (input hidden; empty: none): " TOKEN
  printf '\n' >&2
fi
# A token is one line; a trailing newline from a file is not part of it.
TOKEN=${TOKEN%$'\n'}
TOKEN=${TOKEN%$'\r'}
[[ "$TOKEN" != *$'\n'* ]] || die "the token must be a single line"

# A system service has no HOME (the image's first boot runs this script as one): npm and
# node-gyp keep their caches under it.
if [ -z "${HOME:-}" ] || [ ! -w "${HOME:-/nonexistent}" ]; then
  HOME=$(getent passwd "$(id -u)" | cut -d: -f6)
  if [ -z "$HOME" ] || [ ! -w "$HOME" ]; then
    TEMP_HOME=$(mktemp -d "${TMPDIR:-/var/tmp}/talkbox-home.XXXXXX")
    HOME=$TEMP_HOME
  fi
  export HOME
fi

# ---- system packages and Node.js -------------------------------------------------------

apt_install() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

missing_packages() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || printf '%s\n' "$p"
  done
}

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

ensure_node() {
  [ "$(node_major)" -lt 20 ] || return 0
  local candidate
  candidate=$(apt-cache policy nodejs 2>/dev/null | sed -n 's/^ *Candidate: *\([0-9]*:\)\{0,1\}\([0-9]*\).*/\2/p')
  if [ -n "$candidate" ] && [ "$candidate" -ge 20 ]; then
    say "installing Node.js $candidate from apt"
    apt-get update -qq
    apt_install nodejs
    command -v npm >/dev/null || apt_install npm
  fi
  [ "$(node_major)" -ge 20 ] && return 0
  die "talkbox needs Node.js 20 or newer (found: $(node --version 2>/dev/null || echo none); apt offers: ${candidate:-none}).
  Debian 13 (trixie) and Raspberry Pi OS based on it ship Node 20. On bookworm, either
  - NodeSource: curl -fsSL https://deb.nodesource.com/setup_20.x | sudo -E bash - && sudo apt-get install -y nodejs
  - or the official tarball (arm64: linux-arm64, armhf: linux-armv7l, PC: linux-x64) from https://nodejs.org/dist/latest-v20.x/:
      sudo tar -xJf node-v20.*-linux-*.tar.xz -C /usr/local --strip-components=1
  (Pi Zero / Pi 1, ARMv6: https://unofficial-builds.nodejs.org/download/release/). Then run this again."
}

if [ "$LIVE" -eq 1 ]; then
  apt_packages=(alsa-utils libasound2-dev g++ make python3 gpiod espeak-ng)
  mapfile -t missing < <(missing_packages "${apt_packages[@]}")
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing system packages: ${missing[*]}"
    apt-get update -qq
    apt_install "${missing[@]}"
  fi
  ensure_node
else
  skip "apt-get install alsa-utils libasound2-dev g++ make python3 gpiod espeak-ng; Node.js >= 20 check"
fi
NODE=$(command -v node || true)
[ -n "$NODE" ] || NODE=/usr/bin/node

# ---- build (a git checkout has no dist/) -----------------------------------------------

# Where the compiled app and its packages come from: the checkout when it is built and
# current, otherwise a build in a scratch copy. The checkout itself is never written to
# (it may belong to another user, and root-owned files in it would get in their way).
BUILT=$SRC
needs_build() {
  [ -f "$SRC/dist/src/cli.js" ] || return 0
  [ -z "$(find "$SRC/src" -name '*.ts' -newer "$SRC/dist/src/cli.js" -print -quit)" ] || return 0
  return 1
}
packages_current() {
  [ -f "$1/node_modules/.package-lock.json" ] && ! [ "$1/package-lock.json" -nt "$1/node_modules/.package-lock.json" ]
}

if [ "$IN_PLACE" -eq 0 ] && [ "$NO_BUILD" -eq 0 ] && needs_build; then
  [ -f "$SRC/src/cli.ts" ] || die "$SRC has neither an up-to-date dist/ nor src/: run this script from a talkbox checkout"
  # /var/tmp: on disk (trixie mounts a RAM-sized tmpfs on /tmp).
  BUILT=$(mktemp -d "${TMPDIR:-/var/tmp}/talkbox-build.XXXXXX")
  say "building in $BUILT (scripts/deps.sh, scripts/build.js; the first time on a Pi this takes a while)"
  tar -C "$SRC" --exclude=./node_modules --exclude=./dist --exclude=./.git -cf - . | tar -C "$BUILT" -xf -
  (cd "$BUILT" && bash scripts/deps.sh >/dev/null) \
    || die "installing the npm packages failed (the lines above say why); fix that and run this again"
  # esbuild, not tsc: a few MB of memory instead of 300+ (a Pi Zero 2 W has 512 MB); the
  # types were checked where the code was written.
  (cd "$BUILT" && node scripts/build.js) \
    || die "compiling failed (see above); fix it, or build the checkout yourself: bash scripts/deps.sh && node scripts/build.js"
fi
[ -f "$BUILT/dist/src/cli.js" ] || die "$BUILT/dist/src/cli.js is missing: build with bash scripts/deps.sh && node scripts/build.js"

# ---- the application -------------------------------------------------------------------

# Ownership for files the service reads: root:talkbox when that group exists (and we can).
chown_talkbox() {
  if [ "$IS_ROOT" -eq 1 ] && getent group talkbox >/dev/null; then chown root:talkbox "$@"; fi
}

install_app() {
  local new=$APP.new old=$APP.old
  rm -rf "$new" "$old"
  mkdir -p "$new/dist" "$new/scripts"
  cp -R "$BUILT/dist/src" "$new/dist/src"
  cp -R "$SRC/boards" "$SRC/firmware" "$new/"
  cp "$SRC/package.json" "$SRC/package-lock.json" "$new/"
  [ ! -f "$SRC/README.md" ] || cp "$SRC/README.md" "$new/"
  # deps.sh, natives.js and patches/: the first boot of an image installs the packages with them.
  cp -R "$SRC/scripts/install.sh" "$SRC/scripts/uninstall.sh" "$SRC/scripts/deps.sh" "$SRC/scripts/natives.js" \
    "$SRC/scripts/patches" "$new/scripts/"
  rm -rf "$new/firmware/image"
  find "$new/dist/src" -name '*.map' -delete
  if [ "$SKIP_NPM" -eq 0 ]; then
    if packages_current "$BUILT"; then
      # These packages were built on this machine, for its Node and CPU: copy them and drop
      # the dev ones (what npm ci --omit=dev gives, without a second native build).
      cp -R "$BUILT/node_modules" "$new/node_modules"
      (cd "$new" && npm prune --omit=dev --no-audit --no-fund --offline >/dev/null 2>&1) \
        || (cd "$new" && bash scripts/deps.sh --omit=dev >/dev/null)
    else
      (cd "$new" && bash scripts/deps.sh --omit=dev >/dev/null)
    fi
  fi
  chmod -R u=rwX,go=rX "$new"
  chmod 0755 "$new/dist/src/cli.js" "$new/scripts/"*.sh
  [ "$IS_ROOT" -eq 0 ] || chown -R root:root "$new"
  # Swap in one step: a failed copy above leaves the installed version untouched.
  if [ -e "$APP" ]; then mv "$APP" "$old"; fi
  mv "$new" "$APP"
  rm -rf "$old"
}

if [ "$IN_PLACE" -eq 1 ]; then
  if [ "$SKIP_NPM" -eq 0 ] && [ ! -d "$APP/node_modules" ]; then
    # Say which it is: no network (the first boot tries again) or a failed build (it won't help).
    (cd "$APP" && npm ping >/dev/null 2>&1) \
      || die "cannot reach the npm registry ($(cd "$APP" && npm config get registry)): no network yet? Connect the device; the first boot tries again in a minute, or run this script again"
    say "installing npm packages in $APP (scripts/deps.sh --omit=dev; on a Pi Zero this takes a while)"
    # A half-done node_modules would look finished to talkbox-firstboot.service's condition.
    (cd "$APP" && bash scripts/deps.sh --omit=dev >/dev/null) \
      || { rm -rf "$APP/node_modules"; die "installing the npm packages in $APP failed: the lines above say why"; }
  fi
else
  say "installing the application into $APP"
  mkdir -p "$(dirname "$APP")"
  install_app
fi
mkdir -p "$ROOT/usr/local/bin"
ln -sfn "$PREFIX/dist/src/cli.js" "$ROOT/usr/local/bin/talkbox"

# ---- user and groups -------------------------------------------------------------------

if [ "$LIVE" -eq 1 ]; then
  for g in audio gpio spi dialout; do
    getent group "$g" >/dev/null || { say "creating group $g"; groupadd --system "$g"; }
  done
  if ! getent passwd talkbox >/dev/null; then
    say "creating system user talkbox"
    getent group talkbox >/dev/null || groupadd --system talkbox
    useradd --system --gid talkbox --home-dir /var/lib/talkbox --no-create-home \
      --shell /usr/sbin/nologin --comment "talkbox voice agent" talkbox
  fi
  # The unit sets these groups itself; membership also lets `sudo -u talkbox talkbox doctor` work.
  usermod -a -G audio,gpio,spi,dialout talkbox
else
  skip "system user talkbox (groups audio gpio spi dialout)"
fi

# ---- configuration and token -----------------------------------------------------------

mkdir -p "$ETC"
chmod 0750 "$ETC"
chown_talkbox "$ETC"

render_config() {
  local args=(-e "s/@BOARD@/$BOARD/" -e "s/@BACKEND@/${BACKEND:-coze}/")
  if [ -n "$BOT_ID" ]; then
    args+=(-e "s/@BOT_ID@/$BOT_ID/")
  else
    # With no bot the coze: section is commented too: a key whose children are all comments is an empty value.
    args+=(-e 's/^    bot_id: "@BOT_ID@"$/  #   bot_id: "7351234567890123456"   # set this: the bot id/' -e 's/^  coze:$/  # coze:/')
  fi
  if [ -n "$HOST" ]; then
    args+=(-e 's/^  # voiceapi:$/  voiceapi:/' -e "s/^  #   host: @VOICEAPI_HOST@ /    host: \"$HOST\"/")
  else
    args+=(-e 's/@VOICEAPI_HOST@/voice.example.com/')
  fi
  # Boards with an ALSA file get its shared devices; the others keep the profile's.
  if [ -f "$SRC/firmware/alsa/$BOARD.conf" ]; then
    args+=(-e "s/@CAPTURE_DEVICE@/talkbox_capture/" -e "s/@PLAYBACK_DEVICE@/talkbox_playback/")
  else
    # audio:, input: and output: are commented too: a key whose children are all comments is
    # an empty value, which the config refuses (install.test.ts checks the result loads).
    args+=(-e 's/^\( *\)device: @CAPTURE_DEVICE@$/\1# device: default   # ALSA capture device (arecord -L); default: the board profile'"'"'s/'
           -e 's/^\( *\)device: @PLAYBACK_DEVICE@$/\1# device: default   # ALSA playback device (aplay -L); default: the board profile'"'"'s/'
           -e 's/^audio:$/# audio:/' -e 's/^  input:$/  # input:/' -e 's/^  output:$/  # output:/')
  fi
  sed "${args[@]}" "$SRC/firmware/talkbox.yaml.template"
}

if [ -f "$CONFIG" ]; then
  say "keeping $CONFIG"
  [ -z "$BOT_ID$BACKEND$HOST" ] || say "--bot-id/--backend/--host apply to a new config only: edit $CONFIG to change them"
else
  say "writing $CONFIG"
  tmp=$(mktemp "$ETC/.talkbox.yaml.XXXXXX")
  render_config >"$tmp"
  chmod 0640 "$tmp"
  chown_talkbox "$tmp"
  mv "$tmp" "$CONFIG"
fi
chmod 0640 "$CONFIG"
chown_talkbox "$CONFIG"

if [ -n "$TOKEN" ]; then
  say "writing $TOKEN_PATH"
  tmp=$(umask 077 && mktemp "$ETC/.token.XXXXXX")
  printf '%s\n' "$TOKEN" >"$tmp"
  chmod 0640 "$tmp"
  chown_talkbox "$tmp"
  mv "$tmp" "$TOKEN_PATH"
fi
if [ -f "$TOKEN_PATH" ]; then
  chmod 0640 "$TOKEN_PATH"
  chown_talkbox "$TOKEN_PATH"
fi

# ---- systemd, udev, ALSA ---------------------------------------------------------------

mkdir -p "$UNIT_DIR"
sed -e "s#/usr/bin/node #$NODE #" -e "s#/opt/talkbox#$PREFIX#g" "$SRC/firmware/systemd/talkbox.service" >"$UNIT_DIR/talkbox.service"
chmod 0644 "$UNIT_DIR/talkbox.service"
dropin=$UNIT_DIR/talkbox.service.d
if [ -f "$TOKEN_PATH" ]; then
  mkdir -p "$dropin"
  printf '%s\n' "# Written by scripts/install.sh because /etc/talkbox/token exists." "[Service]" \
    "LoadCredential=token:/etc/talkbox/token" >"$dropin/10-token.conf"
  chmod 0644 "$dropin/10-token.conf"
fi
install -D -m 0644 "$SRC/firmware/udev/90-talkbox.rules" "$ROOT/etc/udev/rules.d/90-talkbox.rules"
install -D -m 0644 "$SRC/firmware/modules-load.d/talkbox.conf" "$ROOT/etc/modules-load.d/talkbox.conf"
alsa_conf=$ROOT/etc/alsa/conf.d/50-talkbox.conf
if [ -f "$SRC/firmware/alsa/$BOARD.conf" ]; then
  install -D -m 0644 "$SRC/firmware/alsa/$BOARD.conf" "$alsa_conf"
else
  rm -f "$alsa_conf"
fi

# ---- boot overlays ---------------------------------------------------------------------

if [ "$APPLY_OVERLAYS" -eq 1 ]; then
  boot_config=""
  for f in "$ROOT/boot/firmware/config.txt" "$ROOT/boot/config.txt"; do
    if [ -f "$f" ]; then boot_config=$f; break; fi
  done
  [ -n "$boot_config" ] || die "--apply-overlays: no $ROOT/boot/firmware/config.txt or $ROOT/boot/config.txt (is this a Raspberry Pi?)"
  # From the profile itself, so that a profile of your own in boards/ works too.
  mapfile -t lines < <("$NODE" -e '
    const [app, src, file] = process.argv.slice(1);
    const yaml = require(require.resolve("yaml", { paths: [app, src] }));
    const profile = yaml.parse(require("node:fs").readFileSync(file, "utf8"));
    for (const line of profile?.boot?.config_txt ?? []) console.log(line);
  ' "$APP" "$BUILT" "$SRC/boards/$BOARD.yaml") || die "cannot read boot.config_txt from $SRC/boards/$BOARD.yaml"
  added=()
  for line in "${lines[@]}"; do
    grep -qxF -- "$line" "$boot_config" || added+=("$line")
  done
  if [ ${#added[@]} -gt 0 ]; then
    # [all]: the end of config.txt may sit inside a [pi4]/[cm5] section.
    printf '\n# talkbox (%s)\n[all]\n' "$BOARD" >>"$boot_config"
    printf '%s\n' "${added[@]}" >>"$boot_config"
    say "added to $boot_config: ${added[*]} — reboot for them to take effect (sudo reboot)"
  else
    say "$boot_config already has the board's lines (${lines[*]:-none needed})"
  fi
fi

# ---- enable and start ------------------------------------------------------------------

if [ "$LIVE" -eq 1 ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  if command -v udevadm >/dev/null; then
    udevadm control --reload || true
    udevadm trigger --action=add --subsystem-match=sound --subsystem-match=tty --subsystem-match=gpio --subsystem-match=spidev || true
  fi
  systemctl enable talkbox.service >/dev/null 2>&1
  if [ "$START" -eq 1 ]; then
    systemctl reset-failed talkbox.service 2>/dev/null || true
    systemctl restart talkbox.service || die "talkbox did not start: journalctl -u talkbox -n 50"
    say "talkbox is running: journalctl -u talkbox -f"
  else
    say "enabled; start it with: sudo systemctl start talkbox"
  fi
elif [ "$LIVE" -eq 1 ]; then
  say "systemd is not running here: enable the service yourself (systemctl enable --now talkbox)"
else
  skip "systemctl daemon-reload, enable --now talkbox; udevadm reload"
fi

if ! grep -q '^    bot_id:' "$CONFIG" && ! grep -q '^  bot_id:' "$CONFIG" && grep -q '^  backend: coze' "$CONFIG"; then
  say "agent.coze.bot_id is not set yet: edit $CONFIG"
fi
if grep -q '^  backend: voiceapi' "$CONFIG" && ! grep -q '^    host:' "$CONFIG"; then
  say "agent.voiceapi.host is not set yet: edit $CONFIG (the host where the bot was built)"
fi
if [ ! -f "$TOKEN_PATH" ] && ! grep -q '^  token:' "$CONFIG"; then
  say "no agent token yet: sudo $PREFIX/scripts/install.sh --token-file FILE (or TOKEN on stdin with --token-file -)"
fi
say "done"
