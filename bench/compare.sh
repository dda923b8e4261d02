#!/usr/bin/env bash
# Measures Tacit's most frequent reads as a user would: starts the real binary on a fresh
# data dir on loopback, seeds it through its own commands and API, and runs wrk against
# it and against the same home-timeline page served from memory (the static-JSON
# ceiling), in one run, printing each rate as a ratio to that ceiling. Ratios, not
# absolute figures, are what compare across machines and runs.
#
#   bench/compare.sh                      # SQLite
#   TACIT_DATABASE=postgres://… bench/compare.sh
#   GTS_URL=http://127.0.0.1:8081 GTS_TOKEN=… bench/compare.sh   # GoToSocial beside it
#
# Settings (environment): STATUSES (200), CONNECTIONS (20), THREADS (2), DURATION (10s).
# Needs: go, curl, python3, wrk (Debian: apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."

STATUSES=${STATUSES:-200}
CONNECTIONS=${CONNECTIONS:-20}
THREADS=${THREADS:-2}
DURATION=${DURATION:-10s}

for tool in go curl python3 wrk; do
  command -v "$tool" >/dev/null || { echo "compare.sh needs $tool" >&2; exit 1; }
done

work=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
json_field() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

CGO_ENABLED=0 go build -o "$work/tacit" ./cmd/tacit
go build -o "$work/staticjson" ./bench/staticjson

port=$(free_port)
host="127.0.0.1:$port"
# Open federation mode: WebFinger then answers unsigned requests, as it does on the
# servers Tacit is compared with; the timelines are the same in both modes.
export TACIT_DATA_DIR="$work/data" TACIT_HOST="$host" TACIT_LISTEN="$host" TACIT_PROTOCOL=http \
  TACIT_RATE_LIMIT_REQUESTS=0 TACIT_LOG_LEVEL=warn TACIT_CONFIG= TACIT_FEDERATION_MODE=open
base="http://$host"

"$work/tacit" init >/dev/null
for user in author reader; do
  echo "a long benchmark passphrase" | "$work/tacit" admin create-user --username "$user" --password-stdin >/dev/null
done
author_token=$("$work/tacit" admin token --username author --scopes "read write follow")
reader_token=$("$work/tacit" admin token --username reader --scopes "read write follow")

"$work/tacit" serve 2>"$work/serve.log" &
pids+=($!)
for _ in $(seq 1 100); do
  curl -fs "$base/health" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fs "$base/health" >/dev/null || { echo "tacit did not start:" >&2; cat "$work/serve.log" >&2; exit 1; }

api() { # api TOKEN METHOD PATH [curl args…]
  local token=$1 method=$2 path=$3
  shift 3
  curl -fsS -X "$method" -H "Authorization: Bearer $token" "$base$path" "$@"
}

author_id=$(api "$reader_token" GET "/api/v1/accounts/lookup?acct=author" | json_field id)
api "$reader_token" POST "/api/v1/accounts/$author_id/follow" >/dev/null
echo "seeding $STATUSES statuses"
for i in $(seq 1 "$STATUSES"); do
  api "$author_token" POST /api/v1/statuses --data-urlencode "status=Status number $i about #golang and #kubernetes" \
    --data-urlencode "visibility=public" >/dev/null
done
status_id=$(api "$reader_token" GET "/api/v1/timelines/home?limit=1" | python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["id"])')

api "$reader_token" GET "/api/v1/timelines/home?limit=20" >"$work/home.json"
static_port=$(free_port)
"$work/staticjson" -file "$work/home.json" -listen "127.0.0.1:$static_port" 2>/dev/null &
pids+=($!)
for _ in $(seq 1 50); do
  curl -fs "http://127.0.0.1:$static_port/" >/dev/null 2>&1 && break
  sleep 0.1
done

# measure NAME URL [TOKEN]: prints "NAME requests/s p99_ms"
measure() {
  local name=$1 url=$2 token=${3:-}
  local args=(-t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency)
  [ -n "$token" ] && args+=(-H "Authorization: Bearer $token")
  wrk "${args[@]}" "$url" >"$work/wrk.out"
  python3 - "$name" "$work/wrk.out" <<'PY'
import re, sys
name, path = sys.argv[1], sys.argv[2]
text = open(path).read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
m = re.search(r"^\s*99%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
p99 = float(m.group(1)) * {"us": 0.001, "ms": 1, "s": 1000}[m.group(2)]
errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
print(f"{name} {rps:.0f} {p99:.2f} {errors.group(1) if errors else 0}")
PY
}

results="$work/results"
{
  measure static "http://127.0.0.1:$static_port/"
  measure home "$base/api/v1/timelines/home?limit=20" "$reader_token"
  measure public "$base/api/v1/timelines/public?limit=20" "$reader_token"
  measure verify_credentials "$base/api/v1/accounts/verify_credentials" "$reader_token"
  measure account "$base/api/v1/accounts/$author_id" "$reader_token"
  measure status "$base/api/v1/statuses/$status_id" "$reader_token"
  measure notifications "$base/api/v1/notifications?limit=20" "$author_token"
  measure webfinger "$base/.well-known/webfinger?resource=acct:author@$host"
  if [ -n "${GTS_URL:-}" ] && [ -n "${GTS_TOKEN:-}" ]; then
    measure gts_home "$GTS_URL/api/v1/timelines/home?limit=20" "$GTS_TOKEN"
    measure gts_public "$GTS_URL/api/v1/timelines/public?limit=20" "$GTS_TOKEN"
    measure gts_verify_credentials "$GTS_URL/api/v1/accounts/verify_credentials" "$GTS_TOKEN"
  fi
} >"$results"

echo
echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION; $STATUSES statuses; database: ${TACIT_DATABASE:-sqlite}"
python3 - "$results" <<'PY'
import sys
rows = [line.split() for line in open(sys.argv[1])]
static = float(rows[0][1])
print(f"{'request':<24}{'req/s':>10}{'p99 ms':>10}{'non-2xx':>9}{'× static':>10}")
for name, rps, p99, errors in rows:
    print(f"{name:<24}{float(rps):>10.0f}{float(p99):>10.2f}{errors:>9}{float(rps) / static:>10.3f}")
PY
