#!/usr/bin/env bash
# Try the real Claude Code CLI against a running gateway.
#
#   scripts/try-claude-code.sh [--tools] [--auth-token] [--interactive] [BASE_URL] [PROMPT] [--then PROMPT]...
#
#   BASE_URL   default http://127.0.0.1:8787 (Claude Code appends /v1/messages)
#   PROMPT     default "say hi"; with --interactive and no prompts given: "run echo one",
#              "run echo two", "run echo three" (each a Bash round trip against the mock)
#   --tools    allow the Bash tool without asking, so a tool round trip
#              (tool_use -> tool_result -> answer) can be attempted
#   --auth-token   send the key as ANTHROPIC_AUTH_TOKEN (Authorization: Bearer) instead of
#              ANTHROPIC_API_KEY (x-api-key)
#   --then PROMPT  a further turn of the same conversation (claude -p --continue); repeatable
#   --interactive  run Claude Code as a person does, in its terminal UI (no -p) in a detached
#              tmux session: type each prompt, wait for its answer, print the final screen,
#              /exit. Bash is allowed (implies --tools), the first-run screens (onboarding,
#              trust this folder, use this API key) are answered in the throwaway config, and
#              Claude Code's non-essential traffic stays on, because that switch also turns
#              off the side requests (title, topic checks) a session sees in real use.
#              Needs tmux (installed with apt-get when missing and run as root).
#
# Environment:
#   GATEWAY_KEY          the key Claude Code sends (default dev-key)
#   CLAUDE_MODEL         optional --model value (default: Claude Code's own default)
#   TURNPIKE_TOOLS_DIR   where Claude Code is installed once (default ~/.cache/turnpike-tools)
#   TURNPIKE_KEEP=1      keep the temporary HOME / config dir and print its path
#   TURNPIKE_BLOCK_PROXY proxy URL every other destination is sent to (default
#                        http://127.0.0.1:9, which refuses), so Claude Code reaches nothing but BASE_URL
#   TURNPIKE_WRAP        command prefix for the client, e.g. "strace -f -e trace=connect -o F"
#   TURNPIKE_TURN_TIMEOUT  --interactive: seconds to wait for each answer (default 90)
#   TURNPIKE_PAUSE       --interactive: seconds to wait before each further prompt, as a person
#                        reads and thinks (default 0)
#
# Claude Code runs with a throwaway HOME and CLAUDE_CONFIG_DIR and a minimal environment:
# your own ~/.claude, login and keys are never read or touched.
set -euo pipefail
# shellcheck source=lib/try-client.sh
. "$(dirname "$0")/lib/try-client.sh"
# shellcheck source=lib/tmux-terminal.sh
. "$(dirname "$0")/lib/tmux-terminal.sh"
# shellcheck source=lib/claude-interactive.sh
. "$(dirname "$0")/lib/claude-interactive.sh"

# Pinned to the version npm served when this script was written.
CLAUDE_CODE_VERSION="2.1.330"

usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
}

tools=0
auth_token=0
interactive=0
positional=()
followups=()
while [ $# -gt 0 ]; do
  case "$1" in
    --tools) tools=1 ;;
    --auth-token) auth_token=1 ;;
    --interactive) interactive=1; tools=1 ;;
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
if [ "$interactive" = 1 ] && [ "${#positional[@]}" -lt 2 ] && [ "${#followups[@]}" -eq 0 ]; then
  prompt="run echo one"
  followups=("run echo two" "run echo three")
else
  prompt="${positional[1]:-say hi}"
fi
gateway_key="${GATEWAY_KEY:-dev-key}"
block_proxy="${TURNPIKE_BLOCK_PROXY:-http://127.0.0.1:9}"

require_http_url "$base_url"
if [ "$interactive" = 1 ]; then require_tmux; fi

host="$(url_host "$base_url")"

# --- install Claude Code once, outside the repo -------------------------------------
claude_bin="$(install_client "@anthropic-ai/claude-code" "$CLAUDE_CODE_VERSION" claude)"

# --- throwaway HOME, config dir and working directory --------------------------------
tmp="$(mktemp -d "${TMPDIR:-/tmp}/turnpike-claude.XXXXXX")"
cleanup() {
  if [ "$interactive" = 1 ]; then terminal_stop; fi
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

echo "--- claude-code $CLAUDE_CODE_VERSION -> $base_url$([ "$tools" = 1 ] && echo ' (Bash allowed)')$([ "$interactive" = 1 ] && echo ', interactive')" >&2

# Everything Claude Code sees of the environment, in both modes.
no_proxy="$host,localhost,127.0.0.1,::1"
client_environment=(
  PATH="$PATH"
  HOME="$tmp/home"
  TMPDIR="${TMPDIR:-/tmp}"
  LANG="${LANG:-C.UTF-8}"
  SHELL=/bin/bash
  CLAUDE_CONFIG_DIR="$tmp/claude-config"
  ANTHROPIC_BASE_URL="$base_url"
  "$key_variable=$gateway_key"
  CLAUDE_CODE_MAX_RETRIES=1
  DISABLE_TELEMETRY=1
  DISABLE_AUTOUPDATER=1
  DISABLE_ERROR_REPORTING=1
  HTTP_PROXY="$block_proxy" HTTPS_PROXY="$block_proxy" ALL_PROXY="$block_proxy"
  http_proxy="$block_proxy" https_proxy="$block_proxy" all_proxy="$block_proxy"
  NO_PROXY="$no_proxy" no_proxy="$no_proxy"
)

# --- interactive: the terminal UI in tmux -------------------------------------------------
if [ "$interactive" = 1 ]; then
  write_first_run_answers "$tmp/claude-config/.claude.json" "$(cd "$tmp/work" && pwd -P)" \
    "$([ "$auth_token" = 1 ] || printf '%s' "$gateway_key")"
  # shellcheck disable=SC2086 # TURNPIKE_WRAP is a command prefix, split on purpose
  terminal_start "$tmp" turnpike-claude "$tmp/work" \
    env -i "${client_environment[@]}" TERM=tmux-256color ${TURNPIKE_WRAP:-} "$claude_bin" "${args[@]}"
  set +e
  drive_interactive "${TURNPIKE_TURN_TIMEOUT:-90}" "${TURNPIKE_PAUSE:-0}" "$prompt" "${followups[@]}"
  rc=$?
  set -e
  echo "--- claude exit code: $rc" >&2
  exit "$rc"
fi

# --- -p: one process per turn ---------------------------------------------------------------
echo "--- prompt: $prompt" >&2
run_claude() {
  (
    cd "$tmp/work"
    # shellcheck disable=SC2086 # TURNPIKE_WRAP is a command prefix, split on purpose
    env -i "${client_environment[@]}" \
      TERM=dumb \
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 \
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
