#!/usr/bin/env bash
# Remake the captured client requests in test/fixtures/clients/ from the real clients.
#
#   scripts/capture-clients.sh [--gateway URL] [--keep]
#
#   --gateway URL  use a gateway that is already running (with its built-in mock upstream, so
#                  that the clients get realistic answers and their tool round trips complete);
#                  default: start one (`npm start` on a free port) and stop it at the end
#   --keep         keep the temporary folder (raw records, logs) and print its path
#
# Each scenario runs one real client through a recording proxy (scripts/lib/capture-proxy.mjs)
# in front of the gateway, with scripts/try-codex.sh, scripts/try-claude-code.sh or
# scripts/try-opencode.sh: Codex CLI, Claude Code and opencode are installed once outside the
# project (~/.cache/turnpike-tools), run with a throwaway HOME and a minimal environment, and
# reach nothing but the proxy. Then
# scripts/lib/write-captures.mjs picks the requests the tests use, checks them, replaces machine
# paths, ids, timestamps and keys with neutral values (scripts/lib/neutralise.mjs) and writes them.
# test/fixtures/clients/README.md says what each file is.
set -euo pipefail

usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
}

project="$(cd "$(dirname "$0")/.." && pwd)"
gateway_url=""
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --gateway) shift; gateway_url="${1%/}" ;;
    --keep) keep=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
  esac
  shift
done

cd "$project"
[ -d node_modules/ws ] || npm ci

tmp="$(mktemp -d "${TMPDIR:-/tmp}/turnpike-capture.XXXXXX")"
gateway_pid=""
proxy_pid=""
cleanup() {
  # Only what this script started, by its id: the proxy, and the gateway's process group
  # (npm → wrangler → workerd).
  if [ -n "$proxy_pid" ]; then kill "$proxy_pid" 2>/dev/null || true; fi
  if [ -n "$gateway_pid" ]; then kill -- "-$gateway_pid" 2>/dev/null || true; fi
  if [ "$keep" = 1 ]; then echo "kept: $tmp" >&2; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
mkdir -p "$tmp/raw" "$tmp/clients"

free_port() {
  node -e 'const server = require("node:net").createServer().listen(0, "127.0.0.1", () => { console.log(server.address().port); server.close(); })'
}

# Waits up to $2 seconds until file $1 has a line; prints nothing.
wait_for_line() {
  local deadline=$((SECONDS + $2))
  until [ -s "$1" ]; do
    if [ "$SECONDS" -ge "$deadline" ]; then return 1; fi
    sleep 0.2
  done
}

# --- the gateway ------------------------------------------------------------------------
if [ -z "$gateway_url" ]; then
  port="$(free_port)"
  gateway_url="http://127.0.0.1:$port"
  echo "--- starting the gateway (npm start, built-in mock) on $gateway_url" >&2
  # Its own process group, so that cleanup can stop wrangler and workerd with it.
  WRANGLER_SEND_METRICS=false setsid npm start -- --port "$port" >"$tmp/gateway.log" 2>&1 </dev/null &
  gateway_pid=$!
  deadline=$((SECONDS + 90))
  until curl -fsS "$gateway_url/health" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ] || ! kill -0 "$gateway_pid" 2>/dev/null; then
      echo "the gateway did not start; its log:" >&2
      cat "$tmp/gateway.log" >&2
      exit 1
    fi
    sleep 0.5
  done
fi
curl -fsS "$gateway_url/health" | grep -q '"upstream":"mock"' || {
  echo "$gateway_url is not serving the built-in mock upstream (UPSTREAM_URL must be unset)" >&2
  exit 1
}

# --- the scenarios ------------------------------------------------------------------------
# The clients see only this: a minimal PATH (no personal tools or shims in their tool output),
# fake keys, and a TMPDIR under which the try scripts make their throwaway homes, so that the
# neutralise step knows every path they can mention.
client_path="$(dirname "$(command -v node)"):/usr/local/bin:/usr/bin:/bin"

# scenario NAME [--cut-streams N] -- COMMAND...: runs COMMAND with PROXY_URL set to a fresh
# recording proxy whose records go to $tmp/raw/NAME.
scenario() {
  local name="$1"
  shift
  local proxy_options=()
  while [ "$1" != "--" ]; do proxy_options+=("$1"); shift; done
  shift
  echo "--- scenario $name" >&2
  : >"$tmp/proxy-$name.out"
  node scripts/lib/capture-proxy.mjs --target "$gateway_url" --out "$tmp/raw/$name" "${proxy_options[@]}" \
    >"$tmp/proxy-$name.out" 2>"$tmp/proxy-$name.log" &
  proxy_pid=$!
  wait_for_line "$tmp/proxy-$name.out" 10 || { echo "the capture proxy did not start" >&2; cat "$tmp/proxy-$name.log" >&2; exit 1; }
  local proxy_url="http://127.0.0.1:$(awk '{ print $2 }' "$tmp/proxy-$name.out")"
  PROXY_URL="$proxy_url" PATH="$client_path" TMPDIR="$tmp/clients" "$@" >"$tmp/client-$name.log" 2>&1 || {
    echo "scenario $name failed; the client's output:" >&2
    cat "$tmp/client-$name.log" >&2
    exit 1
  }
  kill "$proxy_pid"
  wait "$proxy_pid" 2>/dev/null || true
  proxy_pid=""
}

# Obviously fake keys (the gateway under `npm start` has no GATEWAY_KEYS, so any key passes).
codex() { GATEWAY_KEY=sk-fake-codex-key scripts/try-codex.sh "$@"; }
claude() { GATEWAY_KEY="${CLAUDE_KEY:-sk-ant-fake-claude-key}" scripts/try-claude-code.sh "$@"; }
opencode() { GATEWAY_KEY=sk-fake-opencode-key scripts/try-opencode.sh "$@"; }
export -f codex claude opencode

started_ms="$(date +%s%3N)"
# Each command gets the proxy's URL as $PROXY_URL (single quotes: expanded inside the scenario).
scenario codex-http-say-hi -- bash -c 'codex "$PROXY_URL/v1" "say hi"'
scenario codex-http-tool -- bash -c 'codex "$PROXY_URL/v1" "run echo hello-from-tool and tell me what it printed" --then "now say bye"'
scenario codex-websocket -- bash -c 'codex --websocket "$PROXY_URL/v1" "run echo hello-from-tool and tell me what it printed" --then "now say bye"'
scenario claude-say-hi -- bash -c 'claude "$PROXY_URL" "say hi" --then "now say bye"'
scenario claude-tool -- bash -c 'claude --tools "$PROXY_URL" "run echo hello-from-tool"'
scenario claude-sonnet-4-5 -- bash -c 'CLAUDE_MODEL=claude-sonnet-4-5 claude "$PROXY_URL" "say hi"'
scenario claude-auth-token -- bash -c 'CLAUDE_KEY=fake-claude-auth-token claude --auth-token "$PROXY_URL" "say hi"'
# The first answer ends after its first event, with no message_stop: Claude Code then retries
# the turn without streaming (observed with 2.1.197 and 2.1.330).
scenario claude-nonstreaming-fallback --cut-streams 1 -- bash -c 'claude "$PROXY_URL" "say hi"'
scenario opencode-tool -- bash -c 'opencode "$PROXY_URL" "run echo hello-from-tool" --then "now say bye"'
ended_ms="$(date +%s%3N)"

node scripts/lib/write-captures.mjs --raw "$tmp/raw" --clients-root "$tmp/clients" \
  --started "$started_ms" --ended "$ended_ms" --out "$project/test/fixtures/clients"
