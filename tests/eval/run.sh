#!/usr/bin/env bash
# Runs the whole evaluation: installs what the corpus needs, builds the corpus if it is not
# there yet, then runs the evaluator on it. Exits with the evaluator's status (0: every
# target met, 1: a target missed, 2: the corpus could not be read); when the setup or the
# corpus build fails, the evaluator does not run and the status is 2.
#
#   bash tests/eval/run.sh [corpus_dir] [evaluate options, e.g. --details]
#
# corpus_dir defaults to /tmp/stemcheck-corpus. The corpus is built only when
# corpus_dir/manifest.json is missing; delete the folder to rebuild it.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
corpus="$(realpath -m "${1:-/tmp/stemcheck-corpus}")"  # the evaluator runs from the repo root
shift $(( $# > 0 ? 1 : 0 ))

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }
step() { printf '\n== %s\n' "$*"; }

total=$(now)

step "setup"
t=$(now)
bash "$here/setup.sh" || { echo "run.sh: setup failed" >&2; exit 2; }
echo "run.sh: setup took $(elapsed "$t")"

step "corpus: $corpus"
t=$(now)
if [ -f "$corpus/manifest.json" ]; then
    echo "run.sh: $corpus/manifest.json exists, not rebuilding"
else
    python3 "$here/make_corpus.py" "$corpus" || { echo "run.sh: corpus build failed" >&2; exit 2; }
fi
echo "run.sh: corpus took $(elapsed "$t")"

step "evaluate"
t=$(now)
cd "$root"
status=0
cargo run --release --example evaluate -- "$corpus" "$@" || status=$?
echo "run.sh: evaluate took $(elapsed "$t") (status $status)"

echo "run.sh: total $(elapsed "$total")"
exit "$status"
