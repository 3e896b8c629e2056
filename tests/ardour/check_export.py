#!/usr/bin/env python3
"""Checks the file Ardour exported: a WAV at the session rate whose sample peak per channel is
the expected master peak (the export is right, whatever the plugins report).

Usage: check_export.py FILE.wav EXPECT_JSON SECONDS [--tolerance-db 0.5]
"""

import argparse
import array
import json
import math
import struct
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("wav")
    ap.add_argument("expect_json")
    ap.add_argument("seconds", type=float)
    ap.add_argument("--tolerance-db", type=float, default=0.5)
    args = ap.parse_args()
    expect = json.load(open(args.expect_json))
    raw = open(args.wav, "rb").read()
    if raw[:4] != b"RIFF" or raw[8:12] != b"WAVE":
        print("FAIL: %s is not a WAV file" % args.wav)
        return 1
    pos, fmt, data = 12, None, None
    while pos + 8 <= len(raw):
        cid, size = raw[pos:pos + 4], struct.unpack_from("<I", raw, pos + 4)[0]
        if cid == b"fmt ":
            fmt = struct.unpack_from("<HHIIHH", raw, pos + 8)
        elif cid == b"data":
            data = raw[pos + 8:pos + 8 + size]
        pos += 8 + size + (size & 1)
    tag, channels, rate, _, _, bits = fmt
    failures = []
    if rate != expect["sample_rate"]:
        failures.append("exported at %d Hz, the session runs at %d" % (rate, expect["sample_rate"]))
    if tag != 1 or bits != 16:
        failures.append("expected 16-bit PCM (Ardour's 'WAV @ session-rate'), got tag %d, %d bits" % (tag, bits))
        print("\n".join("FAIL: " + f for f in failures))
        return 1
    samples = array.array("h", data)
    if sys.byteorder != "little":
        samples.byteswap()
    frames = len(samples) // channels
    print("export: %s, %d Hz, %d channels, %d frames (%.2f s)" % (args.wav, rate, channels, frames, frames / rate))
    if abs(frames - args.seconds * rate) > rate // 100:
        failures.append("%d frames exported, expected %d" % (frames, int(args.seconds * rate)))
    want = expect["master"]["sample_peak_dbfs"]
    for ch in range(channels):
        peak = max(abs(v) for v in samples[ch::channels]) / 32768.0
        got = 20 * math.log10(peak) if peak > 0 else None
        print("export ch%d: sample peak %s dBFS, expected %.2f" % (ch + 1, "%.2f" % got if got else "silence", want[ch]))
        if got is None or abs(got - want[ch]) > args.tolerance_db:
            failures.append("exported ch%d peaks at %s dBFS, expected %.2f" % (ch + 1, got, want[ch]))
    for f in failures:
        print("FAIL: " + f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
