#!/usr/bin/env bash
# Try the real opencode CLI (a Chat Completions agent) against a running gateway.
#
#   scripts/try-opencode.sh [BASE_URL] [PROMPT] [--then PROMPT]...
#
#   BASE_URL   default http://127.0.0.1:8787 (the provider's baseURL is BASE_URL/v1; opencode
#              appends /chat/completions)
#   PROMPT     default "run echo hello-from-tool" (the mock answers it with a call to opencode's
#              bash tool, which is allowed without asking, so a tool round trip happens)
#   --then PROMPT  a further turn of the same session (opencode run --continue); repeatable
#
# Environment:
#   GATEWAY_KEY          key opencode sends as "Authorization: Bearer" (default dev-key)
#   OPENCODE_MODEL       model name (default gpt-5.5), used as turnpike/<model>
#   OPENCODE_PRINT_LOGS=1  pass --print-logs (opencode's own log on stderr)
#   TURNPIKE_TOOLS_DIR   where opencode is installed once (default ~/.cache/turnpike-tools)
#   TURNPIKE_KEEP=1      keep the temporary HOME / config dir and print its path
#   TURNPIKE_BLOCK_PROXY proxy URL every other destination is sent to (default
#                        http://127.0.0.1:9, which refuses), so opencode reaches nothing but BASE_URL
#   TURNPIKE_WRAP        command prefix for the client, e.g. "strace -f -e trace=connect -o F"
#
# opencode runs with a throwaway HOME and XDG_CONFIG_HOME and a minimal environment: your own
# ~/.config/opencode, ~/.local/share/opencode (auth.json) and keys are never read or touched.
# The generated opencode.json enables only one provider, "turnpike" (@ai-sdk/openai-compatible,
# which opencode bundles: nothing is installed at run time for it), and turns off autoupdate and
# sharing; OPENCODE_DISABLE_MODELS_FETCH keeps it on its built-in model list instead of
# models.opencode.ai, and OPENCODE_DISABLE_LSP_DOWNLOAD stops language-server downloads.
#
# What opencode does fetch: on every start it makes sure each config folder has
# @opencode-ai/plugin (for local plugins and tools), running an npm install there in the
# background when node_modules or its lock entry is missing. Blocked, that only logs a warning;
# to make no such request at all, this script installs @opencode-ai/plugin once from the npm
# registry next to opencode (npm, outside the run's proxy) and links it into the throwaway
# config folder, where opencode then finds it installed.
#
# The prompt reaches opencode on stdin, not as an argument: `opencode run "a b"` sends the
# message `"a b"`, quotes included (1.18 quotes every argument that holds a space before joining
# them), which would put a stray quote into the mock's command.
set -euo pipefail
# shellcheck source=lib/try-client.sh
. "$(dirname "$0")/lib/try-client.sh"

# Pinned to the version npm served when this script was written. The npm package picks its
# native binary (opencode-linux-x64, -darwin-arm64, ...) from its optional dependencies.
OPENCODE_VERSION="1.18.33"

usage() {
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
}

positional=()
followups=()
while [ $# -gt 0 ]; do
  case "$1" in
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
prompt="${positional[1]:-run echo hello-from-tool}"
gateway_key="${GATEWAY_KEY:-dev-key}"
model="${OPENCODE_MODEL:-gpt-5.5}"
block_proxy="${TURNPIKE_BLOCK_PROXY:-http://127.0.0.1:9}"

require_http_url "$base_url"

host="$(url_host "$base_url")"

# --- install opencode (and the plugin package it wants in its config folder) once ----------
opencode_bin="$(install_client opencode-ai "$OPENCODE_VERSION" opencode)"
plugin_dir="$(install_package @opencode-ai/plugin "$OPENCODE_VERSION")"

# --- throwaway HOME, config folder and working directory -----------------------------------
tmp="$(mktemp -d "${TMPDIR:-/tmp}/turnpike-opencode.XXXXXX")"
cleanup() {
  if [ "${TURNPIKE_KEEP:-0}" = "1" ]; then
    echo "kept: $tmp (HOME=$tmp/home, XDG_CONFIG_HOME=$tmp/config)" >&2
  else
    rm -rf "$tmp"
  fi
}
trap cleanup EXIT
config_dir="$tmp/config/opencode"
mkdir -p "$tmp/home" "$config_dir" "$tmp/work"
cp "$plugin_dir/package.json" "$plugin_dir/package-lock.json" "$config_dir/"
ln -s "$plugin_dir/node_modules" "$config_dir/node_modules"

json_string() { # JSON string (the values here hold no control characters)
  local s="${1//\\/\\\\}"
  s="${s//\"/\\\"}"
  printf '"%s"' "$s"
}

# The key stays out of the file: opencode substitutes {env:NAME} when it loads the config.
cat > "$config_dir/opencode.json" <<EOF
{
  "\$schema": "https://opencode.ai/config.json",
  "model": $(json_string "turnpike/$model"),
  "enabled_providers": ["turnpike"],
  "autoupdate": false,
  "share": "disabled",
  "permission": { "bash": "allow" },
  "provider": {
    "turnpike": {
      "npm": "@ai-sdk/openai-compatible",
      "name": "Turnpike",
      "options": { "baseURL": $(json_string "$base_url/v1"), "apiKey": "{env:GATEWAY_KEY}" },
      "models": { $(json_string "$model"): { "name": $(json_string "$model") } }
    }
  }
}
EOF

echo "--- opencode $OPENCODE_VERSION -> $base_url/v1 (chat completions), model turnpike/$model, bash allowed" >&2
echo "--- prompt: $prompt" >&2

# --- run ------------------------------------------------------------------------------------
# A minimal environment: nothing personal (OPENAI_API_KEY, ~/.config/opencode, proxies, ...)
# leaks in, and every destination other than the gateway host goes to a proxy that refuses it.
no_proxy="$host,localhost,127.0.0.1,::1"
run_opencode() { # MESSAGE [opencode run options...]
  local message="$1"
  shift
  local options=()
  if [ "${OPENCODE_PRINT_LOGS:-0}" = "1" ]; then options+=(--print-logs); fi
  (
    cd "$tmp/work"
    # shellcheck disable=SC2086 # TURNPIKE_WRAP is a command prefix, split on purpose
    printf '%s' "$message" | env -i \
      PATH="$PATH" \
      HOME="$tmp/home" \
      XDG_CONFIG_HOME="$tmp/config" \
      TMPDIR="${TMPDIR:-/tmp}" \
      LANG="${LANG:-C.UTF-8}" \
      TERM=dumb \
      SHELL=/bin/bash \
      GATEWAY_KEY="$gateway_key" \
      OPENCODE_DISABLE_AUTOUPDATE=1 \
      OPENCODE_DISABLE_SHARE=1 \
      OPENCODE_DISABLE_MODELS_FETCH=1 \
      OPENCODE_DISABLE_LSP_DOWNLOAD=1 \
      HTTP_PROXY="$block_proxy" HTTPS_PROXY="$block_proxy" ALL_PROXY="$block_proxy" \
      http_proxy="$block_proxy" https_proxy="$block_proxy" all_proxy="$block_proxy" \
      NO_PROXY="$no_proxy" no_proxy="$no_proxy" \
      ${TURNPIKE_WRAP:-} "$opencode_bin" run "${options[@]}" "$@"
  )
}
set +e
run_opencode "$prompt"
rc=$?
# Further turns of the same session (`--then PROMPT`, repeatable): `opencode run --continue`.
for followup in "${followups[@]}"; do
  [ "$rc" -eq 0 ] || break
  echo "--- next turn: $followup" >&2
  run_opencode "$followup" --continue
  rc=$?
done
set -e
echo "--- opencode exit code: $rc" >&2
exit "$rc"
