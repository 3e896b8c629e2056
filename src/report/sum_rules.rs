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
                format!(
                    "The master carries signal that no stem explains ({} dB relative to the \
                     master): a track, return or bus reaches the master without passing \
                     through a metered stem. Route it through a stem, or add one for it.",
                    fmt_db(u)
                ),
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
    for stem in &input.stems {
        if let Some(fit) = &stem.fit {
            fit_rules(stem, fit, out);
        }
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
                d.ceiling_dbfs.map_or("one level".into(), |c| fmt_db(f64::from(c)))
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
                d.ceiling_dbfs.map_or("one level".into(), |c| fmt_db(f64::from(c))),
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

fn fit_rules(stem: &BusInput, fit: &crate::analysis::StemFit, out: &mut Vec<Finding>) {
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
        .map(|&g| f64::from(g))
        .fold(None, |w: Option<f64>, g| match w {
            Some(w) if w.abs() >= g.abs() => Some(w),
            _ => Some(g),
        });
    if let Some(g) = worst.filter(|g| g.abs() > GAIN_TOLERANCE_DB) {
        let per_channel: Vec<String> = fit
            .gain_db
            .iter()
            .map(|g| g.map_or("-".into(), |g| format!("{} dB", fmt_db(f64::from(g)))))
            .collect();
        out.push(finding(
            id::SUM_GAIN,
            Severity::Warn,
            Some(stem),
            format!(
                "{who} reaches the master at {} ({}): its fader or pan after the meter is not \
                 at unity, so the bounced stem is not at its level in the mix. Set it to 0 dB \
                 and centre, or print the gain into the stem.",
                fmt_db(g),
                per_channel.join(" / ")
            ),
            Some(g),
            Some(GAIN_TOLERANCE_DB),
        ));
    }
}
