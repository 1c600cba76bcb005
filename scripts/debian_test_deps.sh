#!/usr/bin/env bash
# The Debian packages the tests use, installed by the project itself (CI starts from a bare
# machine): headless Chromium for the browser tests, PostgreSQL + PostGIS for the PostGIS
# tests, and QGIS's Python bindings for the test that opens the study's GeoPackage in QGIS.
#
#   scripts/debian_test_deps.sh start   # `make test` runs this first: installs in the background
#   scripts/debian_test_deps.sh wait    # blocks until the packages the test run needs are in
#   scripts/debian_test_deps.sh now PKG...  # installs the missing ones of PKG... now (the
#                                        # make targets and the PostGIS server script)
#
# Two phases, one apt-get at a time: first chromium, chromium-driver, postgresql, postgis
# (the test run waits for them: `wait`), then python3-qgis (about 5.5 min; it installs while
# lint, type checks, docs and most tests run; the QGIS test waits for it, see
# tests/test_gis.py). Only missing packages are installed. Where there is no apt-get or
# no root, nothing is installed and the tests that need the packages skip with the reason.
# State in $APGEO_DEPS_DIR (default /tmp/apgeo-debian-deps): started, browser-db.done,
# qgis.done (each written whatever the outcome) and log.
set -uo pipefail

DIR="${APGEO_DEPS_DIR:-/tmp/apgeo-debian-deps}"
read -r -a FIRST <<<"${APGEO_DEPS_FIRST:-chromium chromium-driver postgresql postgis}"
read -r -a SECOND <<<"${APGEO_DEPS_SECOND:-python3-qgis}"

say() { echo "debian-test-deps: $*"; }

missing() {
  local out=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || out+=("$p"); done
  echo "${out[@]:-}"
}

install() {  # install [apt-get option] the missing ones of the rest; never fails the caller
  local opt="$1" need
  shift
  need="$(missing "$@")"
  [ -z "$need" ] && return 0
  echo "installing: $need"
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $opt $need || echo "could not install: $need"
}

run_all() {
  {
    if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
      echo "no apt-get or not root: nothing installed"
    else
      if [ -n "$(missing "${FIRST[@]}" "${SECOND[@]}")" ]; then
        apt-get update -qq || echo "apt-get update failed"
      fi
      install "" "${FIRST[@]}"
    fi
    touch "$DIR/browser-db.done"
    if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
      install "" "${SECOND[@]}"
    fi
    touch "$DIR/qgis.done"
  } >>"$DIR/log" 2>&1
}

case "${1:-}" in
  start)
    if [ -f "$DIR/started" ] && [ ! -f "$DIR/qgis.done" ] && kill -0 "$(cat "$DIR/started")" 2>/dev/null; then
      exit 0  # already installing
    fi
    mkdir -p "$DIR" && rm -f "$DIR/browser-db.done" "$DIR/qgis.done"
    run_all </dev/null >/dev/null 2>&1 &  # detached from make's output
    echo $! >"$DIR/started"
    say "installing test packages in the background (log: $DIR/log)"
    ;;
  wait)
    [ -f "$DIR/started" ] || exit 0  # nothing started: the targets install what they need
    pid="$(cat "$DIR/started")"
    for _ in $(seq 1 1800); do
      [ -f "$DIR/browser-db.done" ] && exit 0
      kill -0 "$pid" 2>/dev/null || exit 0
      sleep 1
    done
    say "still installing after 30 min; going on (the tests that need the packages skip)"
    ;;
  now)
    shift
    [ -z "$(missing "$@")" ] && exit 0
    if ! command -v apt-get >/dev/null 2>&1 || [ "$(id -u)" != 0 ]; then
      say "no apt-get or not root: $(missing "$@") not installed; the tests that need them skip"
      exit 0
    fi
    apt-get update -qq >/dev/null 2>&1 || say "apt-get update failed"
    install "" "$@" 2>&1 | { grep -E '^(installing|could not install)' || true; } | sed 's/^/debian-test-deps: /'
    ;;
  *)
    echo "usage: $0 start|wait|now PKG..." >&2
    exit 2
    ;;
esac
