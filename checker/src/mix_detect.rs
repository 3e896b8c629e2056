//! Which of the delivered files is the mix, when none is given with `--mix`: the file whose
//! audio equals the sum of the others (within the null tolerance), whatever its name.
//!
//! The files are compared over the start of the pass, which the scan holds in memory before it
//! meters and analyses anything (see [`Detector::enough`] for how much): the decision costs no
//! second decoding, only the buffered start and a few sums over it. Every file `c` is compared
//! with the sum `S − c` of the others at once, from one sum `S` per frame:
//!
//! 1. A file that nulls against the sum of at least two others carrying signal (or one, when
//!    its name reads like a mix's) is the mix; a second one is a copy of it, set aside.
//! 2. Otherwise the file most like the sum of the others (after the best gain per channel, at
//!    or below [`LIKENESS_DB`]) is set aside, as a mix with processing or another version of
//!    the mix (a mastered copy), and step 1 runs again without it, until neither applies.
//! 3. When nothing nulls, the best of the files set aside becomes the mix (one that nulls
//!    against the stems left, then one named like a mix, then the most alike), so the
//!    sum-check can say what differs; the rest stay set aside, out of the sum.
//!
//! With `--mix`, step 1's files are copies of a mix among the stems and are set aside too. A
//! name like `Mix`, `Master` or `…_mix` only breaks ties and earns a note when its file turns
//! out to be a stem. A file is never summed into the stems while it looks like a mix, and
//! never silently: the report says what was set aside and why.

use stemcheck_engine::report::{CandidateRole, MixMethod};

use crate::scan::Step;

/// A file this much like the sum of the others (residual energy after the best gain per
/// channel, relative to the file's) looks like a mix: a correlation of 0.95 or more.
pub const LIKENESS_DB: f64 = -10.0;

/// Seconds of the start, where at least three files carry signal, after which the files are
/// compared.
pub const EVIDENCE_S: f64 = 4.0;

/// The most of the start held in memory for the comparison, seconds of the session.
pub const MAX_PREFIX_S: f64 = 60.0;

/// The most of the start held in memory for the comparison, bytes of decoded samples.
pub const MAX_PREFIX_BYTES: usize = 128 << 20;

/// The lowest level a null or a likeness reads, dB (a perfect match).
const FLOOR_DB: f64 = -200.0;

/// Two files this alike (residual after the best gain per channel) carry the same signal: a
/// copy, or the same stem at another bit depth (24-bit rounding lies near −140 dB, 16-bit near
/// −90 dB below a stem's level). Neither is counted in the other's sum of "others".
const COPY_DB: f64 = -40.0;

/// Words that name a mix in a file name.
const MIX_WORDS: &[&str] = &[
    "mix",
    "mixdown",
    "master",
    "mastered",
    "premaster",
    "bounce",
    "fullmix",
    "stereomix",
];

/// Whether a file's name (without extension) reads like a mix's: one of its words, split at
/// punctuation, spaces and lower-to-upper case changes, is `mix`, `master`, `bounce`…
pub fn named_like_mix(name: &str) -> bool {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut prev_lower = false;
    for ch in name.chars() {
        if (!ch.is_alphanumeric() || (ch.is_uppercase() && prev_lower)) && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        if ch.is_alphanumeric() {
            word.extend(ch.to_lowercase());
        }
        prev_lower = ch.is_lowercase() || ch.is_ascii_digit();
    }
    words.push(word);
    words.iter().any(|w| MIX_WORDS.contains(&w.as_str()))
}

/// Watches the start of the pass as it is read, to say when enough has been seen, and keeps
/// every pair of files' products (per channel), from which any file's comparison with any sum
/// of others follows without going back over the audio.
#[derive(Clone, Debug)]
pub struct Detector {
    /// Files compared (indices into the files), the given mix included.
    files: Vec<usize>,
    /// Per file (index into the files), its position in `files`.
    position: Vec<usize>,
    silence: f32,
    rate: f64,
    frames: u64,
    evidence: u64,
    bytes: usize,
    /// Per file (index into the files): a sample above the silence threshold was seen.
    signal: Vec<bool>,
    /// Per channel (a mono file feeds both), Σ x_a·x_b for the compared files `a ≤ b`
    /// (positions in `files`), row by row.
    gram: [Vec<f64>; 2],
}

/// How one file compares with a sum of others over the start.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Comparison {
    /// Unity null, dB; `None` when the file carried no signal.
    pub null_db: Option<f64>,
    /// After the best gain per channel, dB; `None` when the file carried no signal.
    pub likeness_db: Option<f64>,
    /// Files in the sum that carried signal.
    pub others_with_signal: usize,
}

/// A file considered as the mix, with its figures against the stems.
#[derive(Clone, Debug, PartialEq)]
pub struct Considered {
    /// Index into the files.
    pub file: usize,
    /// Its name reads like a mix's.
    pub by_name: bool,
    /// What became of it.
    pub role: CandidateRole,
    /// Against the sum of the stems (for a stem: of the other stems).
    pub figures: Comparison,
    /// The null is within the tolerance.
    pub nulls: bool,
}

/// What the detection decided.
#[derive(Clone, Debug, PartialEq)]
pub struct Detection {
    /// Given, found, or none.
    pub method: MixMethod,
    /// The mix (index into the files).
    pub mix: Option<usize>,
    /// Files left out of the stems because they look like a mix.
    pub set_aside: Vec<usize>,
    /// Frames of the start compared.
    pub compared_frames: u64,
    /// Stems the mix was compared with.
    pub stems_compared: usize,
    /// The mix found, the files set aside, and stems named like a mix.
    pub considered: Vec<Considered>,
}

impl Detection {
    /// No comparison made: the mix as given (or none).
    pub fn given(mix: Option<usize>) -> Self {
        Self {
            method: if mix.is_some() {
                MixMethod::Given
            } else {
                MixMethod::NotFound
            },
            mix,
            set_aside: Vec::new(),
            compared_frames: 0,
            stems_compared: 0,
            considered: Vec::new(),
        }
    }
}

/// 10·log10(part / whole), floored.
fn ratio_db(part: f64, whole: f64) -> f64 {
    (10.0 * (part.max(0.0) / whole).log10()).max(FLOOR_DB)
}

impl Detector {
    /// A detector over `files` (indices; with the given mix, if any) at `rate` Hz, counting
    /// samples above `silence_dbfs` as signal; `count` is how many files there are in all.
    pub fn new(files: Vec<usize>, count: usize, rate: u32, silence_dbfs: f32) -> Self {
        let pairs = files.len() * (files.len() + 1) / 2;
        let mut position = vec![usize::MAX; count];
        for (at, &f) in files.iter().enumerate() {
            position[f] = at;
        }
        Self {
            files,
            position,
            silence: 10f32.powf(silence_dbfs / 20.0),
            rate: f64::from(rate.max(1)),
            frames: 0,
            evidence: 0,
            bytes: 0,
            signal: vec![false; count],
            gram: [vec![0.0; pairs], vec![0.0; pairs]],
        }
    }

    /// Where the product of the files at positions `a ≤ b` is kept.
    fn pair(&self, a: usize, b: usize) -> usize {
        let (a, b) = if a <= b { (a, b) } else { (b, a) };
        let n = self.files.len();
        a * n - a * (a + 1) / 2 + b
    }

    /// Σ x_a·x_b on channel `ch`, for files (indices into the files) `a` and `b`.
    fn product(&self, ch: usize, a: usize, b: usize) -> f64 {
        self.gram[ch][self.pair(self.position[a], self.position[b])]
    }

    /// Takes note of the next step of the pass.
    pub fn observe(&mut self, step: &Step) {
        let mut active = 0;
        let mut n = 0;
        for &f in &self.files {
            n = n.max(step.got[f]);
            let loud = step.audio[f]
                .iter()
                .any(|ch| ch.iter().any(|v| v.abs() > self.silence));
            self.signal[f] |= loud;
            active += usize::from(loud);
        }
        self.frames += n as u64;
        if active >= 3 {
            self.evidence += n as u64;
        }
        self.bytes += step
            .audio
            .iter()
            .flatten()
            .map(|c| c.len() * std::mem::size_of::<f32>())
            .sum::<usize>();
        for ch in 0..2 {
            for a in 0..self.files.len() {
                let Some(xa) = channel(step, self.files[a], ch) else {
                    continue;
                };
                for b in a..self.files.len() {
                    let Some(xb) = channel(step, self.files[b], ch) else {
                        continue;
                    };
                    let dot: f64 = xa
                        .iter()
                        .zip(xb)
                        .map(|(&p, &q)| f64::from(p) * f64::from(q))
                        .sum();
                    let at = self.pair(a, b);
                    self.gram[ch][at] += dot;
                }
            }
        }
    }

    /// Enough has been held: [`EVIDENCE_S`] seconds where three files or more carry signal,
    /// or [`MAX_PREFIX_S`] seconds, or [`MAX_PREFIX_BYTES`] of samples.
    pub fn enough(&self) -> bool {
        self.evidence as f64 >= EVIDENCE_S * self.rate
            || self.frames as f64 >= MAX_PREFIX_S * self.rate
            || self.bytes >= MAX_PREFIX_BYTES
    }

    /// Files `a` and `b` carry the same signal, up to gain and rounding (the same stem at
    /// another bit depth, a copy of the mix): they are no sum of each other.
    fn copies(&self, a: usize, b: usize) -> bool {
        let (mut residual, mut whole) = (0.0, 0.0);
        for ch in 0..2 {
            let (aa, bb, ab) = (
                self.product(ch, a, a),
                self.product(ch, b, b),
                self.product(ch, a, b),
            );
            residual += aa * bb - ab * ab;
            whole += aa * bb;
        }
        whole > 0.0 && ratio_db(residual, whole) <= COPY_DB
    }

    /// File `c` against the sum of the files of `pool` other than itself and its copies.
    fn against(&self, c: usize, pool: &[usize]) -> Comparison {
        let others: Vec<usize> = pool
            .iter()
            .copied()
            .filter(|&j| j != c && !self.copies(c, j))
            .collect();
        let others_with_signal = others.iter().filter(|&&j| self.signal[j]).count();
        let (mut xx, mut rr, mut residual) = (0.0, 0.0, 0.0);
        for ch in 0..2 {
            let cc = self.product(ch, c, c);
            let xo: f64 = others.iter().map(|&j| self.product(ch, c, j)).sum();
            let oo: f64 = others
                .iter()
                .flat_map(|&j| others.iter().map(move |&k| (j, k)))
                .map(|(j, k)| self.product(ch, j, k))
                .sum();
            xx += cc;
            rr += cc - 2.0 * xo + oo;
            residual += if oo > 0.0 { cc - xo * xo / oo } else { cc };
        }
        if !self.signal[c] || xx <= 0.0 {
            return Comparison {
                others_with_signal,
                ..Comparison::default()
            };
        }
        Comparison {
            null_db: Some(ratio_db(rr, xx)),
            likeness_db: Some(ratio_db(residual, xx)),
            others_with_signal,
        }
    }

    /// Decides which file is the mix (unless `given`) and which files to set aside, from what
    /// was observed; `steps` (the start held) give the reported figures exactly; `by_name`
    /// says, per file, whether its name reads like a mix's.
    pub fn decide(
        &self,
        steps: &[Step],
        by_name: &[bool],
        given: Option<usize>,
        null_tolerance_db: f64,
    ) -> Detection {
        let nulls = |c: &Comparison| c.null_db.is_some_and(|n| n <= null_tolerance_db);
        // A file compared with one other file only could be that file's copy as much as the
        // mix: it takes two others with signal, or one and a name that says mix.
        let evidence = |f: usize, c: &Comparison| {
            c.others_with_signal >= 2 || (by_name[f] && c.others_with_signal >= 1)
        };
        let mut active: Vec<usize> = self
            .files
            .iter()
            .copied()
            .filter(|&f| Some(f) != given)
            .collect();
        let mut aside = Vec::new();
        let mut mix = None;
        while active.len() >= 2 {
            let figures: Vec<Comparison> =
                active.iter().map(|&c| self.against(c, &active)).collect();
            let nulling = active
                .iter()
                .zip(&figures)
                .filter(|(&f, c)| nulls(c) && evidence(f, c))
                .min_by(|a, b| a.1.null_db.partial_cmp(&b.1.null_db).expect("finite"))
                .map(|(&f, _)| f);
            if let Some(f) = nulling {
                active.retain(|&a| a != f);
                // The first file to null is the mix; any other is a copy of one.
                if given.is_none() && mix.is_none() {
                    mix = Some(f);
                } else {
                    aside.push(f);
                }
                continue;
            }
            // The most alike; ties go to the later file, so the first of two copies stays.
            let alike = active
                .iter()
                .zip(&figures)
                .filter(|(&f, c)| evidence(f, c) && c.likeness_db.is_some_and(|l| l <= LIKENESS_DB))
                .min_by(|a, b| {
                    a.1.likeness_db
                        .partial_cmp(&b.1.likeness_db)
                        .expect("finite")
                        .then(b.0.cmp(a.0))
                })
                .map(|(&f, _)| f);
            let Some(f) = alike else { break };
            active.retain(|&a| a != f);
            aside.push(f);
        }
        if mix.is_none() && given.is_none() && !aside.is_empty() {
            // Nothing nulled: the best of the files set aside is the mix, with processing.
            let best = aside
                .iter()
                .map(|&f| (f, self.against(f, &active)))
                .min_by(|a, b| {
                    nulls(&b.1)
                        .cmp(&nulls(&a.1))
                        .then(by_name[b.0].cmp(&by_name[a.0]))
                        .then(
                            a.1.likeness_db
                                .unwrap_or(0.0)
                                .partial_cmp(&b.1.likeness_db.unwrap_or(0.0))
                                .expect("finite"),
                        )
                })
                .map(|(f, _)| f);
            mix = best;
            aside.retain(|&a| Some(a) != best);
        }
        if mix.is_none() && given.is_none() {
            // One stem alone in a long intro equals the mix there, and the mix equals it: a
            // file named like a mix that is a copy of the only other file carrying signal is
            // taken at its word, and the sum-check over the whole files confirms it or not.
            let alone = |f: usize| {
                let with_signal: Vec<usize> = active
                    .iter()
                    .copied()
                    .filter(|&j| j != f && self.signal[j])
                    .collect();
                with_signal.len() == 1 && self.copies(f, with_signal[0])
            };
            if let Some(&f) = active
                .iter()
                .find(|&&f| by_name[f] && self.signal[f] && alone(f))
            {
                mix = Some(f);
                active.retain(|&a| a != f);
            }
        }
        let mut considered = Vec::new();
        let mut consider = |files: &[usize], role: CandidateRole, against: &[usize]| {
            for (&file, figures) in files.iter().zip(exact(steps, files, against, &self.signal)) {
                considered.push(Considered {
                    file,
                    by_name: by_name[file],
                    role,
                    figures,
                    nulls: nulls(&figures),
                });
            }
        };
        if given.is_none() {
            consider(mix.as_slice(), CandidateRole::Mix, &active);
        }
        consider(&aside, CandidateRole::SetAside, &active);
        let named: Vec<usize> = active.iter().copied().filter(|&f| by_name[f]).collect();
        consider(&named, CandidateRole::Stem, &active);
        Detection {
            method: match (given, mix) {
                (Some(_), _) => MixMethod::Given,
                (None, Some(_)) => MixMethod::Found,
                (None, None) => MixMethod::NotFound,
            },
            mix: given.or(mix),
            set_aside: aside,
            compared_frames: self.frames,
            stems_compared: active.len(),
            considered,
        }
    }
}

/// Compares each of `subjects` with the sum of the files of `pool` other than itself, sample by
/// sample over the `steps` held: the figures reported, exact where the products lose the
/// depth of a perfect null to rounding.
fn exact(steps: &[Step], subjects: &[usize], pool: &[usize], signal: &[bool]) -> Vec<Comparison> {
    // Per channel and subject: Σx², Σo², Σxo, Σ(x − o)².
    let mut acc = [
        vec![[0f64; 4]; subjects.len()],
        vec![[0f64; 4]; subjects.len()],
    ];
    let mut sum = Vec::new();
    for step in steps {
        let n = subjects
            .iter()
            .chain(pool)
            .map(|&f| step.got[f])
            .max()
            .unwrap_or(0);
        for (ch, acc) in acc.iter_mut().enumerate() {
            sum.clear();
            sum.resize(n, 0f64);
            for &f in pool {
                if let Some(x) = channel(step, f, ch) {
                    for (s, v) in sum.iter_mut().zip(x) {
                        *s += f64::from(*v);
                    }
                }
            }
            for (&f, a) in subjects.iter().zip(acc.iter_mut()) {
                let x = channel(step, f, ch).unwrap_or(&[]);
                let in_pool = pool.contains(&f);
                for (i, &s) in sum.iter().enumerate() {
                    let xv = x.get(i).map_or(0.0, |&v| f64::from(v));
                    let o = if in_pool { s - xv } else { s };
                    a[0] += xv * xv;
                    a[1] += o * o;
                    a[2] += xv * o;
                    a[3] += (xv - o) * (xv - o);
                }
            }
        }
    }
    subjects
        .iter()
        .enumerate()
        .map(|(k, &f)| {
            let a = [acc[0][k], acc[1][k]];
            let others_with_signal = pool.iter().filter(|&&p| p != f && signal[p]).count();
            let xx: f64 = a.iter().map(|c| c[0]).sum();
            if !signal[f] || xx <= 0.0 {
                return Comparison {
                    others_with_signal,
                    ..Comparison::default()
                };
            }
            let residual: f64 = a
                .iter()
                .map(|c| {
                    if c[1] > 0.0 {
                        (c[0] - c[2] * c[2] / c[1]).max(0.0)
                    } else {
                        c[0]
                    }
                })
                .sum();
            let rr: f64 = a.iter().map(|c| c[3]).sum();
            Comparison {
                null_db: Some(ratio_db(rr, xx)),
                likeness_db: Some(ratio_db(residual, xx)),
                others_with_signal,
            }
        })
        .collect()
}

/// File `f`'s samples for session channel `ch` in `step` (a mono file feeds both).
fn channel(step: &Step, f: usize, ch: usize) -> Option<&[f32]> {
    let chans = &step.audio[f];
    chans
        .get(ch.min(chans.len().checked_sub(1)?))
        .map(Vec::as_slice)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_like_names_are_told_from_stems() {
        for name in [
            "Mix",
            "Song_Mix",
            "song-mixdown",
            "MASTER",
            "SongMaster_v2",
            "Bounce 1",
            "03 Full Mix",
        ] {
            assert!(named_like_mix(name), "{name}");
        }
        for name in ["01_Drums", "Remix_Vox", "Mixolydian_Keys", "07_Vocals_Lead"] {
            assert!(!named_like_mix(name), "{name}");
        }
    }

    /// A step holding `files` (each one channel of `n` frames).
    fn step(files: &[Vec<f32>]) -> Step {
        Step {
            audio: files.iter().map(|f| vec![f.clone()]).collect(),
            got: files.iter().map(Vec::len).collect(),
        }
    }

    fn tone(f: f32, n: usize, g: f32) -> Vec<f32> {
        (0..n).map(|i| g * (i as f32 * f).sin()).collect()
    }

    fn detect(files: &[Vec<f32>], names: &[bool], given: Option<usize>) -> Detection {
        let s = step(files);
        let mut d = Detector::new((0..files.len()).collect(), files.len(), 48_000, -80.0);
        d.observe(&s);
        d.decide(&[s], names, given, -60.0)
    }

    #[test]
    fn the_file_equal_to_the_sum_of_the_others_is_the_mix_whatever_its_name() {
        let n = 4800;
        let (a, b, c) = (tone(0.01, n, 0.3), tone(0.023, n, 0.2), tone(0.057, n, 0.1));
        let mix: Vec<f32> = (0..n).map(|i| a[i] + b[i] + c[i]).collect();
        let d = detect(&[a, mix, b, c], &[false; 4], None);
        assert_eq!((d.method, d.mix), (MixMethod::Found, Some(1)));
        assert!(d.set_aside.is_empty());
        let m = &d.considered[0];
        assert_eq!((m.file, m.role, m.nulls), (1, CandidateRole::Mix, true));
        assert!(m.figures.null_db.unwrap() < -100.0, "{m:?}");
        assert_eq!(d.stems_compared, 3);
    }

    #[test]
    fn a_mastered_copy_beside_the_mix_is_set_aside_and_a_limited_mix_is_still_taken() {
        let n = 4800;
        let (a, b, c) = (tone(0.01, n, 0.3), tone(0.023, n, 0.2), tone(0.057, n, 0.1));
        let mix: Vec<f32> = (0..n).map(|i| a[i] + b[i] + c[i]).collect();
        // "Mastered": louder and softly saturated.
        let master: Vec<f32> = mix.iter().map(|v| (1.4 * v).tanh()).collect();
        let names = [false, false, false, true, true];
        let d = detect(
            &[a.clone(), b.clone(), c.clone(), mix, master.clone()],
            &names,
            None,
        );
        assert_eq!(d.mix, Some(3));
        assert_eq!(d.set_aside, [4]);
        let set = d.considered.iter().find(|c| c.file == 4).unwrap();
        assert_eq!(set.role, CandidateRole::SetAside);
        assert!(!set.nulls && set.figures.likeness_db.unwrap() <= LIKENESS_DB);
        // Without the clean mix, the mastered one is taken: it does not null, but it is the
        // mix the stems make, with processing the sum-check will find.
        let d = detect(&[a, b, c, master], &names[1..], None);
        assert_eq!((d.method, d.mix), (MixMethod::Found, Some(3)));
        assert!(!d.considered[0].nulls);
    }

    #[test]
    fn stems_alone_give_no_mix_and_a_stem_named_like_one_is_noted() {
        let n = 4800;
        let files = [tone(0.01, n, 0.3), tone(0.023, n, 0.2), tone(0.057, n, 0.1)];
        let d = detect(&files, &[false, true, false], None);
        assert_eq!((d.method, d.mix), (MixMethod::NotFound, None));
        assert!(d.set_aside.is_empty());
        assert_eq!(d.considered.len(), 1);
        assert_eq!(
            (d.considered[0].file, d.considered[0].role),
            (1, CandidateRole::Stem)
        );
    }

    #[test]
    fn with_a_mix_given_a_copy_of_it_among_the_stems_is_set_aside() {
        let n = 4800;
        let (a, b, c) = (tone(0.01, n, 0.3), tone(0.023, n, 0.2), tone(0.057, n, 0.1));
        let mix: Vec<f32> = (0..n).map(|i| a[i] + b[i] + c[i]).collect();
        let d = detect(&[a, b, c, mix.clone(), mix], &[false; 5], Some(4));
        assert_eq!(
            (d.method, d.mix, d.set_aside.as_slice()),
            (MixMethod::Given, Some(4), &[3][..])
        );
    }

    #[test]
    fn one_stem_playing_alone_is_not_taken_for_the_mix() {
        // Only the first stem plays: the mix equals it, but so does it equal the mix.
        let n = 4800;
        let a = tone(0.01, n, 0.3);
        let silent = vec![0.0; n];
        let d = detect(
            &[a.clone(), silent.clone(), silent, a.clone()],
            &[false, false, false, true],
            None,
        );
        // Against one file with signal, only a name that says mix is taken.
        assert_eq!((d.method, d.mix), (MixMethod::Found, Some(3)));
        let d = detect(
            &[a.clone(), vec![0.0; n], vec![0.0; n], a],
            &[false; 4],
            None,
        );
        assert_eq!((d.method, d.mix), (MixMethod::NotFound, None));
    }
}
