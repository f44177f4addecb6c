#!/usr/bin/env bash
# Install everything the tests need and run the whole suite: SQLite and PostgreSQL,
# Redis with real RQ workers, an in-process SMTP server and Debian's Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh --dev
scripts/services.sh
exec .venv/bin/python -m pytest -n 2 --dist loadgroup -p no:cacheprovider "$@"
