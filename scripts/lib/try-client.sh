# Shared by scripts/try-*.sh: checking the base URL, and installing a client once, outside the
# project. Sourced, not run.

# Exits 2 unless $1 is an http(s) URL.
require_http_url() {
  case "$1" in
    http://*|https://*) ;;
    *) echo "BASE_URL must start with http:// or https:// (got: $1)" >&2; exit 2 ;;
  esac
}

# Exits 2 with the script's usage when more than two positional arguments (BASE_URL, PROMPT)
# were given; $1 is their count.
require_at_most_two_arguments() {
  if [ "$1" -gt 2 ]; then
    echo "too many arguments (quote the prompt)" >&2
    usage >&2
    exit 2
  fi
}

# Prints the host of URL $1, for NO_PROXY (strips scheme, path, userinfo, port; keeps [v6] bare).
url_host() {
  local host="${1#*://}"
  host="${host%%/*}"
  host="${host##*@}"
  case "$host" in
    \[*\]*) host="${host%%]*}"; host="${host#[}" ;;
    *) host="${host%%:*}" ;;
  esac
  printf '%s\n' "$host"
}

# install_client PACKAGE VERSION BIN_NAME: installs PACKAGE@VERSION once into
# ${TURNPIKE_TOOLS_DIR:-~/.cache/turnpike-tools}/<name>-VERSION and prints the binary's path.
install_client() {
  local package="$1" version="$2" bin_name="$3"
  local tools_dir="${TURNPIKE_TOOLS_DIR:-$HOME/.cache/turnpike-tools}"
  local prefix="$tools_dir/${package##*/}-$version"
  local bin="$prefix/node_modules/.bin/$bin_name"
  if [ ! -x "$bin" ] || ! "$bin" --version 2>/dev/null | grep -qF "$version"; then
    command -v npm >/dev/null || { echo "npm is required to install $package" >&2; exit 1; }
    echo "installing $package@$version into $prefix ..." >&2
    mkdir -p "$prefix"
    npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error "$package@$version" >&2
  fi
  "$bin" --version >/dev/null
  printf '%s\n' "$bin"
}

# install_package PACKAGE VERSION: installs PACKAGE@VERSION (a library, no binary) once into
# ${TURNPIKE_TOOLS_DIR:-~/.cache/turnpike-tools}/<scope-name>-VERSION and prints that folder,
# which holds package.json, package-lock.json and node_modules/.
install_package() {
  local package="$1" version="$2"
  local tools_dir="${TURNPIKE_TOOLS_DIR:-$HOME/.cache/turnpike-tools}"
  local name="${package#@}"
  local prefix="$tools_dir/${name//\//-}-$version"
  local manifest="$prefix/node_modules/$package/package.json"
  if [ ! -f "$manifest" ] || ! grep -qF "\"version\": \"$version\"" "$manifest"; then
    command -v npm >/dev/null || { echo "npm is required to install $package" >&2; exit 1; }
    echo "installing $package@$version into $prefix ..." >&2
    mkdir -p "$prefix"
    npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error "$package@$version" >&2
  fi
  printf '%s\n' "$prefix"
}
