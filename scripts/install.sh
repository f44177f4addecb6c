#!/usr/bin/env bash
# Install CaseFlow into .venv (idempotent). With --dev also the test tools and Debian's Chromium.
#
# Needs: python3 (3.11+) with venv. With --dev, Debian packages (Chromium, fonts) are installed
# with apt-get, which needs root; they are skipped when already present, and without root the
# script says which ones to ask an administrator for. The full suite also needs PostgreSQL and
# Redis (scripts/services.sh starts them if this machine has them).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
# How long to wait for another apt/dpkg (unattended upgrades, a parallel install) to let go.
APT_LOCK_TIMEOUT=${APT_LOCK_TIMEOUT:-600}
DEBIAN_PACKAGES=(chromium chromium-driver fonts-dejavu-core)

missing_debian_packages() {
  local pkg
  for pkg in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || echo "$pkg"
  done
}

apt_install() {
  scripts/wait-apt-lock.sh "$APT_LOCK_TIMEOUT"
  # apt's own lock wait covers the moment between that check and its start.
  apt-get -o DPkg::Lock::Timeout="$APT_LOCK_TIMEOUT" update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout="$APT_LOCK_TIMEOUT" \
    install -y -qq "$@" >/dev/null
}

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip "setuptools>=77"
if [ "${1:-}" = "--dev" ]; then
  .venv/bin/python -m pip install --quiet -e ".[dev]"
  mapfile -t missing < <(missing_debian_packages)
  if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" -eq 0 ]; then
      # Browser tests drive Debian's Chromium; Playwright's own browser download is not reachable here.
      apt_install "${missing[@]}"
    else
      echo "install.sh: not root, so these Debian packages were not installed: ${missing[*]}" >&2
      echo "install.sh: ask an administrator for them (apt-get install ${missing[*]})," >&2
      echo "install.sh: or run the suite without browser tests: pytest -m 'not browser'" >&2
    fi
  fi
else
  .venv/bin/python -m pip install --quiet -e .
fi
# The printed forms (PDF) need a font with every Vietnamese diacritic, installed from Debian.
if ! fc-list 2>/dev/null | grep -q "DejaVu Serif"; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-dejavu-core >/dev/null
fi
if [ -d caseflow/translations ]; then
  .venv/bin/pybabel compile -d caseflow/translations >/dev/null
fi
# Bytecode for the app's own modules: where PYTHONDONTWRITEBYTECODE is set (this machine, CI),
# every worker, command and test subprocess would otherwise compile them again at start.
.venv/bin/python -m compileall -q caseflow wsgi.py config.py >/dev/null
