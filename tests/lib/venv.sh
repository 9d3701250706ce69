# Python virtual environments for the test suites (sourced by tests/compat/run.sh and tests/browser/run.sh).
# Needs PYTHON (the interpreter) and REPO (the repository root) set by the caller.

# make_venv DIR: python3 -m venv fails on Debian without the python3-venv package; install it then (we are root there).
make_venv() {
  local dir="$1"
  if "$PYTHON" -m venv "$dir" >/dev/null 2>&1 && [ -x "$dir/bin/python" ] && "$dir/bin/python" -m pip --version >/dev/null 2>&1; then
    return 0
  fi
  rm -rf "$dir"
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "python3 -m venv failed; installing python3-venv with apt-get" >&2
    apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null || return 1
    "$PYTHON" -m venv "$dir" || return 1
    return 0
  fi
  return 1
}

# ensure_venv DIR REQUIREMENTS [pip flags...]: reuse DIR when its stamp matches (python version + requirements + flags),
# else create it and install REQUIREMENTS exactly (--no-deps: the files pin the whole closure).
ensure_venv() {
  local dir="$1" req="$2"
  shift 2
  local stamp
  stamp="$({ "$PYTHON" -c 'import sys; print(sys.version)'; cat "$req"; echo "$*"; } | sha256sum | cut -d' ' -f1)"
  if [ -x "$dir/bin/python" ] && [ "$(cat "$dir/.venv-stamp" 2>/dev/null)" = "$stamp" ]; then
    return 0
  fi
  echo "setting up $dir from ${req#"$REPO"/} ..." >&2
  rm -rf "$dir"
  make_venv "$dir" || return 1
  "$dir/bin/python" -m pip install -q --disable-pip-version-check --no-deps "$@" -r "$req" || return 1
  echo "$stamp" >"$dir/.venv-stamp"
}
