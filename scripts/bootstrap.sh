#!/usr/bin/env bash
# Sets up what claudelens-nb needs on a fresh machine: Debian packages (when we may install
# them) and a virtual environment in .venv with the package installed editable.
# Usage: scripts/bootstrap.sh [run|test]
set -euo pipefail
cd "$(dirname "$0")/.."
want=${1:-run}

# Fonts reportlab can embed for the PDF export: DejaVu (Latin, Greek, Cyrillic),
# Droid Sans Fallback (CJK), Symbola (emoji and symbols).
debs=(libmagic1 fonts-dejavu-core fonts-droid-fallback fonts-symbola)
if [ "$want" = test ]; then
  debs+=(poppler-utils chromium)
fi
missing=()
for p in "${debs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then sudo=""; elif command -v sudo >/dev/null; then sudo="sudo"; else sudo=none; fi
  if [ "$sudo" = none ]; then
    echo "please install these Debian packages: ${missing[*]}" >&2
  else
    echo "installing Debian packages: ${missing[*]}"
    $sudo apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi

py=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$py" -m venv .venv
fi
stamp=".venv/.installed-$(cat pyproject.toml | sha256sum | cut -c1-16)-$want"
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  if [ "$want" = test ]; then
    .venv/bin/python -m pip install -q -e ".[test,upstream]"
  else
    .venv/bin/python -m pip install -q -e .
  fi
  touch "$stamp"
fi

# ccusage, the reference the tests compare Claude Code usage and cost with
# (tests/test_ccusage_agreement.py): pinned, in .venv/ccusage, from npm (needs Node.js and npm).
if [ "$want" = test ]; then
  ccusage_version=20.0.24
  cc=.venv/ccusage/node_modules/.bin/ccusage
  if [ "$("$cc" --version 2>/dev/null || true)" != "ccusage $ccusage_version" ]; then
    if ! command -v npm >/dev/null; then
      if [ "$(id -u)" = 0 ]; then as=""; elif command -v sudo >/dev/null; then as="sudo"; else as=none; fi
      if [ "$as" != none ]; then
        echo "installing Debian packages: nodejs npm"
        $as apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive $as apt-get install -y -qq nodejs npm >/dev/null
      fi
    fi
    if ! command -v npm >/dev/null; then
      echo "error: the tests need ccusage $ccusage_version from npm; install Node.js and npm" \
           "(Debian: apt-get install nodejs npm), then run scripts/bootstrap.sh test again" >&2
      exit 1
    fi
    echo "installing ccusage $ccusage_version into .venv/ccusage"
    if ! npm install --prefix .venv/ccusage --no-audit --no-fund --loglevel=error \
         "ccusage@$ccusage_version" >/dev/null \
       || [ "$("$cc" --version 2>/dev/null || true)" != "ccusage $ccusage_version" ]; then
      echo "error: could not install ccusage $ccusage_version with npm (is the registry" \
           "reachable?); the tests need it" >&2
      exit 1
    fi
  fi
fi
