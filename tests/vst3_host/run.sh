#!/usr/bin/env bash
# Runs odd_rates.py (the VST3 bundle in pedalboard, a JUCE-based host from PyPI) in a private
# virtual environment. Usage: tests/vst3_host/run.sh PATH/TO/Stemcheck.vst3 [VENV_DIR]
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUNDLE="${1:?usage: $0 PATH/TO/Stemcheck.vst3 [VENV_DIR]}"
VENV="${2:-$HERE/../../target/vst3-host-venv}"
if [[ ! -x "$VENV/bin/python" ]]; then
    python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install --quiet --disable-pip-version-check "pedalboard==0.9.26" "numpy<3"
"$VENV/bin/python" "$HERE/odd_rates.py" "$BUNDLE"
