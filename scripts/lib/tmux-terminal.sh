# A terminal for a client's interactive UI, for scripts/try-*.sh: a detached tmux session on a
# private server (its own socket, so no other tmux session is seen or touched), typed into with
# `send-keys` and read with `capture-pane`. Sourced, not run.
#
#   terminal_start DIR NAME WORKDIR COMMAND...   start COMMAND in a 200x50 terminal
#   terminal_type TEXT                           type TEXT and press Enter
#   terminal_keys KEY...                         press keys by tmux name (C-c, Enter, Down)
#   terminal_screen [--all]                      the visible screen (--all: with scrollback)
#   terminal_wait_for SECONDS CHECK              until `CHECK SCREEN` succeeds on a screen that
#                                                stopped changing; 1 on timeout
#   terminal_exited                              whether COMMAND has ended
#   terminal_wait_exit SECONDS                   until COMMAND has ended; 1 on timeout
#   terminal_exit_status                         COMMAND's exit status, once it has ended (128 + N: signal N)
#   terminal_stop                                end the session (and with it the private server)

terminal_socket=""
terminal_name=""

# Installs tmux with apt-get when it is missing and that is possible, else exits 1 saying so.
require_tmux() {
  command -v tmux >/dev/null && return
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "installing tmux (apt-get install -y tmux) ..." >&2
    apt-get install -y tmux >&2 || { apt-get update >&2 && apt-get install -y tmux >&2; }
  fi
  command -v tmux >/dev/null || {
    echo "--interactive needs tmux: install it (apt-get install tmux, brew install tmux) and try again" >&2
    exit 1
  }
}

terminal_tmux() {
  tmux -S "$terminal_socket" "$@"
}

terminal_start() {
  local dir="$1" workdir="$3"
  terminal_name="$2"
  terminal_socket="$dir/tmux.socket"
  shift 3
  # remain-on-exit: the pane outlives the command, so that its exit status can be read.
  printf 'set -g remain-on-exit on\nset -g history-limit 20000\n' >"$dir/tmux.conf"
  terminal_tmux -f "$dir/tmux.conf" new-session -d -s "$terminal_name" -x 200 -y 50 -c "$workdir" -- "$@"
}

# Typed as literal keys (-l: a prompt saying "Enter" or "C-c" stays text), then Enter on its own.
terminal_type() {
  terminal_tmux send-keys -t "$terminal_name" -l -- "$1"
  sleep 0.2
  terminal_tmux send-keys -t "$terminal_name" Enter
}

terminal_keys() {
  terminal_tmux send-keys -t "$terminal_name" "$@"
}

# -J joins wrapped lines, so that a long line is one line to grep.
terminal_screen() {
  if [ "${1:-}" = --all ]; then
    terminal_tmux capture-pane -p -J -S - -t "$terminal_name"
  else
    terminal_tmux capture-pane -p -J -t "$terminal_name"
  fi
}

terminal_exited() {
  [ "$(terminal_tmux display-message -p -t "$terminal_name" '#{pane_dead}' 2>/dev/null)" = 1 ]
}

# A command killed by a signal has no exit status in tmux: 128 + the signal, as a shell reports it.
terminal_exit_status() {
  local status signal
  status="$(terminal_tmux display-message -p -t "$terminal_name" '#{pane_dead_status}')"
  signal="$(terminal_tmux display-message -p -t "$terminal_name" '#{pane_dead_signal}')"
  if [ -z "$status" ] && [ -n "$signal" ]; then status=$((128 + signal)); fi
  echo "${status:-1}"
}

terminal_wait_for() {
  local deadline=$((SECONDS + $1)) check="$2" screen previous=""
  while [ "$SECONDS" -lt "$deadline" ]; do
    screen="$(terminal_screen --all)"
    # Two equal screens half a second apart: the UI has finished drawing what it checks.
    if [ "$screen" = "$previous" ] && "$check" "$screen"; then return 0; fi
    if terminal_exited; then return 1; fi
    previous="$screen"
    sleep 0.5
  done
  return 1
}

terminal_wait_exit() {
  local deadline=$((SECONDS + $1))
  until terminal_exited; do
    if [ "$SECONDS" -ge "$deadline" ]; then return 1; fi
    sleep 0.2
  done
}

terminal_stop() {
  [ -n "$terminal_name" ] || return 0
  terminal_tmux kill-session -t "$terminal_name" 2>/dev/null || true
  terminal_name=""
}
