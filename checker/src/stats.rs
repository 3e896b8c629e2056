//! Facts about a file gathered while it streams past: where its signal starts and ends,
//! whether its two channels are the same, and a digest of its audio for finding duplicates.

use std::hash::{DefaultHasher, Hasher};

use stemcheck_engine::report::FileFacts;

use crate::source::SourceInfo;

/// Running facts of one file.
#[derive(Clone, Debug)]
pub struct FileStats {
    threshold: f32,
    frames: u64,
    first_signal: Option<u64>,
    last_signal: Option<u64>,
    digest: DefaultHasher,
    channels_differ: bool,
}

impl FileStats {
    /// Stats counting samples above `silence_dbfs` as signal.
    pub fn new(silence_dbfs: f32) -> Self {
        Self {
            threshold: 10f32.powf(silence_dbfs / 20.0),
            frames: 0,
            first_signal: None,
            last_signal: None,
            // SipHash with fixed keys: the same audio gives the same digest in every run.
            digest: DefaultHasher::new(),
            channels_differ: false,
        }
    }

    /// Adds the next frames (one slice per channel, all the same length).
    pub fn push(&mut self, chunk: &[Vec<f32>]) {
        let n = chunk.first().map_or(0, Vec::len);
        let mut first = None;
        let mut last = None;
        for ch in chunk {
            if let Some(i) = ch.iter().position(|v| v.abs() > self.threshold) {
                first = Some(first.map_or(i, |f: usize| f.min(i)));
            }
            if let Some(i) = ch.iter().rposition(|v| v.abs() > self.threshold) {
                last = Some(last.map_or(i, |l: usize| l.max(i)));
            }
            for v in ch {
                self.digest.write_u32(v.to_bits());
            }
        }
        if let [l, r] = chunk {
            self.channels_differ |= l.iter().zip(r).any(|(a, b)| a.to_bits() != b.to_bits());
        }
        if self.first_signal.is_none() {
            self.first_signal = first.map(|i| self.frames + i as u64);
        }
        if let Some(i) = last {
            self.last_signal = Some(self.frames + i as u64);
        }
        self.frames += n as u64;
    }

    /// Frames seen.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// The facts the file rules need.
    pub fn facts(&self, name: String, info: &SourceInfo) -> FileFacts {
        FileFacts {
            name,
            path: info.path.display().to_string(),
            container: info.container.into(),
            encoding: info.encoding,
            bits: info.bits,
            channels: info.channels as u32,
            sample_rate: info.sample_rate,
            frames: self.frames,
            first_signal: self.first_signal,
            last_signal: self.last_signal,
            digest: self.first_signal.map(|_| self.digest.finish()),
            dual_mono: info.channels == 2 && !self.channels_differ && self.first_signal.is_some(),
            time_reference: info.time_reference,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signal_edges_are_found_across_chunks() {
        let mut s = FileStats::new(-80.0);
        s.push(&[vec![0.0; 100], vec![0.0; 100]]);
        let mut l = vec![0.0; 100];
        l[10] = 0.5;
        l[20] = 0.001;
        s.push(&[l, vec![0.0; 100]]);
        s.push(&[vec![1e-5; 50], vec![0.0; 50]]);
        assert_eq!(
            (s.first_signal, s.last_signal, s.frames()),
            (Some(110), Some(120), 250)
        );
        assert!(s.channels_differ);
    }

    #[test]
    fn equal_audio_gives_equal_digests_and_chunking_does_not_matter() {
        let a: Vec<f32> = (0..1000).map(|i| (i as f32 * 0.01).sin()).collect();
        let mut one = FileStats::new(-80.0);
        one.push(std::slice::from_ref(&a));
        let mut two = FileStats::new(-80.0);
        two.push(&[a[..300].to_vec()]);
        two.push(&[a[300..].to_vec()]);
        assert_eq!(one.digest.finish(), two.digest.finish());
        let mut other = FileStats::new(-80.0);
        let mut b = a.clone();
        b[999] = -b[999];
        other.push(&[b]);
        assert_ne!(one.digest.finish(), other.digest.finish());
    }
}
