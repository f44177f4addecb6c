#!/usr/bin/env bash
# Install everything the tests need, check lint and format, and run the whole suite:
# SQLite and PostgreSQL, Redis with real RQ workers, an in-process SMTP server and
# Debian's Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh --dev
scripts/services.sh
# The house style is checked, not hoped for: lint and format first (a second, together).
.venv/bin/ruff check .
.venv/bin/ruff format --check .
# The layering (.importlinter): pages and API over services over the engine and models,
# notifications never reaching the job queue, no import cycle.
.venv/bin/lint-imports
exec .venv/bin/python -m pytest -n 2 --dist loadgroup -p no:cacheprovider "$@"
