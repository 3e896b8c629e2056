#!/usr/bin/env python3
"""Writes the test signals into the takes that build_session.lua recorded.

Each track "<bus>_src" of the session has one recorded take. Its WAV file keeps its header and
length; only the samples are replaced by a sine at the level given for that bus, optionally
with a 50 ms burst of the same sine at another level (a peak only that part of the song holds).
Writes the expected readings (per stem and for the master, the sum of all stems) as JSON to
--expect.

Usage: make_audio.py SESSION_DIR SESSION_NAME --expect FILE BUS=LEVEL_DBFS:FREQ_HZ[:BURST_DBFS@SECONDS] ...
"""

import argparse
import array
import glob
import json
import math
import os
import struct
import sys
import xml.etree.ElementTree as ET


def db(x):
    return 20.0 * math.log10(x) if x > 0 else None


def take_files(session_dir, session_name):
    """{track name: absolute path of the audio file of its single region}."""
    root = ET.parse(os.path.join(session_dir, session_name + ".ardour")).getroot()
    sources = {s.get("id"): s.get("name") for s in root.iter("Source")}
    playlists = {}
    for pl in root.iter("Playlist"):
        playlists[pl.get("id")] = pl
    files = {}
    for route in root.iter("Route"):
        pl_id = route.get("audio-playlist")
        if not pl_id or pl_id not in playlists:
            continue
        regions = playlists[pl_id].findall("Region")
        if len(regions) != 1:
            raise SystemExit("track %s has %d regions, expected 1" % (route.get("name"), len(regions)))
        src = sources[regions[0].get("source-0")]
        # interchange/<session folder name>/audiofiles/, whatever the snapshot is called
        found = glob.glob(os.path.join(glob.escape(session_dir), "interchange", "*", "audiofiles", glob.escape(src)))
        if len(found) != 1:
            raise SystemExit("cannot find the file %s of track %s in the session" % (src, route.get("name")))
        files[route.get("name")] = found[0]
    return files


def wav_data_chunk(path):
    """(offset, size, channels, sample_rate) of the data chunk of a 32-bit float WAV file."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:4] != b"RIFF" or raw[8:12] != b"WAVE":
        raise SystemExit("%s is not a RIFF/WAVE file" % path)
    pos, fmt, data = 12, None, None
    while pos + 8 <= len(raw):
        cid, size = raw[pos:pos + 4], struct.unpack_from("<I", raw, pos + 4)[0]
        if cid == b"fmt ":
            fmt = struct.unpack_from("<HHIIHH", raw, pos + 8)
        elif cid == b"data":
            data = (pos + 8, size)
        pos += 8 + size + (size & 1)
    if fmt is None or data is None:
        raise SystemExit("%s has no fmt or data chunk" % path)
    tag, channels, rate, _, _, bits = fmt
    if bits != 32 or tag not in (3, 0xFFFE):
        raise SystemExit("%s is not 32-bit float (tag %d, %d bits)" % (path, tag, bits))
    return data[0], data[1], channels, rate


def sine(n, rate, level_dbfs, freq, burst=None):
    """A sine; `burst` = (level dBFS, start seconds) makes 50 ms of it louder."""
    amp = 10.0 ** (level_dbfs / 20.0)
    w = 2.0 * math.pi * freq / rate
    out = array.array("f", (amp * math.sin(w * i) for i in range(n)))
    if burst is not None:
        loud = 10.0 ** (burst[0] / 20.0)
        start = int(burst[1] * rate)
        for i in range(start, min(n, start + rate // 20)):
            out[i] = loud * math.sin(w * i)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("session_dir")
    ap.add_argument("session_name")
    ap.add_argument("--expect", required=True)
    ap.add_argument("stems", nargs="+", metavar="BUS=LEVEL_DBFS:FREQ_HZ[:BURST_DBFS@SECONDS]")
    args = ap.parse_args()

    files = take_files(args.session_dir, args.session_name)
    expect = {"stems": {}, "master": {}}
    mix = None
    rate = None
    for spec in args.stems:
        bus, rest = spec.split("=", 1)
        parts = rest.split(":")
        level, freq = float(parts[0]), float(parts[1])
        burst = tuple(float(x) for x in parts[2].split("@")) if len(parts) > 2 else None
        track = bus + "_src"
        if track not in files:
            raise SystemExit("no recorded take for track %s (have: %s)" % (track, ", ".join(sorted(files))))
        path = files[track]
        offset, size, channels, rate = wav_data_chunk(path)
        if channels != 1:
            raise SystemExit("%s has %d channels, expected 1" % (path, channels))
        n = size // 4
        samples = sine(n, rate, level, freq, burst)
        if sys.byteorder != "little":
            samples.byteswap()
        with open(path, "r+b") as f:
            f.seek(offset)
            f.write(samples.tobytes())
        if sys.byteorder != "little":
            samples.byteswap()
        peak = max(abs(x) for x in samples)
        # a mono track feeds both inputs of its stereo bus: both channels carry the signal
        expect["stems"][bus] = {"level_dbfs": level, "freq_hz": freq, "frames": n,
                                "sample_peak_dbfs": [db(peak), db(peak)]}
        if mix is None:
            mix = array.array("d", samples)
        else:
            n = min(len(mix), len(samples))
            mix = array.array("d", (mix[i] + samples[i] for i in range(n)))
        print("wrote %-10s %6.1f dBFS %6.1f Hz%s, %d frames -> %s" % (
            bus, level, freq, ", burst %.1f dBFS at %.2f s" % burst if burst else "", len(samples),
            os.path.basename(path)))
    mpeak = max(abs(x) for x in mix)
    expect["master"] = {"sample_peak_dbfs": [db(mpeak), db(mpeak)]}
    expect["sample_rate"] = rate
    with open(args.expect, "w") as f:
        json.dump(expect, f, indent=1)
    print("expected master sample peak %.2f dBFS" % db(mpeak))


if __name__ == "__main__":
    main()
