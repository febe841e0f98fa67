#!/bin/sh
# Makes sure the system programs the browser tests need are installed: Chromium (driven by
# playwright-core, which ships no browser) and ffmpeg/ffprobe (fake-camera videos, recording checks).
# Silent and quick when everything is present. When something is missing it installs Debian's
# packages if it can (root + apt-get); otherwise it names the packages to install and exits 1.
# CHROMIUM_PATH overrides the browser's location (default /usr/bin/chromium).
set -u

chromium_path="${CHROMIUM_PATH:-/usr/bin/chromium}"

missing() {
  out=""
  [ -x "$chromium_path" ] || out="$out chromium"
  command -v ffmpeg >/dev/null 2>&1 || out="$out ffmpeg"
  command -v ffprobe >/dev/null 2>&1 || case "$out" in *ffmpeg*) ;; *) out="$out ffmpeg" ;; esac
  printf '%s' "${out# }"
}

need="$(missing)"
[ -z "$need" ] && exit 0

echo "ensure-system-deps: missing: $need" >&2

# A CHROMIUM_PATH pointing elsewhere is the caller's to provide: Debian's package would not put it there.
installable=yes
case "$need" in *chromium*) [ -n "${CHROMIUM_PATH:-}" ] && [ "$CHROMIUM_PATH" != /usr/bin/chromium ] && installable=no ;; esac

if [ "$installable" = yes ] && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-system-deps: installing Debian packages: chromium ffmpeg" >&2
  # Wait (up to 5 min) for another apt/dpkg run to release its lock rather than failing at once.
  install() { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -q chromium ffmpeg >&2; }
  if ! install; then
    echo "ensure-system-deps: install failed; running apt-get update and retrying once" >&2
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -q >&2 || true
    install || true
  fi
  need="$(missing)"
  [ -z "$need" ] && exit 0
  echo "ensure-system-deps: still missing after apt-get install: $need" >&2
fi

cat >&2 <<MSG
ensure-system-deps: the browser tests need these system packages: $need
  Debian/Ubuntu:  sudo apt-get install -y chromium ffmpeg
  (Chromium elsewhere: set CHROMIUM_PATH to its executable; it is looked for at $chromium_path.)
MSG
exit 1
