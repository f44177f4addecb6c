#!/usr/bin/env bash
# Install and run CaseFlow with demo data on the embedded default: SQLite in instance/,
# jobs in-process, mail written to instance/mail/. Open http://127.0.0.1:5000
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install.sh
export FLASK_APP=wsgi
.venv/bin/flask caseflow init-db
.venv/bin/flask caseflow seed-demo
exec .venv/bin/flask caseflow demo --host "${HOST:-127.0.0.1}" --port "${PORT:-5000}"
