//! The rules on what the session analysis measured: limiters and clippers on the stems and
//! the master, and the sum-check (null, gain, offset, polarity, unaccounted, cancellation).

use super::input::{BusInput, ReportInput};
use super::model::{Finding, Scope, Severity};
use super::units::{fmt_db, round};
use crate::analysis::dynamics::DynamicsVerdict;

/// Rule ids of the session analysis (part of the report contract, like [`super::rules::id`]).
pub mod id {
    /// A stem reads as brickwall-limited (warn).
    pub const LIMITER_STEM: &str = "limiter.stem";
    /// Processing on the master after the stems: a limiter or compressor (fail).
    pub const LIMITER_MASTER: &str = "limiter.master";
    /// The stems at unity do not null against the master (fail).
    pub const SUM_NULL: &str = "sum.null";
    /// A stem's gain or pan between it and the master is not at unity (warn).
    pub const SUM_GAIN: &str = "sum.gain";
    /// A stem reaches the master shifted by whole samples (fail).
    pub const SUM_OFFSET: &str = "sum.offset";
    /// A stem reaches the master inverted (fail).
    pub const SUM_POLARITY: &str = "sum.polarity";
    /// Master signal that no stem carries (fail).
    pub const SUM_UNACCOUNTED: &str = "sum.unaccounted";
    /// The stems cancel each other (warn).
    pub const SUM_CANCELLATION: &str = "sum.cancellation";
}

/// Gain deviation from unity that counts, dB (SPEC: "> 0.1 dB").
const GAIN_TOLERANCE_DB: f64 = 0.1;
/// Cancellation below which the stems are said to cancel, dB.
const CANCELLATION_DB: f64 = -3.0;

fn finding(
    id: &str,
    severity: Severity,
    stem: Option<&BusInput>,
    message: String,
    value: Option<f64>,
    threshold: Option<f64>,
) -> Finding {
    Finding {
        id: id.into(),
        severity,
        stem: stem.map(|s| s.name.clone()),
        scope: if stem.is_some() {
            Scope::Stem
        } else {
            Scope::Master
        },
        message,
        value: value.map(|v| round(v, 2)),
        threshold: threshold.map(|t| round(t, 2)),
    }
}

/// Adds the session-analysis findings for `input` to `out` (unsorted).
pub fn evaluate_analysis(input: &ReportInput, out: &mut Vec<Finding>) {
    let master_processing = master_rules(input, out);
    for stem in &input.stems {
        stem_dynamics(stem, out);
    }
    let Some(sum) = &input.sum else {
        return;
    };
    let f = &sum.figures;
    if f.compared_frames == 0 {
        return;
    }
    let tolerance = f64::from(input.thresholds.null_tolerance_db);
    if let Some(null) = f.null_depth_db.map(f64::from).filter(|&n| n > tolerance) {
        out.push(finding(
            id::SUM_NULL,
            Severity::Fail,
            None,
            format!(
                "The stems summed at unity do not null against the master: {} dB, above the \
                 {} dB tolerance. Bounced as they are, the stems will not rebuild the mix; the \
                 findings below say why.",
                fmt_db(null),
                fmt_db(tolerance)
            ),
            Some(null),
            Some(tolerance),
        ));
    }
    // Limiting leaves a residual no stem carries; it is reported as processing, not routing.
    if !master_processing {
        if let Some(u) = f.unaccounted_db.map(f64::from).filter(|&u| u > tolerance) {
            out.push(finding(
                id::SUM_UNACCOUNTED,
                Severity::Fail,
                None,
                unaccounted_sentence(u, &input.stems),
                Some(u),
                Some(tolerance),
            ));
        }
    }
    if let Some(c) = f
        .cancellation_db
        .map(f64::from)
        .filter(|&c| c < CANCELLATION_DB)
    {
        out.push(finding(
            id::SUM_CANCELLATION,
            Severity::Warn,
            None,
            format!(
                "The stems cancel each other: their sum has {} dB of the energy of the stems \
                 apart. A stem is inverted or a parallel chain is split across stems; each \
                 stem alone will sound unlike its part of the mix.",
                fmt_db(c)
            ),
            Some(c),
            Some(CANCELLATION_DB),
        ));
    }
    // Gains are only trusted when the fit explains the master: with signal the stems do not
    // carry (a track routed around them, limiting), least squares leans every correlated
    // stem's gain towards it, and that is reported by its own rule.
    let fit_explains = f
        .null_depth_fitted_db
        .is_some_and(|n| f64::from(n) <= tolerance);
    for stem in &input.stems {
        if let Some(fit) = &stem.fit {
            fit_rules(stem, fit, fit_explains, out);
        }
    }
}

/// A single stem's fitted gain off by more than this while every other stem fits within
/// [`FOLLOWER_OTHERS_DB`] says the residual follows that stem, dB.
const FOLLOWER_DB: f64 = 0.5;
/// See [`FOLLOWER_DB`].
const FOLLOWER_OTHERS_DB: f64 = 0.2;

/// What the unaccounted signal most likely is. With signal no stem carries, least squares
/// leans a stem's gain towards whatever in the residual resembles it: when exactly one stem's
/// gain moves, the residual is that stem's audio by another path (a send to a return routed
/// straight to the master, a delay or filter after its meter); when none does, it is a source
/// of its own.
fn unaccounted_sentence(u: f64, stems: &[BusInput]) -> String {
    let deviation = |s: &BusInput| {
        s.fit.as_ref().map(|f| {
            f.gain_db
                .iter()
                .flatten()
                .map(|g| f64::from(*g).abs())
                .fold(0.0, f64::max)
        })
    };
    let fitted: Vec<(&BusInput, f64)> = stems
        .iter()
        .filter_map(|s| deviation(s).map(|d| (s, d)))
        .collect();
    let movers: Vec<&(&BusInput, f64)> = fitted.iter().filter(|(_, d)| *d > FOLLOWER_DB).collect();
    let quiet = fitted
        .iter()
        .filter(|(_, d)| *d <= FOLLOWER_OTHERS_DB)
        .count();
    let level = fmt_db(u);
    match movers.as_slice() {
        [(stem, d)] if quiet + 1 == fitted.len() => format!(
            "The master carries signal that no stem explains ({level} dB relative to the \
             master), and it follows {name}: {name} fits {d:.1} dB off unity where every other \
             stem fits at unity. Something fed by {name} reaches the master without passing its \
             stem: a send to a return routed straight to the master, or a delay or filter after \
             its meter. Route it into {name}'s stem.",
            name = stem.name,
        ),
        _ => format!(
            "The master carries signal that no stem explains ({level} dB relative to the \
             master): a track, return or bus reaches the master without passing through a \
             metered stem, or a copy of a stem does (a send, or a delay or filter after a \
             stem's meter). Route it through a stem, or add one for it."
        ),
    }
}

/// The master's own limiter/clipper verdict and the processing found against the stems.
/// Returns whether `limiter.master` was raised.
fn master_rules(input: &ReportInput, out: &mut Vec<Finding>) -> bool {
    let processing = input
        .sum
        .as_ref()
        .map(|s| &s.figures.master_processing)
        .filter(|p| p.detected);
    let own = input.master.dynamics.as_ref();
    let limited = own.is_some_and(|d| d.verdict == DynamicsVerdict::Limited);
    if let Some(p) = processing {
        let gr = p.gain_reduction_db.map(f64::from);
        out.push(finding(
            id::LIMITER_MASTER,
            Severity::Fail,
            None,
            format!(
                "A limiter or compressor acts on the master after the stems: in loud passages \
                 the master is up to {} dB quieter than the stems' sum. Bypass it for the \
                 stem bounce (the stems will not sum to a processed mix).",
                gr.map_or("several".into(), |g| format!("{g:.1}"))
            ),
            gr,
            Some(0.0),
        ));
        return true;
    }
    if limited {
        let d = own.expect("checked above");
        out.push(finding(
            id::LIMITER_MASTER,
            Severity::Fail,
            None,
            format!(
                "The master reads as limited: its peaks pile up at {} dBFS. Bypass the \
                 master-bus limiter for the stem bounce.",
                d.ceiling_dbfs
                    .map_or("one level".into(), |c| fmt_db(f64::from(c)))
            ),
            d.ceiling_dbfs.map(f64::from),
            None,
        ));
        return true;
    }
    if let Some(d) = own.filter(|d| d.verdict == DynamicsVerdict::Clipped) {
        if input.master.reading.flat_tops.count == 0 {
            out.push(clipped(None, "The master", d.ceiling_dbfs));
        }
    }
    false
}

/// `clip.flat_top` from the detector, when the meters' own flat-top count missed it.
fn clipped(stem: Option<&BusInput>, who: &str, ceiling: Option<f32>) -> Finding {
    finding(
        super::rules::id::CLIP_FLAT_TOP,
        Severity::Fail,
        stem,
        format!(
            "{who} reads as clipped: its waveform is cut flat at {} dBFS. Remove the clipper \
             or lower what drives it.",
            ceiling.map_or("one level".into(), |c| fmt_db(f64::from(c)))
        ),
        ceiling.map(f64::from),
        None,
    )
}

fn stem_dynamics(stem: &BusInput, out: &mut Vec<Finding>) {
    let Some(d) = &stem.dynamics else {
        return;
    };
    match d.verdict {
        DynamicsVerdict::Limited => out.push(finding(
            id::LIMITER_STEM,
            Severity::Warn,
            Some(stem),
            format!(
                "{} reads as limited: its peaks pile up at {} dBFS (confidence {:.0} %). A \
                 limiter on a stem cannot be undone at mastering; bypass it unless it is part \
                 of the sound.",
                stem.name,
                d.ceiling_dbfs
                    .map_or("one level".into(), |c| fmt_db(f64::from(c))),
                d.confidence * 100.0
            ),
            Some(f64::from(d.confidence)),
            None,
        )),
        DynamicsVerdict::Clipped if stem.reading.flat_tops.count == 0 => {
            out.push(clipped(Some(stem), &stem.name, d.ceiling_dbfs));
        }
        _ => {}
    }
}

fn fit_rules(
    stem: &BusInput,
    fit: &crate::analysis::StemFit,
    gains_trusted: bool,
    out: &mut Vec<Finding>,
) {
    let who = &stem.name;
    if let Some(k) = fit.offset_samples.filter(|&k| k != 0) {
        let (how, dir) = if k > 0 { (k, "late") } else { (-k, "early") };
        out.push(finding(
            id::SUM_OFFSET,
            Severity::Fail,
            Some(stem),
            format!(
                "{who} reaches the master {how} sample{} {dir}: something after the meter \
                 delays it (an uncompensated plugin, a delay, a latency setting), so the \
                 bounced stem will not line up with the others.",
                if how == 1 { "" } else { "s" }
            ),
            Some(k as f64),
            Some(0.0),
        ));
    }
    if fit.polarity_inverted {
        out.push(finding(
            id::SUM_POLARITY,
            Severity::Fail,
            Some(stem),
            format!(
                "{who} reaches the master inverted: a polarity switch after the meter flips \
                 it, so the bounced stem is the opposite of what the mix contains."
            ),
            None,
            None,
        ));
    }
    let worst = fit
        .gain_db
        .iter()
        .flatten()
        // Judged as reported, to the hundredth of a dB, so 0.1 shown is 0.1 judged.
        .map(|&g| round(f64::from(g), 2))
        .fold(None, |w: Option<f64>, g| match w {
            Some(w) if w.abs() >= g.abs() => Some(w),
            _ => Some(g),
        });
    if let Some(g) = worst.filter(|g| gains_trusted && g.abs() > GAIN_TOLERANCE_DB) {
        out.push(finding(
            id::SUM_GAIN,
            Severity::Warn,
            Some(stem),
            gain_sentence(who, &fit.gain_db),
            Some(g),
            Some(GAIN_TOLERANCE_DB),
        ));
    }
}

/// Exactly twice the stem (+6.02 dB) within this, dB: the stem reaches the master twice.
const DOUBLING_TOLERANCE_DB: f64 = 0.05;

/// What a fitted gain says and what most likely set it: every channel at +6.02 dB is the
/// stem arriving twice (a parallel path), equal gains are a fader, unequal ones a pan.
fn gain_sentence(who: &str, gains: &[Option<f32>]) -> String {
    let shown: Vec<f64> = gains.iter().flatten().map(|&g| f64::from(g)).collect();
    let per_channel = |names: &[&str]| {
        gains
            .iter()
            .zip(names)
            .map(|(g, n)| {
                g.map_or(format!("nothing {n}"), |g| {
                    format!("{} dB {n}", fmt_db(f64::from(g)))
                })
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let channels = per_channel(if gains.len() == 1 {
        &["mono"]
    } else {
        &["left", "right"]
    });
    let doubled = 20.0 * 2f64.log10();
    let all_close = |target: f64, tol: f64| {
        !shown.is_empty() && shown.iter().all(|g| (g - target).abs() <= tol)
    };
    if all_close(doubled, DOUBLING_TOLERANCE_DB) {
        return format!(
            "{who} reaches the master twice as loud ({channels}: exactly double): the same \
             audio gets there by a second path that bypasses the stem (the track also feeds \
             the master directly, or a send does), so the bounced stem holds half of it. Route \
             it through its bus only."
        );
    }
    let mean = shown.iter().sum::<f64>() / shown.len().max(1) as f64;
    let how = if mean < 0.0 { "lower" } else { "higher" };
    let level = format!("{} dB {how}", fmt_db(mean.abs()).trim_start_matches('+'));
    if all_close(mean, 0.05) {
        format!(
            "{who} reaches the master {level} than it is metered ({channels}): a fader or \
             gain after the meter is not at 0 dB, so the bounced stem is not at its level in \
             the mix. Set it to 0 dB, or print the gain into the stem."
        )
    } else {
        format!(
            "{who} reaches the master with its channels at different gains ({channels}): a \
             pan or balance control after the meter is off centre, so the bounced stem is \
             not placed as in the mix. Centre it, or print the pan into the stem."
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::dynamics::DynamicsResult;
    use crate::analysis::{MasterProcessingResult, StemFit, SumFigures};
    use crate::report::fixtures::clean;
    use crate::report::input::SumInput;
    use crate::report::model::Verdict;
    use crate::report::{build_report, evaluate};

    fn fit(gain_db: f32) -> StemFit {
        StemFit {
            gain_db: vec![Some(gain_db), Some(gain_db)],
            polarity_inverted: false,
            offset_samples: Some(0),
            missing_chunks: 0,
        }
    }

    /// The clean fixture with a clean analysis: everything nulls, nothing limited.
    fn analysed() -> ReportInput {
        let mut input = clean();
        let none = DynamicsResult::default();
        input.master.dynamics = Some(none);
        for stem in &mut input.stems {
            stem.dynamics = Some(none);
            stem.fit = Some(fit(0.0));
        }
        input.sum = Some(SumInput {
            figures: SumFigures {
                null_depth_db: Some(-140.0),
                null_depth_fitted_db: Some(-140.0),
                unaccounted_db: Some(-140.0),
                cancellation_db: Some(0.1),
                compared_frames: 48_000,
                ..Default::default()
            },
            sum_true_peak_dbtp: Some(-4.5),
        });
        input
    }

    fn ids(input: &ReportInput) -> Vec<(String, Option<String>, Severity)> {
        evaluate(input)
            .into_iter()
            .filter(|f| f.severity != Severity::Info)
            .map(|f| (f.id, f.stem, f.severity))
            .collect()
    }

    fn stem_mut<'a>(input: &'a mut ReportInput, name: &str) -> &'a mut BusInput {
        input.stems.iter_mut().find(|s| s.name == name).unwrap()
    }

    fn sum_mut(input: &mut ReportInput) -> &mut SumFigures {
        &mut input.sum.as_mut().unwrap().figures
    }

    #[test]
    fn a_clean_analysed_session_is_ready_and_reports_its_figures() {
        let input = analysed();
        assert!(ids(&input).is_empty(), "{:?}", ids(&input));
        let report = build_report(&input);
        assert_eq!(report.verdict, Verdict::Ready);
        assert_eq!(report.sum.null_depth_db, Some(-140.0));
        assert_eq!(report.sum.sum_true_peak_dbtp, Some(-4.5));
        assert_eq!(report.sum.compared_frames, Some(48_000));
        let kick = report.stems.iter().find(|s| s.name == "01_Kick").unwrap();
        assert_eq!(kick.gain_db, Some(vec![Some(0.0), Some(0.0)]));
        assert_eq!(kick.offset_samples, Some(0));
        assert_eq!(kick.polarity_inverted, Some(false));
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["stems"][0]["limiter"]["verdict"], "none");
        assert_eq!(json["master"]["limiter"]["verdict"], "none");
    }

    #[test]
    fn the_read_me_shows_the_analysis() {
        let mut input = analysed();
        stem_mut(&mut input, "02_Bass")
            .fit
            .as_mut()
            .unwrap()
            .offset_samples = Some(7);
        stem_mut(&mut input, "02_Bass").dynamics = Some(DynamicsResult {
            verdict: DynamicsVerdict::Limited,
            confidence: 0.8,
            ceiling_dbfs: Some(-9.5),
        });
        let md = crate::report::render_markdown(&build_report(&input));
        assert!(md.contains("| null depth | -140.00 |"), "{md}");
        assert!(md.contains("| 02_Bass | +0.00 / +0.00 | 7 | no |"), "{md}");
        assert!(
            md.contains("| 02_Bass | **limited** | 0.80 | -9.50 | — |"),
            "{md}"
        );
        assert!(md.contains("| Master | none | 0.00 | — | — |"), "{md}");
        assert!(!md.contains("Not measured"), "{md}");
    }

    #[test]
    fn offset_polarity_and_gain_name_their_stem() {
        let mut input = analysed();
        stem_mut(&mut input, "02_Bass")
            .fit
            .as_mut()
            .unwrap()
            .offset_samples = Some(-17);
        stem_mut(&mut input, "03_Keys")
            .fit
            .as_mut()
            .unwrap()
            .polarity_inverted = true;
        stem_mut(&mut input, "01_Kick").fit = Some(fit(-2.0));
        let findings = evaluate(&input);
        let offset = findings.iter().find(|f| f.id == id::SUM_OFFSET).unwrap();
        assert_eq!(offset.stem.as_deref(), Some("02_Bass"));
        assert_eq!(offset.value, Some(-17.0));
        assert!(
            offset.message.contains("17 samples early"),
            "{}",
            offset.message
        );
        let flip = findings.iter().find(|f| f.id == id::SUM_POLARITY).unwrap();
        assert_eq!(
            (flip.stem.as_deref(), flip.severity),
            (Some("03_Keys"), Severity::Fail)
        );
        let gain = findings.iter().find(|f| f.id == id::SUM_GAIN).unwrap();
        assert_eq!(
            (gain.stem.as_deref(), gain.value),
            (Some("01_Kick"), Some(-2.0))
        );
        assert_eq!(gain.severity, Severity::Warn);
        assert!(
            gain.message
                .contains("2.0 dB lower than it is metered (-2.0 dB left, -2.0 dB right)")
                && gain.message.contains("fader"),
            "{}",
            gain.message
        );
        // 0.1 dB is still unity (the rule is "> 0.1 dB").
        stem_mut(&mut input, "01_Kick").fit = Some(fit(0.1));
        assert!(!evaluate(&input).iter().any(|f| f.id == id::SUM_GAIN));
    }

    #[test]
    fn a_gain_names_its_likely_cause() {
        let message = |gains: Vec<Option<f32>>| {
            let mut input = analysed();
            stem_mut(&mut input, "01_Kick")
                .fit
                .as_mut()
                .unwrap()
                .gain_db = gains;
            evaluate(&input)
                .into_iter()
                .find(|f| f.id == id::SUM_GAIN)
                .map(|f| f.message)
                .unwrap_or_default()
        };
        // A track feeding its bus and the master in parallel: exactly double, not a fader.
        let twice = message(vec![Some(6.02), Some(6.03)]);
        assert!(
            twice.contains("twice") && twice.contains("second path"),
            "{twice}"
        );
        assert!(!twice.contains("fader"), "{twice}");
        let pan = message(vec![Some(0.0), Some(-3.0)]);
        assert!(
            pan.contains("pan") && pan.contains("-3.0 dB right"),
            "{pan}"
        );
        let up = message(vec![Some(1.5), Some(1.5)]);
        assert!(up.contains("1.5 dB higher"), "{up}");
    }

    #[test]
    fn unaccounted_signal_names_the_stem_it_follows() {
        let message = |kick_gain: f32| {
            let mut input = analysed();
            *sum_mut(&mut input) = SumFigures {
                null_depth_db: Some(-20.0),
                null_depth_fitted_db: Some(-22.0),
                unaccounted_db: Some(-22.0),
                compared_frames: 1,
                ..Default::default()
            };
            stem_mut(&mut input, "01_Kick").fit = Some(fit(kick_gain));
            evaluate(&input)
                .into_iter()
                .find(|f| f.id == id::SUM_UNACCOUNTED)
                .expect("unaccounted")
                .message
        };
        // A delayed, filtered copy of the kick after its meter: the kick's gain leans 1.8 dB.
        let follows = message(1.8);
        assert!(follows.contains("it follows 01_Kick"), "{follows}");
        assert!(follows.contains("1.8 dB off unity"), "{follows}");
        // A track of its own routed around the stems: every gain at unity, no stem named.
        let own = message(0.05);
        assert!(
            own.contains("without passing through a metered stem"),
            "{own}"
        );
        assert!(!own.contains("01_Kick"), "{own}");
    }

    #[test]
    fn null_unaccounted_and_cancellation_use_their_thresholds() {
        let mut input = analysed();
        *sum_mut(&mut input) = SumFigures {
            null_depth_db: Some(-14.0),
            null_depth_fitted_db: Some(-14.0),
            unaccounted_db: Some(-14.0),
            cancellation_db: Some(-6.0),
            compared_frames: 1,
            ..Default::default()
        };
        // The gains cannot be trusted when the fit leaves a residual like this.
        stem_mut(&mut input, "01_Kick").fit = Some(fit(0.4));
        let got = ids(&input);
        assert!(
            got.contains(&(id::SUM_NULL.into(), None, Severity::Fail)),
            "{got:?}"
        );
        assert!(got.contains(&(id::SUM_UNACCOUNTED.into(), None, Severity::Fail)));
        assert!(got.contains(&(id::SUM_CANCELLATION.into(), None, Severity::Warn)));
        assert!(!got.iter().any(|f| f.0 == id::SUM_GAIN), "{got:?}");
        // Just inside the tolerance: nothing.
        *sum_mut(&mut input) = SumFigures {
            null_depth_db: Some(-60.0),
            null_depth_fitted_db: Some(-60.0),
            unaccounted_db: Some(-60.0),
            cancellation_db: Some(-3.0),
            compared_frames: 1,
            ..Default::default()
        };
        stem_mut(&mut input, "01_Kick").fit = Some(fit(0.0));
        assert!(ids(&input).is_empty(), "{:?}", ids(&input));
        // Nothing compared: no sum-check verdicts at all.
        *sum_mut(&mut input) = SumFigures {
            null_depth_db: None,
            compared_frames: 0,
            ..Default::default()
        };
        assert!(ids(&input).is_empty(), "{:?}", ids(&input));
    }

    #[test]
    fn master_processing_is_reported_instead_of_unaccounted_signal() {
        let mut input = analysed();
        *sum_mut(&mut input) = SumFigures {
            null_depth_db: Some(-8.0),
            null_depth_fitted_db: Some(-17.0),
            unaccounted_db: Some(-17.0),
            cancellation_db: Some(0.0),
            compared_frames: 1,
            master_processing: MasterProcessingResult {
                detected: true,
                gain_reduction_db: Some(5.5),
                confidence: 0.9,
            },
            ..Default::default()
        };
        let got = ids(&input);
        assert!(
            got.contains(&(id::LIMITER_MASTER.into(), None, Severity::Fail)),
            "{got:?}"
        );
        assert!(!got.iter().any(|f| f.0 == id::SUM_UNACCOUNTED), "{got:?}");
        let report = build_report(&input);
        assert_eq!(report.master.limiter.gain_reduction_db, Some(5.5));
        assert_eq!(
            report.master.limiter.verdict,
            Some(crate::report::LimiterVerdict::Limited)
        );
        assert_eq!(report.verdict, Verdict::NotReady);
    }

    #[test]
    fn limited_and_clipped_stems() {
        let mut input = analysed();
        stem_mut(&mut input, "02_Bass").dynamics = Some(DynamicsResult {
            verdict: DynamicsVerdict::Limited,
            confidence: 0.8,
            ceiling_dbfs: Some(-9.5),
        });
        let clipped = DynamicsResult {
            verdict: DynamicsVerdict::Clipped,
            confidence: 0.9,
            ceiling_dbfs: Some(-8.0),
        };
        stem_mut(&mut input, "01_Kick").dynamics = Some(clipped);
        let got = ids(&input);
        assert!(got.contains(&(
            id::LIMITER_STEM.into(),
            Some("02_Bass".into()),
            Severity::Warn
        )));
        assert!(got.contains(&(
            super::super::rules::id::CLIP_FLAT_TOP.into(),
            Some("01_Kick".into()),
            Severity::Fail
        )));
        assert_eq!(build_report(&input).verdict, Verdict::NotReady);
        // The meters already counted the flat tops: one finding, not two.
        stem_mut(&mut input, "01_Kick").reading.flat_tops.count = 3;
        let flat = evaluate(&input)
            .into_iter()
            .filter(|f| f.id == super::super::rules::id::CLIP_FLAT_TOP)
            .count();
        assert_eq!(flat, 1);
        // A limited master's own signal is a master finding.
        let mut input = analysed();
        input.master.dynamics = Some(DynamicsResult {
            verdict: DynamicsVerdict::Limited,
            confidence: 0.9,
            ceiling_dbfs: Some(-1.0),
        });
        assert!(ids(&input).contains(&(id::LIMITER_MASTER.into(), None, Severity::Fail)));
    }
}
