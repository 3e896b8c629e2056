#!/usr/bin/env bash
# Installs what tests/eval/make_corpus.py needs on a fresh Debian 12 machine.
# Safe to run more than once.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

PACKAGES=(
    hydrogen-drumkits    # real drum samples (kits with drumkit.xml + FLAC/WAV)
    fluidsynth           # SoundFont renderer
    fluid-soundfont-gm   # FluidR3_GM.sf2
    ffmpeg               # alimiter, asoftclip, format conversion
    sox                  # format conversion, gain/vol, clipping
    libsox-fmt-base      # sox FLAC support
    x42-plugins          # x42 digital peak limiter (x42-dpl) as LV2
    lsp-plugins-lv2      # LSP limiter as LV2
    lilv-utils           # lv2apply, lv2ls, lv2info
)

missing=()
for p in "${PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done

if [ "${#missing[@]}" -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update
    $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
else
    echo "setup.sh: Debian packages already installed"
fi

if ! python3 -c 'import numpy' 2>/dev/null; then
    python3 -m pip install --quiet numpy
fi

python3 -c 'import numpy; print("numpy", numpy.__version__)'
for tool in fluidsynth ffmpeg sox lv2apply lv2ls; do
    command -v "$tool" >/dev/null || { echo "setup.sh: $tool missing" >&2; exit 1; }
done
echo "setup.sh: ok"
