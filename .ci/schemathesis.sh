#!/usr/bin/env bash
# API fuzzing: schemathesis (from PyPI) against the live server's /openapi.json with valid
# credentials, on every operation. Checks: no 5xx, documented status codes, documented content
# types, responses conform to the documented schemas, documented headers.
# Usage: bash .ci/schemathesis.sh [max-examples per operation, default 20]
# One worker: with two, hypothesis's lambda descriptions call `ast.parse` from two threads at once,
# which this CPython (3.11) sometimes rejects ("AST constructor recursion depth mismatch") — a tool
# error, not a finding.
set -euo pipefail
cd "$(dirname "$0")/.."
examples=${1:-20}
venv=target/schemathesis-venv
if [ ! -x "$venv/bin/schemathesis" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check schemathesis==4.32.5
fi
cargo build --locked --quiet -p portcullis
work=$(mktemp -d)
trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
db="$work/fuzz.db"
creds=$(./target/debug/portcullis init --org-name Fuzz --owner-email fuzz@example.com --owner-name Fuzz --json --database-url "$db" 2>/dev/null)
field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])" <<<"$creds"; }
port=18181
./target/debug/portcullis serve --listen "127.0.0.1:$port" --database-url "$db" --rate-limit-per-minute 0 \
    --auth-failure-limit-per-minute 0 \
    >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
"$venv/bin/schemathesis" run "http://127.0.0.1:$port/openapi.json" \
    -H "X-API-KEY: $(field apiKey)" -H "X-API-SECRET: $(field apiSecret)" \
    -H "Authorization: Bearer $(field ownerToken)" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance \
    --max-examples "$examples" --workers 1 --seed 1
