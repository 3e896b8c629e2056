#!/usr/bin/env python3
"""Checks a corpus built by make_corpus.py against its manifest.

    python3 tests/eval/verify_corpus.py CORPUS_DIR

- every file: 48 kHz, stereo, 32-bit float (format tag 3), all files of a session the same length;
- clean: master == float sum of the stems (max abs error < 1e-6), master peak -5.0 dBFS +-0.1,
  every stem peak below -6 dBFS, every stem with left != right;
- stem_limited, stem_clipped: master == sum of the stems as listed;
- offset, polarity, fader, pan, multi: master == sum of the stems with the truth applied;
- unaccounted: master - sum of stems has the recorded level;
- limiters: recorded gain reduction >= drive - 1 dB (listed when not);
- clippers: runs of equal samples at the ceiling.
Exits non-zero on any failure.
"""

import json
import math
import os
import struct
import sys
from collections import defaultdict

import numpy as np

SR = 48000


def read_wav(path):
    with open(path, "rb") as f:
        d = f.read()
    assert d[:4] == b"RIFF" and d[8:12] == b"WAVE", f"{path}: not RIFF/WAVE"
    i, fmt = 12, None
    while i + 8 <= len(d):
        cid, size = d[i:i + 4], struct.unpack("<I", d[i + 4:i + 8])[0]
        body = d[i + 8:i + 8 + size]
        if cid == b"fmt ":
            fmt = struct.unpack("<HHIIHH", body[:16])
        elif cid == b"data":
            tag, ch, rate, _, _, bits = fmt
            assert tag == 3 and bits == 32, f"{path}: format tag {tag}, {bits} bits"
            assert rate == SR and ch == 2, f"{path}: {rate} Hz, {ch} channels"
            return np.frombuffer(body, dtype="<f4").reshape(-1, 2).astype(np.float64)
        i += 8 + size + (size & 1)
    raise AssertionError(f"{path}: no data chunk")


def db(x):
    return 20 * math.log10(x) if x > 0 else -math.inf


def shift(x, k):
    y = np.zeros_like(x)
    if k > 0:
        y[k:] = x[:-k]
    elif k < 0:
        y[:k] = x[-k:]
    else:
        y[:] = x
    return y


def longest_run_at(x, level):
    best = 0
    for c in range(x.shape[1]):
        hit = np.abs(x[:, c]) >= level * (1 - 1e-6)
        if not hit.any():
            continue
        # lengths of runs of True
        edges = np.diff(np.concatenate([[0], hit.astype(np.int8), [0]]))
        starts, ends = np.where(edges == 1)[0], np.where(edges == -1)[0]
        best = max(best, int((ends - starts).max()))
    return best


def main():
    root = sys.argv[1]
    m = json.load(open(os.path.join(root, "manifest.json")))
    assert m["version"] == 1 and m["sample_rate"] == SR
    failures, notes = [], []
    cache = {}
    current_base = None
    gr_table = defaultdict(list)
    kinds = defaultdict(int)

    def load(rel):
        if rel not in cache:
            cache[rel] = read_wav(os.path.join(root, rel))
        return cache[rel]

    def check(cond, msg):
        if not cond:
            failures.append(msg)

    for s in m["sessions"]:
        if s["base"] != current_base:
            cache.clear()
            current_base = s["base"]
        sid = s["id"]
        kinds[s["kind"]] += 1
        stems = [(st["name"], load(st["file"])) for st in s["stems"]]
        master = load(s["master"]["file"])
        lengths = {len(x) for _, x in stems} | {len(master)}
        check(len(lengths) == 1, f"{sid}: lengths differ {lengths}")
        check(lengths == {m.get("length_samples", len(master))}, f"{sid}: length {lengths}")
        for st in s["stems"]:
            check(len(st["name"]) > 3 and st["name"][:2].isdigit() and st["name"][2] == "_"
                  and " " not in st["name"], f"{sid}: stem name {st['name']!r}")
        by_name = dict(stems)
        t = s["truth"]

        parts = {n: x.copy() for n, x in stems}
        if t.get("offset"):
            parts[t["offset"]["stem"]] = shift(parts[t["offset"]["stem"]], t["offset"]["samples"])
        if t.get("polarity"):
            parts[t["polarity"]["stem"]] = -parts[t["polarity"]["stem"]]
        if t.get("gain"):
            g = np.array([10 ** (d / 20) for d in t["gain"]["db"]])
            parts[t["gain"]["stem"]] = parts[t["gain"]["stem"]] * g
        expected = np.sum(list(parts.values()), axis=0)
        err = float(np.max(np.abs(master - expected)))

        if s["kind"] == "master_limited":
            pass
        elif t.get("unaccounted"):
            resid = master - expected
            lvl = 10 * math.log10(np.sum(resid ** 2) / np.sum(master ** 2))
            check(abs(lvl - t["unaccounted"]["level_db"]) < 0.05,
                  f"{sid}: unaccounted level {lvl:.2f} vs {t['unaccounted']['level_db']}")
        else:
            check(err < 1e-6, f"{sid}: master != sum of stems with truth applied (max err {err:.3g})")

        if s["kind"] == "clean":
            pk = db(np.max(np.abs(master)))
            check(abs(pk - (-5.0)) <= 0.1, f"{sid}: clean master peak {pk:.3f} dBFS")
            for n, x in stems:
                spk = db(np.max(np.abs(x)))
                check(spk < -6.0, f"{sid}: stem {n} peak {spk:.2f} dBFS")
                lr = np.max(np.abs(x[:, 0] - x[:, 1]))
                check(lr > 1e-3 * np.max(np.abs(x)), f"{sid}: stem {n} has left == right")
                check(np.isfinite(x).all(), f"{sid}: stem {n} not finite")

        procs = [("master", s["master"]["processing"], master)] + \
                [(st["name"], st["processing"], by_name[st["name"]]) for st in s["stems"]]
        for n, p, x in procs:
            if not p:
                continue
            pk = db(np.max(np.abs(x)))
            check(abs(pk - p["ceiling_dbfs"]) < 0.01, f"{sid}: {n} ceiling {pk:.2f} vs {p['ceiling_dbfs']}")
            if p["kind"] == "limiter":
                tool = p["tool"].split()[0]
                gr_table[(tool, n == "master", p["drive_db"])].append(
                    (p["gain_reduction_db"], p.get("gain_reduction_median_db", math.nan),
                     p.get("reduced_window_fraction", math.nan)))
                if p["gain_reduction_db"] < p["drive_db"] - 1.0:
                    notes.append(f"{sid}: {n} gain reduction {p['gain_reduction_db']} dB "
                                 f"< drive {p['drive_db']} - 1")
            elif p["kind"] == "clipper":
                run = longest_run_at(x, np.max(np.abs(x)))
                check(run >= 3, f"{sid}: {n} clipped but longest run at ceiling is {run}")
                check(p["clipped_samples"] > 0, f"{sid}: {n} clipped_samples = 0")
                notes.append(f"{sid}: {n} clipped {p['clipped_samples']} samples, "
                             f"longest run at ceiling {run}")

    print("sessions by kind: " + ", ".join(f"{k}={v}" for k, v in sorted(kinds.items())))
    print("limiter gain reduction (tool, on master, drive) -> achieved max dB "
          "[median dB over loud windows; fraction of loud windows reduced >= 1 dB]:")
    for key in sorted(gr_table):
        v = np.array(gr_table[key])
        print(f"  {key[0]:10s} {'master' if key[1] else 'stem  '} drive {key[2]:4.1f}: "
              f"n={len(v):2d}  max {v[:, 0].min():5.2f}..{v[:, 0].max():5.2f}  "
              f"[median {v[:, 1].min():4.1f}..{v[:, 1].max():4.1f}; "
              f"fraction {v[:, 2].min():.2f}..{v[:, 2].max():.2f}]")
    for n in notes:
        print("note:", n)
    for f in failures:
        print("FAIL:", f)
    print(f"{len(m['sessions']) - len({f.split(':')[0] for f in failures})} passed, "
          f"{len({f.split(':')[0] for f in failures})} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
