//! Test signals shared by the unit tests.

/// `n` samples of white noise in −0.5…0.5 from a xorshift generator seeded by `seed`.
pub fn noise(n: usize, seed: u32) -> Vec<f32> {
    let mut s = seed | 1;
    (0..n)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            (s as f32 / u32::MAX as f32) - 0.5
        })
        .collect()
}
