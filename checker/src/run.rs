//! `stemcheck check` from start to end: find and open the files, one pass over them, the
//! report, the files asked for, the table, and the exit status.

use std::fs;
use std::io::Write;
use std::path::Path;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use stemcheck_engine::dsp::bus_meter::MeterSettings;
use stemcheck_engine::report::{build_report, render_markdown, Report, Verdict};

use crate::assemble::report_input;
use crate::collect::{file_stem, stem_files, stem_names};
use crate::mix_detect::named_like_mix;
use crate::options::CheckArgs;
use crate::problem::InputProblem;
use crate::scan::{scan, session_rate, PassSettings};
use crate::source::Source;
use crate::terminal::render;

/// Exit status: ready.
pub const EXIT_READY: u8 = 0;
/// Exit status: warnings, no fails.
pub const EXIT_WARNINGS: u8 = 1;
/// Exit status: at least one fail.
pub const EXIT_NOT_READY: u8 = 2;
/// Exit status: an input is missing, unreadable, corrupt or lossy; nothing was checked.
pub const EXIT_UNUSABLE: u8 = 3;
/// Exit status: the check ran but the JSON or Markdown file could not be written.
pub const EXIT_UNWRITABLE: u8 = 4;
/// Exit status: the command line is wrong (BSD `EX_USAGE`).
pub const EXIT_USAGE: u8 = 64;

/// Audio this long or longer gets a progress bar (when writing to a terminal), seconds.
const PROGRESS_FROM_S: f64 = 30.0;

/// The exit status for a verdict.
pub fn exit_status(v: Verdict) -> u8 {
    match v {
        Verdict::Ready => EXIT_READY,
        Verdict::Warnings => EXIT_WARNINGS,
        Verdict::NotReady => EXIT_NOT_READY,
    }
}

/// Runs a check, writing the table to `out` and problems to `err`; returns the exit status.
pub fn check(args: &CheckArgs, color: bool, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
    let (thresholds, settings) = match (args.thresholds(), args.file_settings()) {
        (Ok(t), Ok(s)) => (t, s),
        (Err(why), _) | (_, Err(why)) => {
            let _ = writeln!(err, "stemcheck: {why}");
            return EXIT_USAGE;
        }
    };
    let (mut files, given_mix) = match open_all(args) {
        Ok(opened) => opened,
        Err(problems) => {
            for p in &problems {
                let _ = writeln!(err, "stemcheck: unusable input: {p}");
            }
            let _ = writeln!(
                err,
                "stemcheck: nothing was checked ({} unusable input{}).",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" }
            );
            return EXIT_UNUSABLE;
        }
    };
    let session_hz = session_rate(&files, given_mix);
    let by_name: Vec<bool> = files
        .iter()
        .map(|s| named_like_mix(&file_stem(&s.info.path)))
        .collect();
    let bar = progress_bar(&files, session_hz, args.quiet);
    let pass = PassSettings {
        meter: MeterSettings {
            tp_ceiling_db: thresholds.tp_ceiling_db,
        },
        silence_dbfs: settings.silence_dbfs,
        null_tolerance_db: thresholds.null_tolerance_db,
    };
    let result = scan(&mut files, given_mix, &by_name, session_hz, &pass, &|n| {
        bar.inc(n)
    });
    bar.finish_and_clear();
    let scan = match result {
        Ok(scan) => scan,
        Err(p) => {
            let _ = writeln!(err, "stemcheck: unusable input: {p}");
            let _ = writeln!(err, "stemcheck: nothing was checked (1 unusable input).");
            return EXIT_UNUSABLE;
        }
    };
    let names = stem_names(
        &scan
            .stem_files
            .iter()
            .map(|&i| files[i].info.path.clone())
            .collect::<Vec<_>>(),
    );
    let input = report_input(&scan, &files, &names, thresholds, settings);
    let report = build_report(&input);
    let mut status = exit_status(report.verdict);
    if let Err(why) = write_outputs(args, &report) {
        let _ = writeln!(err, "stemcheck: {why}");
        status = EXIT_UNWRITABLE;
    }
    if args.quiet {
        let _ = writeln!(out, "{}", report.verdict.banner());
    } else {
        let _ = out.write_all(render(&report, color).as_bytes());
    }
    status
}

/// Opens every file and the mix given (last, its index returned), collecting every problem
/// rather than stopping at the first, so one run names all the files to fix.
fn open_all(args: &CheckArgs) -> Result<(Vec<Source>, Option<usize>), Vec<InputProblem>> {
    let mut problems = Vec::new();
    let mix = args.mix.as_deref().and_then(|m| match Source::open(m) {
        Ok(s) => Some(s),
        Err(p) => {
            problems.push(p);
            None
        }
    });
    let inputs = stem_files(&args.inputs, args.mix.as_deref()).map_err(|p| {
        let mut all = problems.clone();
        all.extend(p);
        all
    })?;
    let mut files = Vec::new();
    for input in &inputs {
        match input.open() {
            Ok(s) => files.push(s),
            Err(p) => problems.push(p),
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let given = mix.map(|m| {
        files.push(m);
        files.len() - 1
    });
    Ok((files, given))
}

/// A progress bar over the session's length, drawn on standard error when it is a terminal
/// and the files are long enough to wait for.
fn progress_bar(files: &[Source], hz: u32, quiet: bool) -> ProgressBar {
    let frames = files
        .iter()
        .filter(|s| s.info.sample_rate == hz)
        .filter_map(|s| s.info.frames)
        .max()
        .unwrap_or(0);
    if quiet || (frames as f64) < PROGRESS_FROM_S * f64::from(hz) {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(frames), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("checking {bar:40} {percent:>3}%  {elapsed} (eta {eta})")
            .expect("a valid template"),
    );
    bar
}

/// Writes the JSON and Markdown files asked for.
fn write_outputs(args: &CheckArgs, report: &Report) -> Result<(), String> {
    if let Some(path) = &args.json {
        let json = serde_json::to_string_pretty(report).expect("a report serialises");
        write_file(path, &(json + "\n"))?;
    }
    if let Some(path) = &args.md {
        write_file(path, &render_markdown(report))?;
    }
    Ok(())
}

fn write_file(path: &Path, text: &str) -> Result<(), String> {
    fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}
