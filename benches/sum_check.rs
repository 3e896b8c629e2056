//! Cost of the sum-check core per pushed frame, for 8 and 64 stereo stems against a stereo
//! master in 512-frame chunks: the steady state (offsets known, one Gram update per frame),
//! and one offset estimation (every stem estimated from a window at once).

use criterion::{BatchSize, Criterion, Throughput};
use stemcheck::analysis::{SumCheck, SumCheckConfig};

const FS: f32 = 48_000.0;
const CHUNK: usize = 512;
/// Audio pushed per steady-state iteration: a quarter of a second.
const STEADY: usize = 12_288;

/// Band-limited noise plus a tone, different per seed.
fn signal(n: usize, seed: u32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(747_796_405) | 1;
    let mut lp = 0.0f32;
    let f = 60.0 + 37.0 * seed as f32;
    (0..n)
        .map(|i| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            lp += 0.3 * ((s as f32 / u32::MAX as f32) * 2.0 - 1.0 - lp);
            0.05 * (lp + (std::f32::consts::TAU * f * i as f32 / FS).sin())
        })
        .collect()
}

/// `stems` stereo stems of `n` frames and their exact sum.
fn session(stems: usize, n: usize) -> (Vec<Vec<Vec<f32>>>, Vec<Vec<f32>>) {
    let s: Vec<Vec<Vec<f32>>> = (0..stems)
        .map(|i| (0..2).map(|c| signal(n, (i * 2 + c) as u32 + 1)).collect())
        .collect();
    let master = (0..2)
        .map(|c| (0..n).map(|t| s.iter().map(|st| st[c][t]).sum()).collect())
        .collect();
    (s, master)
}

fn push_all(
    check: &mut SumCheck,
    stems: &[Vec<Vec<f32>>],
    master: &[Vec<f32>],
    range: std::ops::Range<usize>,
) {
    for start in range.clone().step_by(CHUNK) {
        let end = (start + CHUNK).min(range.end);
        let m: Vec<&[f32]> = master.iter().map(|c| &c[start..end]).collect();
        let s: Vec<Vec<&[f32]>> = stems
            .iter()
            .map(|st| st.iter().map(|c| &c[start..end]).collect())
            .collect();
        let s: Vec<Option<&[&[f32]]>> = s.iter().map(|c| Some(c.as_slice())).collect();
        check.push(&m, &s);
    }
}

fn bench(c: &mut Criterion) {
    for stems in [8usize, 64] {
        let config = SumCheckConfig::new(2, FS);
        let channels = vec![2; stems];
        let probe = SumCheck::new(config, &channels);
        // Enough audio for every offset to be estimated and the fit to run.
        let warm = probe.latency() + 4 * CHUNK;
        let (s, m) = session(stems, warm + STEADY);

        let mut group = c.benchmark_group(format!("sum_check/{stems}_stems"));
        group.sample_size(10);
        group.throughput(Throughput::Elements(STEADY as u64));
        let mut check = SumCheck::new(config, &channels);
        push_all(&mut check, &s, &m, 0..warm);
        group.bench_function("steady_push", |b| {
            // The same quarter second again and again: offsets are fixed, so only the
            // per-frame work is measured.
            b.iter(|| push_all(&mut check, &s, &m, warm..warm + STEADY));
        });
        // The push that makes the first block due: it estimates every stem's offset.
        let before = probe.latency() + 256 - CHUNK;
        group.throughput(Throughput::Elements(CHUNK as u64));
        group.bench_function("offset_estimation", |b| {
            b.iter_batched_ref(
                || {
                    let mut fresh = SumCheck::new(config, &channels);
                    push_all(&mut fresh, &s, &m, 0..before);
                    fresh
                },
                |fresh| push_all(fresh, &s, &m, before..before + CHUNK),
                BatchSize::LargeInput,
            );
        });
        group.finish();
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    bench(&mut c);
    c.final_summary();
}
