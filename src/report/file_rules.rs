//! The rules about delivered files (the command-line checker's): length, BWF start time, bit
//! depth, channel layout, pre-roll, tail, names, duplicates, and which file is the mix. The
//! signal rules are the plugin's own.

use std::collections::HashMap;

use super::file_input::{Encoding, FileFacts, FilesInput};
use super::file_model::tail_frames;
use super::model::{Finding, Scope, Severity};
use super::units::{plural, round};

/// The file rule ids (part of the report contract; the README lists them).
pub mod id {
    /// A stem's length differs from the others' (fail).
    pub const LENGTH: &str = "file.length";
    /// Integer samples below 24 bits (warn).
    pub const BIT_DEPTH: &str = "file.bit_depth";
    /// A stem's channel count differs from the others' (warn), or a stereo file carries two
    /// identical channels (info).
    pub const LAYOUT: &str = "file.layout";
    /// Less pre-roll silence than asked before the package's first signal (warn).
    pub const PREROLL: &str = "file.preroll";
    /// Less tail than asked after a stem's last signal (warn), or more than asked after the
    /// package's (info).
    pub const TAIL: &str = "file.tail";
    /// A name without a leading number, with spaces, or a number two stems share (warn).
    pub const NAMING: &str = "file.naming";
    /// Two stems carry identical audio (fail).
    pub const DUPLICATE: &str = "file.duplicate";
    /// Stems carry different BWF time references, so a DAW places them at different starts
    /// (fail).
    pub const START: &str = "file.start";
    /// Which file was taken as the mix and why (info), a file that looks like a mix set aside
    /// from the stems (warn), a file named like a mix checked as a stem (info).
    pub const MIX: &str = "file.mix";
}

/// Every file finding for a delivery whose session runs at `session_hz` (the mix's rate, or
/// the stems' common one). Stems at another rate are left out of the length, pre-roll and tail
/// comparisons: `stems.sample_rate` already fails them, and their lengths are in other units.
pub fn evaluate_files(files: &FilesInput, session_hz: u32, out: &mut Vec<Finding>) {
    let same_rate: Vec<&FileFacts> = files
        .stems
        .iter()
        .filter(|f| f.sample_rate == session_hz)
        .collect();
    length(&same_rate, out);
    start(&same_rate, session_hz, out);
    layout(&files.stems, out);
    bit_depth(&files.stems, out);
    timing(files, &same_rate, session_hz, out);
    naming(&files.stems, out);
    duplicates(&files.stems, out);
    if let Some(choice) = &files.mix_choice {
        super::file_mix::evaluate_mix(choice, out);
    }
}

/// A finding about stem `f`, or about the session when `f` is `None`.
fn finding(
    f: Option<&FileFacts>,
    id: &str,
    severity: Severity,
    message: String,
    value: Option<f64>,
    threshold: Option<f64>,
) -> Finding {
    Finding {
        id: id.into(),
        severity,
        stem: f.map(|f| f.name.clone()),
        scope: if f.is_some() {
            Scope::Stem
        } else {
            Scope::Session
        },
        message,
        value,
        threshold,
    }
}

/// The most common value, ties going to the largest.
fn most_common<T: Copy + Ord + std::hash::Hash>(values: impl Iterator<Item = T>) -> Option<T> {
    let mut counts: HashMap<T, usize> = HashMap::new();
    for v in values {
        *counts.entry(v).or_default() += 1;
    }
    counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)))
        .map(|(v, _)| v)
}

fn length(stems: &[&FileFacts], out: &mut Vec<Finding>) {
    let Some(reference) = most_common(stems.iter().map(|f| f.frames)) else {
        return;
    };
    for f in stems.iter().filter(|f| f.frames != reference) {
        let diff = f.frames as i64 - reference as i64;
        let (how, n) = if diff < 0 {
            ("shorter", -diff)
        } else {
            ("longer", diff)
        };
        out.push(finding(
            Some(f),
            id::LENGTH,
            Severity::Fail,
            format!(
                "{} is {} {how} than the other stems ({} against {reference}): every stem must \
                 start at the same point and have the same length to the sample.",
                f.name,
                plural(n as u64, "sample", "samples"),
                f.frames,
            ),
            Some(diff as f64),
            Some(0.0),
        ));
    }
}

/// Stems whose BWF time reference differs from the one most stems carry (ties: the earliest),
/// with the offset in samples and seconds. A stem without a time reference is not compared:
/// where a DAW puts it is not the file's to say.
fn start(stems: &[&FileFacts], hz: u32, out: &mut Vec<Finding>) {
    let mut counts: HashMap<u64, usize> = HashMap::new();
    for t in stems.iter().filter_map(|f| f.time_reference) {
        *counts.entry(t).or_default() += 1;
    }
    let Some(reference) = counts
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)))
        .map(|(t, _)| t)
    else {
        return;
    };
    let rate = f64::from(hz.max(1));
    for f in stems {
        let Some(t) = f.time_reference.filter(|&t| t != reference) else {
            continue;
        };
        let diff = t as i64 - reference as i64;
        let (how, n) = if diff < 0 {
            ("earlier", -diff)
        } else {
            ("later", diff)
        };
        out.push(finding(
            Some(f),
            id::START,
            Severity::Fail,
            format!(
                "{} starts {} ({:.3} s) {how} than the other stems by its BWF time reference                  ({} against {}): a DAW that places files at their time reference puts it out                  of line with them. Bounce every stem from the same start.",
                f.name,
                plural(n as u64, "sample", "samples"),
                n as f64 / rate,
                fmt_time_of_day(t, hz),
                fmt_time_of_day(reference, hz),
            ),
            Some(diff as f64),
            Some(0.0),
        ));
    }
}

/// A time reference (samples since midnight at `hz`) as `hh:mm:ss.mmm`.
pub fn fmt_time_of_day(samples: u64, hz: u32) -> String {
    let ms = (samples as u128 * 1000 / u128::from(hz.max(1))) as u64;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

fn layout(stems: &[FileFacts], out: &mut Vec<Finding>) {
    let reference = most_common(stems.iter().map(|f| f.channels));
    for f in stems {
        if let Some(r) = reference.filter(|&r| r != f.channels) {
            out.push(finding(
                Some(f),
                id::LAYOUT,
                Severity::Warn,
                format!(
                    "{} has {} where the other stems have {r}: deliver every stem in one \
                     channel layout.",
                    f.name,
                    plural(u64::from(f.channels), "channel", "channels"),
                ),
                Some(f64::from(f.channels)),
                Some(f64::from(r)),
            ));
        }
        if f.dual_mono {
            out.push(finding(
                Some(f),
                id::LAYOUT,
                Severity::Info,
                format!(
                    "{} is stereo with two identical channels: it carries a mono signal.",
                    f.name
                ),
                None,
                None,
            ));
        }
    }
}

fn bit_depth(stems: &[FileFacts], out: &mut Vec<Finding>) {
    for f in stems
        .iter()
        .filter(|f| f.encoding == Encoding::Int && f.bits < 24)
    {
        out.push(finding(
            Some(f),
            id::BIT_DEPTH,
            Severity::Warn,
            format!(
                "{} is {}-bit: stems are delivered as 24-bit or 32-bit float, so the mastering \
                 engineer gets the full resolution of the mix.",
                f.name, f.bits
            ),
            Some(f64::from(f.bits)),
            Some(24.0),
        ));
    }
}

fn timing(files: &FilesInput, stems: &[&FileFacts], hz: u32, out: &mut Vec<Finding>) {
    let s = &files.settings;
    let rate = f64::from(hz.max(1));
    let secs = |frames: u64| round(frames as f64 / rate, 3);
    let first = stems.iter().filter_map(|f| f.first_signal).min();
    if let Some(first) = first {
        if secs(first) < f64::from(s.preroll_min_s) {
            out.push(finding(
                None,
                id::PREROLL,
                Severity::Warn,
                format!(
                    "The stems start with signal {:.3} s into the files: about one bar of \
                     silence (at least {} s) is expected before the first note, so nothing is \
                     cut at the start.",
                    secs(first),
                    s.preroll_min_s
                ),
                Some(secs(first)),
                Some(f64::from(s.preroll_min_s)),
            ));
        }
    }
    let mut shortest: Option<u64> = None;
    for f in stems {
        let Some(last) = f.last_signal else { continue };
        let tail = tail_frames(f.frames, last);
        shortest = Some(shortest.map_or(tail, |t| t.min(tail)));
        if secs(tail) < f64::from(s.tail_min_s) {
            let why = if tail == 0 {
                "its signal runs to the last sample, so the export cut it off".to_string()
            } else {
                format!("only {:.3} s follow its last signal", secs(tail))
            };
            out.push(finding(
                Some(f),
                id::TAIL,
                Severity::Warn,
                format!(
                    "{}: {why}. Leave {}–{} s of tail after the last note for reverb and \
                     delays to decay.",
                    f.name, s.tail_min_s, s.tail_max_s
                ),
                Some(secs(tail)),
                Some(f64::from(s.tail_min_s)),
            ));
        }
    }
    if let Some(t) = shortest.filter(|&t| secs(t) > f64::from(s.tail_max_s)) {
        out.push(finding(
            None,
            id::TAIL,
            Severity::Info,
            format!(
                "{:.3} s of silence follow the last signal of every stem; {}–{} s is usual.",
                secs(t),
                s.tail_min_s,
                s.tail_max_s
            ),
            Some(secs(t)),
            Some(f64::from(s.tail_max_s)),
        ));
    }
}

/// The number a name starts with, if any.
fn leading_number(name: &str) -> Option<u64> {
    let digits: String = name.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn naming(stems: &[FileFacts], out: &mut Vec<Finding>) {
    let mut numbers: HashMap<u64, &FileFacts> = HashMap::new();
    for f in stems {
        let mut problems = Vec::new();
        match leading_number(&f.name) {
            None => problems.push("does not start with a number".to_string()),
            Some(n) => {
                if let Some(first) = numbers.get(&n) {
                    problems.push(format!("shares its number with {}", first.name));
                } else {
                    numbers.insert(n, f);
                }
            }
        }
        if f.name.chars().any(char::is_whitespace) {
            problems.push("contains spaces".into());
        }
        if !problems.is_empty() {
            out.push(finding(
                Some(f),
                id::NAMING,
                Severity::Warn,
                format!(
                    "The name \"{}\" {}: name stems with a number and no spaces, such as \
                     01_Kick or 07_Vocals_Lead, so they sort and import in order.",
                    f.name,
                    problems.join(" and ")
                ),
                None,
                None,
            ));
        }
    }
}

fn duplicates(stems: &[FileFacts], out: &mut Vec<Finding>) {
    let mut seen: HashMap<(u64, u64, u32), &FileFacts> = HashMap::new();
    for f in stems {
        let Some(digest) = f.digest else { continue };
        match seen.get(&(digest, f.frames, f.channels)) {
            Some(first) => out.push(finding(
                Some(f),
                id::DUPLICATE,
                Severity::Fail,
                format!(
                    "{} carries exactly the same audio as {}: one of them is exported twice, \
                     and the sum plays it twice as loud.",
                    f.name, first.name
                ),
                None,
                None,
            )),
            None => {
                seen.insert((digest, f.frames, f.channels), f);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::file_input::FileSettings;
    use crate::report::fixtures::file_facts as facts;

    fn run(stems: Vec<FileFacts>) -> Vec<Finding> {
        let files = FilesInput {
            settings: FileSettings::default(),
            stems,
            mix: None,
            mix_choice: None,
        };
        let mut out = Vec::new();
        evaluate_files(&files, 48_000, &mut out);
        out
    }

    fn ids(findings: &[Finding]) -> Vec<(String, Option<String>, Severity)> {
        findings
            .iter()
            .map(|f| (f.id.clone(), f.stem.clone(), f.severity))
            .collect()
    }

    #[test]
    fn a_clean_delivery_has_no_file_findings() {
        let out = run(vec![facts("01_Drums"), facts("02_Bass"), facts("03_Keys")]);
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn each_rule_fires_on_its_own_stem() {
        let mut short = facts("02_Bass");
        short.frames -= 1;
        let mut sixteen = facts("03_Keys");
        sixteen.bits = 16;
        let mut mono = facts("04_Vox");
        mono.channels = 1;
        let mut named = facts("Lead Vox");
        named.digest = Some(1);
        let mut cut = facts("06_Fx");
        cut.last_signal = Some(cut.frames - 1);
        let mut twin = facts("07_Drums_Copy");
        twin.digest = facts("01_Drums").digest;
        let out = run(vec![
            facts("01_Drums"),
            short,
            sixteen,
            mono,
            named,
            cut,
            twin,
        ]);
        let got = ids(&out);
        let want = [
            (id::LENGTH, "02_Bass", Severity::Fail),
            (id::BIT_DEPTH, "03_Keys", Severity::Warn),
            (id::LAYOUT, "04_Vox", Severity::Warn),
            (id::NAMING, "Lead Vox", Severity::Warn),
            (id::TAIL, "06_Fx", Severity::Warn),
            (id::DUPLICATE, "07_Drums_Copy", Severity::Fail),
        ];
        for (i, s, sev) in want {
            assert!(
                got.contains(&(i.to_string(), Some(s.to_string()), sev)),
                "{i} on {s}: {got:?}"
            );
        }
        assert_eq!(got.len(), want.len(), "{got:?}");
        let length = out.iter().find(|f| f.id == id::LENGTH).unwrap();
        assert_eq!((length.value, length.threshold), (Some(-1.0), Some(0.0)));
        assert!(
            length.message.contains("1 sample shorter"),
            "{}",
            length.message
        );
        let tail = out.iter().find(|f| f.id == id::TAIL).unwrap();
        assert!(tail.message.contains("cut it off"), "{}", tail.message);
    }

    #[test]
    fn preroll_and_long_tail_are_session_findings() {
        let mut early = facts("01_Drums");
        early.first_signal = Some(4_800);
        let mut late = facts("02_Bass");
        late.last_signal = Some(48_000 * 5);
        let mut both = vec![early, late];
        both[0].last_signal = Some(48_000 * 5);
        let out = run(both);
        let pre = out.iter().find(|f| f.id == id::PREROLL).expect("pre-roll");
        assert_eq!((pre.value, pre.scope), (Some(0.1), Scope::Session));
        let tail = out.iter().find(|f| f.id == id::TAIL).expect("long tail");
        assert_eq!((tail.severity, tail.value), (Severity::Info, Some(5.0)));
    }

    #[test]
    fn shared_numbers_and_dual_mono_are_named() {
        let mut twin = facts("01_Perc");
        twin.dual_mono = true;
        let out = run(vec![facts("01_Drums"), twin]);
        let naming = out.iter().find(|f| f.id == id::NAMING).expect("naming");
        assert!(naming.message.contains("shares its number with 01_Drums"));
        let dual = out.iter().find(|f| f.id == id::LAYOUT).expect("layout");
        assert_eq!(dual.severity, Severity::Info);
    }

    #[test]
    fn float_and_32_bit_integer_pass_the_bit_depth_rule() {
        let mut float = facts("01_Drums");
        float.encoding = Encoding::Float;
        float.bits = 32;
        let mut int32 = facts("02_Bass");
        int32.bits = 32;
        assert!(run(vec![float, int32]).is_empty());
    }

    #[test]
    fn differing_time_references_fail_by_the_offset_and_files_without_one_are_not_guessed() {
        let hour = 48_000 * 3600;
        let mut stems: Vec<FileFacts> = ["01_Drums", "02_Bass", "03_Keys", "04_Vox", "05_Fx"]
            .iter()
            .map(|n| facts(n))
            .collect();
        for s in &mut stems[..3] {
            s.time_reference = Some(hour);
        }
        stems[3].time_reference = Some(hour + 48_000 + 24_000);
        let out = run(stems);
        let starts: Vec<&Finding> = out.iter().filter(|f| f.id == id::START).collect();
        assert_eq!(starts.len(), 1, "{out:?}");
        let f = starts[0];
        assert_eq!(f.stem.as_deref(), Some("04_Vox"));
        assert_eq!(
            (f.severity, f.value, f.threshold),
            (Severity::Fail, Some(72_000.0), Some(0.0))
        );
        assert!(
            f.message.contains("72000 samples (1.500 s) later")
                && f.message.contains("01:00:01.500 against 01:00:00.000"),
            "{}",
            f.message
        );
        // Two against two: the earlier start is the reference, the later one fails.
        let mut tie = vec![facts("01_A"), facts("02_B")];
        tie[0].time_reference = Some(10);
        tie[1].time_reference = Some(4);
        let out = run(tie);
        let f = out.iter().find(|f| f.id == id::START).expect("file.start");
        assert_eq!((f.stem.as_deref(), f.value), (Some("01_A"), Some(6.0)));
    }

    #[test]
    fn stems_at_another_rate_are_left_out_of_the_length_rule() {
        let mut other = facts("02_Bass");
        other.sample_rate = 44_100;
        other.frames = 44_100 * 10;
        let out = run(vec![facts("01_Drums"), other]);
        assert!(out.iter().all(|f| f.id != id::LENGTH), "{out:?}");
    }
}
