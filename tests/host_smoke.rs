//! Smoke test of the CLAP test host against the real bundle.

mod common;

use common::clap_host::*;

const SAMPLE_RATE: f64 = 48_000.0;
const MAX_FRAMES: u32 = 512;

fn sine_block(start: usize, frames: usize) -> Vec<Vec<f32>> {
    let channel: Vec<f32> = (start..start + frames)
        .map(|i| {
            let t = i as f64 / SAMPLE_RATE;
            (0.5 * (2.0 * std::f64::consts::PI * 1_000.0 * t).sin()) as f32
        })
        .collect();
    vec![channel.clone(), channel]
}

#[test]
fn two_instances_process_and_round_trip_state() {
    let bundle = ClapBundle::load(&bundle_path());
    let ids = bundle.plugin_ids();
    assert!(!ids.is_empty(), "the bundle exposes no plugin");
    let id = &ids[0];

    let mut instances = [
        PluginInstance::new(&bundle, id),
        PluginInstance::new_with_track_name(&bundle, id, "Drums"),
    ];
    // nice-plug reads the track info at init when the plugin has an editor.
    assert_eq!(instances[0].track_info_requests(), 0);
    assert!(
        instances[1].track_info_requests() > 0,
        "the plugin never read the host's track info"
    );

    for instance in &mut instances {
        instance.activate(SAMPLE_RATE, MAX_FRAMES, 2);
        let mut pos = 0usize;
        // Full blocks, then odd sizes down to a single frame.
        for frames in [512usize, 512, 100, 37, 1, 512] {
            let input = sine_block(pos, frames);
            let transport = TransportInfo {
                playing: true,
                pos_samples: pos as i64,
                sample_rate: SAMPLE_RATE,
            };
            let output = instance.process(&input, Some(transport));
            assert_eq!(output.len(), input.len());
            for (out, inp) in output.iter().zip(&input) {
                assert_eq!(out.len(), inp.len());
                assert!(out.iter().all(|s| s.is_finite()));
            }
            pos += frames;
        }
        // Without transport too.
        let output = instance.process(&sine_block(pos, 64), None);
        assert_eq!(output[0].len(), 64);

        let state = instance.save_state();
        assert!(!state.is_empty());
        instance
            .load_state(&state)
            .expect("the plugin refused its own state");
        assert!(instance.load_state(b"definitely not a state").is_err());

        // State loads while inactive as well.
        instance.deactivate();
        instance
            .load_state(&state)
            .expect("the plugin refused its own state while inactive");
    }
}

#[test]
fn params_are_listed_and_settable() {
    let bundle = ClapBundle::load(&bundle_path());
    let id = bundle.plugin_ids().remove(0);
    let mut instance = PluginInstance::new(&bundle, &id);

    let infos = instance.param_infos();
    for (clap_id, name, min, max, default) in &infos {
        assert!(!name.is_empty(), "parameter {clap_id} has no name");
        assert!(
            min <= default && default <= max,
            "{name}: {min} <= {default} <= {max}"
        );
        let value = instance.param_value(*clap_id);
        assert!(*min <= value && value <= *max, "{name} = {value}");
        assert_eq!(instance.param_id_by_name(name), Some(*clap_id));
    }

    if let Some(&(clap_id, ref name, min, max, _)) = infos.first() {
        // Inactive: applied at once through flush.
        instance.set_param_value(clap_id, max);
        assert_eq!(instance.param_value(clap_id), max, "{name}");
        let text = instance.param_value_text(clap_id, max);
        assert!(!text.is_empty());

        // Active: queued for the next process call.
        instance.activate(SAMPLE_RATE, MAX_FRAMES, 2);
        instance.set_param_value(clap_id, min);
        instance.process(&sine_block(0, 128), None);
        assert_eq!(instance.param_value(clap_id), min, "{name}");
    }
}

#[test]
fn mono_layout_can_be_selected() {
    let bundle = ClapBundle::load(&bundle_path());
    let id = bundle.plugin_ids().remove(0);
    let mut instance = PluginInstance::new(&bundle, &id);
    instance.activate(SAMPLE_RATE, MAX_FRAMES, 1);
    let mono = vec![sine_block(0, 256).remove(0)];
    let output = instance.process(&mono, None);
    assert_eq!(output.len(), 1);
    assert_eq!(output[0].len(), 256);

    // And back to stereo.
    instance.activate(SAMPLE_RATE, MAX_FRAMES, 2);
    let output = instance.process(&sine_block(0, 256), None);
    assert_eq!(output.len(), 2);
}
