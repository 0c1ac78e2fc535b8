# Driving Claude Code's terminal UI, for scripts/try-claude-code.sh --interactive: what its
# screens look like (observed with 2.1.330) and how a session is walked through. Sourced, not
# run; uses lib/tmux-terminal.sh.

# write_first_run_answers FILE WORKDIR [API_KEY]: a config (CLAUDE_CONFIG_DIR/.claude.json) that
# answers the screens a first interactive start shows before its prompt:
# - onboarding (theme picker, then a connectivity check of api.anthropic.com that fails behind
#   the blocking proxy and ends Claude Code): hasCompletedOnboarding;
# - "Is this a project you created or one you trust?": the work folder's hasTrustDialogAccepted;
# - "Detected a custom API key in your environment. Do you want to use this API key?" (only for
#   ANTHROPIC_API_KEY): the key's last 20 characters among the approved ones, as Claude Code
#   stores a "Yes".
write_first_run_answers() {
  node -e '
    const [file, workdir, key] = process.argv.slice(1);
    const config = {
      hasCompletedOnboarding: true,
      theme: "dark",
      projects: { [workdir]: { hasTrustDialogAccepted: true } },
      customApiKeyResponses: { approved: key ? [key.trim().slice(-20)] : [], rejected: [] },
    };
    require("node:fs").writeFileSync(file, JSON.stringify(config, null, 2) + "\n", { mode: 0o600 });
  ' "$1" "$2" "${3:-}"
}

# The prompt box is up: the banner ("Claude Code vX") and a line starting with the prompt mark.
# (Dialogs mark their choices with an indented ❯, so they do not count.)
claude_prompt_ready() {
  grep -q 'Claude Code v' <<<"$1" && grep -q '^❯' <<<"$1"
}

# Each finished turn leaves a line such as "✻ Baked for 1s · done 10:44 PM" (showTurnDuration,
# on by default); a turn that failed ends with "● API Error: …" instead, and no such line.
claude_turns_done() {
  grep -c '· done ' <<<"$1" || true
}
claude_api_errors() {
  grep -c '^● API Error' <<<"$1" || true
}

# A turn has ended when there is one more of either than before its prompt was typed.
turns_before=0
errors_before=0
claude_turn_ended() {
  ! grep -q 'esc to interrupt' <<<"$1" &&
    { [ "$(claude_turns_done "$1")" -gt "$turns_before" ] || [ "$(claude_api_errors "$1")" -gt "$errors_before" ]; }
}

# Prints the visible screen without trailing spaces, runs of blank lines or blank lines at the end.
print_screen() {
  terminal_screen | sed 's/[[:space:]]*$//' | cat -s | awk '{ lines[NR] = $0 } /./ { last = NR } END { for (n = 1; n <= last; n++) print lines[n] }'
}

# drive_interactive TIMEOUT PAUSE PROMPT...: waits for the prompt box, types each prompt (after
# PAUSE seconds for every prompt but the first) and waits (TIMEOUT seconds each) for its answer,
# prints the final screen, then ends Claude Code with /exit (Ctrl-C twice if that does not work).
# Returns Claude Code's exit status, or 1 when something did not come.
drive_interactive() {
  local timeout="$1" pause="$2" prompt screen started failed=0 status first=1
  shift 2
  for prompt in "$@"; do
    case "$prompt" in *$'\n'*) echo "--interactive types each prompt as one line: $prompt" >&2; return 2 ;; esac
  done
  if ! terminal_wait_for 60 claude_prompt_ready; then
    echo "Claude Code did not reach its prompt within 60 s; the screen:" >&2
    print_screen >&2
    return 1
  fi
  for prompt in "$@"; do
    if [ "$first" = 0 ] && [ "$pause" != 0 ]; then
      echo "--- pausing $pause s" >&2
      sleep "$pause"
    fi
    first=0
    echo "--- prompt: $prompt" >&2
    screen="$(terminal_screen --all)"
    turns_before="$(claude_turns_done "$screen")"
    errors_before="$(claude_api_errors "$screen")"
    started=$SECONDS
    terminal_type "$prompt"
    if ! terminal_wait_for "$timeout" claude_turn_ended; then
      echo "no answer within $timeout s to: $prompt" >&2
      failed=1
      break
    fi
    if [ "$(claude_api_errors "$(terminal_screen --all)")" -gt "$errors_before" ]; then
      echo "Claude Code reported an API error for: $prompt" >&2
      failed=1
      break
    fi
    echo "--- answered in $((SECONDS - started)) s" >&2
  done
  echo "--- final screen" >&2
  print_screen
  terminal_type "/exit"
  if ! terminal_wait_exit 10; then
    echo "/exit did not end Claude Code; sending Ctrl-C twice" >&2
    terminal_keys C-c
    sleep 0.5
    terminal_keys C-c
    terminal_wait_exit 10 || { echo "Claude Code did not exit" >&2; return 1; }
  fi
  status="$(terminal_exit_status)"
  if [ "$failed" = 1 ]; then return 1; fi
  return "$status"
}
