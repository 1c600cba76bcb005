#!/usr/bin/env bash
# A throwaway PostgreSQL + PostGIS server for the PostGIS tests, on the loopback address only.
#
# Installs the Debian packages when absent (needs root and apt-get), creates a cluster in
# $APGEO_PG_DIR (default /tmp/apgeo-postgis) owned by the postgres user, starts it on
# 127.0.0.1:$APGEO_PG_PORT (default 54329) with password authentication, and creates the role
# and database apgeo_test with the postgis extension. It writes the connection string
# (no password) to $APGEO_PG_DIR/dsn and the test role's password to $APGEO_PG_DIR/password:
# tests/conftest.py reads both. Running it again with the server up does nothing.
# Where the server cannot be set up, it says why and exits 0: the PostGIS tests then skip.
set -uo pipefail

DIR="${APGEO_PG_DIR:-/tmp/apgeo-postgis}"
PORT="${APGEO_PG_PORT:-54329}"
PASSWORD="apgeo-test-only"   # a loopback-only test server; never used for real data
DSN="postgresql://apgeo_test@127.0.0.1:${PORT}/apgeo_test"

say() { echo "postgis-deps: $*"; }

bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

if [ -f "$DIR/dsn" ] && pg_isready -q -h 127.0.0.1 -p "$PORT" 2>/dev/null; then
  exit 0
fi
if [ -z "$(ls /usr/share/postgresql/*/extension/postgis.control 2>/dev/null)" ]; then
  bash "$(dirname "$0")/debian_test_deps.sh" now postgresql postgis
  if [ -z "$(ls /usr/share/postgresql/*/extension/postgis.control 2>/dev/null)" ]; then
    say "no PostGIS (not installed); PostGIS tests will be skipped"; exit 0
  fi
fi
BIN="$(bindir)"
if [ -z "$BIN" ] || ! id postgres >/dev/null 2>&1; then
  say "no PostgreSQL server binaries or postgres user; PostGIS tests will be skipped"; exit 0
fi
as_pg() { if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi; }

mkdir -p "$DIR" && chown postgres "$DIR" && chmod 755 "$DIR"
rm -f "$DIR/dsn" "$DIR/password"
if [ ! -f "$DIR/data/PG_VERSION" ]; then
  printf '%s\n' "$PASSWORD" > "$DIR/pwfile" && chown postgres "$DIR/pwfile"
  as_pg "$BIN/initdb" -D "$DIR/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
    --pwfile="$DIR/pwfile" -E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 \
    || { say "initdb failed (see $DIR/initdb.log); PostGIS tests will be skipped"; exit 0; }
  rm -f "$DIR/pwfile"
fi
if ! pg_isready -q -h 127.0.0.1 -p "$PORT" 2>/dev/null; then
  as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
    -o "-h 127.0.0.1 -p $PORT -k $DIR -c fsync=off -c full_page_writes=off" start >/dev/null \
    || { say "the server did not start (see $DIR/server.log); PostGIS tests will be skipped"; exit 0; }
fi
as_pg psql -q -h "$DIR" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 >/dev/null <<SQL || { say "could not create the test role and database; PostGIS tests will be skipped"; exit 0; }
SELECT 'CREATE ROLE apgeo_test LOGIN PASSWORD ''${PASSWORD}'''
  WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'apgeo_test') \gexec
SELECT 'CREATE DATABASE apgeo_test OWNER apgeo_test'
  WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'apgeo_test') \gexec
\c apgeo_test
CREATE EXTENSION IF NOT EXISTS postgis;
SQL
printf '%s\n' "$PASSWORD" > "$DIR/password"
printf '%s\n' "$DSN" > "$DIR/dsn"
chmod 644 "$DIR/dsn" "$DIR/password"
say "PostGIS test server at $DSN"
