#!/usr/bin/env bash
# SCIM compliance: the RFC 7643/7644 checker scim2-tester (from PyPI) against a live server's
# /scim/v2 with an organization's SCIM token. Every check must pass (ERROR or CRITICAL fails).
# Usage: bash .ci/scim-tester.sh
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/scim-tester-venv
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import scim2_tester, httpx2" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
        scim2-tester==0.5.2 scim2-client==0.13.2 scim2-models==0.12.3 'scim2-client[httpx2]==0.13.2'
fi
cargo build --locked --quiet -p portcullis
work=$(mktemp -d)
trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
db="$work/scim.db"
creds=$(./target/debug/portcullis init --org-name Scim --owner-email scim@example.com --owner-name Scim --json --database-url "$db" 2>/dev/null)
org=$(python3 -c "import json,sys; print(json.load(sys.stdin)['organizationId'])" <<<"$creds")
token=$(./target/debug/portcullis scim-token create --org-id "$org" --name scim2-tester --json --database-url "$db" 2>/dev/null \
    | python3 -c "import json,sys; print(json.load(sys.stdin)['token'])")
port=18282
./target/debug/portcullis serve --listen "127.0.0.1:$port" --database-url "$db" --rate-limit-per-minute 0 \
    --auth-failure-limit-per-minute 0 >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
"$venv/bin/python" .ci/scim-tester.py "http://127.0.0.1:$port/scim/v2" "$token"
