#!/usr/bin/env bash
# Try the real Codex CLI against a running gateway.
#
#   scripts/try-codex.sh [--websocket] [BASE_URL] [PROMPT]
#
#   BASE_URL   default http://127.0.0.1:8787/v1 (Codex appends /responses)
#   PROMPT     default "say hi"
#   --websocket  set supports_websockets = true on the provider (Responses WebSocket mode)
#   --then PROMPT  a further turn in the same thread (codex exec resume --last); repeatable
#
# Environment:
#   GATEWAY_KEY          key Codex sends as "Authorization: Bearer" (default dev-key)
#   CODEX_MODEL          model name (default gpt-5.5)
#   CODEX_STREAM_MAX_RETRIES, CODEX_REQUEST_MAX_RETRIES, CODEX_STREAM_IDLE_TIMEOUT_MS
#                        optional provider settings (Codex defaults: 5, 4, 300000)
#   TURNPIKE_TOOLS_DIR   where Codex is installed once (default ~/.cache/turnpike-tools)
#   TURNPIKE_KEEP=1      keep the temporary CODEX_HOME (sessions/, logs) and print its path
#   TURNPIKE_BLOCK_PROXY proxy URL every other destination is sent to (default
#                        http://127.0.0.1:9, which refuses), so Codex reaches nothing but BASE_URL
#   TURNPIKE_WRAP        command prefix for the client, e.g. "strace -f -e trace=connect -o F"
#
# Codex runs with a throwaway HOME and CODEX_HOME and a minimal environment: your own
# ~/.codex, API keys and login are never read or touched. Update checks, analytics, feedback,
# OpenTelemetry export and the plugin/app sync (which would contact github.com and
# chatgpt.com) are switched off in the generated config.toml.
set -euo pipefail
# shellcheck source=lib/try-client.sh
. "$(dirname "$0")/lib/try-client.sh"

CODEX_VERSION="0.169.0"

usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
}

websocket=0
positional=()
followups=()
while [ $# -gt 0 ]; do
  case "$1" in
    --websocket) websocket=1 ;;
    --then) shift; followups+=("$1") ;;
    -h|--help) usage; exit 0 ;;
    --) shift; positional+=("$@"); break ;;
    -*) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
    *) positional+=("$1") ;;
  esac
  shift
done
require_at_most_two_arguments "${#positional[@]}"

base_url="${positional[0]:-http://127.0.0.1:8787/v1}"
base_url="${base_url%/}"
prompt="${positional[1]:-say hi}"
gateway_key="${GATEWAY_KEY:-dev-key}"
model="${CODEX_MODEL:-gpt-5.5}"
block_proxy="${TURNPIKE_BLOCK_PROXY:-http://127.0.0.1:9}"

require_http_url "$base_url"

host="$(url_host "$base_url")"

# --- install Codex once, outside the repo ------------------------------------------
codex_bin="$(install_client "@openai/codex" "$CODEX_VERSION" codex)"

# --- throwaway CODEX_HOME and working directory ------------------------------------
tmp="$(mktemp -d "${TMPDIR:-/tmp}/turnpike-codex.XXXXXX")"
cleanup() {
  if [ "${TURNPIKE_KEEP:-0}" = "1" ]; then
    echo "kept: $tmp (CODEX_HOME=$tmp/codex-home)" >&2
  else
    rm -rf "$tmp"
  fi
}
trap cleanup EXIT
mkdir -p "$tmp/home" "$tmp/codex-home" "$tmp/work"

toml_string() { # TOML basic string
  local s="${1//\\/\\\\}"
  s="${s//\"/\\\"}"
  printf '"%s"' "$s"
}

{
  echo "model = $(toml_string "$model")"
  echo 'model_provider = "gw"'
  echo 'check_for_update_on_startup = false'
  echo
  echo '[analytics]'
  echo 'enabled = false'
  echo
  echo '[feedback]'
  echo 'enabled = false'
  echo
  echo '[features]'
  echo 'plugins = false'
  echo 'remote_plugin = false'
  echo 'apps = false'
  echo 'tool_suggest = false'
  echo
  echo '[otel]'
  echo 'exporter = "none"'
  echo 'trace_exporter = "none"'
  echo 'metrics_exporter = "none"'
  echo
  echo '[model_providers.gw]'
  echo 'name = "gateway"'
  echo "base_url = $(toml_string "$base_url")"
  echo 'wire_api = "responses"'
  echo 'env_key = "GATEWAY_KEY"'
  if [ "$websocket" = 1 ]; then echo 'supports_websockets = true'; fi
  if [ -n "${CODEX_STREAM_MAX_RETRIES:-}" ]; then echo "stream_max_retries = $CODEX_STREAM_MAX_RETRIES"; fi
  if [ -n "${CODEX_REQUEST_MAX_RETRIES:-}" ]; then echo "request_max_retries = $CODEX_REQUEST_MAX_RETRIES"; fi
  if [ -n "${CODEX_STREAM_IDLE_TIMEOUT_MS:-}" ]; then echo "stream_idle_timeout_ms = $CODEX_STREAM_IDLE_TIMEOUT_MS"; fi
} > "$tmp/codex-home/config.toml"

echo "--- codex $CODEX_VERSION -> $base_url ($([ "$websocket" = 1 ] && echo websocket || echo http/sse)), model $model" >&2
echo "--- prompt: $prompt" >&2

# --- run ------------------------------------------------------------------------------
# A minimal environment: nothing personal (OPENAI_API_KEY, ~/.codex, proxies, ...) leaks in,
# and every destination other than the gateway host goes to a proxy that refuses it.
no_proxy="$host,localhost,127.0.0.1,::1"
run_codex() {
  (
    cd "$tmp/work"
    # shellcheck disable=SC2086 # TURNPIKE_WRAP is a command prefix, split on purpose
    env -i \
      PATH="$PATH" \
      HOME="$tmp/home" \
      TMPDIR="${TMPDIR:-/tmp}" \
      LANG="${LANG:-C.UTF-8}" \
      TERM=dumb \
      CODEX_HOME="$tmp/codex-home" \
      GATEWAY_KEY="$gateway_key" \
      HTTP_PROXY="$block_proxy" HTTPS_PROXY="$block_proxy" ALL_PROXY="$block_proxy" \
      http_proxy="$block_proxy" https_proxy="$block_proxy" all_proxy="$block_proxy" \
      NO_PROXY="$no_proxy" no_proxy="$no_proxy" \
      ${RUST_LOG:+RUST_LOG="$RUST_LOG"} \
      ${TURNPIKE_WRAP:-} "$codex_bin" exec --skip-git-repo-check --color never "$@" </dev/null
  )
}
set +e
run_codex "$prompt"
rc=$?
# Further turns of the same thread (`--then PROMPT`, repeatable): `codex exec resume --last`.
for followup in "${followups[@]}"; do
  [ "$rc" -eq 0 ] || break
  echo "--- next turn: $followup" >&2
  run_codex resume --last "$followup"
  rc=$?
done
set -e
echo "--- codex exit code: $rc" >&2
exit "$rc"
