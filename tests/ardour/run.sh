#!/usr/bin/env bash
# Runs the VST3 build of Stemcheck inside Ardour (headless, dummy audio backend) and checks the
# report it writes. See README.md beside this file.
#
# Usage: tests/ardour/run.sh BUNDLE_DIR      (BUNDLE_DIR: a built Stemcheck.vst3 bundle)
# Environment: ARDOUR_TEST_KEEP=1 keeps the temporary folder (session, logs, report).
# Exit status: 0 when every check passes.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUNDLE="${1:-}"

die() { echo "FAIL: $*" >&2; exit 1; }

[[ -n "$BUNDLE" ]] || die "usage: $0 PATH/TO/Stemcheck.vst3"
[[ -d "$BUNDLE" ]] || die "no VST3 bundle at $BUNDLE"
SO="$(find "$BUNDLE"/Contents -path '*x86_64-linux/*.so' | head -n 1)"
[[ -n "$SO" ]] || die "$BUNDLE has no Contents/x86_64-linux/*.so"

# --- the host ------------------------------------------------------------------------------
ARDOUR_LUA=""
for v in 7 8; do
    if command -v "ardour${v}-lua" >/dev/null 2>&1; then ARDOUR_LUA="ardour${v}-lua"; break; fi
done
[[ -n "$ARDOUR_LUA" ]] || die "Ardour is missing: no ardour7-lua (install the Debian package 'ardour')"
SCANNER="$(dpkg -L ardour 2>/dev/null | grep -E '/ardour[0-9]*-vst3-scanner$' | head -n 1 || true)"
if [[ -z "$SCANNER" ]]; then
    SCANNER="$(ls /usr/lib/ardour*/ardour*-vst3-scanner 2>/dev/null | head -n 1 || true)"
fi
[[ -x "$SCANNER" ]] || die "Ardour's VST3 scanner (ardour-vst3-scanner) is missing"
command -v python3 >/dev/null 2>&1 || die "python3 is missing"
command -v timeout >/dev/null 2>&1 || die "timeout (coreutils) is missing"

# --- a private HOME --------------------------------------------------------------------------
WORK="$(mktemp -d -t stemcheck-ardour.XXXXXX)"
cleanup() {
    if [[ "${ARDOUR_TEST_KEEP:-0}" == "1" ]]; then
        echo "kept: $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT

export HOME="$WORK/home"
export XDG_CONFIG_HOME="$HOME/.config" XDG_CACHE_HOME="$HOME/.cache" XDG_DATA_HOME="$HOME/.local/share"
unset VST3_PATH ARDOUR_CONFIG_PATH ARDOUR_DATA_PATH ARDOUR_DLL_PATH 2>/dev/null || true
mkdir -p "$HOME/.vst3" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME"
REPORT_DIR="$WORK/reports"
mkdir -p "$REPORT_DIR"
SESSION_DIR="$WORK/session"
SESSION_NAME="stemcheck"
RATE=48000
RECORD_SECONDS=6     # length of the takes (their audio is replaced)
PLAY_SECONDS=4       # played from the session start
LINGER_SECONDS=2.5   # engine kept running after the stop (the report is written then)
STOP_AT_SECONDS=2    # stop and continue: played before the stop, and again after it
EXPORT_SECONDS=6     # exported from the session start (the whole takes)
BUSES=(01_Drums 02_Bass 03_Keys 04_Vox)
# bus=level dBFS:frequency Hz[:burst dBFS@seconds]. Stems below the default window, their sum in
# it. 03_Keys peaks only in a 50 ms burst at 0.5 s: a pass broken at a stop would miss it.
SIGNALS=(01_Drums=-18:101 02_Bass=-15:211 03_Keys=-12:307:-10.5@0.5 04_Vox=-21:401)
CHECK_WINDOW_LOW=-7.5   # set through the state on the master, read back through Ardour

FAILURES=()
fail_later() { echo "FAIL: $*"; FAILURES+=("$*"); }
run_lua() {  # log-file script args...
    local log="$1"; shift
    local rc=0
    timeout 180 "$ARDOUR_LUA" "$@" </dev/null >"$log" 2>&1 || rc=$?
    grep -v -e 'call-slot' -e 'call slot' "$log" | sed 's/^/  | /' || true
    return $rc
}

# --- install the bundle and scan it --------------------------------------------------------
# Ardour's VST3 cache entry is only trusted if the plugin's .so is strictly older than the
# cache file; a bundle copied or built "now" can be skipped. Backdate it, then run the
# scanner on it so the cache exists before Ardour starts.
cp -R "$BUNDLE" "$HOME/.vst3/Stemcheck.vst3"
find "$HOME/.vst3/Stemcheck.vst3" -exec touch -h -d '2 hours ago' {} +
echo "== scanning the bundle with $(basename "$SCANNER")"
LD_LIBRARY_PATH="$(dirname "$SCANNER")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
    timeout 60 "$SCANNER" -f "$HOME/.vst3/Stemcheck.vst3" >"$WORK/scan.log" 2>&1 || {
        cat "$WORK/scan.log"; die "the VST3 scanner failed on the bundle"; }
grep -q 'Found Plugin: Stemcheck' "$WORK/scan.log" || { cat "$WORK/scan.log"; die "the VST3 scanner did not find Stemcheck in the bundle"; }
ls "$XDG_CACHE_HOME"/ardour*/vst/*.v3i >/dev/null 2>&1 || die "the VST3 scanner wrote no cache file"

# --- build the session -----------------------------------------------------------------------
echo "== building the session (${#BUSES[@]} stem buses, ${RECORD_SECONDS}s takes)"
run_lua "$WORK/build.log" "$HERE/build_session.lua" "$SESSION_DIR" "$SESSION_NAME" "$RATE" "$RECORD_SECONDS" "${BUSES[@]}" ||
    die "ardour-lua failed while building the session (log above)"
grep -q '^BUILD_OK' "$WORK/build.log" || die "the session was not built (log above)"
INSERTED="$(sed -n 's/^STEMCHECK_INSERTED //p' "$WORK/build.log")"
[[ "$INSERTED" == "$(( ${#BUSES[@]} + 1 ))" ]] ||
    die "Stemcheck inserted ${INSERTED:-0} times, expected $(( ${#BUSES[@]} + 1 )) (4 buses + master): is the VST3 found by Ardour?"

# --- test audio --------------------------------------------------------------------------------
echo "== writing the test signals"
python3 "$HERE/make_audio.py" "$SESSION_DIR" "$SESSION_NAME" --expect "$WORK/expect.json" "${SIGNALS[@]}" ||
    die "could not write the test audio"

# --- the master's state -------------------------------------------------------------------------
echo "== setting the master's Stemcheck state in the session file"
SESSION_FILE="$SESSION_DIR/$SESSION_NAME.ardour"
REPORT_DIR_JSON="$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$REPORT_DIR")"
python3 "$HERE/session_state.py" set "$SESSION_FILE" --route Master \
    --param 'role={"i32": 1}' \
    --param "window_low_db={\"f32\": $CHECK_WINDOW_LOW}" \
    --field "report_dir=$REPORT_DIR_JSON" \
    --field 'auto_report=true' || die "could not write the master's plugin state"

# --- play -----------------------------------------------------------------------------------------
echo "== playing ${PLAY_SECONDS}s from the start"
run_lua "$WORK/play.log" "$HERE/play_session.lua" "$SESSION_DIR" "$SESSION_NAME" "$PLAY_SECONDS" "$LINGER_SECONDS" verify ||
    die "ardour-lua failed while playing the session (log above)"
grep -q '^PLAY_OK' "$WORK/play.log" || die "the session did not play to the end (log above)"
LOADED="$(sed -n 's/^STEMCHECK_LOADED //p' "$WORK/play.log")"
[[ "$LOADED" == "$(( ${#BUSES[@]} + 1 ))" ]] || die "Stemcheck loaded ${LOADED:-0} times from the session, expected $(( ${#BUSES[@]} + 1 ))"

# Ardour's own meters: the session plays what the plugins should measure.
python3 - "$WORK/play.log" "$WORK/expect.json" <<'EOF' || FAILURES+=("Ardour's meters do not match the test signals")
import json, sys
log, expect = open(sys.argv[1]).read().splitlines(), json.load(open(sys.argv[2]))
want = {name: e["sample_peak_dbfs"] for name, e in expect["stems"].items()}
want["Master"] = expect["master"]["sample_peak_dbfs"]
got = {}
for line in log:
    if line.startswith("METER "):
        _, route, ch, val = line.split()
        got.setdefault(route, {})[int(ch)] = float(val)
bad = 0
for route, levels in want.items():
    for ch, w in enumerate(levels):
        g = got.get(route, {}).get(ch)
        if g is None or abs(g - w) > 0.1:
            print("FAIL: Ardour's meter on %s ch%d reads %s dBFS, expected %.2f" % (route, ch + 1, g, w))
            bad += 1
print("Ardour's meters match the test signals" if not bad else "")
sys.exit(1 if bad else 0)
EOF

# The state reached the plugin: Ardour reads the parameters back, and the plugin's own saved
# state (its getState, in the snapshot saved at the end of the run) still holds what was set.
echo "== checking that the state reached the plugin"
python3 "$HERE/session_state.py" check "$SESSION_DIR/verify.ardour" --route Master \
    --param role=1 --param "window_low_db=$CHECK_WINDOW_LOW" \
    --field "report_dir=$REPORT_DIR_JSON" --field 'auto_report=true' --lua-log "$WORK/play.log" ||
    fail_later "the master's plugin state is not what was set (see MISMATCH lines)"

# --- the report -------------------------------------------------------------------------------------
echo "== checking the report"
python3 "$HERE/check_report.py" "$REPORT_DIR" "$WORK/expect.json" --whole-pass --render-mode realtime ||
    fail_later "the report check failed"
keep_reports() { mkdir -p "$WORK/$1"; mv "$REPORT_DIR"/stemcheck-report-* "$WORK/$1/" 2>/dev/null || true; }
keep_reports reports-played

# --- stop and continue --------------------------------------------------------------------------
# "Silence plugins when the transport is stopped" on (every insert is deactivated and activated
# at each stop) and a latent plugin on the master (Ardour restarts before where it stopped):
# the pass must go on, and the report after the second stop cover all of it.
echo "== stop and continue, with plugins silenced when stopped and a latent plugin"
mkdir -p "$XDG_CONFIG_HOME/ardour7/scripts"
cp "$HERE/latency_dsp.lua" "$XDG_CONFIG_HOME/ardour7/scripts/stemcheck_test_latency.lua"
run_lua "$WORK/stopcont.log" "$HERE/stop_continue.lua" "$SESSION_DIR" "$SESSION_NAME" \
    "$STOP_AT_SECONDS" "$STOP_AT_SECONDS" "$LINGER_SECONDS" ||
    die "ardour-lua failed while stopping and continuing (log above)"
grep -q '^STOPCONT_OK' "$WORK/stopcont.log" || die "the stop and continue did not run to the end (log above)"
# Ardour's engine plays slower than real time on a loaded machine: the pass must cover what
# it actually played, from 0 to where the second stop left the transport.
PLAYED_TO="$(sed -n 's/.*STOPPED at \([0-9]*\) (played from.*/\1/p' "$WORK/stopcont.log" | tail -n 1)"
[[ -n "$PLAYED_TO" ]] || die "the stop and continue log has no STOPPED line"
echo "the transport stopped at $PLAYED_TO after the continue"
python3 "$HERE/check_report.py" "$REPORT_DIR" "$WORK/expect.json" --whole-pass --render-mode realtime \
    --min-frames "$PLAYED_TO" ||
    fail_later "the report after stop and continue does not cover the whole pass"
keep_reports reports-stop-continue

# --- an offline export ----------------------------------------------------------------------------
# Ardour's own export freewheels the engine. Ardour 7 tells a VST3 only through each block's
# ProcessData::processMode (kOffline), which nice-plug does not pass on: Stemcheck finds the
# render from its speed, holds the host back as needed, and must have checked every frame.
echo "== exporting ${EXPORT_SECONDS}s offline"
run_lua "$WORK/export.log" "$HERE/export_session.lua" "$SESSION_DIR" "$SESSION_NAME" "$WORK/export" \
    "$EXPORT_SECONDS" "$LINGER_SECONDS" || die "ardour-lua failed while exporting (log above)"
grep -q '^EXPORT_OK' "$WORK/export.log" || die "the export did not run to the end (log above)"
EXPORTED="$(find "$WORK/export" -name '*.wav' | head -n 1)"
[[ -n "$EXPORTED" ]] || die "the export wrote no WAV file"
python3 "$HERE/check_export.py" "$EXPORTED" "$WORK/expect.json" "$EXPORT_SECONDS" ||
    fail_later "the exported file is not the mix"
python3 "$HERE/check_report.py" "$REPORT_DIR" "$WORK/expect.json" --whole-pass --render-mode offline \
    --min-frames $(( EXPORT_SECONDS * RATE )) ||
    fail_later "the report after the export does not cover the whole export"

echo
if (( ${#FAILURES[@]} )); then
    echo "Ardour test FAILED:"
    printf '  - %s\n' "${FAILURES[@]}"
    exit 1
fi
echo "Ardour test passed"
