//! The sign-off rules: from the readings and the thresholds to findings, each with a stable
//! id, a severity, the bus it concerns, the value, the threshold and a sentence. Used for the
//! written report and for the master's live checklist, so both always agree.

use std::cmp::Ordering;

use super::input::{BusInput, ReportInput, Thresholds};
use super::model::{Finding, Pass, Scope, Severity};
use super::order::{compare_names, sort_stems};
use super::pass::{pass_of, problem};
use super::units::{fmt_db, fmt_db_pair, fmt_time, level_db, plural, position, rate_hz, round};
use crate::dsp::level::{to_db, WindowStatus};
use crate::dsp::rates::{is_metered_rate, MAX_METERED_RATE, MIN_METERED_RATE};
use crate::dsp::snapshot::EventSnapshot;

/// The rule ids (part of the report contract; the README lists them with their severities).
pub mod id {
    /// True peak below the window: more headroom than asked (info).
    pub const HEADROOM_UNDER: &str = "headroom.under";
    /// True peak above `window_high_db` (warn).
    pub const HEADROOM_OVER: &str = "headroom.over";
    /// True peak above `tp_ceiling_db`, or true-peak overs counted (fail).
    pub const TRUEPEAK_OVER: &str = "truepeak.over";
    /// Samples at or above full scale (fail).
    pub const CLIP_SAMPLES: &str = "clip.samples";
    /// Flat-top runs, the signature of a clipper (fail).
    pub const CLIP_FLAT_TOP: &str = "clip.flat_top";
    /// NaN or infinite samples seen (fail).
    pub const SIGNAL_NAN_INF: &str = "signal.nan_inf";
    /// A stem at a sample rate other than the master's (fail).
    pub const STEMS_SAMPLE_RATE: &str = "stems.sample_rate";
    /// A stem stopped publishing (warn).
    pub const STEM_STALE: &str = "stem.stale";
    /// A stem silent for the whole pass (warn).
    pub const STEM_SILENT: &str = "stem.silent";
    /// The pass does not cover the song from its start without jumps (warn).
    pub const PASS_INCOMPLETE: &str = "pass.incomplete";
    /// The master sees no stems at all (warn).
    pub const STEMS_NONE: &str = "stems.none";
    /// A bus runs at a sample rate Stemcheck does not meter, or its meters stopped (warn).
    pub const SIGNAL_UNMETERED: &str = "signal.unmetered";
    /// The host bypasses a bus's Stemcheck (warn).
    pub const SIGNAL_BYPASSED: &str = "signal.bypassed";
}

/// Level below which a bus counts as silent, dBFS (the meters' silence threshold).
const SILENCE_DB: f64 = -100.0;

/// Every finding for this input, fails first, then warnings, then information; within a
/// severity the master and the session first, then stems by name, then by rule id.
pub fn evaluate(input: &ReportInput) -> Vec<Finding> {
    let mut out = Vec::new();
    let master = &input.master;
    let rate = f64::from(master.reading.sample_rate);
    let master_pass = pass_of(&master.reading);
    if let Some(why) = problem(&master_pass, rate) {
        out.push(Finding {
            id: id::PASS_INCOMPLETE.into(),
            severity: Severity::Warn,
            stem: None,
            scope: Scope::Session,
            message: format!(
                "The pass is incomplete: {why}. Play the song from the start to the end \
                 without skipping, so every reading covers all of it."
            ),
            value: master_pass.start_samples.map(|s| s as f64),
            threshold: Some(0.0),
        });
    }
    if input.stems.is_empty() {
        out.push(Finding {
            id: id::STEMS_NONE.into(),
            severity: Severity::Warn,
            stem: None,
            scope: Scope::Session,
            message: "The master sees no stems. Put Stemcheck on every stem bus. Hosts that run \
                      plugins in separate processes (sandboxed or bridged plugins, one process \
                      per plugin) keep instances apart, so the master cannot see them there."
                .into(),
            value: Some(0.0),
            threshold: None,
        });
    }
    let context = Context::of(input);
    bus_rules(
        &Bus::master(master, context.master),
        &input.thresholds,
        &context,
        &mut out,
    );
    for stem in sort_stems(&input.stems) {
        bus_rules(&Bus::stem(stem), &input.thresholds, &context, &mut out);
        stem_rules(stem, master, &master_pass, &context, &mut out);
    }
    super::sum_rules::evaluate_analysis(input, &mut out);
    super::coverage_rules::evaluate_coverage(input, &mut out);
    if let Some(files) = &input.files {
        let hz = rate_hz(master.reading.sample_rate).unwrap_or(0);
        super::file_rules::evaluate_files(files, hz, &mut out);
    }
    out.sort_by(compare_findings);
    out
}

/// How sentences speak of where the audio came from: the plugin meters buses in a session; the
/// command-line checker reads files, compared with a mix or, without one, with their sum.
struct Context {
    /// The master as a sentence's subject.
    master: &'static str,
    /// What the stems' sample rate is compared with, inside a sentence.
    session: &'static str,
    /// Why a bus clips.
    clip_cause: &'static str,
    /// Where NaN or infinite samples come from.
    nan_cause: &'static str,
}

impl Context {
    fn of(input: &ReportInput) -> Self {
        match &input.files {
            None => Self {
                master: "The master",
                session: "the master",
                clip_cause: "something before the meter clips",
                nan_cause: "a plugin before the meter misbehaves, and the bounce may click or \
                            drop out",
            },
            Some(files) => Self {
                master: if files.mix.is_some() {
                    "The mix"
                } else {
                    "The stem sum"
                },
                session: if files.mix.is_some() {
                    "the mix"
                } else {
                    "most stems"
                },
                clip_cause: "the file was exported clipped",
                nan_cause: "the file is damaged, and it may click or drop out where they are",
            },
        }
    }
}

/// The stable order of findings: severity, then bus (master and session before stems, stems
/// by name), then rule id. The sort is stable, so stems of the same name keep slot order.
fn compare_findings(a: &Finding, b: &Finding) -> Ordering {
    let stem = match (&a.stem, &b.stem) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Less,
        (Some(_), None) => Ordering::Greater,
        (Some(x), Some(y)) => compare_names(x, y),
    };
    a.severity
        .cmp(&b.severity)
        .then(stem)
        .then_with(|| a.id.cmp(&b.id))
}

/// The bus a finding is about, and how a sentence names it.
struct Bus<'a> {
    input: &'a BusInput,
    scope: Scope,
    subject: String,
}

impl<'a> Bus<'a> {
    fn master(input: &'a BusInput, subject: &str) -> Self {
        Self {
            input,
            scope: Scope::Master,
            subject: subject.into(),
        }
    }

    fn stem(input: &'a BusInput) -> Self {
        Self {
            input,
            scope: Scope::Stem,
            subject: input.name.clone(),
        }
    }

    fn finding(
        &self,
        id: &str,
        severity: Severity,
        message: String,
        value: Option<f64>,
        threshold: Option<f64>,
    ) -> Finding {
        Finding {
            id: id.into(),
            severity,
            stem: (self.scope == Scope::Stem).then(|| self.input.name.clone()),
            scope: self.scope,
            message,
            value,
            threshold: threshold.map(|t| round(t, 2)),
        }
    }
}

/// Level, clip and signal rules: the same for the master and every stem.
fn bus_rules(bus: &Bus, t: &Thresholds, context: &Context, out: &mut Vec<Finding>) {
    let r = &bus.input.reading;
    let who = &bus.subject;
    let rate = f64::from(r.sample_rate);
    let (low, high) = t.window();
    let ceiling = f64::from(t.tp_ceiling_db);
    // Classified on the unrounded reading, exactly as the meter's own display does.
    let tp_exact = to_db(r.max_true_peak());
    let tp = level_db(r.max_true_peak());
    let silent = r.is_silent();

    if r.is_unmetered() {
        // Nothing was measured: no level, clip or silence finding would mean anything.
        out.push(unmetered_finding(bus));
        return;
    }
    if r.is_bypassed() {
        out.push(bus.finding(
            id::SIGNAL_BYPASSED,
            Severity::Warn,
            format!(
                "{who} is bypassed in the host: its audio passes through unmeasured, and its \
                 figures are from before the bypass. Switch the bypass off and play the pass \
                 again."
            ),
            None,
            None,
        ));
    }

    match (WindowStatus::classify(tp_exact, low, high), tp) {
        (WindowStatus::Over, Some(tp)) => {
            // Rounded up to a tenth, so turning down by the figure shown is always enough (the
            // small bias keeps 1.2000000001 from becoming 1.3).
            let by = ((tp - f64::from(high)) * 10.0 - 1e-6).ceil().max(1.0) / 10.0;
            let exact = tp_exact.map_or(tp, f64::from);
            let (peak, top) = fmt_db_pair(exact, f64::from(high));
            out.push(bus.finding(
                id::HEADROOM_OVER,
                Severity::Warn,
                format!(
                    "{who} peaks at {peak} dBTP, above the {top} dBFS window top: turn it \
                     down by {by:.1} dB."
                ),
                Some(tp),
                Some(f64::from(high)),
            ));
        }
        // A silent stem is reported as silent (a warning), not as having headroom to spare; a
        // bypassed bus's silence is only the absence of readings.
        (WindowStatus::Under, _) if silent && (bus.scope == Scope::Stem || r.is_bypassed()) => {}
        (WindowStatus::Under, _) if silent => out.push(bus.finding(
            id::HEADROOM_UNDER,
            Severity::Info,
            format!("{who} was silent for the whole pass (nothing above -100 dBFS)."),
            tp,
            Some(f64::from(low)),
        )),
        (WindowStatus::Under, Some(tp)) => {
            let (peak, bottom) = fmt_db_pair(tp_exact.map_or(tp, f64::from), f64::from(low));
            let advice = if bus.scope == Scope::Master {
                format!(
                    "; the stems summed at unity usually land between {} and {} dBFS",
                    fmt_db(f64::from(low)),
                    fmt_db(f64::from(high))
                )
            } else {
                ", which is fine for a stem".into()
            };
            out.push(bus.finding(
                id::HEADROOM_UNDER,
                Severity::Info,
                format!(
                    "{who} peaks at {peak} dBTP, below the {bottom} dBFS window bottom: more \
                     headroom than asked{advice}."
                ),
                Some(tp),
                Some(f64::from(low)),
            ));
        }
        _ => {}
    }

    let overs = r.true_peak_overs;
    let above = tp_exact.is_some_and(|db| f64::from(db) > ceiling);
    if above || overs.count > 0 {
        let tp_text = tp_exact.map_or("silence".to_string(), |v| {
            format!("{} dBTP", fmt_db_pair(f64::from(v), ceiling).0)
        });
        let message = if above {
            let detail = if overs.count > 0 {
                format!(
                    " ({}{})",
                    plural(overs.count, "inter-sample over", "inter-sample overs"),
                    when(&overs, rate)
                )
            } else {
                String::new()
            };
            format!(
                "{who} reaches {tp_text}, above the {} dBTP true-peak ceiling{detail}: it will \
                 distort when converted or re-processed.",
                fmt_db(ceiling)
            )
        } else {
            // The ceiling was raised after the overs were counted: both facts are shown.
            format!(
                "{who} had {} above the true-peak ceiling{}; its highest true peak is {tp_text} \
                 against a ceiling of {} dBTP. Reset and play again to measure against the \
                 current ceiling.",
                plural(overs.count, "inter-sample over", "inter-sample overs"),
                when(&overs, rate),
                fmt_db(ceiling)
            )
        };
        out.push(bus.finding(
            id::TRUEPEAK_OVER,
            Severity::Fail,
            message,
            tp,
            Some(ceiling),
        ));
    }

    if r.clips.count > 0 {
        out.push(bus.finding(
            id::CLIP_SAMPLES,
            Severity::Fail,
            format!(
                "{who} has {} at or above full scale (0 dBFS){}: {}.",
                plural(r.clips.count, "sample", "samples"),
                when(&r.clips, rate),
                context.clip_cause
            ),
            Some(r.clips.count as f64),
            Some(0.0),
        ));
    }

    if r.flat_tops.count > 0 {
        out.push(bus.finding(
            id::CLIP_FLAT_TOP,
            Severity::Fail,
            format!(
                "{who} has {} (three or more identical samples at its peak level){}: the \
                 signature of a clipper.",
                plural(r.flat_tops.count, "flat-topped run", "flat-topped runs"),
                when(&r.flat_tops, rate)
            ),
            Some(r.flat_tops.count as f64),
            Some(0.0),
        ));
    }

    if r.non_finite > 0 {
        out.push(bus.finding(
            id::SIGNAL_NAN_INF,
            Severity::Fail,
            format!(
                "{who} carried {}: {}.",
                plural(
                    r.non_finite,
                    "NaN or infinite sample",
                    "NaN or infinite samples"
                ),
                context.nan_cause
            ),
            Some(r.non_finite as f64),
            Some(0.0),
        ));
    }
}

/// `signal.unmetered`: the bus's rate is outside the metered range (value: the rate, threshold:
/// the range end it is beyond), or its meters stopped after an internal error.
fn unmetered_finding(bus: &Bus) -> Finding {
    let who = &bus.subject;
    let rate = bus.input.reading.sample_rate;
    let hz = round(f64::from(rate), 2);
    if is_metered_rate(rate) {
        return bus.finding(
            id::SIGNAL_UNMETERED,
            Severity::Warn,
            format!(
                "{who} is not metered: Stemcheck's meters stopped after an internal error. Its \
                 audio passes through untouched; reload the plugin to measure it."
            ),
            Some(hz),
            None,
        );
    }
    let (side, limit) = if rate < MIN_METERED_RATE {
        ("below", MIN_METERED_RATE)
    } else {
        ("above", MAX_METERED_RATE)
    };
    bus.finding(
        id::SIGNAL_UNMETERED,
        Severity::Warn,
        format!(
            "{who} runs at {hz} Hz, {side} the {limit} Hz that Stemcheck meters \
             ({MIN_METERED_RATE}–{MAX_METERED_RATE} Hz): its audio passes through untouched but \
             nothing of it is measured."
        ),
        Some(hz),
        Some(f64::from(limit)),
    )
}

/// Rules that only make sense for a stem, measured against the master.
fn stem_rules(
    stem: &BusInput,
    master: &BusInput,
    master_pass: &Pass,
    context: &Context,
    out: &mut Vec<Finding>,
) {
    let bus = Bus::stem(stem);
    let who = &bus.subject;
    let r = &stem.reading;
    let master_rate = f64::from(master.reading.sample_rate);

    // A rate of zero means "never ran"; that is a stale or silent stem, not a mismatch.
    if let (Some(stem_hz), Some(master_hz)) =
        (rate_hz(r.sample_rate), rate_hz(master.reading.sample_rate))
    {
        if stem_hz != master_hz {
            out.push(bus.finding(
                id::STEMS_SAMPLE_RATE,
                Severity::Fail,
                format!(
                    "{who} runs at {stem_hz} Hz but {} at {master_hz} Hz: every stem \
                     must be at the session's sample rate.",
                    context.session
                ),
                Some(f64::from(stem_hz)),
                Some(f64::from(master_hz)),
            ));
        }
    }

    if !stem.alive {
        out.push(bus.finding(
            id::STEM_STALE,
            Severity::Warn,
            format!(
                "Stemcheck on {who} has sent no readings for over a second: the host is not \
                 running it (the plugin is bypassed or deactivated, or the track is frozen, \
                 inactive or removed), so its figures may be old. Its bus may well be playing: \
                 enable the plugin for the pass."
            ),
            None,
            None,
        ));
    }

    // A stem the host stopped running reads as silent whatever its bus plays: `stem.stale`
    // says so instead of blaming the routing; a bypassed or unmetered stem measured nothing.
    if r.is_silent() && stem.alive && r.is_metering() {
        out.push(bus.finding(
            id::STEM_SILENT,
            Severity::Warn,
            format!(
                "{who} was silent for the whole pass (nothing above -100 dBFS): check that it \
                 is routed, unmuted and not empty."
            ),
            level_db(r.max_sample_peak()),
            Some(SILENCE_DB),
        ));
    }

    // The master's pass stands for the session; a stem whose own readings began later (it was
    // reset, or inserted, during the pass) misses part of the song even when the master does
    // not. A stem's jumps are not checked: the transport is shared, so the master sees them.
    if let (true, Some(master_start), Some(start)) = (
        master_pass.complete,
        master_pass.start_samples,
        position(r.pass_start),
    ) {
        if start > master_start && start > 0 {
            out.push(bus.finding(
                id::PASS_INCOMPLETE,
                Severity::Warn,
                format!(
                    "{who}'s readings begin at {} (sample {start}), after the master's pass \
                     began: it was reset or added during the pass. Play the song again from \
                     the start.",
                    fmt_time(start, master_rate)
                ),
                Some(start as f64),
                Some(master_start as f64),
            ));
        }
    }
}

/// ", first at 0:41.2, last at 3:10.0" (or ", at 0:41.2" for one position; nothing when the
/// host reported no positions).
fn when(events: &EventSnapshot, rate: f64) -> String {
    match (position(events.first), position(events.last)) {
        (Some(f), Some(l)) if f != l => {
            format!(
                ", first at {}, last at {}",
                fmt_time(f, rate),
                fmt_time(l, rate)
            )
        }
        (Some(f), _) => format!(", at {}", fmt_time(f, rate)),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dsp::snapshot::{MeterSnapshot, FLAG_PASS_JUMPED, NO_POSITION};
    use crate::report::fixtures::{bus, clean, events, silent};
    use crate::report::model::Verdict;

    /// The finding with this id about this stem (`None` = master or session).
    fn find<'a>(findings: &'a [Finding], id: &str, stem: Option<&str>) -> Option<&'a Finding> {
        findings
            .iter()
            .find(|f| f.id == id && f.stem.as_deref() == stem)
    }

    fn fired(findings: &[Finding], id: &str) -> bool {
        findings.iter().any(|f| f.id == id)
    }

    #[test]
    fn clean_session_is_ready_with_notes_only() {
        let findings = evaluate(&clean());
        assert_eq!(Verdict::from_findings(&findings), Verdict::Ready);
        assert_eq!(findings.len(), 3, "{findings:#?}");
        for f in &findings {
            assert_eq!(f.id, id::HEADROOM_UNDER);
            assert_eq!(f.severity, Severity::Info);
            assert_eq!(f.scope, Scope::Stem);
        }
        let kick = find(&findings, id::HEADROOM_UNDER, Some("01_Kick")).unwrap();
        assert_eq!(kick.value, Some(-8.0));
        assert_eq!(kick.threshold, Some(-6.0));
        assert!(
            kick.message.contains("01_Kick peaks at -8.0 dBTP"),
            "{}",
            kick.message
        );
    }

    #[test]
    fn headroom_over_names_stem_value_and_threshold() {
        let mut input = clean();
        input.stems[2] = bus("02_Bass", 2, -1.8);
        let findings = evaluate(&input);
        let f = find(&findings, id::HEADROOM_OVER, Some("02_Bass")).expect("fires");
        assert_eq!(f.severity, Severity::Warn);
        assert_eq!((f.value, f.threshold), (Some(-1.8), Some(-3.0)));
        assert!(
            f.message
                .starts_with("02_Bass peaks at -1.8 dBTP, above the -3.0 dBFS window top"),
            "{}",
            f.message
        );
        assert!(
            f.message.contains("turn it down by 1.2 dB"),
            "{}",
            f.message
        );
        assert!(
            !fired(&findings, id::TRUEPEAK_OVER),
            "-1.8 is under the -1 ceiling"
        );
        assert_eq!(Verdict::from_findings(&findings), Verdict::Warnings);
    }

    #[test]
    fn master_follows_the_window_rules() {
        let mut input = clean();
        input.master = bus("Master", 0, -10.0);
        let findings = evaluate(&input);
        let f = find(&findings, id::HEADROOM_UNDER, None).expect("master under");
        assert_eq!(f.scope, Scope::Master);
        assert!(f.message.starts_with("The master peaks at -10.0 dBTP"));
        assert_eq!(Verdict::from_findings(&findings), Verdict::Ready);

        input.master = bus("Master", 0, -2.0);
        let findings = evaluate(&input);
        assert!(find(&findings, id::HEADROOM_OVER, None).is_some());
        assert_eq!(Verdict::from_findings(&findings), Verdict::Warnings);

        input.master = bus("Master", 0, -0.2);
        let findings = evaluate(&input);
        let f = find(&findings, id::TRUEPEAK_OVER, None).expect("master over ceiling");
        assert_eq!(f.severity, Severity::Fail);
        assert_eq!(Verdict::from_findings(&findings), Verdict::NotReady);
    }

    #[test]
    fn a_check_of_files_names_the_mix_or_the_stem_sum() {
        use crate::report::file_input::{FileSettings, FilesInput};
        let mut input = clean();
        input.master = bus("Master", 0, -2.0);
        let mut files = FilesInput {
            settings: FileSettings::default(),
            stems: Vec::new(),
            mix: None,
            mix_choice: None,
        };
        input.files = Some(files.clone());
        let findings = evaluate(&input);
        let f = find(&findings, id::HEADROOM_OVER, None).expect("over");
        assert!(
            f.message.starts_with("The stem sum peaks at -2.0"),
            "{}",
            f.message
        );
        files.mix = Some(crate::report::fixtures::file_facts("Mix"));
        input.files = Some(files);
        let findings = evaluate(&input);
        let f = find(&findings, id::HEADROOM_OVER, None).expect("over");
        assert!(
            f.message.starts_with("The mix peaks at -2.0"),
            "{}",
            f.message
        );
    }

    #[test]
    fn true_peak_over_the_ceiling_or_counted_overs_fail() {
        let mut input = clean();
        input.stems[0] = bus("03_Keys", 3, -0.5);
        let findings = evaluate(&input);
        let f = find(&findings, id::TRUEPEAK_OVER, Some("03_Keys")).expect("fires");
        assert_eq!((f.value, f.threshold), (Some(-0.5), Some(-1.0)));
        assert!(f
            .message
            .contains("-0.5 dBTP, above the -1.0 dBTP true-peak ceiling"));
        assert!(fired(&findings, id::HEADROOM_OVER));
        assert_eq!(Verdict::from_findings(&findings), Verdict::NotReady);

        // Overs counted against an earlier, lower ceiling still fail.
        let mut input = clean();
        input.stems[0].reading.true_peak_overs = events(4, 48_000, 96_000);
        let findings = evaluate(&input);
        let f = find(&findings, id::TRUEPEAK_OVER, Some("03_Keys")).expect("fires");
        assert!(f.message.contains("4 inter-sample overs"), "{}", f.message);
        assert!(
            f.message.contains("first at 0:01.0, last at 0:02.0"),
            "{}",
            f.message
        );
    }

    #[test]
    fn clips_flat_tops_and_nan_fail() {
        let mut input = clean();
        input.stems[1].reading.clips = events(3, 48_000, 96_000);
        input.stems[1].reading.flat_tops = events(1, 72_000, 72_000);
        input.master.reading.non_finite = 2;
        let findings = evaluate(&input);
        let clip = find(&findings, id::CLIP_SAMPLES, Some("01_Kick")).expect("clips");
        assert_eq!((clip.value, clip.threshold), (Some(3.0), Some(0.0)));
        assert!(clip.message.contains("3 samples at or above full scale"));
        assert!(clip.message.contains("first at 0:01.0, last at 0:02.0"));
        let flat = find(&findings, id::CLIP_FLAT_TOP, Some("01_Kick")).expect("flat tops");
        assert!(flat.message.contains("1 flat-topped run (") && flat.message.contains("at 0:01.5"));
        let nan = find(&findings, id::SIGNAL_NAN_INF, None).expect("nan");
        assert_eq!(nan.scope, Scope::Master);
        assert!(nan.message.contains("2 NaN or infinite samples"));
        for f in [clip, flat, nan] {
            assert_eq!(f.severity, Severity::Fail);
        }
    }

    #[test]
    fn sample_rate_mismatch_fails() {
        let mut input = clean();
        input.stems[0].reading.sample_rate = 44_100.0;
        let findings = evaluate(&input);
        let f = find(&findings, id::STEMS_SAMPLE_RATE, Some("03_Keys")).expect("fires");
        assert_eq!((f.value, f.threshold), (Some(44_100.0), Some(48_000.0)));
        assert!(f.message.contains("44100 Hz but the master at 48000 Hz"));
        assert_eq!(Verdict::from_findings(&findings), Verdict::NotReady);
    }

    #[test]
    fn stale_and_silent_stems_warn() {
        let mut input = clean();
        input.stems[0].alive = false;
        input.stems.push(silent("04_Vox", 4));
        let findings = evaluate(&input);
        assert!(find(&findings, id::STEM_STALE, Some("03_Keys")).is_some());
        let s = find(&findings, id::STEM_SILENT, Some("04_Vox")).expect("silent");
        assert_eq!((s.value, s.threshold), (None, Some(-100.0)));
        assert!(
            find(&findings, id::HEADROOM_UNDER, Some("04_Vox")).is_none(),
            "a silent stem is not reported as having headroom"
        );
        assert_eq!(Verdict::from_findings(&findings), Verdict::Warnings);
        // A stem whose plugin the host stopped running is stale, not "silent, check the
        // routing": its bus may well be playing.
        let mut input = clean();
        input.stems.push(silent("05_Fx", 5));
        input.stems.last_mut().unwrap().alive = false;
        let findings = evaluate(&input);
        let stale = find(&findings, id::STEM_STALE, Some("05_Fx")).expect("stale");
        assert!(
            stale.message.contains("bypassed or deactivated"),
            "{}",
            stale.message
        );
        assert!(find(&findings, id::STEM_SILENT, Some("05_Fx")).is_none());
    }

    #[test]
    fn figures_never_contradict_their_own_rounding() {
        // 04_Lead at -2.96 dBTP: one decimal would read "-3.0 dBTP, above the -3.0 window".
        let mut input = clean();
        input.stems.push(bus("04_Lead", 4, -2.96));
        let f = evaluate(&input);
        let over = find(&f, id::HEADROOM_OVER, Some("04_Lead")).expect("over");
        assert!(
            over.message.contains(
                "peaks at -2.96 dBTP, above the -3.0 dBFS window top: turn it down by 0.1 dB"
            ),
            "{}",
            over.message
        );
        let mut input = clean();
        input.stems.push(bus("05_Pad", 5, -6.04));
        let f = evaluate(&input);
        let under = find(&f, id::HEADROOM_UNDER, Some("05_Pad")).expect("under");
        assert!(
            under
                .message
                .contains("peaks at -6.04 dBTP, below the -6.0 dBFS"),
            "{}",
            under.message
        );
    }

    #[test]
    fn incomplete_passes_warn() {
        let cases: [(i64, i64, u32, &str); 3] = [
            (NO_POSITION, NO_POSITION, 0, "nothing has been played"),
            (96_000, 9_600_000, 0, "began at 0:02.0"),
            (0, 9_600_000, FLAG_PASS_JUMPED, "jumped forward"),
        ];
        for (start, end, flags, says) in cases {
            let mut input = clean();
            input.master.reading.pass_start = start;
            input.master.reading.pass_end = end;
            input.master.reading.flags |= flags;
            let findings = evaluate(&input);
            let f = find(&findings, id::PASS_INCOMPLETE, None).expect("fires");
            assert_eq!((f.severity, f.scope), (Severity::Warn, Scope::Session));
            assert!(f.message.contains(says), "{}", f.message);
        }
        // A stem reset during the pass misses the song's start.
        let mut input = clean();
        input.stems[2].reading.pass_start = 480_000;
        let f = evaluate(&input);
        assert!(find(&f, id::PASS_INCOMPLETE, Some("02_Bass")).is_some());
        assert!(find(&f, id::PASS_INCOMPLETE, None).is_none());
    }

    #[test]
    fn no_stems_warns_and_explains_processes() {
        let mut input = clean();
        input.stems.clear();
        let findings = evaluate(&input);
        let f = find(&findings, id::STEMS_NONE, None).expect("fires");
        assert_eq!(f.severity, Severity::Warn);
        assert!(f.message.contains("separate processes"));
    }

    #[test]
    fn verdict_precedence() {
        let f = |severity| Finding {
            id: "x".into(),
            severity,
            stem: None,
            scope: Scope::Session,
            message: String::new(),
            value: None,
            threshold: None,
        };
        use Severity::*;
        assert_eq!(Verdict::from_findings(&[]), Verdict::Ready);
        assert_eq!(Verdict::from_findings(&[f(Info)]), Verdict::Ready);
        assert_eq!(
            Verdict::from_findings(&[f(Info), f(Warn)]),
            Verdict::Warnings
        );
        assert_eq!(
            Verdict::from_findings(&[f(Warn), f(Fail), f(Info)]),
            Verdict::NotReady
        );
    }

    #[test]
    fn findings_are_ordered_by_severity_then_stem_then_id() {
        let mut input = clean();
        input.master = bus("Master", 0, -2.0); // master headroom.over (warn)
        input.stems[0] = bus("03_Keys", 3, -0.5); // truepeak.over + headroom.over
        input.stems[1].reading.clips = events(1, 0, 0); // 01_Kick clip.samples
        input.stems.push(bus("Stem 10", 11, -0.5));
        input.stems.push(bus("Stem 9", 10, -20.0));
        let got: Vec<(Severity, Option<String>, String)> = evaluate(&input)
            .into_iter()
            .map(|f| (f.severity, f.stem, f.id))
            .collect();
        let s = |x: &str| Some(x.to_string());
        let want = vec![
            (Severity::Fail, s("01_Kick"), id::CLIP_SAMPLES.to_string()),
            (Severity::Fail, s("03_Keys"), id::TRUEPEAK_OVER.into()),
            (Severity::Fail, s("Stem 10"), id::TRUEPEAK_OVER.into()),
            (Severity::Warn, None, id::HEADROOM_OVER.into()),
            (Severity::Warn, s("03_Keys"), id::HEADROOM_OVER.into()),
            (Severity::Warn, s("Stem 10"), id::HEADROOM_OVER.into()),
            (Severity::Info, s("01_Kick"), id::HEADROOM_UNDER.into()),
            (Severity::Info, s("02_Bass"), id::HEADROOM_UNDER.into()),
            (Severity::Info, s("Stem 9"), id::HEADROOM_UNDER.into()),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn an_unmetered_stem_is_a_warning_and_nothing_else_about_its_levels() {
        use crate::dsp::snapshot::FLAG_UNMETERED;
        let mut input = clean();
        // As an instance activated at 1234.5678 Hz publishes: empty readings, the flag.
        let odd = &mut input.stems[0].reading;
        *odd = MeterSnapshot {
            sample_rate: 1_234.567_8,
            channels: 2,
            flags: FLAG_UNMETERED,
            clips: crate::report::fixtures::no_events(),
            true_peak_overs: crate::report::fixtures::no_events(),
            flat_tops: crate::report::fixtures::no_events(),
            pass_start: NO_POSITION,
            pass_end: NO_POSITION,
            position: NO_POSITION,
            blocks: 10,
            ..Default::default()
        };
        let findings = evaluate(&input);
        let f = find(&findings, id::SIGNAL_UNMETERED, Some("03_Keys")).expect("signal.unmetered");
        assert_eq!(f.severity, Severity::Warn);
        assert_eq!(f.value, Some(1_234.57));
        assert_eq!(f.threshold, Some(8_000.0));
        assert!(
            f.message.contains("1234.57 Hz") && f.message.contains("below"),
            "{}",
            f.message
        );
        assert!(
            find(&findings, id::STEM_SILENT, Some("03_Keys")).is_none(),
            "unmeasured is not silent: {findings:#?}"
        );
        assert!(find(&findings, id::HEADROOM_UNDER, Some("03_Keys")).is_none());
        assert!(find(&findings, id::STEMS_SAMPLE_RATE, Some("03_Keys")).is_some());
        assert_eq!(
            Verdict::from_findings(&findings),
            Verdict::NotReady,
            "a rate mismatch"
        );

        // An unmetered master above the range, alone: the warning names the upper end.
        let mut input = clean();
        input.stems.clear();
        input.master.reading.flags |= FLAG_UNMETERED;
        input.master.reading.sample_rate = 1e6;
        let findings = evaluate(&input);
        let f = find(&findings, id::SIGNAL_UNMETERED, None).expect("master unmetered");
        assert_eq!((f.scope, f.threshold), (Scope::Master, Some(768_000.0)));
        assert!(f.message.contains("above"), "{}", f.message);

        // Unmetered at a metered rate: the meters stopped (an internal error).
        let mut input = clean();
        input.stems[1].reading.flags |= FLAG_UNMETERED;
        let findings = evaluate(&input);
        let f = find(&findings, id::SIGNAL_UNMETERED, Some("01_Kick")).unwrap();
        assert!(f.message.contains("internal error"), "{}", f.message);
        assert_eq!(f.threshold, None);
    }

    #[test]
    fn a_bypassed_stem_is_named_and_keeps_its_real_events() {
        use crate::dsp::snapshot::FLAG_BYPASSED;
        let mut input = clean();
        input.stems[2].reading.flags |= FLAG_BYPASSED;
        input.stems[2].reading.clips = events(3, 4_800, 9_600);
        let findings = evaluate(&input);
        let f = find(&findings, id::SIGNAL_BYPASSED, Some("02_Bass")).expect("signal.bypassed");
        assert_eq!(f.severity, Severity::Warn);
        assert!(f.message.contains("bypassed"), "{}", f.message);
        assert!(
            find(&findings, id::CLIP_SAMPLES, Some("02_Bass")).is_some(),
            "clips measured before the bypass still count"
        );
        assert!(!fired(
            &findings
                .iter()
                .filter(|f| f.stem.as_deref() != Some("02_Bass"))
                .cloned()
                .collect::<Vec<_>>(),
            id::SIGNAL_BYPASSED
        ));
        // Bypassed from the start: no readings, which is not silence.
        let mut input = clean();
        input.stems[0] = silent("03_Keys", 3);
        input.stems[0].reading.flags |= FLAG_BYPASSED;
        let findings = evaluate(&input);
        assert!(
            find(&findings, id::STEM_SILENT, Some("03_Keys")).is_none(),
            "{findings:#?}"
        );
        assert!(find(&findings, id::SIGNAL_BYPASSED, Some("03_Keys")).is_some());
        assert_eq!(Verdict::from_findings(&findings), Verdict::Warnings);
    }
}
