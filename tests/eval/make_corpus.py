#!/usr/bin/env python3
"""Builds the Stemcheck evaluation corpus from real recordings and real processors.

    python3 tests/eval/make_corpus.py OUT_DIR [--jobs N] [--only s01,s02]

Material: drum and percussion samples from Debian's hydrogen-drumkits, sequenced into
patterns here, and MIDI written here rendered through fluidsynth with the FluidR3 GM
SoundFont (fluid-soundfont-gm). Processors: ffmpeg's alimiter, the x42 digital peak
limiter and the LSP limiter (both LV2, hosted by ffmpeg's lv2 filter), and hard clippers
(sox, ffmpeg asoftclip). Everything is seeded: the same packages give the same corpus.

Writes OUT_DIR/manifest.json and OUT_DIR/sNN/... (see tests/eval/README.md).
"""

import argparse
import json
import math
import os
import shutil
import struct
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ProcessPoolExecutor

import numpy as np

SR = 48000
SECONDS = 20
LEN = SECONDS * SR
MASTER_PEAK_DBFS = -5.0
STEM_PEAK_LIMIT_DBFS = -6.5   # a stem above this is lowered before the sum
STEM_PEAK_LOWER_TO_DBFS = -7.0
FADE_OUT_S = 0.3
TOOL_PAD = 8192               # zeros appended before a tool, so its latency loses nothing

DRUMKIT_DIRS = ["/usr/share/hydrogen/data/drumkits"]
SOUNDFONTS = ["/usr/share/sounds/sf2/FluidR3_GM.sf2"]

OFFSETS = [1, 3, 7, 32, 480, -2, -17]
DRIVES = [3.0, 6.0, 10.0]
LIMITERS = ["alimiter", "x42", "lsp"]
CATEGORY_ORDER = ["drums", "bass", "keys", "lead", "pad"]


def db(x):
    return 20.0 * math.log10(x) if x > 0 else -math.inf


def undb(d):
    return 10.0 ** (d / 20.0)


def peak(x):
    return float(np.max(np.abs(x))) if x.size else 0.0


# --------------------------------------------------------------------------------------
# WAV I/O (IEEE float, format tag 3)
# --------------------------------------------------------------------------------------

def write_wav(path, x):
    """Writes (n, 2) audio as 32-bit IEEE float WAV: RIFF, fmt (18 bytes, tag 3), fact, data."""
    data = np.ascontiguousarray(x, dtype="<f4")
    frames, channels = data.shape
    fmt = struct.pack("<HHIIHHH", 3, channels, SR, SR * channels * 4, channels * 4, 32, 0)
    fact = struct.pack("<I", frames)
    body = data.tobytes()
    riff = 4 + (8 + len(fmt)) + (8 + len(fact)) + (8 + len(body))
    with open(path, "wb") as f:
        f.write(b"RIFF" + struct.pack("<I", riff) + b"WAVE")
        f.write(b"fmt " + struct.pack("<I", len(fmt)) + fmt)
        f.write(b"fact" + struct.pack("<I", len(fact)) + fact)
        f.write(b"data" + struct.pack("<I", len(body)) + body)


def read_wav(path):
    """Reads a float WAV (tag 3, or extensible with a float subformat). Returns (rate, array)."""
    with open(path, "rb") as f:
        d = f.read()
    if d[:4] != b"RIFF" or d[8:12] != b"WAVE":
        raise ValueError(f"{path}: not a RIFF/WAVE file")
    i, fmt = 12, None
    while i + 8 <= len(d):
        cid, size = d[i:i + 4], struct.unpack("<I", d[i + 4:i + 8])[0]
        body = d[i + 8:i + 8 + size]
        if cid == b"fmt ":
            tag, ch, rate, _, _, bits = struct.unpack("<HHIIHH", body[:16])
            if tag == 0xFFFE:
                tag = struct.unpack("<H", body[24:26])[0]
            fmt = (tag, ch, rate, bits)
        elif cid == b"data":
            if fmt is None or fmt[0] != 3 or fmt[3] != 32:
                raise ValueError(f"{path}: not 32-bit float ({fmt})")
            return fmt[2], np.frombuffer(body, dtype="<f4").reshape(-1, fmt[1])
        i += 8 + size + (size & 1)
    raise ValueError(f"{path}: no data chunk")


# --------------------------------------------------------------------------------------
# Running the third-party tools
# --------------------------------------------------------------------------------------

def run(cmd, stdin=None):
    r = subprocess.run(cmd, input=stdin, capture_output=True)
    if r.returncode != 0:
        raise RuntimeError(f"{cmd[0]} failed ({r.returncode}): {' '.join(cmd)}\n"
                           f"{r.stderr.decode(errors='replace')[-2000:]}")
    return r.stdout


def ffmpeg_filter(x, filt):
    """Streams (n, 2) float32 through an ffmpeg audio filter chain; returns (n', 2) float64."""
    out = run(["ffmpeg", "-hide_banner", "-nostats", "-loglevel", "error",
               "-f", "f32le", "-ar", str(SR), "-ac", "2", "-i", "pipe:0",
               "-af", filt, "-c:a", "pcm_f32le", "-f", "f32le", "pipe:1"],
              np.ascontiguousarray(x, dtype="<f4").tobytes())
    return np.frombuffer(out, dtype="<f4").reshape(-1, 2).astype(np.float64)


def sox_effects(x, effects):
    out = run(["sox", "-D", "-V1", "-t", "f32", "-r", str(SR), "-c", "2", "-",
               "-t", "f32", "-"] + effects,
              np.ascontiguousarray(x, dtype="<f4").tobytes())
    return np.frombuffer(out, dtype="<f4").reshape(-1, 2).astype(np.float64)


def decode_sample(path, cache):
    """Any sample file (wav/flac/aiff, any rate) -> 48 kHz stereo float64, via sox."""
    if path not in cache:
        out = run(["sox", "-D", "-V1", path, "-t", "f32", "-r", str(SR), "-c", "2", "-"])
        cache[path] = np.frombuffer(out, dtype="<f4").reshape(-1, 2).astype(np.float64)
    return cache[path]


LSP_URI = "http://lsp-plug.in/plugins/lv2/limiter_stereo"
X42_URI = "http://gareus.org/oss/lv2/dpl#stereo"


def lv2(uri, controls):
    # Two levels of escaping: the ':' of the URI inside the filter graph string.
    return "lv2=p=" + uri.replace(":", "\\\\:") + ":c=" + "|".join(controls)


LIMITER_INFO = {
    "alimiter": {"tool": "ffmpeg alimiter", "min_ceiling_db": -24.0},
    "x42": {"tool": "x42-dpl Digital Peak Limiter (LV2 " + X42_URI + ") in ffmpeg lv2 filter",
            "min_ceiling_db": -10.0},
    "lsp": {"tool": "LSP Limiter Stereo (LV2 " + LSP_URI + ") in ffmpeg lv2 filter",
            "min_ceiling_db": -48.0},
}


def limiter_chain(tool, drive_db, ceiling_db):
    if tool == "alimiter":
        return (f"alimiter=level_in={undb(drive_db):.6f}:limit={undb(ceiling_db):.6f}"
                f":attack=5:release=50:level=0:latency=0")
    if tool == "x42":
        return lv2(X42_URI, [f"gain={drive_db:.4f}", f"threshold={ceiling_db:.4f}",
                             "release=0.01", "truepeak=0"])
    if tool == "lsp":
        return lv2(LSP_URI, [f"g_in={undb(drive_db):.6f}", f"th={undb(ceiling_db):.6f}",
                             "boost=0", "alr=0", "g_out=1"])
    raise ValueError(tool)


def xcorr_lag(ref, y, max_lag):
    a, b = ref.sum(axis=1), y.sum(axis=1)
    nfft = 1 << int(math.ceil(math.log2(len(a) + len(b))))
    c = np.fft.irfft(np.fft.rfft(b, nfft) * np.conj(np.fft.rfft(a, nfft)), nfft)
    return int(np.argmax(c[:max_lag + 1]))


def calibrate_latencies():
    """Each limiter's delay, measured once on low-level noise (no gain reduction)."""
    rng = np.random.default_rng(7)
    x = rng.standard_normal((SR, 2)) * undb(-40.0)
    x = np.vstack([x, np.zeros((TOOL_PAD, 2))]).astype(np.float32)
    lat = {}
    for tool in LIMITERS:
        y = ffmpeg_filter(x, limiter_chain(tool, 0.0, -1.0))
        lag = xcorr_lag(x.astype(np.float64), y, 4096)
        err = np.max(np.abs(y[lag:lag + SR] - x[:SR]))
        if err > 1e-4:
            raise RuntimeError(f"{tool}: not transparent below its ceiling (err {err:g})")
        lat[tool] = lag
    return lat


def window_gain_reduction(driven, out):
    """Per 10 ms window: peak(driven) - peak(out) in dB, for the windows whose driven peak
    is within 20 dB of the driven signal's maximum. The recorded gain_reduction_db is the
    maximum of these."""
    w = SR // 100
    m = min(len(driven), len(out)) // w
    pi = np.abs(driven[:m * w]).max(axis=1).reshape(m, w).max(axis=1)
    po = np.abs(out[:m * w]).max(axis=1).reshape(m, w).max(axis=1)
    sel = pi >= pi.max() * undb(-20.0)
    return 20.0 * np.log10(pi[sel] / np.maximum(po[sel], 1e-12))


def apply_limiter(x, tool, drive_db, ceiling_db, latencies):
    """x: float32 (n, 2). Drives x by drive_db into the tool with its ceiling at ceiling_db.
    Returns (y float32 (n, 2), processing dict)."""
    n = len(x)
    info = LIMITER_INFO[tool]
    trim = 0.0
    if ceiling_db < info["min_ceiling_db"] + 1.0 or ceiling_db > 0.0:
        trim = -1.0 - ceiling_db           # gain staging around the tool, undone after it
    tool_ceiling = ceiling_db + trim
    xin = x.astype(np.float64) * undb(trim)
    padded = np.vstack([xin, np.zeros((TOOL_PAD, 2))]).astype(np.float32)
    chain = limiter_chain(tool, drive_db, tool_ceiling)
    y = ffmpeg_filter(padded, chain)
    lat = latencies[tool]
    y = y[lat:lat + n] * undb(-trim)
    if len(y) != n:
        raise RuntimeError(f"{tool}: short output ({len(y)} of {n})")
    y32 = y.astype(np.float32)
    driven = x.astype(np.float64) * undb(drive_db)
    grw = window_gain_reduction(driven, y32.astype(np.float64))
    settings = f"-af {chain}"
    if trim != 0.0:
        settings = f"pre-gain {trim:+.2f} dB; {settings}; post-gain {-trim:+.2f} dB"
    settings += f"; latency {lat} samples compensated"
    proc = {"kind": "limiter", "tool": info["tool"], "settings": settings,
            "drive_db": drive_db, "gain_reduction_db": round(float(grw.max()), 2),
            "ceiling_dbfs": round(db(peak(y32)), 2), "target_ceiling_dbfs": round(ceiling_db, 2),
            "gain_reduction_median_db": round(float(np.median(grw)), 2),
            "reduced_window_fraction": round(float(np.mean(grw >= 1.0)), 3)}
    return y32, proc


def apply_clipper(x, tool, drive_db, ceiling_lin):
    x64 = x.astype(np.float64)
    if tool == "sox":
        # sox clips at full scale inside 'gain'; 'vol' then brings the ceiling down.
        pre = 1.0 / ceiling_lin
        y = sox_effects((x64 * pre).astype(np.float32),
                        ["gain", f"{drive_db:g}", "vol", f"{ceiling_lin:.9f}"])
        settings = (f"pre-gain {db(pre):+.2f} dB; sox gain {drive_db:g} vol {ceiling_lin:.9f} "
                    f"(clips at full scale after gain)")
        name = "sox gain (hard clip at full scale) + vol"
    else:
        chain = f"volume={drive_db:g}dB:precision=float,asoftclip=type=hard:threshold={ceiling_lin:.9f}"
        y = ffmpeg_filter(x, chain)
        settings = f"-af {chain}"
        name = "ffmpeg asoftclip type=hard"
    y32 = y.astype(np.float32)
    if len(y32) != len(x):
        raise RuntimeError(f"{tool}: length changed")
    pk = peak(y32)
    clipped = int(np.count_nonzero(np.abs(y32) >= pk * (1 - 1e-6)))
    proc = {"kind": "clipper", "tool": name, "settings": settings, "drive_db": drive_db,
            "ceiling_dbfs": round(db(pk), 2), "clipped_samples": clipped}
    return y32, proc


# --------------------------------------------------------------------------------------
# MIDI writing and fluidsynth rendering
# --------------------------------------------------------------------------------------

def vlq(n):
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def write_midi(path, notes, bpm, program, pan, reverb, chorus, ppq=480):
    """Format-0 Standard MIDI File, one channel. notes: (start_beat, dur_beats, pitch, vel)."""
    ev = [(0, 0, b"\xff\x51\x03" + int(round(60e6 / bpm)).to_bytes(3, "big")),
          (0, 0, bytes([0xC0, program])),
          (0, 0, bytes([0xB0, 7, 100])),
          (0, 0, bytes([0xB0, 10, pan])),
          (0, 0, bytes([0xB0, 91, reverb])),
          (0, 0, bytes([0xB0, 93, chorus]))]
    spans = []                                   # [t0, t1, pitch, vel]
    last = {}
    for start, dur, pitch, vel in sorted(notes):
        t0 = int(round(start * ppq))
        t1 = max(t0 + 1, int(round((start + dur) * ppq)))
        prev = last.get(pitch)
        if prev is not None and prev[1] > t0:    # same key still down: release it first
            if prev[0] == t0:
                continue
            prev[1] = t0
        last[pitch] = [t0, t1, pitch, vel]
        spans.append(last[pitch])
    for t0, t1, pitch, vel in spans:
        ev.append((t0, 2, bytes([0x90, pitch, vel])))
        ev.append((t1, 1, bytes([0x80, pitch, 0])))
    end = int(math.ceil((SECONDS + 0.5) * bpm / 60.0 * ppq))
    ev.append((end, 3, bytes([0xB0, 7, 100])))
    ev.sort(key=lambda e: (e[0], e[1]))
    trk, last = b"", 0
    for t, _, d in ev:
        trk += vlq(t - last) + d
        last = t
    trk += vlq(0) + b"\xff\x2f\x00"
    with open(path, "wb") as f:
        f.write(b"MThd" + struct.pack(">IHHH", 6, 0, 1, ppq))
        f.write(b"MTrk" + struct.pack(">I", len(trk)) + trk)


def render_midi(mid, raw, sf2):
    run(["fluidsynth", "-ni", "-q", "-F", raw, "-T", "raw", "-O", "float", "-r", str(SR),
         "-g", "0.5", "-R", "1", "-C", "1", sf2, mid])
    x = np.fromfile(raw, dtype="<f4").reshape(-1, 2).astype(np.float64)
    return fit(x)


def fit(x):
    if len(x) >= LEN:
        return x[:LEN].copy()
    return np.vstack([x, np.zeros((LEN - len(x), 2))])


def fade_out(x):
    n = int(FADE_OUT_S * SR)
    w = 0.5 * (1 + np.cos(np.linspace(0, math.pi, n)))
    x[-n:] *= w[:, None]
    return x


# --------------------------------------------------------------------------------------
# Music: keys, chords and parts
# --------------------------------------------------------------------------------------

SCALES = {"major": [0, 2, 4, 5, 7, 9, 11], "minor": [0, 2, 3, 5, 7, 8, 10]}
PROGRESSIONS = {"major": [[0, 4, 5, 3], [0, 5, 3, 4], [0, 3, 4, 4], [5, 3, 0, 4], [0, 3, 0, 4]],
                "minor": [[0, 5, 2, 6], [0, 3, 4, 0], [0, 6, 5, 6], [0, 3, 6, 2], [0, 5, 3, 4]]}


class Harmony:
    def __init__(self, rng, root, mode, bars):
        self.root, self.mode = root, mode
        self.scale = SCALES[mode]
        prog = PROGRESSIONS[mode][int(rng.integers(len(PROGRESSIONS[mode])))]
        self.degrees = [prog[b % len(prog)] for b in range(bars)]
        self.sevenths = bool(rng.random() < 0.4)

    def pc(self, degree):
        o, d = divmod(degree, 7)
        return (self.root + self.scale[d] + 12 * o) % 12

    def chord(self, bar):
        d = self.degrees[bar]
        tones = [self.pc(d), self.pc(d + 2), self.pc(d + 4)]
        if self.sevenths:
            tones.append(self.pc(d + 6))
        return tones

    def scale_pitches(self, lo, hi):
        pcs = {(self.root + s) % 12 for s in self.scale}
        return [p for p in range(lo, hi + 1) if p % 12 in pcs]


def voice(tones, lo, hi, prev=None):
    """Chord pitches between lo and hi, close to the previous voicing."""
    best, best_cost = None, None
    for base in range(lo, hi - 6):
        v = sorted({base + ((pc - base) % 12) for pc in tones})
        if v[-1] > hi:
            continue
        cost = abs(np.mean(v) - (np.mean(prev) if prev else (lo + hi) / 2))
        if best is None or cost < best_cost:
            best, best_cost = v, cost
    return best


def part_bass(rng, h, bars, bpm):
    style = ["roots8", "quarters", "sync", "whole"][int(rng.integers(4 if bpm < 130 else 3))]
    notes = []
    for b in range(bars):
        root = 28 + ((h.chord(b)[0] - 4) % 12)          # E1..D#2
        fifth = root + 7
        t0 = 4 * b
        if style == "roots8":
            for k in range(8):
                p = root + (12 if (k == 7 and rng.random() < 0.5) else 0)
                notes.append((t0 + k / 2, 0.42, p, int(rng.integers(82, 108))))
        elif style == "quarters":
            for k in range(4):
                p = [root, root, fifth, root + 12 if rng.random() < 0.5 else fifth][k]
                notes.append((t0 + k, 0.85, p, int(rng.integers(85, 110))))
        elif style == "sync":
            for pos, dur in [(0, 1.3), (1.5, 0.4), (2.0, 0.9), (3.0, 0.4), (3.5, 0.4)]:
                p = fifth if pos == 3.0 else root
                notes.append((t0 + pos, dur, p, int(rng.integers(85, 112))))
        else:
            notes.append((t0, 1.9, root, int(rng.integers(85, 105))))
            notes.append((t0 + 2, 1.9, fifth if rng.random() < 0.5 else root, int(rng.integers(80, 100))))
    return notes


def part_comp(rng, h, bars, bpm, lo=52, hi=76):
    rhythms = {"whole": [(0, 3.9)], "half": [(0, 1.9), (2, 1.9)],
               "quarters": [(k, 0.8) for k in range(4)],
               "charleston": [(0, 1.4), (1.5, 2.3)],
               "offbeat": [(k + 0.5, 0.3) for k in range(4)],
               "push": [(0, 1.4), (1.5, 1.0), (2.5, 1.4)]}
    name = list(rhythms)[int(rng.integers(len(rhythms)))]
    notes, prev = [], None
    for b in range(bars):
        v = voice(h.chord(b), lo, hi, prev)
        prev = v
        for pos, dur in rhythms[name]:
            vel = int(rng.integers(60, 92))
            for p in v:
                notes.append((4 * b + pos + rng.uniform(0, 0.015), dur, p, vel))
    return notes


def part_power(rng, h, bars, bpm):
    notes = []
    for b in range(bars):
        r = 40 + ((h.chord(b)[0] - 4) % 12)
        for k in range(8):
            if rng.random() < 0.15 and k:
                continue
            vel = int(rng.integers(90, 115))
            for p in (r, r + 7, r + 12):
                notes.append((4 * b + k / 2, 0.4, p, vel))
    return notes


def part_pad(rng, h, bars, bpm, lo=48, hi=74):
    notes, prev = [], None
    for b in range(bars):
        v = voice(h.chord(b), lo, hi, prev)
        prev = v
        vel = int(rng.integers(58, 84))
        for p in v:
            notes.append((4 * b, 4.05, p, vel))
    return notes


def part_melody(rng, h, bars, bpm, lo=62, hi=86, durs=(0.5, 0.5, 1.0, 1.0, 1.5, 2.0), rest=0.15):
    pitches = h.scale_pitches(lo, hi)
    i = len(pitches) // 2
    notes, t, end = [], 0.0, 4.0 * bars
    while t < end - 0.5:
        d = float(durs[int(rng.integers(len(durs)))])
        if rng.random() < rest or (t % 8.0) >= 7.0:
            t += d
            continue
        i = int(np.clip(i + rng.choice([-2, -1, -1, 0, 1, 1, 2, 3, -3]), 0, len(pitches) - 1))
        bar = min(int(t // 4), bars - 1)
        p = pitches[i]
        if t % 2.0 == 0.0:                      # strong beats: prefer a chord tone
            ct = [q for q in pitches if q % 12 in h.chord(bar)]
            p = min(ct, key=lambda q: abs(q - p))
            i = pitches.index(p)
        notes.append((t, min(d, end - t) * 0.95, p, int(rng.integers(72, 110))))
        t += d
    return notes


def part_vocal(rng, h, bars, bpm):
    return part_melody(rng, h, bars, bpm, lo=57, hi=77, durs=(1.0, 1.0, 1.5, 2.0, 0.5), rest=0.2)


def part_stabs(rng, h, bars, bpm):
    notes, prev = [], None
    pats = [[0, 1.5, 3], [0.5, 2, 2.5], [0, 2.75], [1.5, 3.5]]
    pat = pats[int(rng.integers(len(pats)))]
    for b in range(bars):
        v = voice(h.chord(b), 58, 82, prev)
        prev = v
        for pos in pat:
            vel = int(rng.integers(90, 118))
            for p in v:
                notes.append((4 * b + pos, 0.35, p, vel))
    return notes


def part_arp(rng, h, bars, bpm):
    step = 0.25 if bpm < 125 else 0.5
    notes, prev = [], None
    for b in range(bars):
        v = voice(h.chord(b), 60, 84, prev)
        prev = v
        seq = v + [p + 12 for p in v if p + 12 <= 96]
        if rng.random() < 0.5:
            seq = seq + seq[-2:0:-1]
        k, t = 0, 0.0
        while t < 4.0 - 1e-9:
            notes.append((4 * b + t, step * 0.9, seq[k % len(seq)], int(rng.integers(65, 95))))
            k += 1
            t += step
    return notes


PARTS = {"bass": part_bass, "comp": part_comp, "power": part_power, "pad": part_pad,
         "melody": part_melody, "vocal": part_vocal, "stabs": part_stabs, "arp": part_arp}

# role -> (GM programs, part, category, loudness target dB)
PITCHED = {
    "Bass": ([33, 34, 32, 35], "bass", "bass", -16),
    "SynthBass": ([38, 39, 87], "bass", "bass", -16),
    "Piano": ([0, 1], "comp", "keys", -20),
    "EPiano": ([4, 5], "comp", "keys", -20),
    "Organ": ([16, 17, 18], "comp", "keys", -22),
    "Guitar": ([25, 26, 27], "comp", "keys", -21),
    "NylonGuitar": ([24], "comp", "keys", -20),
    "DistGuitar": ([29, 30], "power", "keys", -20),
    "Mallets": ([11, 12, 13], "arp", "keys", -21),
    "Arp": ([80, 81, 82], "arp", "keys", -22),
    "Strings": ([48, 49], "pad", "pad", -22),
    "Pad": ([88, 89, 90, 91, 94, 95], "pad", "pad", -23),
    "Choir": ([52, 53], "pad", "pad", -22),
    "Brass": ([61, 62], "stabs", "lead", -20),
    "Lead": ([80, 81, 84], "melody", "lead", -19),
    "Vox": ([52, 53, 54, 85], "vocal", "lead", -18),
    "Sax": ([65, 66], "melody", "lead", -19),
    "Flute": ([73, 74], "melody", "lead", -20),
}

DRUM_ROLES = {"Kick": -16, "Snare": -17, "Hats": -24, "Toms": -19, "Overheads": -22,
              "Drums": -15, "Perc": -22, "Djembe": -18, "Dunun": -20}


def category(role):
    return "drums" if role in DRUM_ROLES else PITCHED[role][2]


# --------------------------------------------------------------------------------------
# Drums: kits, patterns, sequencing
# --------------------------------------------------------------------------------------

# piece -> instrument name in the kit's drumkit.xml
KITS = {
    "ForzeeStereo": {
        "kick": 'Kick (Tama Superstar 22")', "snare": "Snare (Pearl Free Floating Maple 14x3.5)",
        "hat_closed": 'Hi-Hat Closed (Paiste Alpha Metal edge 14")',
        "hat_open": 'Hi-Hat Open (Paiste Alpha Metal edge 14")',
        "tom_hi": 'Tom High (Tama Superstar 12")', "tom_mid": 'Tom Mid (Tama Superstar 13")',
        "tom_lo": 'Tom Low (Tama Superstar 16")', "crash": 'Crash (Paiste Rude Thin 18")',
        "ride": 'Ride (Custom, Zagrebin 22")'},
    "The Black Pearl 1.0": {
        "kick": "Pearl Kick", "snare": "Pearl Snare", "hat_closed": "Sabian Hat Closed",
        "hat_open": "Sabian Hat Open", "tom_hi": "Pearl Tom 1", "tom_mid": "Pearl Tom 2",
        "tom_lo": "Pearl Tom Floor", "crash": "Sabian Crash", "ride": "Paiste Ride"},
    "BJA_Pacific": {
        "kick": "BassDrum", "snare": "Snare", "hat_closed": "Hi Hat Closed",
        "hat_open": "Hi Hat Opened", "tom_hi": "Tom", "tom_mid": "Tom", "tom_lo": "Floor Tom",
        "crash": "Crash Left", "ride": "Ride"},
    "ColomboAcousticDrumkit": {
        "kick": "BassDrum", "snare": "Snare Rock", "hat_closed": "Closed HH",
        "hat_open": "Open HH", "tom_hi": "Tom Hi", "tom_mid": "Tom Mid", "tom_lo": "Tom Low",
        "crash": "crash16inch", "ride": "ride-crash20inch"},
    "Millo_MultiLayered2": {
        "kick": "Kick", "snare": "Snare Rock", "hat_closed": "Closed HH", "hat_open": "Open HH",
        "tom_hi": "Tom Hi", "tom_mid": "Tom Mid", "tom_lo": "Tom Low", "crash": "Crash",
        "ride": "Ride Rock"},
    "rumpf_kit_z01_h2": {
        "kick": "c3 - bass drum 1", "snare": "d3 - snare 1", "hat_closed": "f#3 - hi-hat closed",
        "hat_open": "a#3 - hi-hat open", "tom_hi": "d4 - high tom", "tom_mid": "c4 - middle tom",
        "tom_lo": "b3 - low tom", "crash": "c#4 - crash", "ride": "f4 - ride bell"},
    "ElectricEmpireKit": {
        "kick": "Kick Power", "snare": "Snare 1", "clap": "Clap", "hat_closed": "Hat Closed Bs",
        "hat_open": "Hat Op Dirty", "tom_hi": "Conga 1", "tom_lo": "Conga 2"},
    "HardElectro1": {
        "kick": "Kick 1", "snare": "Snare", "clap": "Clap 1", "hat_closed": "Closed HH 1",
        "hat_open": "Open HH", "crash": "FX"},
    "VariBreaks": {
        "kick": "VariBreaks Kick 1", "snare": "VariBreaks Snare 1",
        "hat_closed": "VariBreaks Hat 1 Cl", "hat_open": "VariBreaks Hat 1 Op",
        "tom_hi": "VariBreaks Tom Hi", "tom_mid": "VariBreaks Tom Mid",
        "tom_lo": "VariBreaks Tom Low"},
    "Audiophob": {
        "kick": "Kick", "snare": "Snare Rock", "hat_closed": "Closed HH", "hat_open": "Open HH",
        "tom_hi": "Tom Hi", "tom_mid": "Tom Mid", "tom_lo": "Tom Low", "crash": "Crash",
        "ride": "Ride Jazz"},
    "Gimme A Hand 1.0": {
        "shaker": "Maraca", "tambourine": "Tambourine", "cajon_low": "Cajon Thump",
        "cajon_high": "Cajon Slap", "bongo_hi": "Bongo Hi", "bongo_lo": "Bongo Lo",
        "clap": "Hand Clap", "cowbell": "Cowbell", "clave": "Clave"},
    "circAfrique v4": {
        "dj_bass": "Djembe1 Bass", "dj_tone": "Djembe1 Tone", "dj_slap": "Djembe1 Slap",
        "dj2_tone": "Djembe3 Tone", "dj2_slap": "Djembe3 Slap",
        "dununba": "Dununba1 Head Hit", "sangban": "Sangban1 Head Hit",
        "sangban_mute": "Sangban1 Head Mute", "kenkeni": "Kenkeni1 Head Hit",
        "bell": "Kenkeni1 Bell Hit"},
}

PERC_KIT = "Gimme A Hand 1.0"

# which stem a piece lands on, by what the session has (first present wins)
PIECE_STEMS = {
    "kick": ["Kick", "Drums"], "snare": ["Snare", "Drums"], "clap": ["Snare", "Drums"],
    "hat_closed": ["Hats", "Overheads", "Drums"], "hat_open": ["Hats", "Overheads", "Drums"],
    "tom_hi": ["Toms", "Overheads", "Drums"], "tom_mid": ["Toms", "Overheads", "Drums"],
    "tom_lo": ["Toms", "Overheads", "Drums"], "crash": ["Overheads", "Hats", "Drums"],
    "ride": ["Overheads", "Hats", "Drums"],
    "dj_bass": ["Djembe"], "dj_tone": ["Djembe"], "dj_slap": ["Djembe"],
    "dj2_tone": ["Djembe"], "dj2_slap": ["Djembe"],
    "dununba": ["Dunun"], "sangban": ["Dunun"], "sangban_mute": ["Dunun"],
    "kenkeni": ["Dunun"], "bell": ["Dunun"],
}

# 16-step (or 12-step) patterns: . none, g ghost, o soft, x normal, X accent
STYLES = {
    "rock": (16, {"kick": "X.....x.X.......", "snare": "....X.......X...",
                  "hat_closed": "x.o.x.o.x.o.x.o."}),
    "rock2": (16, {"kick": "X.....x.X.x.....", "snare": "....X..g....X..g",
                   "hat_closed": "xoxoxoxoxoxoxoxo"}),
    "half": (16, {"kick": "X..x......x.....", "snare": "........X.......",
                  "hat_closed": "x.o.x.o.x.o.x.o."}),
    "four": (16, {"kick": "X...X...X...X...", "clap": "....X.......X...",
                  "hat_closed": "g.g.g.g.g.g.g.g.", "hat_open": "..x...x...x...x."}),
    "break": (16, {"kick": "X.........X.x...", "snare": "....X..g.g..X..g",
                   "hat_closed": "x.x.x.xox.x.x.xo"}),
    "shuffle": (12, {"kick": "X.....x.....", "snare": "...X.....X..",
                     "hat_closed": "x.ox.ox.ox.o"}),
    "djembe": (16, {"dj_bass": "X.......X.......", "dj_tone": "..x.x.....x.x...",
                    "dj_slap": "......X.......Xx", "dj2_slap": "x..x..x...x..x..",
                    "dj2_tone": "...........x..x.",
                    "dununba": "X.....x.X.......", "sangban": "....x.....x...x.",
                    "sangban_mute": "..g.......g.....", "kenkeni": "..x...x...x...x.",
                    "bell": "x.x.x.x.x.x.x.x."}),
}

PERC_PATTERNS = [
    {"shaker": "xgogxgogxgogxgog", "tambourine": "....x.......x...", "cajon_low": "X.....x.........",
     "cajon_high": "....x.......x..g"},
    {"shaker": "x.o.x.o.x.o.x.o.", "bongo_hi": "..x...x..x..x...", "bongo_lo": "x.....x.x.......",
     "clave": "x..x..x...x.x..."},
    {"tambourine": "gogxgogxgogxgogx", "cowbell": "x...x...x...x...", "clap": "....x.......x..."},
]

VEL = {"g": 0.28, "o": 0.55, "x": 0.8, "X": 1.0}


class Kit:
    def __init__(self, root, name):
        self.dir = os.path.join(root, name)
        tree = ET.parse(os.path.join(self.dir, "drumkit.xml"))
        self.instruments = {}
        for inst in tree.getroot().iter():
            if inst.tag.split("}")[-1] != "instrument":
                continue
            kids = {c.tag.split("}")[-1]: c for c in inst}
            if "name" not in kids or kids["name"].text is None:
                continue
            nm = kids["name"].text
            vol = float(kids["volume"].text) if "volume" in kids else 1.0
            layers = []
            for lay in inst.iter():
                if lay.tag.split("}")[-1] != "layer":
                    continue
                lk = {c.tag.split("}")[-1]: c.text for c in lay}
                layers.append((lk["filename"], float(lk.get("min") or 0), float(lk.get("max") or 1),
                               float(lk.get("gain") or 1)))
            if not layers and "filename" in kids:
                layers.append((kids["filename"].text, 0.0, 1.0, 1.0))
            if layers and nm not in self.instruments:
                self.instruments[nm] = (vol, layers)

    def sample(self, inst_name, vel, rng, cache):
        vol, layers = self.instruments[inst_name]
        cands = [l for l in layers if l[1] <= vel <= l[2]] or \
            [min(layers, key=lambda l: min(abs(vel - l[1]), abs(vel - l[2])))]
        fn, _, _, gain = cands[int(rng.integers(len(cands)))]
        return decode_sample(os.path.join(self.dir, fn), cache), vol * gain


def pan_gains(p):
    a = (p + 1) * math.pi / 4
    return math.cos(a) * math.sqrt(2), math.sin(a) * math.sqrt(2)


def piece_pans(rng):
    s = 1 if rng.random() < 0.5 else -1               # drummer's or audience view
    pans = {"kick": s * rng.uniform(0.04, 0.1), "snare": s * rng.uniform(0.05, 0.15),
            "clap": -s * rng.uniform(0.05, 0.2), "hat_closed": -s * rng.uniform(0.25, 0.45),
            "hat_open": -s * rng.uniform(0.25, 0.45), "tom_hi": -s * 0.2, "tom_mid": s * 0.1,
            "tom_lo": s * 0.4, "crash": -s * rng.uniform(0.3, 0.6), "ride": s * rng.uniform(0.3, 0.6)}
    for p in ["dj_bass", "dj_tone", "dj_slap", "dj2_tone", "dj2_slap", "dununba", "sangban",
              "sangban_mute", "kenkeni", "bell", "shaker", "tambourine", "cajon_low", "cajon_high",
              "bongo_hi", "bongo_lo", "cowbell", "clave"]:
        pans[p] = float(rng.uniform(-0.6, 0.6))
    pans["dj2_tone"] = pans["dj2_slap"] = -abs(pans["dj_tone"]) - 0.15
    return pans


def sequence_hits(rng, style, bars, kit_pieces, fills, crashes):
    """Returns [(beat, piece, velocity)]."""
    steps, pats = STYLES[style] if isinstance(style, str) else style
    hits = []
    for b in range(bars):
        bar_hits = []
        for piece, pat in pats.items():
            if piece not in kit_pieces:
                if piece == "clap" and "snare" in kit_pieces:
                    piece = "snare"
                elif piece == "hat_open" and "hat_closed" in kit_pieces:
                    piece = "hat_closed"
                else:
                    continue
            for k, ch in enumerate(pat):
                if ch == ".":
                    continue
                v = VEL[ch]
                if ch in "go" and rng.random() < 0.12:
                    continue
                bar_hits.append((k * 4.0 / steps, piece, v))
            # a few extra ghost hits
            if piece in ("snare", "kick", "shaker", "dj_tone") and rng.random() < 0.3:
                k = int(rng.integers(steps))
                if pat[k] == ".":
                    bar_hits.append((k * 4.0 / steps, piece, VEL["g"] if piece != "kick" else 0.6))
        if crashes and b % 4 == 0 and "crash" in kit_pieces:
            bar_hits.append((0.0, "crash", 0.95))
        toms = [t for t in ("tom_hi", "tom_mid", "tom_lo") if t in kit_pieces]
        if fills and toms and b % 4 == 3 and b < bars - 1:
            start = 2.0 if (b % 8 == 7 or len(toms) == 1) else 3.0
            bar_hits = [h for h in bar_hits if h[0] < start or h[1] == "kick"]
            seq = [toms[min(len(toms) - 1, int(i * len(toms) / ((4 - start) * 4)))]
                   for i in range(int((4 - start) * 4))]
            for i, t in enumerate(seq):
                bar_hits.append((start + i / 4.0, t, float(rng.uniform(0.7, 1.0))))
        hits += [(4 * b + pos, piece, v) for pos, piece, v in bar_hits]
    return hits


def render_hits(rng, hits, bpm, kit, pieces, pans, stem_of, cache, humanize_ms, stems):
    """Mixes sample hits into stems (dict name -> (LEN, 2) array)."""
    spb = 60.0 / bpm
    hat_times = sorted(b * spb for b, p, _ in hits if p in ("hat_closed", "hat_open"))
    for beat, piece, v in hits:
        t = beat * spb + (rng.normal(0, humanize_ms / 1000.0) if humanize_ms else 0.0)
        t = max(0.0, t)
        if t > SECONDS - 0.7:
            continue
        vel = float(np.clip(v * rng.uniform(0.9, 1.04), 0.05, 1.0))
        smp, g = kit.sample(pieces[piece], vel, rng, cache)
        start = int(round(t * SR))
        seg = smp[:LEN - start] * (g * vel)
        if piece == "hat_open":                       # choked by the next hat hit
            nxt = [h for h in hat_times if h > beat * spb + 1e-6]
            if nxt:
                n = max(1, int((nxt[0] - t) * SR))
                f = min(240, n)
                seg = seg[:n].copy()
                seg[-f:] *= np.linspace(1, 0, f)[:, None]
        gl, gr = pan_gains(pans[piece])
        tgt = stems[stem_of[piece]]
        tgt[start:start + len(seg), 0] += seg[:, 0] * gl
        tgt[start:start + len(seg), 1] += seg[:, 1] * gr


# --------------------------------------------------------------------------------------
# Sessions
# --------------------------------------------------------------------------------------

BASES = [
    ("s01", "ForzeeStereo", "rock", 96, ["Kick", "Snare", "Hats", "Bass", "Piano", "Vox"]),
    ("s02", "The Black Pearl 1.0", "break", 118, ["Drums", "Bass", "EPiano", "Lead"]),
    ("s03", "BJA_Pacific", "half", 84,
     ["Kick", "Snare", "Overheads", "Toms", "Bass", "Guitar", "Strings", "Vox"]),
    ("s04", "ElectricEmpireKit", "four", 126, ["Drums", "SynthBass", "Pad", "Arp", "Lead"]),
    ("s05", "ColomboAcousticDrumkit", "rock2", 140,
     ["Drums", "Bass", "Organ", "DistGuitar", "Brass", "Vox"]),
    ("s06", "Millo_MultiLayered2", "shuffle", 72, ["Drums", "Bass", "Piano", "Strings"]),
    ("s07", "rumpf_kit_z01_h2", "rock", 108,
     ["Kick", "Snare", "Hats", "Perc", "Bass", "EPiano", "Sax"]),
    ("s08", "HardElectro1", "four", 134, ["Drums", "SynthBass", "Pad", "Lead", "Choir"]),
    ("s09", "VariBreaks", "break", 92, ["Drums", "Bass", "Guitar", "Mallets"]),
    ("s10", "The Black Pearl 1.0", "rock2", 100,
     ["Kick", "Snare", "Toms", "Overheads", "Bass", "Piano", "Organ", "Vox"]),
    ("s11", "Audiophob", "half", 152, ["Drums", "Bass", "EPiano", "Brass", "Flute"]),
    ("s12", "circAfrique v4", "djembe", 104,
     ["Djembe", "Dunun", "Bass", "NylonGuitar", "Choir", "Strings"]),
]

EXTRA_FLUID = ["Pad", "Strings", "Flute", "Mallets", "Organ", "Choir", "Brass", "EPiano"]


def loudness_db(x):
    """Level of the active part: 80th percentile of 100 ms RMS over windows within 40 dB
    of the loudest."""
    w = SR // 10
    m = len(x) // w
    r = np.sqrt(np.mean(x[:m * w].reshape(m, w * 2) ** 2, axis=1))
    act = r[r >= r.max() * undb(-40)]
    return db(float(np.percentile(act, 80)))


def render_pitched(rng, role, h, bars, bpm, tmp, sf2, tag):
    programs, part, _, _ = PITCHED[role]
    program = int(programs[int(rng.integers(len(programs)))])
    notes = PARTS[part](rng, h, bars, bpm)
    p = float(rng.uniform(0.15, 0.55)) * (1 if rng.random() < 0.5 else -1)
    if part == "bass":
        p *= 0.3
    mid = os.path.join(tmp, f"{tag}.mid")
    write_midi(mid, notes, bpm, program, int(round(64 + 63 * p)),
               int(rng.integers(20, 60)), int(rng.integers(0, 30)))
    x = render_midi(mid, os.path.join(tmp, f"{tag}.raw"), sf2)
    return x, {"source": "fluidsynth + FluidR3_GM", "gm_program": program,
               "notes": len(notes), "midi_pan": round(p, 2)}


def render_perc_track(rng, bars, bpm, drum_root, cache):
    kit = Kit(drum_root, PERC_KIT)
    pieces = KITS[PERC_KIT]
    pat = PERC_PATTERNS[int(rng.integers(len(PERC_PATTERNS)))]
    hits = sequence_hits(rng, (16, pat), bars, set(pieces), False, False)
    pans = piece_pans(rng)
    out = {"Perc": np.zeros((LEN + SR, 2))}
    render_hits(rng, hits, bpm, kit, pieces, pans, {p: "Perc" for p in pieces}, cache, 4.0, out)
    return out["Perc"][:LEN], {"source": f"hydrogen-drumkits/{PERC_KIT}",
                               "pieces": sorted({p for _, p, _ in hits})}


def level_plan(raw, targets):
    """Per-stem gains: the loudness targets, then one common factor for a -5 dBFS master
    peak, lowering any stem that would peak above -6.5 dBFS."""
    g = np.array([undb(t - loudness_db(x)) for x, t in zip(raw, targets)])
    pk = np.array([peak(x) for x in raw])
    for _ in range(100):
        s = sum(gi * x for gi, x in zip(g, raw))
        f = undb(MASTER_PEAK_DBFS) / peak(s)
        over = (f * g * pk) > undb(STEM_PEAK_LIMIT_DBFS)
        if not over.any():
            return f * g
        g[over] *= undb(STEM_PEAK_LOWER_TO_DBFS) / (f * g[over] * pk[over])
    raise RuntimeError("level plan did not converge")


def shift(x, k):
    y = np.zeros_like(x)
    if k > 0:
        y[k:] = x[:-k]
    elif k < 0:
        y[:k] = x[-k:]
    else:
        y[:] = x
    return y


def build_base(args):
    idx, (bid, kit_name, style, bpm, roles), out_dir, drum_root, sf2, latencies = args
    t_start = time.time()
    rng = np.random.default_rng(20240 + 17 * idx)
    cache = {}
    tmp = tempfile.mkdtemp(prefix=f"corpus-{bid}-")
    try:
        bars = int(math.ceil(SECONDS * bpm / 240.0))
        mode = "minor" if rng.random() < 0.5 else "major"
        h = Harmony(rng, int(rng.integers(12)), mode, bars)
        names = [f"{i + 1:02d}_{r}" for i, r in enumerate(roles)]
        raw, sources = {}, {}

        # drums and percussion
        drum_roles = [r for r in roles if r in DRUM_ROLES and r != "Perc"]
        if drum_roles:
            kit = Kit(drum_root, kit_name)
            pieces = {p: n for p, n in KITS[kit_name].items() if n in kit.instruments}
            missing = [n for n in KITS[kit_name].values() if n not in kit.instruments]
            if missing:
                raise RuntimeError(f"{kit_name}: instruments not found: {missing}")
            stem_of = {}
            for p in pieces:
                for r in PIECE_STEMS.get(p, []):
                    if r in drum_roles:
                        stem_of[p] = r
                        break
            pieces = {p: n for p, n in pieces.items() if p in stem_of}
            hits = sequence_hits(rng, style, bars, set(pieces), True, True)
            bufs = {r: np.zeros((LEN + 4 * SR, 2)) for r in drum_roles}
            humanize = 0.0 if kit_name in ("ElectricEmpireKit", "HardElectro1") else 3.0
            render_hits(rng, hits, bpm, kit, pieces, piece_pans(rng), stem_of, cache,
                        humanize, bufs)
            for r in drum_roles:
                used = sorted({p for _, p, _ in hits if stem_of[p] == r})
                raw[r] = bufs[r][:LEN]
                sources[r] = {"source": f"hydrogen-drumkits/{kit_name}", "style": style,
                              "pieces": {p: pieces[p] for p in used}}
        if "Perc" in roles:
            raw["Perc"], sources["Perc"] = render_perc_track(rng, bars, bpm, drum_root, cache)
        for r in roles:
            if r in PITCHED:
                raw[r], sources[r] = render_pitched(rng, r, h, bars, bpm, tmp, sf2, r)
        for r in roles:
            if peak(raw[r]) == 0:
                raise RuntimeError(f"{bid}: stem {r} is silent")
            raw[r] = fade_out(raw[r])

        targets = [(DRUM_ROLES[r] if r in DRUM_ROLES else PITCHED[r][3]) + rng.uniform(-1.5, 1.5)
                   for r in roles]
        gains = level_plan([raw[r] for r in roles], targets)
        stems = [(raw[r] * g).astype(np.float32) for r, g in zip(roles, gains)]
        n_st = len(stems)

        def mix(parts):
            return np.sum([p.astype(np.float64) for p in parts], axis=0)

        clean_master = mix(stems).astype(np.float32)
        base_dir = os.path.join(out_dir, bid, "base")
        os.makedirs(base_dir, exist_ok=True)
        base_files = []
        for nm, s in zip(names, stems):
            write_wav(os.path.join(base_dir, nm + ".wav"), s)
            base_files.append(f"{bid}/base/{nm}.wav")
        write_wav(os.path.join(base_dir, "master.wav"), clean_master)

        entries = []
        files_written = n_st + 1

        def no_truth():
            return {"offset": None, "polarity": None, "gain": None, "unaccounted": None}

        def stem_list(overrides=None):
            overrides = overrides or {}
            out = []
            for i, nm in enumerate(names):
                if i in overrides:
                    out.append({"name": nm, "file": overrides[i][0], "processing": overrides[i][1]})
                else:
                    out.append({"name": nm, "file": base_files[i], "processing": None})
            return out

        def add(vid, kind, master, master_proc=None, overrides=None, truth=None, extra=None):
            nonlocal files_written
            d = os.path.join(out_dir, bid, vid)
            os.makedirs(d, exist_ok=True)
            write_wav(os.path.join(d, "master.wav"), master)
            files_written += 1
            e = {"id": f"{bid}_{vid}", "base": bid, "kind": kind,
                 "master": {"file": f"{bid}/{vid}/master.wav", "processing": master_proc},
                 "stems": stem_list(overrides), "truth": truth or no_truth()}
            if extra:
                e.update(extra)
            entries.append(e)

        def write_stem(vid, i, y):
            nonlocal files_written
            d = os.path.join(out_dir, bid, vid)
            os.makedirs(d, exist_ok=True)
            write_wav(os.path.join(d, names[i] + ".wav"), y)
            files_written += 1
            return f"{bid}/{vid}/{names[i]}.wav"

        def pick(cat_offset, avoid=()):
            """A stem index by category rotation across sessions."""
            for k in range(len(CATEGORY_ORDER)):
                cat = CATEGORY_ORDER[(idx + cat_offset + k) % len(CATEGORY_ORDER)]
                cands = [i for i, r in enumerate(roles) if category(r) == cat and i not in avoid]
                if cands:
                    return cands[(idx // len(CATEGORY_ORDER)) % len(cands)]
            return [i for i in range(n_st) if i not in avoid][0]

        # 1. clean
        entries.append({"id": f"{bid}_clean", "base": bid, "kind": "clean",
                        "master": {"file": f"{bid}/base/master.wav", "processing": None},
                        "stems": stem_list(), "truth": no_truth()})

        # 2. stem_limited: each tool once, drives rotated
        for t, tool in enumerate(LIMITERS):
            drive = DRIVES[(idx + t) % 3]
            i = pick(t)
            ceiling = db(peak(stems[i]))
            y, proc = apply_limiter(stems[i], tool, drive, ceiling, latencies)
            vid = f"stem_limited_{tool}_{int(drive)}db"
            f = write_stem(vid, i, y)
            parts = list(stems)
            parts[i] = y
            add(vid, "stem_limited", mix(parts).astype(np.float32), overrides={i: (f, proc)},
                extra={"limited_stem": names[i]})

        # 3. master_limited
        tool = LIMITERS[idx % 3]
        drive = DRIVES[(idx // 3) % 3]
        y, proc = apply_limiter(clean_master, tool, drive, MASTER_PEAK_DBFS, latencies)
        add(f"master_limited_{tool}_{int(drive)}db", "master_limited", y, master_proc=proc)

        # 4. stem_clipped
        ctool = "sox" if idx % 2 == 0 else "ffmpeg"
        i = pick(1)
        y, proc = apply_clipper(stems[i], ctool, 6.0, peak(stems[i]))
        vid = f"stem_clipped_{ctool}"
        f = write_stem(vid, i, y)
        parts = list(stems)
        parts[i] = y
        add(vid, "stem_clipped", mix(parts).astype(np.float32), overrides={i: (f, proc)})

        # 5. offset
        k = OFFSETS[idx % len(OFFSETS)]
        i_off = pick(2)
        parts = list(stems)
        parts[i_off] = shift(stems[i_off], k)
        t = no_truth()
        t["offset"] = {"stem": names[i_off], "samples": k}
        add("offset", "offset", mix(parts).astype(np.float32), truth=t)

        # 6. polarity
        i_pol = pick(3)
        parts = list(stems)
        parts[i_pol] = -stems[i_pol]
        t = no_truth()
        t["polarity"] = {"stem": names[i_pol]}
        add("polarity", "polarity", mix(parts).astype(np.float32), truth=t)

        # 7. fader -2 dB
        i_fad = pick(4)
        parts = [p.astype(np.float64) for p in stems]
        parts[i_fad] = parts[i_fad] * undb(-2.0)
        t = no_truth()
        t["gain"] = {"stem": names[i_fad], "db": [-2.0, -2.0]}
        add("fader", "fader", np.sum(parts, axis=0).astype(np.float32), truth=t)

        # 8. pan: left -3 dB
        i_pan = pick(0, avoid=(i_fad,))
        parts = [p.astype(np.float64) for p in stems]
        parts[i_pan] = parts[i_pan] * np.array([undb(-3.0), 1.0])
        t = no_truth()
        t["gain"] = {"stem": names[i_pan], "db": [-3.0, 0.0]}
        add("pan", "pan", np.sum(parts, axis=0).astype(np.float32), truth=t)

        # 9. unaccounted: a real track that is not among the stems, 10 dB under the master
        cm64 = clean_master.astype(np.float64)
        if idx % 2 == 0:
            xtra, xsrc = render_perc_track(rng, bars, bpm, drum_root, cache)
            xdesc = f"percussion ({', '.join(xsrc['pieces'])}) from hydrogen-drumkits/{PERC_KIT}"
        else:
            xrole = [r for r in EXTRA_FLUID if r not in roles][idx % 3]
            xtra, xsrc = render_pitched(rng, xrole, h, bars, bpm, tmp, sf2, "extra")
            xdesc = f"{xrole} (GM program {xsrc['gm_program']}) rendered by fluidsynth"
        xtra = fade_out(xtra)
        e_m = float(np.sum(cm64 ** 2))
        xtra = (xtra * math.sqrt(e_m * undb(-10.0) ** 2 / np.sum(xtra ** 2))).astype(np.float32)
        um = (cm64 + xtra).astype(np.float32)
        lvl = 10 * math.log10(np.sum(xtra.astype(np.float64) ** 2) / np.sum(um.astype(np.float64) ** 2))
        lvl_s = 10 * math.log10(np.sum(xtra.astype(np.float64) ** 2) / e_m)
        t = no_truth()
        t["unaccounted"] = {"level_db": round(lvl, 2), "level_db_re_stem_sum": round(lvl_s, 2),
                            "track": xdesc}
        add("unaccounted", "unaccounted", um, truth=t)

        # 10. multi (every third session): two faults at once
        if idx % 3 == 0:
            combo = (idx // 3) % 4
            parts = [p.astype(np.float64) for p in stems]
            t = no_truth()
            a = pick(2)
            b = pick(4, avoid=(a,))
            if combo == 0:
                parts[a] = shift(parts[a], k)
                parts[b] = parts[b] * undb(-2.0)
                t["offset"] = {"stem": names[a], "samples": k}
                t["gain"] = {"stem": names[b], "db": [-2.0, -2.0]}
                vid = "multi_offset_fader"
                m = np.sum(parts, axis=0)
            elif combo == 1:
                parts[a] = -parts[a]
                t["polarity"] = {"stem": names[a]}
                m = np.sum(parts, axis=0) + xtra.astype(np.float64)
                m32 = m.astype(np.float32).astype(np.float64)
                lv = 10 * math.log10(np.sum(xtra.astype(np.float64) ** 2) / np.sum(m32 ** 2))
                t["unaccounted"] = {"level_db": round(lv, 2),
                                    "level_db_re_stem_sum": round(lvl_s, 2), "track": xdesc}
                vid = "multi_polarity_unaccounted"
            elif combo == 2:
                parts[a] = shift(parts[a], k)
                parts[b] = -parts[b]
                t["offset"] = {"stem": names[a], "samples": k}
                t["polarity"] = {"stem": names[b]}
                vid = "multi_offset_polarity"
                m = np.sum(parts, axis=0)
            else:
                parts[a] = shift(parts[a], k)
                parts[b] = parts[b] * np.array([undb(-3.0), 1.0])
                t["offset"] = {"stem": names[a], "samples": k}
                t["gain"] = {"stem": names[b], "db": [-3.0, 0.0]}
                vid = "multi_offset_pan"
                m = np.sum(parts, axis=0)
            add(vid, "multi", m.astype(np.float32), truth=t)

        material = {
            "id": bid, "kit": kit_name if drum_roles else None, "style": style, "tempo_bpm": bpm,
            "key": ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"][h.root] + " " + mode,
            "stems": [dict(name=nm, role=r, gain_db=round(db(g), 2),
                           peak_dbfs=round(db(peak(s)), 2), **sources[r])
                      for nm, r, g, s in zip(names, roles, gains, stems)],
            "master_peak_dbfs": round(db(peak(clean_master)), 3),
        }
        return {"entries": entries, "material": material, "files": files_written,
                "seconds": time.time() - t_start}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def find_first(paths, what):
    for p in paths:
        if os.path.exists(p):
            return p
    raise SystemExit(f"{what} not found (looked in {paths}); run tests/eval/setup.sh")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--only", default="", help="comma-separated base ids, e.g. s01,s02")
    a = ap.parse_args()
    t0 = time.time()

    for tool in ("ffmpeg", "sox", "fluidsynth"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} not found; run tests/eval/setup.sh")
    drum_root = find_first(DRUMKIT_DIRS, "hydrogen drumkits")
    sf2 = find_first(SOUNDFONTS, "FluidR3_GM.sf2")

    out_dir = os.path.abspath(a.out_dir)
    if os.path.isdir(out_dir) and os.listdir(out_dir) and \
            not os.path.exists(os.path.join(out_dir, "manifest.json")):
        raise SystemExit(f"{out_dir} is not empty and holds no manifest.json; refusing to write")
    os.makedirs(out_dir, exist_ok=True)
    only = {s for s in a.only.split(",") if s}
    bases = [(i, b) for i, b in enumerate(BASES) if not only or b[0] in only]
    for _, b in bases:
        shutil.rmtree(os.path.join(out_dir, b[0]), ignore_errors=True)

    latencies = calibrate_latencies()
    jobs = [(i, b, out_dir, drum_root, sf2, latencies) for i, b in bases]
    with ProcessPoolExecutor(max_workers=max(1, a.jobs)) as ex:
        results = list(ex.map(build_base, jobs))

    sessions = [e for r in results for e in r["entries"]]
    manifest = {
        "version": 1, "sample_rate": SR, "length_samples": LEN,
        "master_peak_dbfs": MASTER_PEAK_DBFS,
        "conventions": {
            "offset": "samples > 0: the stem reaches the master that many samples later "
                      "(master contains stem[n - k]); shifted edges are zero-filled",
            "gain": "db = [left, right] applied to the stem inside the master",
            "gain_reduction_db": "max over 10 ms windows of peak(driven input) - peak(output), "
                                 "windows within 20 dB of the driven input's maximum",
            "unaccounted.level_db": "10*log10(energy of the extra track / energy of the master file)",
        },
        "tool_latency_samples": latencies,
        "sessions": sessions,
        "bases": [r["material"] for r in results],
    }
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)

    kinds = {}
    for s in sessions:
        kinds[s["kind"]] = kinds.get(s["kind"], 0) + 1
    size = sum(os.path.getsize(os.path.join(dp, fn))
               for dp, _, fns in os.walk(out_dir) for fn in fns)
    files = sum(r["files"] for r in results) + 1
    print(f"bases: {len(results)}  sessions: {len(sessions)}  "
          + "  ".join(f"{k}={v}" for k, v in kinds.items()))
    grs = [p["gain_reduction_db"] for s in sessions
           for p in [s["master"]["processing"]] + [st["processing"] for st in s["stems"]]
           if p and p["kind"] == "limiter"]
    if grs:
        print(f"limiter gain reduction: {len(grs)} runs, {min(grs):.1f}..{max(grs):.1f} dB")
    print(f"files: {files}  size: {size / 1e6:.0f} MB  time: {time.time() - t0:.0f} s  "
          f"-> {out_dir}/manifest.json")


if __name__ == "__main__":
    main()
