#!/usr/bin/env bash
# Measures Tacit's most frequent reads as a user would: starts the real binary on a fresh
# data dir on loopback, seeds it through its own commands and API, and runs wrk against
# it and against the same home-timeline page served from memory (the static-JSON
# ceiling), in one run, printing each rate as a ratio to that ceiling. Given a
# GoToSocial binary, it starts GoToSocial the same way in the same run, seeds it with the
# same accounts, statuses and follow, runs the same requests against it and prints each
# Tacit rate as a ratio to GoToSocial's too. Ratios, not absolute figures, are what
# compare across machines and runs.
#
# It also times start to healthy on the existing data dir (median of STARTS restarts)
# and reads each server's memory (VmRSS, and its anonymous part, from /proc) after
# start, after the requests and after IDLE seconds of idling; for Tacit also the Go
# heap, which `tacit serve` logs on SIGUSR1.
#
#   bench/compare.sh                                   # SQLite
#   TACIT_DATABASE=postgres://…/fresh_db bench/compare.sh   # an empty PostgreSQL database
#   GTS_BIN=/path/to/gotosocial bench/compare.sh       # GoToSocial beside it
#
# Settings (environment): STATUSES (200), CONNECTIONS (20), THREADS (2), DURATION (10s),
# STARTS (5), IDLE (60, seconds). GoToSocial: GTS_BIN, and GTS_WEB_DIR, the folder
# holding its web/template (default: the binary's folder, as in its source tree).
# Needs: go, curl, python3, wrk (Debian: apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."

STATUSES=${STATUSES:-200}
CONNECTIONS=${CONNECTIONS:-20}
THREADS=${THREADS:-2}
DURATION=${DURATION:-10s}
STARTS=${STARTS:-5}
IDLE=${IDLE:-60}
GTS_BIN=${GTS_BIN:-}

for tool in go curl python3 wrk; do
  command -v "$tool" >/dev/null || { echo "compare.sh needs $tool" >&2; exit 1; }
done
if [ -n "$GTS_BIN" ]; then
  [ -x "$GTS_BIN" ] || { echo "GTS_BIN=$GTS_BIN is not an executable" >&2; exit 1; }
  GTS_WEB_DIR=${GTS_WEB_DIR:-$(cd "$(dirname "$GTS_BIN")" && pwd)}
  [ -f "$GTS_WEB_DIR/web/template/index.tmpl" ] || {
    echo "no web/template/index.tmpl in $GTS_WEB_DIR: set GTS_WEB_DIR to GoToSocial's source tree" >&2
    exit 1
  }
fi

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
first_id() { python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["id"])'; }
median() { python3 -c 'import statistics, sys; print(round(statistics.median(float(x) for x in sys.argv[1:])))' "$@"; }

CGO_ENABLED=0 go build -o "$work/tacit" ./cmd/tacit
go build -o "$work/staticjson" ./bench/staticjson
go build -o "$work/healthwait" ./bench/healthwait

# memory NAME PID: appends "NAME rss_mb anon_mb" to $work/memory.
memory() {
  python3 - "$1" "$2" >>"$work/memory" <<'PY'
import sys
name, pid = sys.argv[1], sys.argv[2]
kb = {}
for line in open(f"/proc/{pid}/status"):
    key, _, value = line.partition(":")
    if key in ("VmRSS", "RssAnon"):
        kb[key] = int(value.split()[0])
print(f"{name} {kb['VmRSS'] / 1024:.1f} {kb['RssAnon'] / 1024:.1f}")
PY
}

# tacit_heap NAME PID: asks Tacit for its Go memory figures (SIGUSR1) and appends them.
tacit_heap() {
  local before
  before=$(grep -c 'msg=memory' "$work/serve.log" || true)
  kill -USR1 "$2"
  for _ in $(seq 1 50); do
    [ "$(grep -c 'msg=memory' "$work/serve.log" || true)" -gt "$before" ] && break
    sleep 0.1
  done
  echo "$1 $(grep 'msg=memory' "$work/serve.log" | tail -1 | sed 's/.*msg=memory //')" >>"$work/heap"
}

# measure NAME URL [TOKEN]: prints "NAME requests/s p99_ms non-2xx"
measure() {
  local name=$1 url=$2 token=${3:-}
  # wrk sends no User-Agent by default, and GoToSocial refuses such requests (418).
  local args=(-t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -H "User-Agent: compare.sh")
  [ -n "$token" ] && args+=(-H "Authorization: Bearer $token")
  # Every request must answer 200 before it is timed.
  curl -fsS -o /dev/null ${token:+-H "Authorization: Bearer $token"} "$url" || { echo "$name: $url fails" >&2; exit 1; }
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

# The same requests against one server: PREFIX BASE HOST READER_TOKEN AUTHOR_TOKEN
# AUTHOR_ID STATUS_ID.
workload() {
  local p=$1 base=$2 host=$3 reader=$4 author=$5 author_id=$6 status_id=$7
  measure "${p}home" "$base/api/v1/timelines/home?limit=20" "$reader"
  measure "${p}public" "$base/api/v1/timelines/public?limit=20" "$reader"
  measure "${p}verify_credentials" "$base/api/v1/accounts/verify_credentials" "$reader"
  measure "${p}account" "$base/api/v1/accounts/$author_id" "$reader"
  measure "${p}status" "$base/api/v1/statuses/$status_id" "$reader"
  measure "${p}notifications" "$base/api/v1/notifications?limit=20" "$author"
  measure "${p}webfinger" "$base/.well-known/webfinger?resource=acct:author@$host"
}

# until_json BASE TOKEN PATH PYTHON_CONDITION: polls a JSON answer (as `d`) for up to
# 30 s until the condition holds. GoToSocial accepts a follow and fills home timelines
# in the background; Tacit has both done when the request returns.
until_json() {
  local base=$1 token=$2 path=$3 condition=$4
  for _ in $(seq 1 300); do
    curl -fsSg -H "Authorization: Bearer $token" "$base$path" |
      python3 -c "import json, sys; d = json.load(sys.stdin); sys.exit(0 if ($condition) else 1)" && return 0
    sleep 0.1
  done
  echo "$base$path: still not ($condition) after 30 s" >&2
  return 1
}

# seed BASE READER_TOKEN AUTHOR_TOKEN: the reader follows the author, who posts
# $STATUSES public statuses; prints the author's id and the newest status's id.
seed() {
  local base=$1 reader=$2 author=$3 author_id i id
  author_id=$(curl -fsS -H "Authorization: Bearer $reader" "$base/api/v1/accounts/lookup?acct=author" | json_field id)
  curl -fsS -X POST -H "Authorization: Bearer $reader" "$base/api/v1/accounts/$author_id/follow" >/dev/null
  # GoToSocial's new accounts approve followers by hand: the author accepts.
  for id in $(curl -fsS -H "Authorization: Bearer $author" "$base/api/v1/follow_requests" |
    python3 -c 'import json, sys; print(" ".join(a["id"] for a in json.load(sys.stdin)))'); do
    curl -fsS -X POST -H "Authorization: Bearer $author" "$base/api/v1/follow_requests/$id/authorize" >/dev/null
  done
  until_json "$base" "$reader" "/api/v1/accounts/relationships?id[]=$author_id" 'd[0]["following"]'
  for i in $(seq 1 "$STATUSES"); do
    curl -fsS -X POST -H "Authorization: Bearer $author" "$base/api/v1/statuses" \
      --data-urlencode "status=Status number $i about #golang and #kubernetes" \
      --data-urlencode "visibility=public" >/dev/null
  done
  until_json "$base" "$reader" "/api/v1/timelines/home?limit=20" "len(d) == min(20, $STATUSES)"
  echo "$author_id $(curl -fsS -H "Authorization: Bearer $reader" "$base/api/v1/timelines/home?limit=1" | first_id)"
}

# ---- Tacit ----

port=$(free_port)
host="127.0.0.1:$port"
# Open federation mode: WebFinger then answers unsigned requests, as it does on the
# servers Tacit is compared with; the timelines are the same in both modes.
export TACIT_DATA_DIR="$work/data" TACIT_HOST="$host" TACIT_LISTEN="$host" TACIT_PROTOCOL=http \
  TACIT_RATE_LIMIT_REQUESTS=0 TACIT_LOG_LEVEL=warn TACIT_LOG_FORMAT=text TACIT_CONFIG= TACIT_FEDERATION_MODE=open
base="http://$host"

"$work/tacit" init >/dev/null
for user in author reader; do
  echo "a long benchmark passphrase" | "$work/tacit" admin create-user --username "$user" --password-stdin >/dev/null
done
author_token=$("$work/tacit" admin token --username author --scopes "read write follow")
reader_token=$("$work/tacit" admin token --username reader --scopes "read write follow")

# start_tacit: starts serve and waits until it is healthy; sets tacit_pid and
# start_ms (the milliseconds that took).
tacit_pid=
start_ms=
start_tacit() {
  local since
  since=$(date +%s%N)
  "$work/tacit" serve 2>>"$work/serve.log" &
  tacit_pid=$!
  pids+=("$tacit_pid")
  start_ms=$("$work/healthwait" -url "$base/health" -since "$since" -pid "$tacit_pid") || { cat "$work/serve.log" >&2; exit 1; }
}
stop_tacit() { kill "$tacit_pid"; wait "$tacit_pid" || true; }

start_tacit
echo "seeding Tacit: $STATUSES statuses"
read -r author_id status_id < <(seed "$base" "$reader_token" "$author_token")

# Start time on the existing data dir (database, keys and search index all there).
starts=()
for _ in $(seq 1 "$STARTS"); do
  stop_tacit
  start_tacit
  starts+=("$start_ms")
done
tacit_start_ms=$(median "${starts[@]}")
echo "Tacit start to healthy, ms: ${starts[*]}"
sleep 2
memory tacit_started "$tacit_pid"
tacit_heap tacit_started "$tacit_pid"

curl -fsS -H "Authorization: Bearer $reader_token" "$base/api/v1/timelines/home?limit=20" >"$work/home.json"
static_port=$(free_port)
"$work/staticjson" -file "$work/home.json" -listen "127.0.0.1:$static_port" 2>/dev/null &
pids+=($!)
"$work/healthwait" -url "http://127.0.0.1:$static_port/" >/dev/null

results="$work/results"
{
  measure static "http://127.0.0.1:$static_port/"
  workload "" "$base" "$host" "$reader_token" "$author_token" "$author_id" "$status_id"
} >"$results"
memory tacit_loaded "$tacit_pid"
tacit_heap tacit_loaded "$tacit_pid"
loaded_at=$(date +%s)

# ---- GoToSocial ----

if [ -n "$GTS_BIN" ]; then
  gts_port=$(free_port)
  gts_host="127.0.0.1:$gts_port"
  gts_base="http://$gts_host"
  gts_dir="$work/gts"
  mkdir -p "$gts_dir/storage"
  cat >"$gts_dir/config.yaml" <<EOF
host: "$gts_host"
protocol: "http"
bind-address: "127.0.0.1"
port: $gts_port
db-type: "sqlite"
db-address: "$gts_dir/sqlite.db"
storage-local-base-path: "$gts_dir/storage"
web-template-base-dir: "$GTS_WEB_DIR/web/template"
web-asset-base-dir: "$GTS_WEB_DIR/web/assets"
letsencrypt-enabled: false
log-level: "warn"
advanced-rate-limit-requests: 0
advanced-throttling-multiplier: 0
EOF
  gts() { "$GTS_BIN" --config-path "$gts_dir/config.yaml" "$@"; }
  gts_password="Bench passphrase for compare.sh, 2026!"
  gts_pid=
  start_gts() {
    local since
    since=$(date +%s%N)
    "$GTS_BIN" --config-path "$gts_dir/config.yaml" server start >>"$gts_dir/server.log" 2>&1 &
    gts_pid=$!
    pids+=("$gts_pid")
    start_ms=$("$work/healthwait" -url "$gts_base/readyz" -timeout 120s -since "$since" -pid "$gts_pid") ||
      { cat "$gts_dir/server.log" >&2; exit 1; }
  }
  stop_gts() { kill "$gts_pid"; wait "$gts_pid" || true; }

  # The server creates and migrates its database on first start; accounts are then
  # created with its admin command while it is stopped (SQLite, one process).
  start_gts
  stop_gts
  for user in author reader; do
    gts admin account create --username "$user" --email "$user@example.org" --password "$gts_password" >>"$gts_dir/admin.log" 2>&1
    gts admin account confirm --username "$user" >>"$gts_dir/admin.log" 2>&1
  done
  start_gts

  # gts_token USER: an access token through GoToSocial's own OAuth flow, driven as a
  # browser would: register an app, ask to authorize (which leads to sign-in), sign in,
  # approve, and exchange the out-of-band code for a token.
  gts_token() {
    local user=$1 jar="$gts_dir/cookies.$1" app client_id client_secret code
    local oob="urn:ietf:wg:oauth:2.0:oob"
    app=$(curl -fsS -X POST "$gts_base/api/v1/apps" --data-urlencode "client_name=compare-$user" \
      --data-urlencode "redirect_uris=$oob" --data-urlencode "scopes=read write follow")
    client_id=$(echo "$app" | json_field client_id)
    client_secret=$(echo "$app" | json_field client_secret)
    curl -fsS -o /dev/null -c "$jar" -b "$jar" -H "Accept: text/html" -G "$gts_base/oauth/authorize" \
      --data-urlencode "client_id=$client_id" --data-urlencode "redirect_uri=$oob" \
      --data-urlencode "response_type=code" --data-urlencode "scope=read write follow"
    curl -fsS -o /dev/null -c "$jar" -b "$jar" -X POST "$gts_base/auth/sign_in" \
      --data-urlencode "username=$user@example.org" --data-urlencode "password=$gts_password"
    code=$(curl -fsS -o /dev/null -c "$jar" -b "$jar" -X POST "$gts_base/oauth/authorize" -w '%{redirect_url}' |
      python3 -c 'import sys, urllib.parse; print(urllib.parse.parse_qs(urllib.parse.urlsplit(sys.stdin.read().strip()).query)["code"][0])')
    curl -fsS -X POST "$gts_base/oauth/token" --data-urlencode "grant_type=authorization_code" \
      --data-urlencode "code=$code" --data-urlencode "client_id=$client_id" \
      --data-urlencode "client_secret=$client_secret" --data-urlencode "redirect_uri=$oob" | json_field access_token
  }
  gts_author_token=$(gts_token author)
  gts_reader_token=$(gts_token reader)
  echo "seeding GoToSocial: $STATUSES statuses"
  read -r gts_author_id gts_status_id < <(seed "$gts_base" "$gts_reader_token" "$gts_author_token")

  gts_starts=()
  for _ in $(seq 1 "$STARTS"); do
    stop_gts
    start_gts
    gts_starts+=("$start_ms")
  done
  gts_start_ms=$(median "${gts_starts[@]}")
  echo "GoToSocial start to readyz, ms: ${gts_starts[*]}"
  sleep 2
  memory gts_started "$gts_pid"
  workload gts_ "$gts_base" "$gts_host" "$gts_reader_token" "$gts_author_token" "$gts_author_id" "$gts_status_id" >>"$results"
  memory gts_loaded "$gts_pid"
fi

# Idle: what each server holds IDLE seconds after its last request.
sleep $((IDLE > $(date +%s) - loaded_at ? IDLE - ($(date +%s) - loaded_at) : 0))
memory tacit_idle "$tacit_pid"
tacit_heap tacit_idle "$tacit_pid"
if [ -n "$GTS_BIN" ]; then
  sleep "$IDLE"
  memory gts_idle "$gts_pid"
fi

echo
database=sqlite
[ -n "${TACIT_DATABASE:-}" ] && database=postgresql
echo "wrk -t$THREADS -c$CONNECTIONS -d$DURATION; $STATUSES statuses; Tacit on $database"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$results" "$work/memory" "$work/heap" "$tacit_start_ms" "${gts_start_ms:-}" "$IDLE" <<'PY'
import sys
results, memory, heap, tacit_start, gts_start, idle = sys.argv[1:7]
rows = {}
for line in open(results):
    name, rps, p99, errors = line.split()
    rows[name] = (float(rps), float(p99), int(errors))
static = rows["static"][0]
gts = any(name.startswith("gts_") for name in rows)
head = f"{'request':<20}{'req/s':>9}{'p99 ms':>9}{'non-2xx':>9}{'× static':>10}"
if gts:
    head += f"{'GTS req/s':>11}{'GTS p99':>9}{'GTS non-2xx':>12}{'× GTS':>8}"
print(head)
for name, (rps, p99, errors) in rows.items():
    if name.startswith("gts_"):
        continue
    line = f"{name:<20}{rps:>9.0f}{p99:>9.2f}{errors:>9}{rps / static:>10.3f}"
    if gts and "gts_" + name in rows:
        grps, gp99, gerr = rows["gts_" + name]
        line += f"{grps:>11.0f}{gp99:>9.2f}{gerr:>12}{rps / grps:>8.2f}"
    print(line)

mem = {}
for line in open(memory):
    name, rss, anon = line.split()
    mem[name] = (float(rss), float(anon))
go = {}
for line in open(heap):
    name, *pairs = line.split()
    go[name] = dict(p.split("=", 1) for p in pairs)
print()
print(f"{'':<52}{'Tacit':>22}{'GoToSocial':>22}" if gts else f"{'':<52}{'Tacit':>22}")
def row(label, t, g=""):
    print(f"{label:<52}{t:>22}{g:>22}" if gts else f"{label:<52}{t:>22}")
row("start to healthy (median), ms", tacit_start, gts_start)
for when, label in (("started", "after start"), ("loaded", "after the requests"), ("idle", f"after {idle} s idle")):
    t = mem.get("tacit_" + when)
    g = mem.get("gts_" + when)
    fmt = lambda m: f"{m[0]:.1f} ({m[1]:.1f} anon)" if m else "–"
    row(f"RSS MB {label}", fmt(t), fmt(g))
for when, label in (("started", "after start"), ("loaded", "after the requests"), ("idle", f"after {idle} s idle")):
    h = go.get("tacit_" + when, {})
    row(f"Go heap live / free / released MB {label}",
        f"{h.get('heap_live_mb', '?')} / {h.get('heap_free_mb', '?')} / {h.get('heap_released_mb', '?')}")
PY
