#!/usr/bin/env bash
# Install CaseFlow into .venv (idempotent). With --dev also the test tools and Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
if [ "${1:-}" = "--dev" ]; then
  .venv/bin/python -m pip install --quiet -e ".[dev]"
  if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then
    # Browser tests drive Debian's Chromium; Playwright's own browser download is not reachable here.
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-dejavu-core >/dev/null
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
