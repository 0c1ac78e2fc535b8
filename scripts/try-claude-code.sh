#!/usr/bin/env bash
# Try the real Claude Code CLI against a running gateway.
#
#   scripts/try-claude-code.sh [--tools] [--auth-token] [BASE_URL] [PROMPT] [--then PROMPT]...
#
#   BASE_URL   default http://127.0.0.1:8787 (Claude Code appends /v1/messages)
#   PROMPT     default "say hi"
#   --tools    allow the Bash tool without asking, so a tool round trip
#              (tool_use -> tool_result -> answer) can be attempted
#   --auth-token   send the key as ANTHROPIC_AUTH_TOKEN (Authorization: Bearer) instead of
#              ANTHROPIC_API_KEY (x-api-key)
#   --then PROMPT  a further turn of the same conversation (claude -p --continue); repeatable
#
# Environment:
#   GATEWAY_KEY          the key Claude Code sends (default dev-key)
#   CLAUDE_MODEL         optional --model value (default: Claude Code's own default)
#   TURNPIKE_TOOLS_DIR   where Claude Code is installed once (default ~/.cache/turnpike-tools)
#   TURNPIKE_KEEP=1      keep the temporary HOME / config dir and print its path
#   TURNPIKE_BLOCK_PROXY proxy URL every other destination is sent to (default
#                        http://127.0.0.1:9, which refuses), so Claude Code reaches nothing but BASE_URL
#   TURNPIKE_WRAP        command prefix for the client, e.g. "strace -f -e trace=connect -o F"
#
# Claude Code runs with a throwaway HOME and CLAUDE_CONFIG_DIR and a minimal environment:
# your own ~/.claude, login and keys are never read or touched.
set -euo pipefail
# shellcheck source=lib/try-client.sh
. "$(dirname "$0")/lib/try-client.sh"

# Pinned to the version npm served when this script was written.
CLAUDE_CODE_VERSION="2.1.330"

usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
}

tools=0
auth_token=0
positional=()
followups=()
while [ $# -gt 0 ]; do
  case "$1" in
    --tools) tools=1 ;;
    --auth-token) auth_token=1 ;;
    --then) shift; followups+=("$1") ;;
    -h|--help) usage; exit 0 ;;
    --) shift; positional+=("$@"); break ;;
    -*) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
    *) positional+=("$1") ;;
  esac
  shift
done
require_at_most_two_arguments "${#positional[@]}"

base_url="${positional[0]:-http://127.0.0.1:8787}"
base_url="${base_url%/}"
prompt="${positional[1]:-say hi}"
gateway_key="${GATEWAY_KEY:-dev-key}"
block_proxy="${TURNPIKE_BLOCK_PROXY:-http://127.0.0.1:9}"

require_http_url "$base_url"

host="$(url_host "$base_url")"

# --- install Claude Code once, outside the repo -------------------------------------
claude_bin="$(install_client "@anthropic-ai/claude-code" "$CLAUDE_CODE_VERSION" claude)"

# --- throwaway HOME, config dir and working directory --------------------------------
tmp="$(mktemp -d "${TMPDIR:-/tmp}/turnpike-claude.XXXXXX")"
cleanup() {
  if [ "${TURNPIKE_KEEP:-0}" = "1" ]; then
    echo "kept: $tmp (HOME=$tmp/home, CLAUDE_CONFIG_DIR=$tmp/claude-config)" >&2
  else
    rm -rf "$tmp"
  fi
}
trap cleanup EXIT
mkdir -p "$tmp/home" "$tmp/claude-config" "$tmp/work"

args=()
if [ "$tools" = 1 ]; then
  args+=(--allowedTools "Bash")
fi
if [ -n "${CLAUDE_MODEL:-}" ]; then
  args+=(--model "$CLAUDE_MODEL")
fi
if [ "$auth_token" = 1 ]; then
  key_variable=ANTHROPIC_AUTH_TOKEN
else
  key_variable=ANTHROPIC_API_KEY
fi

echo "--- claude-code $CLAUDE_CODE_VERSION -> $base_url$([ "$tools" = 1 ] && echo ' (Bash allowed)')" >&2
echo "--- prompt: $prompt" >&2

# --- run ------------------------------------------------------------------------------
no_proxy="$host,localhost,127.0.0.1,::1"
run_claude() {
  (
    cd "$tmp/work"
    # shellcheck disable=SC2086 # TURNPIKE_WRAP is a command prefix, split on purpose
    env -i \
      PATH="$PATH" \
      HOME="$tmp/home" \
      TMPDIR="${TMPDIR:-/tmp}" \
      LANG="${LANG:-C.UTF-8}" \
      TERM=dumb \
      SHELL=/bin/bash \
      CLAUDE_CONFIG_DIR="$tmp/claude-config" \
      ANTHROPIC_BASE_URL="$base_url" \
      "$key_variable=$gateway_key" \
      CLAUDE_CODE_MAX_RETRIES=1 \
      DISABLE_TELEMETRY=1 \
      DISABLE_AUTOUPDATER=1 \
      DISABLE_ERROR_REPORTING=1 \
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 \
      HTTP_PROXY="$block_proxy" HTTPS_PROXY="$block_proxy" ALL_PROXY="$block_proxy" \
      http_proxy="$block_proxy" https_proxy="$block_proxy" all_proxy="$block_proxy" \
      NO_PROXY="$no_proxy" no_proxy="$no_proxy" \
      ${TURNPIKE_WRAP:-} "$claude_bin" "${args[@]}" "$@" </dev/null
  )
}
set +e
run_claude -p "$prompt"
rc=$?
# Further turns of the same conversation (`--then PROMPT`, repeatable): `claude -p --continue`.
for followup in "${followups[@]}"; do
  [ "$rc" -eq 0 ] || break
  echo "--- next turn: $followup" >&2
  run_claude -p --continue "$followup"
  rc=$?
done
set -e
echo "--- claude exit code: $rc" >&2
exit "$rc"
