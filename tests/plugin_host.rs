//! The built plugin bundle, loaded through a real CLAP host (`clack-host`) the way a DAW loads
//! it. The bundle is a debug build with `assert_process_allocs`: any allocation inside the
//! plugin's process path aborts the test.

mod common;

use common::clap_host::*;

const PLUGIN_ID: &str = "com.stemcheck.stemcheck";
const MAX_FRAMES: u32 = 4096;

/// Awkward but legal sample values: extremes, signed zeros, tiny normals, NaN payloads.
fn awkward_values(n: usize, seed: u32) -> Vec<f32> {
    let specials = [
        0.0f32,
        -0.0,
        f32::MIN_POSITIVE,
        -f32::MIN_POSITIVE,
        1.0,
        -1.0,
        1.5,
        1e30,
        -3.4e38,
        f32::from_bits(0x7fc0_1234), // a NaN with a payload
        f32::INFINITY,
        f32::NEG_INFINITY,
    ];
    let mut state = seed | 1;
    (0..n)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            if i % 97 == 0 {
                specials[(state as usize) % specials.len()]
            } else {
                (state as f32 / u32::MAX as f32 - 0.5) * 1.8
            }
        })
        .collect()
}

/// Subnormal values of both signs.
fn subnormals(n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| {
            let v = f32::from_bits(1 + (i as u32 * 7919) % 0x007f_ffff);
            if i % 2 == 0 {
                v
            } else {
                -v
            }
        })
        .collect()
}

fn play(
    instance: &mut PluginInstance,
    input: &[Vec<f32>],
    block: usize,
    rate: f64,
) -> Vec<Vec<f32>> {
    let n = input[0].len();
    let mut out = vec![Vec::with_capacity(n); input.len()];
    let mut pos = 0usize;
    while pos < n {
        let end = (pos + block).min(n);
        let chunk: Vec<Vec<f32>> = input.iter().map(|c| c[pos..end].to_vec()).collect();
        let t = TransportInfo {
            playing: true,
            pos_samples: pos as i64,
            sample_rate: rate,
        };
        for (o, c) in out.iter_mut().zip(instance.process(&chunk, Some(t))) {
            o.extend_from_slice(&c);
        }
        pos = end;
    }
    out
}

fn assert_bit_exact(input: &[Vec<f32>], output: &[Vec<f32>], what: &str) {
    for (c, (i, o)) in input.iter().zip(output).enumerate() {
        assert_eq!(i.len(), o.len(), "{what}: length of channel {c}");
        for (k, (a, b)) in i.iter().zip(o).enumerate() {
            let want = if a.is_subnormal() { 0.0f32 } else { *a };
            assert_eq!(
                want.to_bits(),
                b.to_bits(),
                "{what}: channel {c} sample {k}: in {a:e} ({:#x}), out {b:e} ({:#x})",
                a.to_bits(),
                b.to_bits()
            );
        }
    }
}

#[test]
fn audio_passes_bit_exactly_at_every_block_size() {
    let bundle = ClapBundle::load(&bundle_path());
    let mut plugin = PluginInstance::new(&bundle, PLUGIN_ID);
    plugin.activate(48_000.0, MAX_FRAMES, 2);
    let input = vec![awkward_values(20_000, 1), awkward_values(20_000, 2)];
    for block in [1usize, 7, 64, 333, 512, 4096] {
        let output = play(&mut plugin, &input, block, 48_000.0);
        assert_bit_exact(&input, &output, &format!("block {block}"));
    }
}

#[test]
fn subnormal_samples_leave_as_zero_and_nothing_else_changes() {
    let bundle = ClapBundle::load(&bundle_path());
    let mut plugin = PluginInstance::new(&bundle, PLUGIN_ID);
    plugin.activate(48_000.0, MAX_FRAMES, 1);
    let mut x = subnormals(5_000);
    x.extend(awkward_values(5_000, 3));
    let input = vec![x];
    let output = play(&mut plugin, &input, 256, 48_000.0);
    assert_bit_exact(&input, &output, "mono");
    assert!(
        output[0][..5_000].iter().all(|v| v.to_bits() == 0),
        "subnormals must leave as +0.0"
    );
}

#[test]
fn several_instances_reactivate_at_another_rate_and_keep_passing_audio() {
    let bundle = ClapBundle::load(&bundle_path());
    let mut plugins: Vec<PluginInstance> = (0..3)
        .map(|_| PluginInstance::new(&bundle, PLUGIN_ID))
        .collect();
    let input = vec![awkward_values(9_000, 4), awkward_values(9_000, 5)];
    for rate in [48_000.0, 44_100.0, 96_000.0, 192_000.0] {
        for (k, plugin) in plugins.iter_mut().enumerate() {
            plugin.activate(rate, MAX_FRAMES, 2);
            let output = play(plugin, &input, 480 + k * 17, rate);
            assert_bit_exact(&input, &output, &format!("instance {k} at {rate} Hz"));
            plugin.deactivate();
        }
    }
}

#[test]
fn state_round_trips_and_a_corrupt_state_is_refused_without_harm() {
    let bundle = ClapBundle::load(&bundle_path());
    let mut plugin = PluginInstance::new(&bundle, PLUGIN_ID);
    let ceiling = clap_param_id("tp_ceiling_db");
    let low = clap_param_id("window_low_db");
    plugin.set_param_value(ceiling, plugin_normalised(-2.0));
    plugin.set_param_value(low, plugin_normalised(-9.0));
    let saved = plugin.save_state();

    let mut other = PluginInstance::new(&bundle, PLUGIN_ID);
    other.load_state(&saved).expect("a saved state loads");
    assert!((other.param_value(ceiling) - plugin.param_value(ceiling)).abs() < 1e-6);
    assert!((other.param_value(low) - plugin.param_value(low)).abs() < 1e-6);

    for corrupt in [
        &b""[..],
        b"\x05\0\0\0\0\0\0\0{\"par",
        &saved[..saved.len() / 2],
    ] {
        assert!(
            other.load_state(corrupt).is_err(),
            "corrupt state {corrupt:?} was accepted"
        );
    }
    // Still the loaded values, and still working.
    assert!((other.param_value(ceiling) - plugin.param_value(ceiling)).abs() < 1e-6);
    other.activate(48_000.0, MAX_FRAMES, 2);
    let input = vec![awkward_values(2_000, 6), awkward_values(2_000, 7)];
    assert_bit_exact(
        &input,
        &play(&mut other, &input, 100, 48_000.0),
        "after corrupt state",
    );
}

/// Normalised value of a level parameter (range −30…0 dB, linear).
fn plugin_normalised(db: f64) -> f64 {
    (db + 30.0) / 30.0
}
