#!/usr/bin/env python3
"""The VST3 build of Stemcheck in a JUCE-based host (pedalboard): processing at sample rates
outside the metered range, and `role` restored through the host's normalised values.

Usage: python3 odd_rates.py PATH/TO/Stemcheck.vst3

Each check runs in a child process, so a host that aborts (a panic inside the plugin aborts
the whole host) counts as one failed check and the others still run. Prints one line per
check and ends with "N passed, M failed"; the exit status is 0 only when all passed.
"""

import subprocess
import sys

# (rate, metered): the metered range is 8 kHz to 768 kHz.
RATES = [
    (1234.5678, False),
    (4000.0, False),
    (1_000_000.0, False),
    (44100.0, True),
    (48000.0, True),
]


def signal(np, frames):
    """Stereo audio with overs, subnormals and negative zero among a sine."""
    n = np.arange(frames)
    x = np.stack([np.sin(n * 0.01) * 0.5, np.sin(n * 0.013) * 0.5]).astype(np.float32)
    x[:, ::97] = 1.5
    x[:, 1::97] = np.float32(-1e-40)  # subnormal
    x[:, 3::97] = np.float32(-0.0)
    return x


def check_rate(bundle, rate, _metered):
    import numpy as np
    import pedalboard

    plugin = pedalboard.load_plugin(bundle)
    audio = signal(np, 4096)
    # Odd block sizes; pedalboard activates the plugin at `sample_rate` and processes.
    for block in (512, 333, 1):
        out = plugin.process(audio, sample_rate=rate, buffer_size=block, reset=True)
        # Subnormals may leave as zero: the plugin flushes them when it meters, and the host
        # runs with denormals flushed (JUCE's ScopedNoDenormals) whatever the plugin does.
        subnormal = (audio != 0) & (np.abs(audio) < np.finfo(np.float32).tiny)
        same = out.view(np.uint32) == audio.view(np.uint32)
        flushed = subnormal & (out == 0)
        bad = ~(same | flushed)
        if out.shape != audio.shape or bad.any():
            raise AssertionError(
                f"audio changed at {rate} Hz, blocks of {block}: {int(bad.sum())} samples"
            )


def check_role(bundle):
    import numpy as np
    import pedalboard

    plugin = pedalboard.load_plugin(bundle)
    role = plugin.parameters["role"]
    threshold = plugin.parameters["window_low_db"]
    # As pluginval --randomise does: unrounded normalised values, then a state round trip.
    role.raw_value = 0.758304
    threshold.raw_value = 0.4321
    plugin.process(signal(np, 512), sample_rate=48000.0, buffer_size=512, reset=True)
    if abs(role.raw_value - 0.758304) > 1e-6:
        raise AssertionError(f"the host set role 0.758304, the plugin holds {role.raw_value}")
    if role.string_value != "Master":
        raise AssertionError(f"role 0.758304 should read Master, reads {role.string_value!r}")
    saved = plugin.raw_state
    role.raw_value = 0.1
    threshold.raw_value = 0.9
    plugin.raw_state = saved
    if abs(role.raw_value - 0.758304) > 1e-6:
        raise AssertionError(f"role restored as {role.raw_value}, the host holds 0.758304")
    if abs(threshold.raw_value - 0.4321) > 0.002:
        raise AssertionError(f"window_low restored as {threshold.raw_value}, set 0.4321")


def run_case(bundle, case):
    if case == "role":
        check_role(bundle)
    else:
        rate = float(case)
        check_rate(bundle, rate, dict(RATES)[rate])


def main():
    if len(sys.argv) == 3:
        run_case(sys.argv[1], sys.argv[2])
        return 0
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    bundle = sys.argv[1]
    cases = [str(rate) for rate, _ in RATES] + ["role"]
    passed = failed = 0
    for case in cases:
        done = subprocess.run(
            [sys.executable, __file__, bundle, case],
            capture_output=True,
            text=True,
            timeout=300,
        )
        what = f"{case} Hz" if case != "role" else "role restored through a state"
        if done.returncode == 0:
            passed += 1
            print(f"ok   {what}")
        else:
            failed += 1
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            print(f"FAIL {what} (exit status {done.returncode}): {' | '.join(tail)}")
    print(f"vst3 host: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
