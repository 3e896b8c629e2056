//! The delivery checklist: every requirement of a stem delivery (SPEC section 1) with where it
//! stands — checked and passed, checked and failed (naming the findings), or not checkable
//! from where Stemcheck sits and left for the sender to confirm. The plugin checks what a
//! DAW shows; the file checker also what only the files show (bit depth, lengths, start
//! times, pre-roll, tail, names). Built from the report itself, so both agree.

use super::delivery_model::{CheckState, ChecklistItem};
use super::file_rules::id as file;
use super::model::{Report, Scope};
use super::rules::id as rule;
use super::sum_rules::id as sum;

/// The checklist point ids (part of the report contract; the README lists them).
pub mod id {
    /// Each stem peaks at most at the window's top (−3 dBFS) and under the true-peak ceiling.
    pub const STEM_PEAKS: &str = "stems.peaks";
    /// No clipped samples, flat tops or NaN/Inf anywhere.
    pub const CLEAN_SIGNAL: &str = "signal.clean";
    /// The stems summed at unity land in the window on the master.
    pub const MASTER_LEVEL: &str = "master.level";
    /// The stems at unity null against the mix.
    pub const SUM_NULLS: &str = "sum.nulls";
    /// No limiter, clipper or compression on the master bus.
    pub const MASTER_CLEAN: &str = "master.no_processing";
    /// No limiter or clipper on the stems (unless intended).
    pub const STEM_LIMITERS: &str = "stems.no_limiter";
    /// No stem inverted, shifted or cancelling another.
    pub const PHASE: &str = "stems.phase";
    /// Every stem at the session's sample rate.
    pub const SAMPLE_RATE: &str = "stems.sample_rate";
    /// 24-bit integer or 32-bit float, lossless.
    pub const FORMAT: &str = "files.format";
    /// Every stem starts at the same point.
    pub const START: &str = "files.start";
    /// Every stem the same length to the sample.
    pub const LENGTH: &str = "files.length";
    /// About a bar of silence before the first note.
    pub const PREROLL: &str = "files.preroll";
    /// 2–4 s of tail after the last note.
    pub const TAIL: &str = "files.tail";
    /// Effect returns printed into the stems they serve.
    pub const RETURNS: &str = "stems.returns";
    /// Numbered names without spaces.
    pub const NAMES: &str = "files.names";
    /// The whole song played and checked in one pass.
    pub const PASS: &str = "pass.complete";
    /// A read-me saying what each stem holds.
    pub const README: &str = "readme.notes";
}

/// The checklist of `report` (its findings, what it measured, its files and brief).
pub fn checklist(report: &Report) -> Vec<ChecklistItem> {
    let c = Ctx { report };
    let files = report.files.is_some();
    let played = report.pass.played() || files;
    let has_stems = !report.stems.is_empty();
    let summed = report.sum.null_depth_db.is_some();
    let mut out =
        vec![
        c.item(
            id::STEM_PEAKS,
            "Each stem peaks between -6 and -3 dBFS: at most -3 dBFS, true peak under the \
             ceiling",
            played && has_stems,
            &[rule::HEADROOM_OVER, rule::TRUEPEAK_OVER],
            Some(Scope::Stem),
            "true peak of every stem against the window and the ceiling",
            "no stem has been metered",
        ),
        c.item(
            id::CLEAN_SIGNAL,
            "No clipped samples, flat-topped peaks or NaN/Inf on any stem or the master",
            played,
            &[rule::CLIP_SAMPLES, rule::CLIP_FLAT_TOP, rule::SIGNAL_NAN_INF],
            None,
            "every sample of the pass",
            "nothing has been played",
        ),
        c.item(
            id::MASTER_LEVEL,
            "The stems summed at unity land around -6 to -3 dBFS on the master",
            played,
            &[rule::HEADROOM_OVER, rule::TRUEPEAK_OVER, rule::HEADROOM_UNDER],
            Some(Scope::Master),
            "true peak of the master against the window",
            "nothing has been played",
        ),
        c.item(
            id::SUM_NULLS,
            "The stems summed at unity (0 dB faders) null against the mix",
            summed,
            &[sum::SUM_NULL, sum::SUM_GAIN, sum::SUM_UNACCOUNTED],
            None,
            "sum-check of the stems against the master",
            if files {
                "no mix was given to compare the stems with"
            } else {
                "the sum-check has not run: play the song through"
            },
        ),
        c.item(
            id::MASTER_CLEAN,
            "No limiter, clipper or compression on the master bus while exporting",
            report.master.limiter.verdict.is_some(),
            &[sum::LIMITER_MASTER],
            None,
            "master against the stem sum, and the master's own peaks",
            if files {
                "no mix was given"
            } else {
                "the master's analysis has not run: play the song through"
            },
        ),
        c.item(
            id::STEM_LIMITERS,
            "No limiter or clipper on a stem, unless it is part of the sound",
            report.stems.iter().any(|s| s.limiter.verdict.is_some()),
            &[sum::LIMITER_STEM],
            None,
            "each stem's peak distribution",
            "no stem has been analysed",
        ),
        c.item(
            id::PHASE,
            "Phase coherent: no stem inverted, shifted by samples, or cancelling another",
            summed || report.sum.cancellation_db.is_some(),
            &[sum::SUM_POLARITY, sum::SUM_OFFSET, sum::SUM_CANCELLATION],
            None,
            "offset, polarity and cancellation from the sum-check",
            "the sum-check has not run",
        ),
        c.item(
            id::SAMPLE_RATE,
            "Every stem at the session's sample rate (no conversion)",
            has_stems && report.sample_rate.is_some(),
            &[rule::STEMS_SAMPLE_RATE],
            None,
            "every stem's rate against the session's",
            "no stem has run",
        ),
        c.item(
            id::FORMAT,
            "24-bit or 32-bit float, lossless",
            files,
            &[file::BIT_DEPTH],
            None,
            "bit depth and container of every file",
            "set in the export dialog: confirm 24-bit or 32-bit float WAV",
        ),
        c.item(
            id::START,
            "Every stem starts at the same point (bar 1, pre-roll included)",
            files
                && report
                    .files
                    .as_ref()
                    .is_some_and(|f| f.stems.iter().all(|s| s.time_reference_samples.is_some())),
            &[file::START],
            None,
            "BWF start time of every file",
            if files {
                "the files carry no BWF start time: confirm they were bounced from the same start"
            } else {
                "set in the export dialog: bounce every stem from the same start"
            },
        ),
        c.item(
            id::LENGTH,
            "Every stem the same length, to the sample",
            files,
            &[file::LENGTH],
            None,
            "length of every file",
            "set in the export dialog: bounce every stem over the same range",
        ),
        c.item(
            id::PREROLL,
            "About one bar of silence before the first note",
            files,
            &[file::PREROLL],
            None,
            "silence before the first signal of the package",
            "set in the export dialog: start the range a bar early",
        ),
        c.item(
            id::TAIL,
            "2 to 4 s of tail after the last note (reverb and delay decay)",
            files,
            &[file::TAIL],
            None,
            "silence after each stem's last signal",
            "set in the export dialog: end the range 2 to 4 s after the last note",
        ),
        c.item(
            id::RETURNS,
            "Effect returns printed into the stems they serve: nothing reaches the master \
             without a stem",
            report.sum.unaccounted_db.is_some(),
            &[sum::SUM_UNACCOUNTED],
            None,
            "master signal that no stem carries",
            "the sum-check has not run",
        ),
        c.item(
            id::NAMES,
            "Numbered names without spaces (01_Kick, 07_Vocals_Lead)",
            files,
            &[file::NAMING],
            None,
            "every file name",
            "the file names are set at export: number them, no spaces",
        ),
        c.item(
            id::PASS,
            "The whole song played through, every stem live and checked",
            true,
            &[
                rule::PASS_INCOMPLETE,
                rule::STEM_STALE,
                rule::STEMS_NONE,
                rule::SIGNAL_UNMETERED,
                rule::SIGNAL_BYPASSED,
                super::coverage_rules::id::SUM_INCOMPLETE,
            ],
            None,
            "the pass and every stem's meter",
            "",
        ),
    ];
    out.push(readme(report));
    out
}

/// A read-me says what each stem holds: passed when the brief has a note for every stem.
fn readme(report: &Report) -> ChecklistItem {
    let missing: Vec<&str> = report
        .stems
        .iter()
        .filter(|s| s.note.trim().is_empty())
        .map(|s| s.name.as_str())
        .collect();
    let (state, detail) = if report.stems.is_empty() {
        (
            CheckState::NotCheckable,
            "no stems seen: describe each stem in the brief".to_string(),
        )
    } else if missing.is_empty() {
        (
            CheckState::Passed,
            "every stem has a note in the brief".to_string(),
        )
    } else {
        (
            CheckState::NotCheckable,
            format!(
                "{} of {} stems have no note: say what they hold and what is baked in",
                missing.len(),
                report.stems.len()
            ),
        )
    };
    ChecklistItem {
        id: id::README.into(),
        point: "A read-me says what each stem holds and what processing is baked in".into(),
        state,
        finding_ids: Vec::new(),
        detail,
    }
}

struct Ctx<'a> {
    report: &'a Report,
}

impl Ctx<'_> {
    /// One point: failed when a finding with one of `ids` (of `scope`, when given) is in the
    /// report, else passed when `checkable`, else not checkable with `unchecked` as the detail.
    #[allow(clippy::too_many_arguments)]
    fn item(
        &self,
        id: &str,
        point: &str,
        checkable: bool,
        ids: &[&str],
        scope: Option<Scope>,
        how: &str,
        unchecked: &str,
    ) -> ChecklistItem {
        let mut found: Vec<String> = self
            .report
            .findings
            .iter()
            .filter(|f| ids.contains(&f.id.as_str()) && scope.is_none_or(|s| s == f.scope))
            .map(|f| f.id.clone())
            .collect();
        found.sort();
        found.dedup();
        let (state, detail) = if !found.is_empty() {
            (
                CheckState::Failed,
                format!("checked: {how}; see the findings"),
            )
        } else if checkable {
            (CheckState::Passed, format!("checked: {how}"))
        } else {
            (CheckState::NotCheckable, unchecked.to_string())
        };
        ChecklistItem {
            id: id.into(),
            point: point.into(),
            state,
            finding_ids: found,
            detail,
        }
    }
}
