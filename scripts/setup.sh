#!/usr/bin/env bash
# Install what Dandelion needs on Debian 12: system packages, then the Python virtual environment.
# Idempotent and quick on a second run: apt only when a package is missing, pip only when
# pyproject.toml changed since the last install.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# libharfbuzz-subset0: WeasyPrint subsets fonts through it (a certificate takes ~11 s without, 0.2 s with).
# fonts-noto-cjk: the CJK font certificates print with. poppler-utils: pdftotext, the tests read PDFs back.
# chromium: the browser tests (/usr/bin/chromium). zbar-tools: a test scans the printed QR code.
PACKAGES=(libharfbuzz-subset0 fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 poppler-utils chromium zbar-tools)
PYTHON=${PYTHON:-python3}

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()
for package in "${PACKAGES[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "setup: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get -o DPkg::Lock::Timeout=300 update -qq
    as_root apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "setup: Dandelion needs Python 3.11 or newer; $PYTHON is $("$PYTHON" --version 2>&1)" >&2
    exit 1
fi

# A venv copied from elsewhere or left half-made has no working interpreter: start it again.
if [ -d .venv ] && ! .venv/bin/python -c '' 2>/dev/null; then
    rm -rf .venv
fi
if [ ! -d .venv ]; then
    echo "setup: creating .venv"
    "$PYTHON" -m venv .venv
fi

wanted=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ "$(cat .venv/.installed 2>/dev/null)" != "$wanted" ]; then
    echo "setup: installing Python packages into .venv (a minute or two the first time)"
    export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
    .venv/bin/python -m pip install --quiet --quiet -e '.[test]'
    echo "$wanted" > .venv/.installed
fi
