#!/usr/bin/env bash
# Install everything and run the tests: on SQLite, or on PostgreSQL when DANDELION_TEST_POSTGRES
# holds a database URL. Extra arguments go to pytest, e.g. `bash scripts/test.sh -x tests/goals`.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
if [ -n "${DANDELION_TEST_POSTGRES:-}" ]; then
    echo "tests: PostgreSQL (${DANDELION_TEST_POSTGRES##*@})"  # host/db, never a password
else
    echo "tests: SQLite"
fi
exec .venv/bin/pytest "$@"
