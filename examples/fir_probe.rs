use std::time::Instant;
use stemcheck::dsp::interpolator::{InterpolationTable, HALF_PHASE};
use stemcheck::dsp::simd::Kernel;
fn main() {
    let t = InterpolationTable::new();
    let w = t.row(HALF_PHASE);
    let x: Vec<f32> = (0..256 + 64 + 24).map(|i| (i as f32 * 0.37).sin()).collect();
    let mut out = vec![0.0f32; 256];
    let k = Kernel::detect();
    let mut best = [f64::MAX; 2];
    for _ in 0..2000 {
        let s = Instant::now();
        for _ in 0..100 { k.fir(w, &x, &mut out); std::hint::black_box(&out); }
        best[0] = best[0].min(s.elapsed().as_nanos() as f64 / 25600.0);
        let s = Instant::now();
        for _ in 0..100 { k.fir_symmetric(w, &x, &mut out); std::hint::black_box(&out); }
        best[1] = best[1].min(s.elapsed().as_nanos() as f64 / 25600.0);
    }
    println!("fir {:.3} ns/output, symmetric {:.3}", best[0], best[1]);
}
