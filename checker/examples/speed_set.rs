//! Writes the speed test's delivery: 8 stereo 24-bit stems of 4 minutes at 48 kHz and their
//! mix, made from the demo's four stems and four variants of them (a beat later, quieter), so
//! no two stems carry the same audio.
//!
//! `cargo run --release -p stemcheck-checker --example speed_set -- <folder> [seconds]`

use std::path::PathBuf;
use std::process::ExitCode;

use stemcheck_checker::demo::{mix_of, stems, write_wav, Stem, WavFormat};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(folder) = args.next().map(PathBuf::from) else {
        eprintln!("usage: speed_set <folder> [seconds]");
        return ExitCode::from(64);
    };
    let seconds: f64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(240.0);
    let rate = 48_000;
    let base = stems(rate, seconds);
    let beat = rate as usize / 2;
    let variants: Vec<Stem> = base
        .iter()
        .enumerate()
        .map(|(i, s)| Stem {
            name: format!("{:02}_{}_Double", i + 5, &s.name[3..]),
            channels: s
                .channels
                .iter()
                .map(|c| {
                    let mut v = vec![0.0; beat];
                    v.extend(c[..c.len() - beat].iter().map(|x| x * 0.7));
                    v
                })
                .collect(),
        })
        .collect();
    let all: Vec<Stem> = base.into_iter().chain(variants).collect();
    if let Err(e) = std::fs::create_dir_all(folder.join("stems")) {
        eprintln!("cannot create {}: {e}", folder.display());
        return ExitCode::from(4);
    }
    for s in &all {
        let path = folder.join("stems").join(format!("{}.wav", s.name));
        if let Err(e) = write_wav(&path, &s.channels, rate, WavFormat::Int(24)) {
            eprintln!("{e}");
            return ExitCode::from(4);
        }
    }
    let mix = mix_of(&all);
    if let Err(e) = write_wav(&folder.join("Mix.wav"), &mix, rate, WavFormat::Int(24)) {
        eprintln!("{e}");
        return ExitCode::from(4);
    }
    println!(
        "wrote 8 stems and Mix.wav ({seconds} s) to {}",
        folder.display()
    );
    ExitCode::SUCCESS
}
