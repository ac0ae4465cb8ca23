#!/usr/bin/env bash
# Starts a throw-away PostgreSQL cluster on 127.0.0.1 (installing PostgreSQL from Debian's
# packages when it is missing) and prints the URL of an empty database for the test suite:
#   export PORTCULLIS_TEST_DATABASE_URL=$(bash .ci/postgres.sh)
# Logs go to stderr so that stdout is only the URL.
set -euo pipefail

find_bin() {
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        if [ -x "$dir/initdb" ]; then echo "$dir"; return 0; fi
    done
    if command -v initdb >/dev/null 2>&1; then dirname "$(command -v initdb)"; return 0; fi
    return 1
}

if ! bindir=$(find_bin); then
    echo "installing PostgreSQL from Debian packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    sudo=()
    if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then sudo=(sudo -E); fi
    ("${sudo[@]}" apt-get update -qq && "${sudo[@]}" apt-get install -y -qq postgresql >/dev/null) >&2
    bindir=$(find_bin)
fi

port=${PGPORT_FOR_TESTS:-55432}
base=${PG_TEST_DIR:-/tmp/portcullis-pg}
run_as=()
if [ "$(id -u)" = "0" ]; then
    # PostgreSQL refuses to run as root.
    id postgres >/dev/null 2>&1 || useradd --system --home "$base" postgres >&2
    run_as=(runuser -u postgres --)
fi

if ! "${run_as[@]}" "$bindir/pg_ctl" -D "$base/data" status >/dev/null 2>&1; then
    rm -rf "$base"
    mkdir -p "$base"
    [ ${#run_as[@]} -gt 0 ] && chown postgres "$base"
    "${run_as[@]}" "$bindir/initdb" -D "$base/data" -U postgres --auth=trust -E UTF8 >/dev/null
    "${run_as[@]}" "$bindir/pg_ctl" -D "$base/data" -l "$base/log" -w \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $base -c max_connections=400 -c fsync=off -c synchronous_commit=off" \
        start >&2
fi
"$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -qtAc "DROP DATABASE IF EXISTS portcullis_test" >&2
"$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -qtAc "CREATE DATABASE portcullis_test" >&2
echo "postgres://postgres@127.0.0.1:$port/portcullis_test"
