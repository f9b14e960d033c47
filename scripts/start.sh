#!/usr/bin/env bash
# Install everything, load the demo data into SQLite (./var), start the background-job worker
# and serve on port 8000; stopping the script (Ctrl-C, or a TERM) or the server stops the
# worker too.
# Extra arguments go to `dandelion serve`, e.g. `bash scripts/start.sh --port 9000`.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
.venv/bin/dandelion demo

# Issuing certificates and print runs are jobs: the worker does them, the pages show progress.
.venv/bin/dandelion worker &
worker=$!
.venv/bin/dandelion serve --host 0.0.0.0 --port 8000 "$@" &
server=$!
stop() {
    trap - EXIT INT TERM
    kill -TERM "$server" "$worker" 2>/dev/null || true
    wait "$server" "$worker" 2>/dev/null || true
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
wait "$server"
