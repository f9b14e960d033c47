#!/usr/bin/env bash
# Install everything, load the demo data into SQLite (./var) and serve on port 8000.
# Extra arguments go to `dandelion serve`, e.g. `bash scripts/start.sh --port 9000`.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
.venv/bin/dandelion demo
exec .venv/bin/dandelion serve --host 0.0.0.0 --port 8000 "$@"
