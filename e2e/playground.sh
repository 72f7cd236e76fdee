#!/usr/bin/env bash
# Starts the Microsoft 365 Agents Playground (a local Teams emulator) against the
# bot running at $BOT_ENDPOINT (default: `make run` on 127.0.0.1:3978).
# Start the bot first: the playground UI waits only ~15 s for the endpoint.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bin="$root/node_modules/.bin/agentsplayground"
if [ ! -x "$bin" ]; then
  echo "playground: $bin not found; run npm install in $root" >&2
  exit 1
fi
export BOT_ENDPOINT="${BOT_ENDPOINT:-http://127.0.0.1:3978/api/messages}"
export TEAMSAPPTESTER_BROWSER="${TEAMSAPPTESTER_BROWSER:-none}"
export M365_AGENTS_PLAYGROUND_LOGFILE="${M365_AGENTS_PLAYGROUND_LOGFILE:-$root/test-artifacts/playground.log}"
mkdir -p "$(dirname "$M365_AGENTS_PLAYGROUND_LOGFILE")"
port="${PLAYGROUND_PORT:-56150}"
if ! curl -s -o /dev/null -m 2 -X POST "$BOT_ENDPOINT" -H 'Content-Type: application/json' -d '{}'; then
  echo "playground: warning: nothing answers at $BOT_ENDPOINT yet (start it with: make run)" >&2
fi
echo "playground: bot $BOT_ENDPOINT; open http://localhost:$port/ (if the port is busy, see the 'Listening on' line)"
exec node "$bin" start --disable-telemetry --channel-id msteams --port "$port"
