//! The registry's costs: what a stem's audio thread pays to publish a block (with 1 and with
//! 256 slots taken), and what a master pays to copy every slot and build its view of 64 stems.
//!
//! `cargo bench --bench registry`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::hint::black_box;
use std::time::Instant;
use stemcheck::dsp::snapshot::MeterSnapshot;
use stemcheck::plugin::overview::Overview;
use stemcheck::registry::{NameSource, Registry, Role, SlotHandle, SlotReading, CAPACITY};

fn leaked() -> &'static Registry {
    Box::leak(Box::new(Registry::new(CAPACITY)))
}

fn reading(n: u64) -> SlotReading {
    let mut s = MeterSnapshot {
        blocks: n,
        channels: 2,
        sample_rate: 48_000.0,
        ..Default::default()
    };
    s.sample_peak = [0.5, 0.4];
    s.true_peak = [0.52, 0.41];
    SlotReading::new(s, Role::Stem)
}

fn claim(reg: &'static Registry, n: usize) -> Vec<SlotHandle> {
    (0..n)
        .map(|i| {
            let h = reg
                .claim(&format!("{:02}_Stem", i + 1), NameSource::Host)
                .unwrap();
            h.publish(&reading(1));
            h
        })
        .collect()
}

fn publish(c: &mut Criterion) {
    let mut group = c.benchmark_group("registry publish per block");
    for taken in [1usize, 256] {
        let reg = leaked();
        let handles = claim(reg, taken);
        let mine = &handles[taken - 1];
        let mut n = 0u64;
        group.bench_with_input(BenchmarkId::from_parameter(taken), &taken, |b, _| {
            b.iter(|| {
                n += 1;
                mine.publish(black_box(&reading(n)));
            })
        });
    }
    group.finish();
}

fn master_view(c: &mut Criterion) {
    let mut group = c.benchmark_group("master reads 64 stems");
    let reg = leaked();
    let _handles = claim(reg, 64);
    let mut out = Vec::with_capacity(reg.capacity());
    group.bench_function("copy every slot", |b| {
        b.iter(|| black_box(reg.read_into(&mut out)))
    });
    let mut overview = Overview::new(reg);
    group.bench_function("named and timed view", |b| {
        b.iter(|| black_box(overview.read(None, Instant::now())))
    });
    group.finish();
}

/// One frame of the master's editor with 64 stems at its default size, with the bundled fonts:
/// layout and tessellation into triangles, everything the GUI thread does before the GPU
/// draws. What "smooth at 60 fps" has to fit in 16.7 ms.
fn master_editor_frame(c: &mut Criterion) {
    use std::sync::Arc;
    use stemcheck::plugin::editor::{theme, MeterEditor, MASTER_SIZE};
    use stemcheck::plugin::params::{RoleChoice, StemcheckParams};
    use stemcheck::plugin::shared::Shared;

    // The editor reads the process-wide table, so the stems go there.
    let reg = Registry::global();
    let _handles = claim(reg, 64);
    let params = Arc::new(StemcheckParams::with_role(RoleChoice::Master));
    let mut editor = MeterEditor::new(params, Arc::new(Shared::new(reg)));
    let ctx = egui::Context::default();
    theme::install(&ctx);
    let input = || egui::RawInput {
        screen_rect: Some(egui::Rect::from_min_size(
            egui::Pos2::ZERO,
            egui::vec2(MASTER_SIZE.0, MASTER_SIZE.1),
        )),
        ..Default::default()
    };
    let frame = |editor: &mut MeterEditor| {
        let mut out = ctx.run_ui(input(), |ui| editor.draw(ui));
        out.textures_delta.clear();
        ctx.tessellate(out.shapes, out.pixels_per_point)
    };
    let meshes = frame(&mut editor).len();
    println!("one frame tessellates into {meshes} meshes");
    c.bench_function("master editor frame, 64 stems", |b| {
        b.iter(|| black_box(frame(&mut editor).len()))
    });
}

criterion_group!(benches, publish, master_view, master_editor_frame);
criterion_main!(benches);
