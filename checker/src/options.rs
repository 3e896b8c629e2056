//! The command line.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use stemcheck_engine::report::{FileSettings, Thresholds};

/// Checks exported stems before they are sent and when they arrive: levels, true peak,
/// clipping, limiting, the sum against the mix, and the files themselves.
#[derive(Debug, Parser)]
#[command(name = "stemcheck", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check stem files (a folder of them, or the files themselves).
    Check(CheckArgs),
    /// Write a small demo stem set and its mix into a folder, then check it.
    Demo(DemoArgs),
}

/// When to colour the terminal output.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// When writing to a terminal, unless NO_COLOR is set.
    #[default]
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// `stemcheck check`.
#[derive(Clone, Debug, Args)]
pub struct CheckArgs {
    /// Stem files, folders holding them, or zip archives of them (their WAV, RF64, BW64,
    /// Wave64, AIFF and FLAC files are read).
    #[arg(required = true, value_name = "FOLDER_OR_FILES")]
    pub inputs: Vec<PathBuf>,
    /// The reference mix: the stems are summed and compared with it (null test). Without it,
    /// the file that equals the sum of the others is taken as the mix.
    #[arg(long, value_name = "FILE")]
    pub mix: Option<PathBuf>,
    /// Write the report as JSON (schema stemcheck.report/1) to this file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write the report as a Markdown read-me to this file.
    #[arg(long, value_name = "FILE")]
    pub md: Option<PathBuf>,
    /// Bottom of the headroom window, dBFS.
    #[arg(long, default_value_t = -6.0, allow_negative_numbers = true, value_name = "DB")]
    pub window_low: f32,
    /// Top of the headroom window, dBFS.
    #[arg(long, default_value_t = -3.0, allow_negative_numbers = true, value_name = "DB")]
    pub window_high: f32,
    /// True-peak ceiling, dBTP.
    #[arg(long, default_value_t = -1.0, allow_negative_numbers = true, value_name = "DB")]
    pub tp_ceiling: f32,
    /// Null depth above which the sum-check fails, dB.
    #[arg(long, default_value_t = -60.0, allow_negative_numbers = true, value_name = "DB")]
    pub null_tolerance: f32,
    /// Level at or below which a sample counts as silence (pre-roll and tail), dBFS.
    #[arg(long, default_value_t = -80.0, allow_negative_numbers = true, value_name = "DB")]
    pub silence: f32,
    /// Silence expected before the first signal, seconds.
    #[arg(long, default_value_t = 1.0, value_name = "SECONDS")]
    pub preroll_min: f32,
    /// Shortest tail expected after each stem's last signal, seconds.
    #[arg(long, default_value_t = 2.0, value_name = "SECONDS")]
    pub tail_min: f32,
    /// Longest tail expected after the last signal of the package, seconds.
    #[arg(long, default_value_t = 4.0, value_name = "SECONDS")]
    pub tail_max: f32,
    /// Colour the output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// No progress bar and no table: only the verdict line (and the files asked for).
    #[arg(long, short)]
    pub quiet: bool,
}

/// `stemcheck demo`.
#[derive(Clone, Debug, Args)]
pub struct DemoArgs {
    /// Folder to write the demo stems into (created if missing).
    #[arg(default_value = "stemcheck-demo")]
    pub folder: PathBuf,
    /// Colour the output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

impl CheckArgs {
    /// The thresholds, or what is wrong with them.
    pub fn thresholds(&self) -> Result<Thresholds, String> {
        let all = [
            ("--window-low", self.window_low),
            ("--window-high", self.window_high),
            ("--tp-ceiling", self.tp_ceiling),
            ("--null-tolerance", self.null_tolerance),
            ("--silence", self.silence),
        ];
        for (name, v) in all {
            if !(-200.0..=24.0).contains(&v) {
                return Err(format!("{name} {v} is not a level in dB (−200 to +24)"));
            }
        }
        if self.window_low > self.window_high {
            return Err(format!(
                "--window-low {} is above --window-high {}",
                self.window_low, self.window_high
            ));
        }
        Ok(Thresholds {
            window_low_db: self.window_low,
            window_high_db: self.window_high,
            tp_ceiling_db: self.tp_ceiling,
            null_tolerance_db: self.null_tolerance,
        })
    }

    /// The file rules' settings, or what is wrong with them.
    pub fn file_settings(&self) -> Result<FileSettings, String> {
        for (name, v) in [
            ("--preroll-min", self.preroll_min),
            ("--tail-min", self.tail_min),
            ("--tail-max", self.tail_max),
        ] {
            if !(0.0..=3600.0).contains(&v) {
                return Err(format!(
                    "{name} {v} is not a duration in seconds (0 to 3600)"
                ));
            }
        }
        if self.tail_min > self.tail_max {
            return Err(format!(
                "--tail-min {} is above --tail-max {}",
                self.tail_min, self.tail_max
            ));
        }
        Ok(FileSettings {
            silence_dbfs: self.silence,
            preroll_min_s: self.preroll_min,
            tail_min_s: self.tail_min,
            tail_max_s: self.tail_max,
        })
    }
}

impl CheckArgs {
    /// The demo's check: `folder`, its mix found among its files, every threshold at its
    /// default.
    pub fn demo(folder: PathBuf) -> Self {
        let args = ["stemcheck".into(), "check".into(), folder.into_os_string()];
        match Cli::try_parse_from(args).map(|c| c.command) {
            Ok(Command::Check(check)) => check,
            other => unreachable!("the demo's command line parses: {other:?}"),
        }
    }
}
