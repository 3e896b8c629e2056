//! What the master costs per 512-frame block with 8 and with 64 stems live:
//!
//! * on its audio thread: meter the block, write it into its tap, publish its reading — the
//!   same work as any stem, whatever the number of stems, because gathering and analysis run
//!   on the master's analysis thread;
//! * on its analysis thread: gather the block's audio from every stem's tap by position and
//!   run the session analysis on it (sum-check, limiter detection of every bus, the stem sum's
//!   true peak), measured as the steady cost per block over a long run.
//!
//! The peer in the same run: the `ebur128` crate measuring the true peak of the same stereo
//! block (its `Mode::TRUE_PEAK`), as the yardstick of "one meter on one block".
//!
//! `cargo bench --bench master_block`

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};
use stemcheck::dsp::bus_meter::{BusMeter, MeterSettings};
use stemcheck::dsp::pass::TransportState;
use stemcheck::registry::feed::LiveFeed;
use stemcheck::registry::{
    AudioTap, NameSource, Registry, Role, SlotHandle, SlotReading, TapWriter, CAPACITY,
};

const BLOCK: usize = 512;
const RATE: f32 = 48_000.0;

fn noise(n: usize, seed: u32) -> Vec<f32> {
    let mut s = seed | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            0.1 * ((s as f32 / u32::MAX as f32) - 0.5)
        })
        .collect()
}

/// A session in its own table: a master and `stems` stems, each with its tap and writer.
struct Bench {
    _handles: Vec<SlotHandle>,
    master: TapWriter,
    stems: Vec<TapWriter>,
    feed: LiveFeed,
    audio: Vec<[Vec<f32>; 2]>,
    pos: i64,
}

impl Bench {
    fn new(stems: usize) -> Self {
        let reg: &'static Registry = Box::leak(Box::new(Registry::new(CAPACITY)));
        let master_slot = reg.claim("Master", NameSource::Label).unwrap();
        master_slot.publish(&SlotReading::new(Default::default(), Role::Master));
        let master_tap = Arc::new(AudioTap::new(2, RATE));
        master_slot.set_tap(Some(master_tap.clone()));
        let mut handles = Vec::new();
        let mut writers = Vec::new();
        for i in 0..stems {
            let h = reg
                .claim(&format!("{:02}_Stem", i + 1), NameSource::Host)
                .unwrap();
            let tap = Arc::new(AudioTap::new(2, RATE));
            h.set_tap(Some(tap.clone()));
            writers.push(TapWriter::new(tap));
            handles.push(h);
        }
        let own = Some(master_slot.index());
        handles.push(master_slot);
        // 4 s of distinct audio per stem, looped.
        let frames = 4 * RATE as usize;
        let audio = (0..stems)
            .map(|i| {
                [
                    noise(frames, 2 * i as u32 + 1),
                    noise(frames, 2 * i as u32 + 2),
                ]
            })
            .collect();
        Self {
            _handles: handles,
            master: TapWriter::new(master_tap.clone()),
            stems: writers,
            feed: LiveFeed::new(reg, master_tap, own),
            audio,
            pos: 0,
        }
    }

    /// Plays one block into every tap (stems first, then the master: their sum).
    fn play_block(&mut self) {
        let frames = self.audio[0][0].len();
        let at = (self.pos as usize) % (frames - BLOCK);
        let mut mix = [vec![0.0f32; BLOCK], vec![0.0f32; BLOCK]];
        for (w, a) in self.stems.iter_mut().zip(&self.audio) {
            let block = [&a[0][at..at + BLOCK], &a[1][at..at + BLOCK]];
            w.write(self.pos, &block);
            for ch in 0..2 {
                for (m, &v) in mix[ch].iter_mut().zip(block[ch]) {
                    *m += v;
                }
            }
        }
        self.master.write(self.pos, &[&mix[0], &mix[1]]);
        self.pos += BLOCK as i64;
    }
}

fn audio_thread(c: &mut Criterion) {
    let mut group = c.benchmark_group("master audio thread per 512-frame block");
    for stems in [8usize, 64] {
        let bench = Bench::new(stems);
        let own = Arc::new(AudioTap::new(2, RATE));
        let mut tap = TapWriter::new(own);
        let slot = Registry::global()
            .claim("Master", NameSource::Label)
            .unwrap();
        let mut meter = BusMeter::new(
            2,
            RATE,
            MeterSettings {
                tp_ceiling_db: -1.0,
            },
        );
        let input = [noise(BLOCK, 7), noise(BLOCK, 8)];
        let mut pos = 0i64;
        group.bench_with_input(BenchmarkId::new("stemcheck", stems), &stems, |b, _| {
            b.iter(|| {
                let state = TransportState {
                    playing: true,
                    pos_samples: Some(pos),
                };
                meter.process(black_box(&input), state);
                tap.write(pos, &[&input[0], &input[1]]);
                slot.publish(&SlotReading::new(meter.snapshot(), Role::Master));
                pos += BLOCK as i64;
            })
        });
        drop(bench);
    }
    let input = [noise(BLOCK, 7), noise(BLOCK, 8)];
    let mut peer = ebur128::EbuR128::new(2, RATE as u32, ebur128::Mode::TRUE_PEAK).unwrap();
    group.bench_function("peer: ebur128 true peak", |b| {
        b.iter(|| {
            peer.add_frames_planar_f32(&[&input[0], &input[1]]).unwrap();
            black_box(peer.true_peak(0).unwrap())
        })
    });
    group.finish();
}

fn analysis_thread(c: &mut Criterion) {
    let mut group = c.benchmark_group("master analysis thread per 512-frame block");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(8));
    for stems in [8usize, 64] {
        let mut bench = Bench::new(stems);
        // Past the first pass's offset estimates: the steady state.
        for _ in 0..(3 * RATE as usize / BLOCK) {
            bench.play_block();
            bench.feed.poll();
        }
        group.bench_with_input(BenchmarkId::new("stemcheck", stems), &stems, |b, _| {
            b.iter_custom(|iters| {
                let mut spent = Duration::ZERO;
                for _ in 0..iters {
                    bench.play_block();
                    let t = Instant::now();
                    black_box(bench.feed.poll());
                    spent += t.elapsed();
                }
                spent
            })
        });
    }
    group.finish();
}

criterion_group!(benches, audio_thread, analysis_thread);
criterion_main!(benches);
