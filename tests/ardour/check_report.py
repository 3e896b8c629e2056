#!/usr/bin/env python3
"""Checks the newest Stemcheck report in a folder against the expected readings.

Usage: check_report.py REPORT_DIR EXPECT_JSON [--tolerance-db 0.5] [--whole-pass]
                       [--render-mode realtime|offline] [--min-frames N]

EXPECT_JSON is written by make_audio.py: {"stems": {name: {"sample_peak_dbfs": [..]}},
"master": {"sample_peak_dbfs": [..]}, "sample_rate": N}. Checks the report contract of
SPEC 6.1 (schema id, file names, the stems by name, per-channel sample peaks), that the
stems null against the master in place and at unity with nothing limited, and prints a
table of what the report says. --whole-pass also requires the pass to be complete and
checked in full: from the session start, nothing unchecked by the sum-check or any bus's
detection, no pass.incomplete or sum.incomplete, verdict ready; --render-mode the mode the
report names; --min-frames that many frames compared. Exit status 0 when every check passes.
"""

import argparse
import glob
import json
import os
import re
import sys

NAME_RE = re.compile(r"^stemcheck-report-\d{8}T\d{6}(?:[-_.][^/]*)?\.json$")


def fmt_levels(levels):
    if levels is None:
        return "-"
    if not isinstance(levels, list):
        return repr(levels)
    return "/".join("silent" if v is None else "%.2f" % v for v in levels)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("report_dir")
    ap.add_argument("expect_json")
    ap.add_argument("--tolerance-db", type=float, default=0.5)
    ap.add_argument("--whole-pass", action="store_true")
    ap.add_argument("--render-mode", choices=("realtime", "offline"))
    ap.add_argument("--min-frames", type=int, default=0)
    args = ap.parse_args()

    with open(args.expect_json) as f:
        expect = json.load(f)
    tol = args.tolerance_db
    failures = []

    reports = glob.glob(os.path.join(args.report_dir, "stemcheck-report-*.json"))
    if not reports:
        if not os.path.isdir(args.report_dir):
            where = " (the folder does not exist)"
        else:
            present = sorted(os.listdir(args.report_dir))
            where = " (it holds: %s)" % ", ".join(present) if present else " (it is empty)"
        print("FAIL: no report written: no stemcheck-report-*.json in the report folder" + where)
        return 1
    path = max(reports, key=lambda p: (os.path.getmtime(p), p))
    print("report: %s (%d report(s) in the folder)" % (os.path.basename(path), len(reports)))
    if not NAME_RE.match(os.path.basename(path)):
        failures.append("report file name %r is not stemcheck-report-<yyyymmddThhmmss>.json" % os.path.basename(path))
    if not os.path.exists(path[:-len(".json")] + ".md"):
        failures.append("no Markdown report next to the JSON one (%s)" % os.path.basename(path[:-5] + ".md"))

    try:
        with open(path) as f:
            report = json.load(f)
    except ValueError as e:
        print("FAIL: the report is not valid JSON: %s" % e)
        return 1

    if report.get("schema") != "stemcheck.report/1":
        failures.append("schema is %r, expected 'stemcheck.report/1'" % report.get("schema"))
    if report.get("sample_rate") != expect.get("sample_rate"):
        failures.append("sample_rate is %r, expected %r" % (report.get("sample_rate"), expect.get("sample_rate")))

    def check_levels(who, got, want):
        if not isinstance(got, list) or len(got) != len(want):
            failures.append("%s: sample_peak_dbfs is %r, expected %d channel values" % (who, got, len(want)))
            return
        for ch, (g, w) in enumerate(zip(got, want)):
            if g is None:
                failures.append("%s ch%d: sample peak is null (silent), expected %.2f dBFS" % (who, ch + 1, w))
            elif not isinstance(g, (int, float)) or abs(g - w) > tol:
                failures.append("%s ch%d: sample peak %s dBFS, expected %.2f +/- %.1f" % (who, ch + 1, g, w, tol))

    rows = []
    stems = report.get("stems")
    if not isinstance(stems, list):
        failures.append("'stems' is missing or not a list")
        stems = []
    names = [s.get("name") for s in stems if isinstance(s, dict)]
    want_names = sorted(expect["stems"])
    if sorted(n for n in names if n is not None) != want_names or len(names) != len(want_names):
        failures.append("stems are %r, expected exactly %r" % (names, want_names))
    for s in stems:
        if not isinstance(s, dict):
            continue
        name = s.get("name")
        want = expect["stems"].get(name)
        rows.append((name, s.get("channels"), s.get("sample_peak_dbfs"), s.get("true_peak_dbtp"),
                     s.get("window"), want["sample_peak_dbfs"] if want else None))
        if want:
            if s.get("channels") != len(want["sample_peak_dbfs"]):
                failures.append("stem %s: channels %r, expected %d" % (name, s.get("channels"), len(want["sample_peak_dbfs"])))
            check_levels("stem " + str(name), s.get("sample_peak_dbfs"), want["sample_peak_dbfs"])

    master = report.get("master")
    if not isinstance(master, dict):
        failures.append("'master' is missing or not an object")
    else:
        want = expect["master"]["sample_peak_dbfs"]
        rows.append(("[master] " + str(master.get("name")), master.get("channels"), master.get("sample_peak_dbfs"),
                     master.get("true_peak_dbtp"), "", want))
        if master.get("channels") != len(want):
            failures.append("master: channels %r, expected %d" % (master.get("channels"), len(want)))
        check_levels("master", master.get("sample_peak_dbfs"), want)

    print("%-22s %3s  %-15s %-15s %-6s %s" % ("bus", "ch", "sample peak", "true peak", "window", "expected"))
    for name, ch, sp, tp, win, want in rows:
        print("%-22s %3s  %-15s %-15s %-6s %s" % (name, ch, fmt_levels(sp), fmt_levels(tp), win or "",
                                                fmt_levels(want) if want else "-"))
    findings = report.get("findings") or []
    print("verdict: %s; %d finding(s)%s" % (report.get("verdict"), len(findings),
          "".join("\n  %s %s %s: %s" % (f.get("severity"), f.get("id"), f.get("stem"), f.get("message"))
                  for f in findings if isinstance(f, dict))))
    if report.get("verdict") not in ("ready", "warnings", "not_ready"):
        failures.append("verdict is %r" % report.get("verdict"))

    # The sum-check in a real DAW: the buses reach the master at unity (faders at 0 dB,
    # centred panners, no latency), so the stems must null against the master, in place, at
    # unity, with nothing limited.
    s = report.get("sum") or {}
    print("sum-check: null %s dB (fitted %s), unaccounted %s dB, cancellation %s dB, "
          "stem sum %s dBTP, %s frames compared, %s skipped" % (
              s.get("null_depth_db"), s.get("null_depth_fitted_db"), s.get("unaccounted_db"),
              s.get("cancellation_db"), s.get("sum_true_peak_dbtp"), s.get("compared_frames"),
              s.get("skipped_frames")))
    null = s.get("null_depth_db")
    if not isinstance(null, (int, float)) or null > -60.0:
        failures.append("the stems do not null against the master: null depth %r dB" % null)
    if not (s.get("compared_frames") or 0) > 0:
        failures.append("the sum-check compared nothing: %r" % s)
    for stem in report.get("stems") or []:
        name = stem.get("name")
        print("  %-10s gain %s dB, offset %s, inverted %s, limiter %s" % (
            name, stem.get("gain_db"), stem.get("offset_samples"),
            stem.get("polarity_inverted"), (stem.get("limiter") or {}).get("verdict")))
        if stem.get("offset_samples") != 0:
            failures.append("%s: offset %r, expected 0" % (name, stem.get("offset_samples")))
        gains = stem.get("gain_db") or []
        if not gains or any(g is None or abs(g) > 0.1 for g in gains):
            failures.append("%s: gain %r dB, expected 0 on both channels" % (name, gains))
        if (stem.get("limiter") or {}).get("verdict") != "none":
            failures.append("%s: limiter verdict %r" % (name, (stem.get("limiter") or {}).get("verdict")))
    ids = sorted(f.get("id") for f in findings if isinstance(f, dict)
                 and str(f.get("id", "")).startswith(("sum.", "limiter.")))
    if ids:
        failures.append("sum-check or limiter findings in a clean session: %s" % ", ".join(ids))

    # How the pass was run and how much of it was checked.
    p = report.get("pass") or {}
    print("pass: %s to %s, complete %s, render mode %s (inferred %s), speed %s x real time, "
          "%s frames analysed, %s unchecked (%s)" % (
              p.get("start_samples"), p.get("end_samples"), p.get("complete"), p.get("render_mode"),
              p.get("render_mode_inferred"), p.get("speed"), p.get("analysed_frames"),
              p.get("unchecked_frames"), p.get("unchecked_reason")))
    if args.render_mode and p.get("render_mode") != args.render_mode:
        failures.append("render mode %r, expected %r" % (p.get("render_mode"), args.render_mode))
    if (s.get("compared_frames") or 0) < args.min_frames:
        failures.append("%r frames compared, expected at least %d" % (s.get("compared_frames"), args.min_frames))
    if args.whole_pass:
        if not p.get("complete") or (p.get("start_samples") is None or p["start_samples"] > 0):
            failures.append("the pass is not complete from the session start: %r" % p)
        if p.get("unchecked_frames") != 0:
            failures.append("%r frames of the pass unchecked, expected 0" % p.get("unchecked_frames"))
        if s.get("unchecked_frames") != 0 or s.get("skipped_frames") != 0:
            failures.append("the sum-check left out frames: %r" % s)
        for who, lim in [("master", (report.get("master") or {}).get("limiter") or {})] + [
                (st.get("name"), st.get("limiter") or {}) for st in report.get("stems") or []]:
            if lim.get("unseen_frames") != 0:
                failures.append("%s: the detection did not see %r frames" % (who, lim.get("unseen_frames")))
        bad = sorted(f.get("id") for f in findings if f.get("id") in ("pass.incomplete", "sum.incomplete"))
        if bad:
            failures.append("findings %s on a whole pass" % ", ".join(bad))
        if report.get("verdict") != "ready":
            failures.append("verdict %r, expected ready" % report.get("verdict"))

    for msg in failures:
        print("FAIL: " + msg)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
