#!/usr/bin/env bash
# Speed of `stemcheck check` against the peer `ffmpeg -af ebur128=peak=true` on the same files:
# 8 stereo 24-bit stems of 4 minutes at 48 kHz and their mix, written by the speed_set example.
# Each is timed 3 times; the best wall time counts. stemcheck runs with the mix given (--mix)
# and with the mix found among the files; ffmpeg runs its 9 files one after the other and two
# at a time (this project's machines have 2 cores; stemcheck uses both).
#
#   bash checker/speed/run.sh [seconds]      (needs ffmpeg; about 2 minutes)
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-240}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cargo build -q --release -p stemcheck-checker --bin stemcheck --example speed_set
target/release/examples/speed_set "$work" "$seconds"
bin="$PWD/target/release/stemcheck"
cd "$work"
ls stems/*.wav Mix.wav > files.txt
files=$(wc -l < files.txt)

best() {
    local best=""
    for _ in 1 2 3; do
        local start end t
        start=$(date +%s.%N)
        bash -c "$1" > /dev/null 2>&1 || true
        end=$(date +%s.%N)
        t=$(echo "$end - $start" | bc -l)
        if [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ]; then best=$t; fi
    done
    echo "$best"
}

ours=$(best "$bin check stems --mix Mix.wav --quiet")
found=$(best "$bin check stems Mix.wav --quiet")
seq=$(best "while read f; do ffmpeg -nostdin -nostats -hide_banner -loglevel error -i \"\$f\" -af ebur128=peak=true -f null -; done < files.txt")
par=$(best "xargs -P2 -I{} ffmpeg -nostdin -nostats -hide_banner -loglevel error -i {} -af ebur128=peak=true -f null - < files.txt")

printf '%s files of %s s, %s cores\n' "$files" "$seconds" "$(nproc)"
printf '| run | wall (s) | per file (s) | time / stemcheck --mix time |\n|---|---:|---:|---:|\n'
for row in "stemcheck check --mix (sum-check against the mix, all checks):$ours" \
           "stemcheck check without --mix (the mix found among the files):$found" \
           "ffmpeg ebur128=peak=true, one file at a time:$seq" \
           "ffmpeg ebur128=peak=true, two files at a time:$par"; do
    name=${row%:*}
    t=${row##*:}
    printf '| %s | %.2f | %.3f | %.2f |\n' "$name" "$t" "$(echo "$t / $files" | bc -l)" \
        "$(echo "$t / $ours" | bc -l)"
done
