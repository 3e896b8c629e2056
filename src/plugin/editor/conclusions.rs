//! On a stem: what the master concluded about it (limiter verdict, gain, offset, polarity,
//! and the findings that name it), so the engineer sees it on the bus they are working on.

use super::findings;
use super::theme::{self, Sizes};
use crate::plugin::bulletin::{Posting, StemConclusion};
use crate::plugin::readout::{format_db, Tone, NO_VALUE};
use crate::report::LimiterVerdict;
use egui::{RichText, Ui};

/// The sentence(s) and rows for one stem's conclusions (testable without a window).
pub fn rows(c: &StemConclusion) -> Vec<(&'static str, String, Tone)> {
    let s = &c.stem;
    let clipped = s.levels.clipped_samples > 0 || s.levels.flat_tops > 0;
    let dynamics = match (s.limiter.verdict, s.limiter.ceiling_dbfs) {
        _ if clipped => (
            format!(
                "clipped: {} samples at full scale, {} flat tops",
                s.levels.clipped_samples, s.levels.flat_tops
            ),
            Tone::Fault,
        ),
        (None, _) => (NO_VALUE.to_owned(), Tone::Idle),
        (Some(LimiterVerdict::Unprocessed), _) => {
            ("no limiting or clipping".into(), Tone::InWindow)
        }
        (Some(LimiterVerdict::Limited), c) => (
            format!(
                "limited, peaks pile up at {} dBFS",
                format_db(c.map(|c| c as f32))
            ),
            Tone::Over,
        ),
        (Some(LimiterVerdict::Clipped), c) => (
            format!("clipped at {} dBFS", format_db(c.map(|c| c as f32))),
            Tone::Fault,
        ),
    };
    let gain = match &s.gain_db {
        None => (NO_VALUE.to_owned(), Tone::Idle),
        Some(g) => {
            let off = g.iter().flatten().any(|g| g.abs() > 0.1);
            let text = g
                .iter()
                .map(|g| format!("{} dB", format_db(g.map(|g| g as f32))))
                .collect::<Vec<_>>()
                .join("  /  ");
            (text, if off { Tone::Over } else { Tone::InWindow })
        }
    };
    let offset = match s.offset_samples {
        None => (NO_VALUE.to_owned(), Tone::Idle),
        Some(0) => ("0 samples: lined up".into(), Tone::InWindow),
        Some(k) if k > 0 => (format!("{k} samples late"), Tone::Fault),
        Some(k) => (format!("{} samples early", -k), Tone::Fault),
    };
    let polarity = match s.polarity_inverted {
        None => (NO_VALUE.to_owned(), Tone::Idle),
        Some(false) => ("as metered".into(), Tone::InWindow),
        Some(true) => ("inverted".into(), Tone::Fault),
    };
    vec![
        ("Dynamics", dynamics.0, dynamics.1),
        ("Gain to the master", gain.0, gain.1),
        ("Offset", offset.0, offset.1),
        ("Polarity", polarity.0, polarity.1),
    ]
}

/// Draws the section's content.
pub fn show(
    ui: &mut Ui,
    s: &Sizes,
    found: Option<&(std::sync::Arc<Posting>, Option<StemConclusion>)>,
) {
    let Some((posting, mine)) = found else {
        ui.label(
            RichText::new(
                "No master in this process yet. Set the instance on the master bus to Master: \
                 its sum-check then shows here what reaches the mix from this stem.",
            )
            .color(theme::TEXT_DIM),
        );
        return;
    };
    let analysed = |c: &StemConclusion| {
        c.stem.limiter.verdict.is_some()
            || c.stem.gain_db.is_some()
            || c.stem.offset_samples.is_some()
    };
    let Some(c) = mine
        .as_ref()
        .filter(|c| analysed(c) || !c.findings.is_empty())
    else {
        ui.label(
            RichText::new(format!(
                "{} has not analysed this stem yet: play the session.",
                posting.master
            ))
            .color(theme::TEXT_DIM),
        );
        return;
    };
    ui.label(
        RichText::new(format!("As {} hears this stem:", posting.master)).color(theme::TEXT_DIM),
    );
    egui::Grid::new("conclusions")
        .num_columns(2)
        .spacing([14.0 * s.scale, 5.0 * s.scale])
        .show(ui, |ui| {
            for (k, v, tone) in rows(c) {
                ui.label(RichText::new(k).color(theme::TEXT_DIM));
                let colour = if tone == Tone::Idle {
                    theme::TEXT_DIM
                } else {
                    theme::tone(tone)
                };
                ui.label(RichText::new(v).color(colour));
                ui.end_row();
            }
        });
    if !c.findings.is_empty() {
        ui.add_space(4.0);
        findings::list(ui, s, &c.findings, false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::dynamics::{DynamicsResult, DynamicsVerdict};
    use crate::analysis::StemFit;
    use crate::plugin::bulletin;
    use crate::report::build_report;
    use crate::report::fixtures::clean;

    #[test]
    fn a_stem_reads_what_the_master_concluded_about_it() {
        let mut input = clean();
        let keys = input
            .stems
            .iter_mut()
            .find(|s| s.name == "03_Keys")
            .unwrap();
        keys.dynamics = Some(DynamicsResult {
            verdict: DynamicsVerdict::Limited,
            confidence: 0.9,
            ceiling_dbfs: Some(-0.3),
        });
        keys.fit = Some(StemFit {
            gain_db: vec![Some(-2.0), Some(-2.0)],
            polarity_inverted: false,
            offset_samples: Some(7),
            missing_chunks: 0,
        });
        let report = build_report(&input);
        // Slot 3 is 03_Keys; an unlikely generation keeps other tests' postings apart.
        bulletin::post(&report, Some(0), |slot| Some(9_000 + slot as u64));
        let (posting, mine) = bulletin::read(3, 9_003).expect("a fresh posting");
        assert_eq!(posting.master, "Master");
        let mine = mine.expect("03_Keys was analysed");
        let rows = rows(&mine);
        let text = |k: &str| rows.iter().find(|r| r.0 == k).unwrap().1.clone();
        assert!(text("Dynamics").starts_with("limited"), "{rows:?}");
        assert!(text("Dynamics").contains("\u{2212}0.3"), "{rows:?}");
        assert_eq!(text("Offset"), "7 samples late");
        assert!(text("Gain to the master").contains("\u{2212}2.0 dB"));
        assert!(mine.findings.iter().any(|f| f.id == "limiter.stem"));
        assert!(mine
            .findings
            .iter()
            .all(|f| f.stem.as_deref() == Some("03_Keys")));
        // Another claim of the same slot is another stem.
        assert!(bulletin::read(3, 1).is_some_and(|(_, m)| m.is_none()));
    }
}
