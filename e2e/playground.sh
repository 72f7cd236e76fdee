#!/usr/bin/env bash
# `make playground`: the Microsoft 365 Agents Playground (a local Teams emulator)
# against the bot of `make run` (http://127.0.0.1:3978/api/messages; BOT_ENDPOINT
# overrides it). Start `make run` first: the playground's page waits only about
# 15 s for the bot. Prints the address to open, then runs until Ctrl-C.
#
#   BOT_ENDPOINT            the bot's /api/messages URL
#   PLAYGROUND_PORT         the port to ask for (default 56150; a busy one is replaced)
#   TEAMSAPPTESTER_BROWSER  set to open a browser (default none: only print the address)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/node_modules/.bin/agentsplayground"
if [ ! -x "$bin" ]; then
  echo "playground: $bin not found; run: make tools (or npm ci in $root)" >&2
  exit 1
fi
export BOT_ENDPOINT="${BOT_ENDPOINT:-http://127.0.0.1:3978/api/messages}"
export TEAMSAPPTESTER_BROWSER="${TEAMSAPPTESTER_BROWSER:-none}"
export M365_AGENTS_PLAYGROUND_CONFIG_PATH="${M365_AGENTS_PLAYGROUND_CONFIG_PATH:-$root/e2e/playground.yml}"
export M365_AGENTS_PLAYGROUND_LOGFILE="${M365_AGENTS_PLAYGROUND_LOGFILE:-$root/test-artifacts/playground.log}"
mkdir -p "$(dirname "$M365_AGENTS_PLAYGROUND_LOGFILE")"
port="${PLAYGROUND_PORT:-56150}"

base="${BOT_ENDPOINT%/api/messages}"
if ! curl -fsS -o /dev/null -m 2 "$base/readyz"; then
  echo "playground: warning: $base/readyz does not answer; start the bot first (make run), then reload the page" >&2
fi

out="$(mktemp "${TMPDIR:-/tmp}/playground.XXXXXX")"
node "$bin" start --disable-telemetry --channel-id msteams --port "$port" >"$out" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; rm -f "$out"' EXIT
trap 'exit 0' INT TERM

# It picks another port silently when the one asked for is busy: read the real one.
pg_port=""
for _ in $(seq 100); do
  pg_port="$(grep -o 'Listening on [0-9]*' "$out" | head -n1 | grep -o '[0-9]*$' || true)"
  [ -n "$pg_port" ] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.2
done
if [ -z "$pg_port" ]; then
  cat "$out" >&2
  echo "playground: did not start (log: $M365_AGENTS_PLAYGROUND_LOGFILE)" >&2
  exit 1
fi
# A config file it rejects shows only in its log, and it then never answers.
for _ in $(seq 50); do
  curl -fsS -m 2 "http://localhost:$pg_port/_debug/ping" 2>/dev/null | grep -q pong && break
  if ! kill -0 "$pid" 2>/dev/null; then
    grep -i error "$M365_AGENTS_PLAYGROUND_LOGFILE" >&2 || true
    echo "playground: exited (log: $M365_AGENTS_PLAYGROUND_LOGFILE)" >&2
    exit 1
  fi
  sleep 0.2
done
echo "playground: bot $BOT_ENDPOINT"
echo "playground: open http://localhost:$pg_port/ (Ctrl-C to stop; log: ${M365_AGENTS_PLAYGROUND_LOGFILE#"$root"/})"
echo "playground: play a WeChat consumer with: go run ./cmd/multiline simulate -server $base -text 'Hello'"
wait "$pid"
