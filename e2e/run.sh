#!/usr/bin/env bash
# End-to-end test run by `make test` (target test-e2e, after `make build`):
# ./bin/multiline serve --dev on a free loopback port with a throwaway SQLite
# database, the Microsoft 365 Agents Playground against it, and
# e2e/playground.e2e.mjs driving the playground in headless Chromium.
# Screenshots and logs go to test-artifacts/e2e/. Every wait is bounded.
#
#   MULTILINE_BIN  the binary under test (default ./bin/multiline)
#   CHROMIUM       browser binary        (default /usr/bin/chromium)
#   CI             when "true", a missing tool fails the run instead of skipping it
set -uo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bin="${MULTILINE_BIN:-$root/bin/multiline}"
chromium="${CHROMIUM:-/usr/bin/chromium}"
playground="$root/node_modules/.bin/agentsplayground"
artifacts="$root/test-artifacts/e2e"

say() { echo "e2e: $*"; }
result() { # passed failed
  say "$1 passed, $2 failed"
  [ "$2" -eq 0 ]
  exit $?
}

# Tools. Under CI they must be there (the Makefile installs them); on a laptop a
# missing browser or node only skips, saying what is missing.
missing=""
command -v node >/dev/null 2>&1 || missing="node"
[ -x "$chromium" ] || missing="${missing:+$missing, }chromium at $chromium"
[ -x "$playground" ] || missing="${missing:+$missing, }$playground (npm ci)"
[ -d "$root/node_modules/playwright-core" ] || missing="${missing:+$missing, }node_modules/playwright-core (npm ci)"
if [ -n "$missing" ]; then
  if [ "${CI:-}" = "true" ]; then
    say "FAIL: missing $missing"
    result 0 1
  fi
  say "SKIP: missing $missing (set CI=true to make this a failure; 'make tools' installs them)"
  say "0 passed, 0 failed, 1 skipped"
  exit 0
fi
if [ ! -x "$bin" ]; then
  say "FAIL: $bin not found (run make build)"
  result 0 1
fi

mkdir -p "$artifacts"
rm -f "$artifacts"/*.png "$artifacts"/*.log
work="$(mktemp -d "${TMPDIR:-/tmp}/multiline-e2e.XXXXXX")"
service_pid="" playground_pid="" test_pid=""

# stop ends a process we started: TERM, then KILL if it is still there after $2 s.
stop() {
  local pid="$1" grace="$2"
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq $((grace * 10))); do
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
}
cleanup() {
  stop "$test_pid" 5
  stop "$playground_pid" 5
  stop "$service_pid" 10
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for polls a command for at most $2 seconds; $3 is a process that must stay alive.
wait_for() {
  local what="$1" secs="$2" pid="$3"
  shift 3
  local end=$((SECONDS + secs))
  while [ $SECONDS -lt $end ]; do
    "$@" >/dev/null 2>&1 && return 0
    if ! kill -0 "$pid" 2>/dev/null; then
      say "FAIL: the process for $what exited"
      return 1
    fi
    sleep 0.3
  done
  say "FAIL: no $what within ${secs}s"
  return 1
}

free_port() {
  node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

fail() {
  say "FAIL: $*"
  for f in "$artifacts/service.log" "$artifacts/playground.log"; do
    [ -s "$f" ] && { echo "---- last lines of ${f#"$root"/}"; tail -n 25 "$f"; }
  done
  say "screenshots and logs in ${artifacts#"$root"/}/"
  result 0 1
}

# The service, local mode, with the built-in fake WeChat (a set WECOM_API_BASE
# would replace it).
port="$(free_port)" || fail "no free port"
addr="127.0.0.1:$port"
unset WECOM_API_BASE WECHAT_API_BASE MULTILINE_PUBLIC_URL
MULTILINE_ADDR="$addr" MULTILINE_DATABASE_URL="sqlite:$work/multiline.db" \
  "$bin" serve --dev >"$artifacts/service.log" 2>&1 &
service_pid=$!
wait_for "service /readyz on $addr" 30 "$service_pid" curl -fsS -m 2 "http://$addr/readyz" || fail "service did not start"
say "service ready on http://$addr"

# The playground. It answers on another port when the one asked for is busy,
# so the port is read from its "Listening on" line.
BOT_ENDPOINT="http://$addr/api/messages" TEAMSAPPTESTER_BROWSER=none \
  M365_AGENTS_PLAYGROUND_CONFIG_PATH="$root/e2e/playground.yml" \
  M365_AGENTS_PLAYGROUND_LOGFILE="$artifacts/playground.log" \
  node "$playground" start --disable-telemetry --channel-id msteams --port "$(free_port)" \
  >"$work/playground.out" 2>&1 &
playground_pid=$!
wait_for "playground port" 30 "$playground_pid" grep -q 'Listening on [0-9]' "$work/playground.out" || fail "playground did not start"
pg_port="$(grep -o 'Listening on [0-9]*' "$work/playground.out" | head -n1 | grep -o '[0-9]*$')"
# A bad config file only shows in the playground's log; it then never answers.
wait_for "playground ping on $pg_port" 20 "$playground_pid" sh -c "curl -fsS -m 2 http://localhost:$pg_port/_debug/ping | grep -q pong" \
  || fail "playground not answering"
say "playground ready on http://localhost:$pg_port"

# In the background, so that an interrupt reaches the trap at once (bash runs
# traps only between foreground commands).
MULTILINE_URL="http://$addr" PLAYGROUND_URL="http://localhost:$pg_port" CHROMIUM="$chromium" \
  MULTILINE_BIN="$bin" MULTILINE_DATABASE_URL="sqlite:$work/multiline.db" \
  ARTIFACTS="$artifacts" E2E_DEADLINE_S=120 \
  timeout 140 node "$root/e2e/playground.e2e.mjs" &
test_pid=$!
wait "$test_pid"
rc=$?
test_pid=""
[ "$rc" -eq 0 ] || fail "playground.e2e.mjs (exit $rc)"
result 1 0
