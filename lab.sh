#!/usr/bin/env bash
# aiops-lab bootstrap: everything a fresh Debian/Ubuntu machine needs, then the lab.
#   ./lab.sh up        install what is missing, then start the lab (aiops-lab up)
#   ./lab.sh test      install what is missing, then run the whole test suite
#   ./lab.sh <args>    any other aiops-lab command, e.g. ./lab.sh drill list
set -euo pipefail
cd "$(dirname "$0")"
VENV="${AIOPS_VENV:-.venv}"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    say "need root for: $* (no sudo found) -- run it as root, then rerun ./lab.sh"; return 1; fi
}

install_system_packages() {
  local missing=()
  command -v prometheus >/dev/null || missing+=(prometheus)
  command -v prometheus-alertmanager >/dev/null || missing+=(prometheus-alertmanager)
  command -v wrk >/dev/null || missing+=(wrk)  # the load generator of benchmarks/ (and their smoke tests)
  python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
  if [ "${1:-}" = test ]; then  # the browser tests drive Debian's Chromium (tests/support/browser.py)
    command -v chromium >/dev/null || missing+=(chromium)
    command -v chromedriver >/dev/null || missing+=(chromium-driver)
  fi
  if [ ${#missing[@]} -gt 0 ]; then
    if command -v apt-get >/dev/null; then
      say "installing system packages: ${missing[*]}"
      as_root apt-get update -qq
      as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
      say "please install ${missing[*]} with your package manager (the lab starts without Prometheus, tests need it)"
    fi
  fi
}

install_python_env() {
  python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { say "Python >= 3.11 is required"; exit 4; }
  [ -x "$VENV/bin/python" ] || { say "creating virtualenv $VENV"; python3 -m venv "$VENV"; }
  local stamp="$VENV/.aiops-installed"
  # The runtime dependencies are constrained to docker/requirements.lock, the versions the suite and the
  # image were last run with, so a fresh clone gets a known-good set instead of whatever is newest today.
  local want; want="$(cat pyproject.toml docker/requirements.lock | sha256sum | cut -c1-16)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    say "installing aiops-lab and its dependencies into $VENV (first run takes a few minutes)"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -e ".[test]" -c docker/requirements.lock
    echo "$want" > "$stamp"
  fi
}

install_system_packages "${1:-up}"
install_python_env
case "${1:-up}" in
  test) shift; exec "$VENV/bin/python" -m pytest "$@" ;;
  *) exec "$VENV/bin/aiops-lab" "$@" ;;
esac
