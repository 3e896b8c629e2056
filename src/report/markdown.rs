//! The read-me: the report as Markdown for the person receiving the stems. Same content as the
//! JSON, laid out to be read as plain text as well as rendered.

use super::model::{
    BusLevels, Finding, LimiterReport, LimiterVerdict, Pass, RenderModeReport, Report, Severity,
    StemReport, UncheckedReason, WindowStatus,
};
use super::pass::problem;
use super::units::{fmt_db, fmt_time, plural};

/// Renders the report as a Markdown read-me. Digital silence reads "silence" and anything not
/// measured "—"; no figure is ever written as inf or NaN.
pub fn render_markdown(report: &Report) -> String {
    let mut md = Vec::new();
    let rate = report.sample_rate.map_or(0.0, f64::from);
    md.push(format!("# Stemcheck report: {}", report.verdict.banner()));
    md.push(String::new());
    summary(report, rate, &mut md);
    super::markdown_delivery::delivery(report, &mut md);
    master(report, &mut md);
    stems(report, &mut md);
    loudness(report, &mut md);
    files(report, &mut md);
    sum_check(report, &mut md);
    dynamics(report, &mut md);
    findings(&report.findings, &mut md);
    legend(&mut md);
    let mut text = md.join("\n");
    text.push('\n');
    text
}

fn summary(report: &Report, rate: f64, md: &mut Vec<String>) {
    let count = |s: Severity| report.findings.iter().filter(|f| f.severity == s).count() as u64;
    let pass = &report.pass;
    let range = match (pass.start_samples, pass.end_samples) {
        (Some(s), Some(e)) => format!(
            "{} to {} (samples {s} to {e})",
            fmt_time(s, rate),
            fmt_time(e, rate)
        ),
        _ => "nothing played".into(),
    };
    let state =
        problem(pass, rate).map_or("complete".to_string(), |why| format!("incomplete: {why}"));
    let t = &report.thresholds;
    md.extend([
        "| | |".into(),
        "|---|---|".into(),
        format!(
            "| Verdict | **{}** ({}, {}, {}) |",
            report.verdict.banner(),
            plural(count(Severity::Fail), "fail", "fails"),
            plural(count(Severity::Warn), "warning", "warnings"),
            plural(count(Severity::Info), "note", "notes"),
        ),
        format!(
            "| Created | {} |",
            report.created_utc.replace('T', " ").replace('Z', " UTC")
        ),
        format!(
            "| Plugin | Stemcheck {} (report schema `{}`) |",
            cell(&report.plugin_version),
            report.schema
        ),
        format!(
            "| Sample rate | {} |",
            report
                .sample_rate
                .map_or("unknown".into(), |r| format!("{r} Hz"))
        ),
        format!("| Pass | {range}, {state} |"),
    ]);
    md.extend(coverage_row(pass));
    md.extend([
        format!(
            "| Thresholds | window {} to {} dBFS, true-peak ceiling {} dBTP, null tolerance {} dB |",
            fmt_db(t.window_low_db),
            fmt_db(t.window_high_db),
            fmt_db(t.tp_ceiling_db),
            fmt_db(t.null_tolerance_db),
        ),
        String::new(),
    ]);
}

/// How the host ran the pass and how much of it the analysis saw.
fn coverage_row(pass: &Pass) -> Option<String> {
    let mode = pass.render_mode?;
    let mode = match (mode, pass.render_mode_inferred) {
        (RenderModeReport::Offline, Some(true)) => "offline render (inferred from its speed)",
        (RenderModeReport::Offline, _) => "offline render",
        (RenderModeReport::Realtime, _) => "real time",
    };
    let speed = pass
        .speed
        .map_or(String::new(), |s| format!(" at {s:.1}× real time"));
    let checked = match (pass.unchecked_frames, pass.analysed_frames) {
        (Some(0), Some(n)) => format!("every frame ({n} per channel)"),
        (Some(u), Some(n)) if n > 0 => format!(
            "**{u} of {n} frames unchecked ({:.1} %)**{}; the sum-check figures and limiter \
             verdicts cover the rest",
            100.0 * u as f64 / n as f64,
            match pass.unchecked_reason {
                Some(UncheckedReason::Outran) => ": the host ran ahead of the analysis",
                Some(UncheckedReason::Missing) => ": stems had not produced them",
                Some(UncheckedReason::Pending) => ": not read yet when the report was made",
                None => "",
            }
        ),
        _ => "nothing yet".into(),
    };
    Some(format!("| Checked | {checked}; {mode}{speed} |"))
}

const LEVEL_HEADER: &str = "| channels | sample peak (dBFS) | true peak (dBTP) | headroom (dB) | \
                            window | clips | TP overs | flat tops | NaN/Inf |";
const LEVEL_RULE: &str = "|---:|---:|---:|---:|---|---:|---:|---:|---:|";

/// The cells every bus has, in [`LEVEL_HEADER`]'s order.
fn level_cells(l: &BusLevels) -> String {
    format!(
        " {} | {} | {} | {} | {} | {} | {} | {} | {} |",
        l.channels,
        per_channel(&l.sample_peak_dbfs),
        per_channel(&l.true_peak_dbtp),
        l.headroom_db.map_or("—".into(), |h| format!("{h:.2}")),
        window(l.window),
        l.clipped_samples,
        l.true_peak_overs,
        l.flat_tops,
        l.nan_inf,
    )
}

fn master(report: &Report, md: &mut Vec<String>) {
    let m = &report.master;
    md.push("## Master".into());
    md.push(String::new());
    md.push(format!("| name {LEVEL_HEADER} DC offset | correlation |"));
    md.push(format!("|---{LEVEL_RULE}---:|---:|"));
    md.push(format!(
        "| {} |{} {:.6} | {} |",
        cell(&m.name),
        level_cells(&m.levels),
        m.levels.dc_offset,
        m.levels
            .correlation
            .map_or("—".into(), |c| format!("{c:.3}")),
    ));
    md.push(String::new());
}

fn stems(report: &Report, md: &mut Vec<String>) {
    md.push(format!("## Stems ({} visible)", report.stems.len()));
    md.push(String::new());
    if report.stems.is_empty() {
        md.push(
            "The master saw no stems. Stemcheck instances see each other only inside one host \
             process: hosts that run plugins in separate processes keep them apart."
                .into(),
        );
        md.push(String::new());
        return;
    }
    md.push(format!("| name | slot | rate (Hz) {LEVEL_HEADER} alive |"));
    md.push(format!("|---|---:|---:{LEVEL_RULE}---|"));
    for s in &report.stems {
        md.push(format!(
            "| {} | {} | {} |{} {} |",
            cell(&s.name),
            s.slot.map_or("—".into(), |v| v.to_string()),
            stem_rate(s),
            level_cells(&s.levels),
            if !s.alive {
                "**stale**"
            } else if s.levels.unmetered {
                "**not metering**"
            } else if s.levels.bypassed {
                "**bypassed**"
            } else {
                "yes"
            },
        ));
    }
    md.push(String::new());
}

/// Loudness of the master and every stem: how loud each part is, for the mastering engineer.
fn loudness(report: &Report, md: &mut Vec<String>) {
    md.push("## Loudness".into());
    md.push(String::new());
    md.push(
        "| bus | integrated (LUFS) | LRA (LU) | max momentary (LUFS) | max short-term (LUFS) | \
         PLR (dB) |"
            .into(),
    );
    md.push("|---|---:|---:|---:|---:|---:|".into());
    let buses = std::iter::once((&report.master.name, &report.master.levels))
        .chain(report.stems.iter().map(|s| (&s.name, &s.levels)));
    for (name, levels) in buses {
        let l = &levels.loudness;
        md.push(format!(
            "| {} | {} | {} | {} | {} | {} |",
            cell(name),
            db(l.integrated_lufs),
            l.lra_lu.map_or("—".into(), |v| format!("{v:.2}")),
            db(l.max_momentary_lufs),
            db(l.max_short_term_lufs),
            l.plr_db.map_or("—".into(), |v| format!("{v:.2}")),
        ));
    }
    md.push(String::new());
}

/// The delivered files, when the command-line checker wrote the report.
fn files(report: &Report, md: &mut Vec<String>) {
    let Some(files) = &report.files else { return };
    md.push("## Files".into());
    md.push(String::new());
    md.push(format!(
        "Silence is at or below {} dBFS; expected: at least {} s of pre-roll, {}–{} s of tail.",
        fmt_db(files.silence_threshold_dbfs),
        files.preroll_min_s,
        files.tail_min_s,
        files.tail_max_s
    ));
    md.push(String::new());
    md.push(
        "| name | file | format | rate (Hz) | channels | length (samples) | duration (s) | \
         pre-roll (s) | tail (s) | start (BWF) |"
            .into(),
    );
    md.push("|---|---|---|---:|---:|---:|---:|---:|---:|---:|".into());
    let secs = |v: Option<f64>| v.map_or("silent".into(), |v| format!("{v:.3}"));
    for f in files.stems.iter().chain(&files.mix) {
        md.push(format!(
            "| {} | {} | {} {}-bit {} | {} | {}{} | {} | {:.3} | {} | {} | {} |",
            cell(&f.name),
            cell(&f.file),
            f.container,
            f.bit_depth,
            f.encoding,
            f.sample_rate,
            f.channels,
            if f.dual_mono { " (dual mono)" } else { "" },
            f.length_samples,
            f.duration_s,
            secs(f.leading_silence_s),
            secs(f.tail_s),
            bwf_start(f),
        ));
    }
    md.push(String::new());
    if let Some(text) = mix_sentence(files) {
        md.push(text);
        md.push(String::new());
    }
}

/// A file's BWF start as `hh:mm:ss.mmm (samples)`, or `none`.
fn bwf_start(f: &super::model::FileReport) -> String {
    f.time_reference_samples.map_or("none".into(), |t| {
        format!(
            "{} ({t})",
            super::file_rules::fmt_time_of_day(t, f.sample_rate)
        )
    })
}

/// How the mix was chosen, when it was not given.
fn mix_sentence(files: &super::model::FilesReport) -> Option<String> {
    let d = files.mix_detection.as_ref()?;
    let line = |c: &super::file_mix::CandidateReport| {
        format!(
            "{} ({}: null {}, {} after a gain fit)",
            cell(&c.name),
            c.role.replace('_', " "),
            c.null_db.map_or("—".into(), |v| format!("{v:.1} dB")),
            c.likeness_db.map_or("—".into(), |v| format!("{v:.1} dB")),
        )
    };
    let considered: Vec<String> = d.candidates.iter().map(line).collect();
    let head = match (d.method.as_str(), &d.mix) {
        ("given", Some(m)) => format!("The mix, {}, was given.", cell(m)),
        ("found", Some(m)) => format!(
            "The mix, {}, was found among the files: it was compared with the sum of the others \
             over the first {:.2} s.",
            cell(m),
            d.compared_s
        ),
        _ => format!(
            "No mix was given and none of the files is one (compared over the first {:.2} s): \
             the stems are compared with their own sum.",
            d.compared_s
        ),
    };
    if considered.is_empty() {
        Some(head)
    } else {
        Some(format!(
            "{head} Files considered as the mix: {}.",
            considered.join("; ")
        ))
    }
}

fn stem_rate(s: &StemReport) -> String {
    match (s.sample_rate, s.sample_rate_mismatch) {
        (Some(r), true) => format!("**{r}** (differs)"),
        (Some(r), false) => r.to_string(),
        (None, _) => "—".into(),
    }
}

fn sum_check(report: &Report, md: &mut Vec<String>) {
    md.push("## Sum-check".into());
    md.push(String::new());
    let s = &report.sum;
    if !s.is_measured() {
        md.push(
            "Not measured: the master had not analysed any audio of this pass when the report \
             was written. Play the session with the master instance running, then write the \
             report."
                .into(),
        );
        md.push(String::new());
        return;
    }
    md.extend([
        "| figure | dB |".into(),
        "|---|---:|".into(),
        format!("| null depth | {} |", db(s.null_depth_db)),
        format!(
            "| null depth, gains fitted | {} |",
            db(s.null_depth_fitted_db)
        ),
        format!("| unaccounted signal | {} |", db(s.unaccounted_db)),
        format!("| cancellation | {} |", db(s.cancellation_db)),
        format!("| sum true peak (dBTP) | {} |", db(s.sum_true_peak_dbtp)),
        String::new(),
        format!(
            "Frames compared per channel: {}; left out: {} (a stem had not produced them, a \
             jump, or audio overwritten before it was read).",
            s.compared_frames.map_or("—".into(), |v| v.to_string()),
            s.skipped_frames.map_or("—".into(), |v| v.to_string()),
        ),
        String::new(),
        "| stem | gain (dB) | offset (samples) | inverted |".into(),
        "|---|---:|---:|---|".into(),
    ]);
    for stem in &report.stems {
        let gains = stem.gain_db.as_ref().map_or("—".into(), |g| {
            g.iter()
                .map(|v| v.map_or("—".into(), |v| format!("{v:+.2}")))
                .collect::<Vec<_>>()
                .join(" / ")
        });
        md.push(format!(
            "| {} | {} | {} | {} |",
            cell(&stem.name),
            gains,
            stem.offset_samples.map_or("—".into(), |k| k.to_string()),
            match stem.polarity_inverted {
                Some(true) => "**yes**",
                Some(false) => "no",
                None => "—",
            },
        ));
    }
    md.push(String::new());
}

/// Limiter and clipper verdicts of every bus.
fn dynamics(report: &Report, md: &mut Vec<String>) {
    md.push("## Limiters and clippers".into());
    md.push(String::new());
    let row = |name: &str, l: &LimiterReport| {
        format!(
            "| {} | {} | {} | {} | {} |",
            cell(name),
            l.verdict.map_or("—".into(), |v| match v {
                LimiterVerdict::Unprocessed => v.as_str().to_string(),
                _ => format!("**{}**", v.as_str()),
            }),
            l.confidence.map_or("—".into(), |c| format!("{c:.2}")),
            l.ceiling_dbfs.map_or("—".into(), |c| format!("{c:.2}")),
            l.gain_reduction_db
                .map_or("—".into(), |g| format!("{g:.1}")),
        )
    };
    md.push("| bus | verdict | confidence | ceiling (dBFS) | gain reduction (dB) |".into());
    md.push("|---|---|---:|---:|---:|".into());
    md.push(row(&report.master.name, &report.master.limiter));
    for stem in &report.stems {
        md.push(row(&stem.name, &stem.limiter));
    }
    md.push(String::new());
    let unseen: Vec<String> = std::iter::once((&report.master.name, &report.master.limiter))
        .chain(report.stems.iter().map(|s| (&s.name, &s.limiter)))
        .filter_map(|(name, l)| match l.unseen_frames {
            Some(n) if n > 0 => Some(format!("{} {n}", cell(name))),
            _ => None,
        })
        .collect();
    if !unseen.is_empty() {
        md.push(format!(
            "Frames of the pass the detection did not see: {}. These verdicts cover only the \
             rest.",
            unseen.join(", ")
        ));
        md.push(String::new());
    }
}

fn findings(findings: &[Finding], md: &mut Vec<String>) {
    md.push("## Findings".into());
    md.push(String::new());
    if findings.is_empty() {
        md.push("None: nothing to fix.".into());
        md.push(String::new());
        return;
    }
    for (severity, title) in [
        (Severity::Fail, "Fail: fix before the bounce"),
        (Severity::Warn, "Warnings: check, they may be intended"),
        (Severity::Info, "Notes"),
    ] {
        let group: Vec<&Finding> = findings.iter().filter(|f| f.severity == severity).collect();
        if group.is_empty() {
            continue;
        }
        md.push(format!("### {title} ({})", group.len()));
        md.push(String::new());
        for f in group {
            md.push(format!("- {} (`{}`)", f.message, f.id));
        }
        md.push(String::new());
    }
}

fn legend(md: &mut Vec<String>) {
    md.extend(
        [
            "## What each number means",
            "",
            "- **Sample peak** (dBFS): the largest sample value since the meters were reset, per \
             channel.",
            "- **True peak** (dBTP): the peak of the reconstructed continuous signal (ITU-R \
             BS.1770 semantics), which can exceed the sample peak between samples; it is what a \
             converter or a lossy encoder will see.",
            "- **Headroom** (dB): distance from the loudest channel's true peak to 0 dBFS.",
            "- **Window**: where the true peak sits against the delivery window (thresholds \
             above): `under` means more headroom than asked (fine for a single stem), `in` is \
             the target, `over` means the bus should come down.",
            "- **Clips**: samples at or above full scale (0 dBFS).",
            "- **TP overs**: inter-sample peaks above the true-peak ceiling.",
            "- **Flat tops**: runs of three or more identical samples at the bus's peak level, \
             the signature of a clipper.",
            "- **NaN/Inf**: samples that are not numbers; a plugin misbehaved.",
            "- **Loudness** (ITU-R BS.1770 / EBU R 128, K-weighted): **integrated** is the gated \
             loudness of the whole pass (LUFS), **LRA** the loudness range (EBU Tech 3342, LU), \
             **max momentary** and **max short-term** the loudest 400 ms and 3 s, and **PLR** \
             the highest true peak minus the integrated loudness. **—**: silence, or every block \
             under the gates.",
            "- **DC offset**: mean sample value (linear, 0 = none). **Correlation**: stereo \
             correlation over the pass, 1 = mono-like, 0 = unrelated, -1 = out of phase.",
            "- **Alive**: whether the stem's meter sent readings within the last second; a \
             **stale** stem's figures may be old. A **bypassed** stem is bypassed in the host \
             (its figures are from before); a stem **not metering** runs at a sample rate \
             Stemcheck does not measure.",
            "- **silence**: digital silence, no level to show. **—**: not measured.",
            "- **Pass**: the part of the song played since the meters were reset; complete when \
             it started at the session start and never jumped forward.",
        ]
        .map(String::from),
    );
}

/// Per-channel levels, "-4.10 / -4.30".
fn per_channel(levels: &[Option<f64>]) -> String {
    if levels.is_empty() {
        return "—".into();
    }
    levels
        .iter()
        .map(|&l| l.map_or("silence".into(), signed))
        .collect::<Vec<_>>()
        .join(" / ")
}

/// A dB figure with two decimals; "—" when absent.
fn db(value: Option<f64>) -> String {
    value.map_or("—".into(), signed)
}

fn signed(v: f64) -> String {
    if v > 0.0 {
        format!("+{v:.2}")
    } else {
        format!("{v:.2}")
    }
}

fn window(w: WindowStatus) -> &'static str {
    match w {
        WindowStatus::Under => "under",
        WindowStatus::In => "in",
        WindowStatus::Over => "**over**",
    }
}

/// Text safe inside a table cell: a `|` would end the cell, a line break the row.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::build::build_report;
    use crate::report::fixtures::{bus, clean, events, silent};

    fn no_bad_numbers(md: &str) {
        assert!(!md.to_lowercase().contains("-inf"), "{md}");
        for cell in md.split(['|', ' ', '\n', '(', ')', ',']) {
            let c = cell.trim().to_lowercase();
            assert!(
                !["inf", "nan", "+inf"].contains(&c.as_str()),
                "`{cell}` in {md}"
            );
        }
    }

    #[test]
    fn read_me_names_every_stem_and_the_verdict() {
        let mut input = clean();
        input.stems.push(silent("04_Silent", 4));
        input.stems.push(bus("05_Lead|Vox", 5, -0.5));
        input.stems[0].reading.clips = events(2, 48_000, 96_000);
        let report = build_report(&input);
        let md = render_markdown(&report);
        assert!(md.starts_with("# Stemcheck report: NOT READY\n"), "{md}");
        for name in ["01_Kick", "02_Bass", "03_Keys", "04_Silent"] {
            assert!(md.contains(&format!("| {name} |")), "{name} missing:\n{md}");
        }
        assert!(
            md.contains("| 05_Lead\\|Vox |"),
            "pipe escaped in a cell:\n{md}"
        );
        assert!(md.contains("2026-01-31 12:00:00 UTC"));
        assert!(md.contains("48000 Hz"));
        assert!(
            md.contains("0:00.0 to 3:20.0 (samples 0 to 9600000), complete"),
            "{md}"
        );
        assert!(
            md.contains("silence / silence"),
            "digital silence shown as such:\n{md}"
        );
        assert!(md.contains("## Sum-check\n\nNot measured: the master had not analysed"));
        assert!(md.contains("| Master | — | — | — | — |"), "{md}");
        assert!(md.contains("### Fail: fix before the bounce (2)"), "{md}");
        assert!(md.contains("(`clip.samples`)"));
        assert!(md.contains("### Notes ("));
        assert!(md.contains("## What each number means"));
        // Loudness: the master's integrated, LRA, maxima and PLR; a silent stem has none.
        assert!(
            md.contains("| Master | -14.00 | 6.00 | -8.00 | -10.00 | 10.00 |"),
            "{md}"
        );
        assert!(md.contains("| 04_Silent | — | — | — | — | — |"), "{md}");
        // Fails come before warnings and notes.
        let fail = md.find("### Fail").unwrap();
        let warn = md.find("### Warnings").unwrap();
        let notes = md.find("### Notes").unwrap();
        assert!(fail < warn && warn < notes);
        no_bad_numbers(&md);
    }

    #[test]
    fn clean_read_me_is_ready_and_incomplete_pass_is_said() {
        let md = render_markdown(&build_report(&clean()));
        assert!(md.starts_with("# Stemcheck report: READY\n"));
        assert!(
            md.contains("**READY** (0 fails, 0 warnings, 3 notes)"),
            "{md}"
        );
        no_bad_numbers(&md);

        let mut input = clean();
        input.master.reading.pass_start = 96_000;
        input.stems.clear();
        let md = render_markdown(&build_report(&input));
        assert!(md.contains("incomplete: the pass began at 0:02.0"), "{md}");
        assert!(md.contains("## Stems (0 visible)"));
        assert!(md.contains("separate processes"));
    }

    #[test]
    fn the_read_me_says_how_the_pass_was_run_and_what_went_unchecked() {
        use crate::analysis::coverage::{Coverage, RenderMode};
        let mut input = clean();
        assert!(!render_markdown(&build_report(&input)).contains("| Checked |"));
        input.coverage = Some(Coverage {
            render_mode: RenderMode::Offline,
            inferred: true,
            speed: Some(63.04),
            frames: 1_000_000,
            stem_unseen: vec![0; 3],
            ..Coverage::default()
        });
        let md = render_markdown(&build_report(&input));
        assert!(
            md.contains(
                "| Checked | every frame (1000000 per channel); offline render (inferred from \
                 its speed) at 63.0× real time |"
            ),
            "{md}"
        );
        input.coverage = Some(Coverage {
            render_mode: RenderMode::Realtime,
            speed: Some(41.7),
            frames: 1_000_000,
            lost: 250_000,
            outran: 250_000,
            stem_unseen: vec![0; 3],
            ..Coverage::default()
        });
        input.stems[0].unseen_frames = Some(250_000);
        let md = render_markdown(&build_report(&input));
        assert!(
            md.contains("**250000 of 1000000 frames unchecked (25.0 %)**: the host ran ahead"),
            "{md}"
        );
        assert!(md.contains("real time at 41.7× real time |"), "{md}");
        assert!(
            md.contains("Frames of the pass the detection did not see: 03_Keys 250000."),
            "{md}"
        );
        assert!(md.contains("`sum.incomplete`"), "{md}");
        no_bad_numbers(&md);
    }
}
