//! From the readings to the report: converts every bus's snapshot into the report's units and
//! runs the rules.

use super::brief::stem_note;
use super::checklist::checklist;
use super::file_model::FilesReport;
use super::input::{BusInput, ReportInput, SumInput, Thresholds};
use super::model::{
    BusLevels, LimiterReport, LimiterVerdict, LoudnessReport, MasterReport, Pass, RenderModeReport,
    Report, StemReport, SumReport, ThresholdsReport, UncheckedReason, Verdict, SCHEMA,
};
use super::order::sort_stems;
use super::pass::pass_of;
use super::rules::evaluate;
use super::session_report::session_report;
use super::stamp::format_utc;
use super::units::{level_db, position, rate_hz, round};
use crate::analysis::coverage::{Coverage, RenderMode, Unchecked};
use crate::analysis::dynamics::{DynamicsResult, DynamicsVerdict};
use crate::analysis::MasterProcessingResult;
use crate::dsp::level::{to_db, WindowStatus};
use crate::dsp::snapshot::MeterSnapshot;

/// Builds the whole report: stems sorted by name then slot, the session's sample rate from the
/// master, every finding and the verdict. Limiter and sum-check fields are `null` until a pass
/// has been analysed.
pub fn build_report(input: &ReportInput) -> Report {
    let master = &input.master;
    let t = &input.thresholds;
    let master_hz = rate_hz(master.reading.sample_rate);
    let findings = evaluate(input);
    let pass = with_coverage(pass_of(&master.reading), input.coverage.as_ref());
    let mut report = Report {
        schema: SCHEMA.into(),
        plugin_version: input.plugin_version.clone(),
        created_utc: format_utc(input.created),
        sample_rate: master_hz,
        pass,
        verdict: Verdict::from_findings(&findings),
        thresholds: thresholds(t),
        master: MasterReport {
            name: master.name.clone(),
            levels: levels(&master.reading, t),
            limiter: LimiterReport {
                unseen_frames: master.unseen_frames,
                ..master_limiter(
                    master.dynamics.as_ref(),
                    input.sum.as_ref().map(|s| &s.figures.master_processing),
                )
            },
        },
        stems: sort_stems(&input.stems)
            .into_iter()
            .map(|s| stem(s, master_hz, t))
            .collect(),
        sum: SumReport {
            unchecked_frames: input.coverage.as_ref().map(Coverage::sum_unchecked),
            ..input.sum.as_ref().map(sum_report).unwrap_or_default()
        },
        findings,
        files: input.files.as_ref().map(FilesReport::new),
        session: session_report(
            input.delivery.session.as_ref(),
            &input.delivery.host_track_name,
            &pass,
            master_hz,
        ),
        brief: input.delivery.brief.report(),
        checklist: Vec::new(),
    };
    report.checklist = checklist(&report);
    report
}

fn thresholds(t: &Thresholds) -> ThresholdsReport {
    let (low, high) = t.window();
    let db = |v: f32| round(f64::from(v), 2);
    ThresholdsReport {
        window_low_db: db(low),
        window_high_db: db(high),
        tp_ceiling_db: db(t.tp_ceiling_db),
        null_tolerance_db: db(t.null_tolerance_db),
    }
}

fn stem(bus: &BusInput, master_hz: Option<u32>, t: &Thresholds) -> StemReport {
    let sample_rate = rate_hz(bus.reading.sample_rate);
    StemReport {
        name: bus.name.clone(),
        slot: bus.slot,
        sample_rate,
        sample_rate_mismatch: matches!((sample_rate, master_hz), (Some(a), Some(b)) if a != b),
        alive: bus.alive,
        levels: levels(&bus.reading, t),
        limiter: LimiterReport {
            unseen_frames: bus.unseen_frames,
            ..bus.dynamics.as_ref().map(limiter).unwrap_or_default()
        },
        gain_db: bus.fit.as_ref().map(|f| {
            f.gain_db
                .iter()
                .map(|g| g.map(|g| round(f64::from(g), 2)))
                .collect()
        }),
        offset_samples: bus.fit.as_ref().and_then(|f| f.offset_samples),
        polarity_inverted: bus.fit.as_ref().map(|f| f.polarity_inverted),
        note: stem_note(&bus.note),
    }
}

/// A bus's own limiter / clipper verdict.
fn limiter(d: &DynamicsResult) -> LimiterReport {
    LimiterReport {
        verdict: Some(match d.verdict {
            DynamicsVerdict::None => LimiterVerdict::Unprocessed,
            DynamicsVerdict::Limited => LimiterVerdict::Limited,
            DynamicsVerdict::Clipped => LimiterVerdict::Clipped,
        }),
        confidence: Some(round(f64::from(d.confidence), 2)),
        ceiling_dbfs: d.ceiling_dbfs.map(|c| round(f64::from(c), 2)),
        gain_reduction_db: None,
        unseen_frames: None,
    }
}

/// The pass with how the master's analysis covered it.
fn with_coverage(pass: Pass, coverage: Option<&Coverage>) -> Pass {
    let Some(c) = coverage else {
        return pass;
    };
    Pass {
        render_mode: Some(match c.render_mode {
            RenderMode::Realtime => RenderModeReport::Realtime,
            RenderMode::Offline => RenderModeReport::Offline,
        }),
        render_mode_inferred: Some(c.inferred),
        speed: c.speed.map(|v| round(f64::from(v), 1)),
        analysed_frames: Some(c.pass_frames()),
        unchecked_frames: Some(c.unchecked()),
        unchecked_reason: c.reason().map(|r| match r {
            Unchecked::Outran => UncheckedReason::Outran,
            Unchecked::Missing => UncheckedReason::Missing,
            Unchecked::Pending => UncheckedReason::Pending,
        }),
        ..pass
    }
}

/// The master's verdict: its own signal, and the comparison with the stems, which also gives
/// the gain reduction. Processing found by the comparison makes it "limited" even when the
/// master's own peaks do not pile up (a compressor, a soft limiter).
fn master_limiter(
    own: Option<&DynamicsResult>,
    processing: Option<&MasterProcessingResult>,
) -> LimiterReport {
    let mut report = own.map(limiter).unwrap_or_default();
    if let Some(p) = processing {
        report.gain_reduction_db = p.gain_reduction_db.map(|g| round(f64::from(g), 2));
        if p.detected && report.verdict != Some(LimiterVerdict::Clipped) {
            report.verdict = Some(LimiterVerdict::Limited);
            let c = report.confidence.unwrap_or(0.0);
            report.confidence = Some(round(c.max(f64::from(p.confidence)), 2));
        }
    }
    report
}

/// The session-wide sum-check figures.
fn sum_report(s: &SumInput) -> SumReport {
    let db = |v: Option<f32>| v.map(|v| round(f64::from(v), 2));
    let f = &s.figures;
    SumReport {
        null_depth_db: db(f.null_depth_db),
        null_depth_fitted_db: db(f.null_depth_fitted_db),
        unaccounted_db: db(f.unaccounted_db),
        cancellation_db: db(f.cancellation_db),
        sum_true_peak_dbtp: db(s.sum_true_peak_dbtp),
        compared_frames: Some(f.compared_frames),
        skipped_frames: Some(f.skipped_frames),
        unchecked_frames: None,
    }
}

/// A finite f32 as a rounded f64; anything else as zero. JSON has no NaN, and serde_json
/// would write `null` where the schema promises a number.
fn finite(v: f32, decimals: i32) -> f64 {
    if v.is_finite() {
        round(f64::from(v), decimals)
    } else {
        0.0
    }
}

fn levels(r: &MeterSnapshot, t: &Thresholds) -> BusLevels {
    let n = r.channel_count();
    let (low, high) = t.window();
    let max_tp = r.max_true_peak();
    let dc: Vec<f64> = r.dc_offset[..n].iter().map(|&v| finite(v, 6)).collect();
    BusLevels {
        channels: r.channels,
        silent: r.is_silent(),
        sample_peak_dbfs: r.sample_peak[..n].iter().map(|&v| level_db(v)).collect(),
        true_peak_dbtp: r.true_peak[..n].iter().map(|&v| level_db(v)).collect(),
        headroom_db: level_db(max_tp).map(|db| round(-db, 2)),
        window: WindowStatus::classify(to_db(max_tp), low, high),
        clipped_samples: r.clips.count,
        clip_first_samples: position(r.clips.first),
        clip_last_samples: position(r.clips.last),
        true_peak_overs: r.true_peak_overs.count,
        true_peak_over_first_samples: position(r.true_peak_overs.first),
        true_peak_over_last_samples: position(r.true_peak_overs.last),
        flat_tops: r.flat_tops.count,
        flat_top_first_samples: position(r.flat_tops.first),
        flat_top_last_samples: position(r.flat_tops.last),
        nan_inf: r.non_finite,
        dc_offset: dc
            .iter()
            .copied()
            .fold(0.0, |m, v| if v.abs() > m.abs() { v } else { m }),
        dc_offset_per_channel: dc,
        correlation: r
            .correlation()
            .filter(|c| c.is_finite())
            .map(|c| round(f64::from(c), 3)),
        loudness: loudness(r),
        unmetered: r.is_unmetered(),
        bypassed: r.is_bypassed(),
    }
}

/// The loudness object of a bus, from its snapshot.
fn loudness(r: &MeterSnapshot) -> LoudnessReport {
    let l = &r.loudness;
    let db = |v: Option<f32>| v.filter(|v| v.is_finite()).map(|v| round(f64::from(v), 2));
    LoudnessReport {
        integrated_lufs: db(l.integrated()),
        lra_lu: db(l.lra()),
        max_momentary_lufs: db(l.max_momentary()),
        max_short_term_lufs: db(l.max_short_term()),
        plr_db: db(r.plr_db()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::{bus, clean, silent};
    use crate::report::model::Severity;
    use serde_json::Value;

    fn kind(v: &Value) -> &'static str {
        match v {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }

    /// Asserts that every `(key, kind)` is present in `obj` with that JSON type.
    fn expect(obj: &Value, what: &str, keys: &[(&str, &str)]) {
        for (key, want) in keys {
            let v = obj
                .get(key)
                .unwrap_or_else(|| panic!("{what}: key `{key}` missing in {obj}"));
            assert_eq!(kind(v), *want, "{what}.{key} = {v}");
        }
    }

    fn numbers(v: &Value, what: &str, len: usize) {
        let a = v
            .as_array()
            .unwrap_or_else(|| panic!("{what} not an array"));
        assert_eq!(a.len(), len, "{what}");
        assert!(a.iter().all(Value::is_number), "{what} = {v}");
    }

    #[test]
    fn loudness_has_the_spec_names_and_silence_is_null() {
        let mut input = clean();
        input.stems.push(silent("04_Silent", 4));
        let v = serde_json::to_value(build_report(&input)).expect("serialises");
        let names = [
            ("integrated_lufs", "number"),
            ("lra_lu", "number"),
            ("max_momentary_lufs", "number"),
            ("max_short_term_lufs", "number"),
            ("plr_db", "number"),
        ];
        expect(&v["master"]["loudness"], "master.loudness", &names);
        let m = &v["master"]["loudness"];
        // Master true peak -4 dBTP, integrated 10 LU under it.
        assert_eq!(m["integrated_lufs"], -14.0);
        assert_eq!(m["plr_db"], 10.0);
        assert_eq!(m["lra_lu"], 6.0);
        assert_eq!(m["max_momentary_lufs"], -8.0);
        assert_eq!(m["max_short_term_lufs"], -10.0);
        let stems = v["stems"].as_array().expect("stems");
        let kick = stems.iter().find(|s| s["name"] == "01_Kick").expect("kick");
        expect(&kick["loudness"], "kick.loudness", &names);
        assert_eq!(kick["loudness"]["integrated_lufs"], -18.0);
        let quiet = stems
            .iter()
            .find(|s| s["name"] == "04_Silent")
            .expect("silent");
        let nulls = names.map(|(k, _)| (k, "null"));
        expect(&quiet["loudness"], "silent.loudness", &nulls);
    }

    #[test]
    fn json_has_every_spec_field_with_its_type() {
        let mut input = clean();
        input.stems.push(silent("04_Silent", 4));
        let report = build_report(&input);
        let text = serde_json::to_string(&report).expect("serialises");
        let v: Value = serde_json::from_str(&text).expect("parses");

        assert_eq!(v["schema"], "stemcheck.report/1");
        assert_eq!(v["created_utc"], "2026-01-31T12:00:00Z");
        assert_eq!(v["sample_rate"], 48000);
        expect(
            &v,
            "report",
            &[
                ("schema", "string"),
                ("plugin_version", "string"),
                ("created_utc", "string"),
                ("sample_rate", "number"),
                ("pass", "object"),
                ("verdict", "string"),
                ("master", "object"),
                ("stems", "array"),
                ("sum", "object"),
                ("findings", "array"),
            ],
        );
        assert!(["ready", "warnings", "not_ready"].contains(&v["verdict"].as_str().unwrap()));
        expect(
            &v["pass"],
            "pass",
            &[
                ("start_samples", "number"),
                ("end_samples", "number"),
                ("complete", "bool"),
            ],
        );
        assert_eq!(v["pass"]["complete"], true);

        let m = &v["master"];
        expect(
            m,
            "master",
            &[
                ("name", "string"),
                ("channels", "number"),
                ("sample_peak_dbfs", "array"),
                ("true_peak_dbtp", "array"),
                ("headroom_db", "number"),
                ("limiter", "object"),
            ],
        );
        numbers(&m["sample_peak_dbfs"], "master.sample_peak_dbfs", 2);
        numbers(&m["true_peak_dbtp"], "master.true_peak_dbtp", 2);
        assert_eq!(m["headroom_db"], 4.0);
        assert_eq!(m["true_peak_dbtp"][0], -4.0);
        assert_eq!(m["true_peak_dbtp"][1], -4.3);
        // Not measured yet: present, null.
        expect(
            &m["limiter"],
            "master.limiter",
            &[
                ("verdict", "null"),
                ("confidence", "null"),
                ("ceiling_dbfs", "null"),
                ("gain_reduction_db", "null"),
            ],
        );

        let stems = v["stems"].as_array().unwrap();
        assert_eq!(stems.len(), 4);
        for s in stems {
            expect(
                s,
                "stem",
                &[
                    ("name", "string"),
                    ("slot", "number"),
                    ("channels", "number"),
                    ("sample_rate", "number"),
                    ("alive", "bool"),
                    ("silent", "bool"),
                    ("sample_peak_dbfs", "array"),
                    ("true_peak_dbtp", "array"),
                    ("window", "string"),
                    ("clipped_samples", "number"),
                    ("true_peak_overs", "number"),
                    ("flat_tops", "number"),
                    ("nan_inf", "number"),
                    ("dc_offset", "number"),
                    ("limiter", "object"),
                    ("gain_db", "null"),
                    ("offset_samples", "null"),
                    ("polarity_inverted", "null"),
                ],
            );
            expect(
                &s["limiter"],
                "stem.limiter",
                &[
                    ("verdict", "null"),
                    ("confidence", "null"),
                    ("ceiling_dbfs", "null"),
                ],
            );
            assert!(["under", "in", "over"].contains(&s["window"].as_str().unwrap()));
        }
        let kick = &stems[0];
        assert_eq!(kick["name"], "01_Kick");
        expect(
            kick,
            "kick",
            &[("headroom_db", "number"), ("correlation", "number")],
        );
        assert_eq!(kick["headroom_db"], 8.0);
        assert_eq!(kick["window"], "under");
        assert_eq!(kick["dc_offset"], -0.0002);

        // Digital silence: null levels, never -inf.
        let quiet = &stems[3];
        assert_eq!(quiet["name"], "04_Silent");
        assert_eq!(quiet["silent"], true);
        assert_eq!(quiet["sample_peak_dbfs"], serde_json::json!([null, null]));
        assert_eq!(quiet["true_peak_dbtp"], serde_json::json!([null, null]));
        assert_eq!(quiet["headroom_db"], Value::Null);
        assert_eq!(quiet["correlation"], Value::Null);

        expect(
            &v["sum"],
            "sum",
            &[
                ("null_depth_db", "null"),
                ("null_depth_fitted_db", "null"),
                ("unaccounted_db", "null"),
                ("cancellation_db", "null"),
                ("sum_true_peak_dbtp", "null"),
            ],
        );

        let findings = v["findings"].as_array().unwrap();
        assert!(!findings.is_empty());
        for f in findings {
            expect(
                f,
                "finding",
                &[
                    ("id", "string"),
                    ("severity", "string"),
                    ("message", "string"),
                    ("threshold", "number"),
                ],
            );
            assert!(f.get("stem").is_some() && f.get("value").is_some());
            assert!(["fail", "warn", "info"].contains(&f["severity"].as_str().unwrap()));
        }
    }

    #[test]
    fn silence_and_no_pass_serialise_as_null() {
        let mut input = clean();
        input.master = silent("Master", 0);
        input.master.reading.pass_start = crate::dsp::snapshot::NO_POSITION;
        input.master.reading.pass_end = crate::dsp::snapshot::NO_POSITION;
        input.master.reading.sample_rate = 0.0;
        let v = serde_json::to_value(build_report(&input)).unwrap();
        assert_eq!(v["sample_rate"], Value::Null);
        assert_eq!(v["pass"]["start_samples"], Value::Null);
        assert_eq!(v["pass"]["end_samples"], Value::Null);
        assert_eq!(v["pass"]["complete"], false);
        assert_eq!(v["master"]["headroom_db"], Value::Null);
        assert_eq!(
            v["master"]["true_peak_dbtp"],
            serde_json::json!([null, null])
        );
    }

    #[test]
    fn non_finite_readings_never_reach_the_json_as_numbers_it_cannot_hold() {
        let mut input = clean();
        input.stems[0].reading.dc_offset = [f32::NAN, 0.5];
        input.stems[0].reading.correlation = f32::INFINITY;
        let report = build_report(&input);
        let keys = report.stems.iter().find(|s| s.name == "03_Keys").unwrap();
        assert_eq!(keys.levels.dc_offset_per_channel, vec![0.0, 0.5]);
        assert_eq!(keys.levels.dc_offset, 0.5);
        assert_eq!(keys.levels.correlation, None);
        let back: Report = serde_json::from_str(&serde_json::to_string(&report).unwrap())
            .expect("still parses: no NaN turned into null where a number belongs");
        assert_eq!(back, report);
    }

    #[test]
    fn clean_session_report_is_ready() {
        let report = build_report(&clean());
        assert_eq!(report.verdict, Verdict::Ready);
        assert!(report.findings.iter().all(|f| f.severity == Severity::Info));
        assert_eq!(report.master.levels.window, WindowStatus::In);
        assert!(report.pass.complete);
    }

    #[test]
    fn stems_sorted_by_name_then_slot() {
        let mut input = clean();
        input.stems.push(bus("01_Kick", 0, -9.0));
        input.stems.push(bus("Stem 10", 12, -9.0));
        input.stems.push(bus("Stem 9", 11, -9.0));
        let report = build_report(&input);
        let order: Vec<(&str, Option<usize>)> = report
            .stems
            .iter()
            .map(|s| (s.name.as_str(), s.slot))
            .collect();
        assert_eq!(
            order,
            [
                ("01_Kick", Some(0)),
                ("01_Kick", Some(1)),
                ("02_Bass", Some(2)),
                ("03_Keys", Some(3)),
                ("Stem 9", Some(11)),
                ("Stem 10", Some(12)),
            ]
        );
    }

    #[test]
    fn stem_figures_come_from_its_reading() {
        let mut input = clean();
        input.stems[0].reading.sample_rate = 44_100.0;
        input.stems[0].reading.clips = crate::report::fixtures::events(5, 10, 20);
        input.stems[0].reading.channels = 1;
        let report = build_report(&input);
        let keys = report.stems.iter().find(|s| s.name == "03_Keys").unwrap();
        assert_eq!(report.sample_rate, Some(48_000));
        assert_eq!(keys.sample_rate, Some(44_100));
        assert!(keys.sample_rate_mismatch);
        assert_eq!(keys.levels.clipped_samples, 5);
        assert_eq!(keys.levels.clip_first_samples, Some(10));
        assert_eq!(keys.levels.clip_last_samples, Some(20));
        assert_eq!(keys.levels.true_peak_dbtp, vec![Some(-12.0)]);
        assert_eq!(keys.levels.headroom_db, Some(12.0));
        assert_eq!(keys.levels.correlation, Some(0.97));
        assert!(!report.stems[0].sample_rate_mismatch);
    }

    #[test]
    fn round_trip_json_to_report() {
        let mut input = clean();
        input.stems.push(silent("04_Silent", 4));
        input.stems[0] = bus("03_Keys", 3, -0.5);
        let report = build_report(&input);
        let text = serde_json::to_string_pretty(&report).unwrap();
        let back: Report = serde_json::from_str(&text).expect("parses back");
        assert_eq!(back, report);
        assert_eq!(back.verdict, Verdict::NotReady);
    }
}
