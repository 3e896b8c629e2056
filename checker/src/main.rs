//! `stemcheck`: checks exported stem files with the plugin's own engine.
//!
//! Exit status: 0 ready, 1 warnings, 2 not ready, 3 unusable input, 4 a report file could not
//! be written, 64 a wrong command line.

use std::io::{stderr, stdout, IsTerminal, Write};
use std::process::ExitCode;

use clap::Parser;
use stemcheck_checker::demo::write_demo;
use stemcheck_checker::options::{CheckArgs, Cli, ColorChoice, Command};
use stemcheck_checker::run::{check, EXIT_UNWRITABLE, EXIT_USAGE};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // Help and version are not errors; anything else is a wrong command line, kept
            // apart from the verdict statuses 0-3.
            return ExitCode::from(if e.use_stderr() { EXIT_USAGE } else { 0 });
        }
    };
    let mut out = stdout().lock();
    let mut err = stderr().lock();
    let status = match cli.command {
        Command::Check(args) => {
            let color = use_color(args.color);
            check(&args, color, &mut out, &mut err)
        }
        Command::Demo(demo) => {
            if let Err(why) = write_demo(&demo.folder) {
                let _ = writeln!(err, "stemcheck: {why}");
                return ExitCode::from(EXIT_UNWRITABLE);
            }
            let _ = writeln!(
                out,
                "Wrote 4 stems and Mix.wav to {}. Checking them (the mix is found among \
                 them):\n  stemcheck check {}\n",
                demo.folder.display(),
                demo.folder.display(),
            );
            let args = CheckArgs::demo(demo.folder.clone());
            check(&args, use_color(demo.color), &mut out, &mut err)
        }
    };
    ExitCode::from(status)
}

/// Whether to colour standard output.
fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}
