#!/usr/bin/env bash
# Extract translatable messages from the source and merge them into the Chinese catalog.
# Afterwards translate the new (empty) entries in app/locale/zh/LC_MESSAGES/messages.po.
# The template app/locale/messages.pot is generated and git-ignored.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
.venv/bin/pybabel extract -F babel.cfg -k N_ --no-location --sort-output -o app/locale/messages.pot .
.venv/bin/pybabel update -i app/locale/messages.pot -d app/locale -l zh -D messages \
    --no-fuzzy-matching --ignore-obsolete
