//! From a pass over the files to the plugin's report input: the mix (or the stems' unity sum)
//! as the master, every stem file as a stem with its meter, limiter verdict and sum-check fit,
//! and the file facts (and how the mix was chosen) for the file rules.

use std::time::SystemTime;

use stemcheck_engine::analysis::SumFigures;
use stemcheck_engine::report::{
    BusInput, FileSettings, FilesInput, MixCandidate, MixChoice, ReportInput, SumInput, Thresholds,
};

use crate::collect::file_stem;
use crate::scan::Scan;
use crate::source::Source;

/// The master's name when no mix is given: the report's master is then the stems summed at
/// unity, which is what the master would carry with no processing on it.
pub const STEM_SUM: &str = "Stem sum (no mix given)";

/// The report input for a pass over `files`, whose stems (those of [`Scan::stem_files`], in
/// that order) are named `names`.
pub fn report_input(
    scan: &Scan,
    files: &[Source],
    names: &[String],
    thresholds: Thresholds,
    settings: FileSettings,
) -> ReportInput {
    let stems: Vec<&Source> = scan.stem_files.iter().map(|&i| &files[i]).collect();
    let mix = scan.detection.mix.map(|m| &files[m]);
    let f = &scan.figures;
    let with_mix = mix.is_some();
    let master_name = mix.map_or(STEM_SUM.to_string(), |m| file_stem(&m.info.path));
    let mut master = BusInput::new(master_name.clone(), None, true, scan.master);
    // The unity sum is no bus of its own: a limiter "on" it would be the stems' limiters.
    master.dynamics = with_mix.then_some(f.master_dynamics);
    let buses = names
        .iter()
        .zip(&scan.stems)
        .enumerate()
        .map(|(i, (name, reading))| {
            let mut bus = BusInput::new(name.clone(), None, true, *reading);
            if let Some(j) = scan.analysed.iter().position(|&a| a == i) {
                bus.dynamics = f.stem_dynamics.get(j).copied();
                if with_mix {
                    bus.fit = f.sum.stems.get(j).cloned();
                }
            }
            bus
        })
        .collect();
    let sum = if with_mix {
        SumInput::from_figures(f)
    } else {
        // Compared with itself the sum nulls perfectly: keep only what needs no mix.
        SumInput {
            figures: SumFigures {
                cancellation_db: f.sum.cancellation_db,
                compared_frames: f.sum.compared_frames,
                skipped_frames: f.sum.skipped_frames,
                ..SumFigures::default()
            },
            sum_true_peak_dbtp: f.sum_true_peak_dbtp,
        }
    };
    let files = FilesInput {
        settings,
        stems: names
            .iter()
            .zip(&stems)
            .zip(&scan.stem_stats)
            .map(|((name, src), st)| st.facts(name.clone(), &src.info))
            .collect(),
        mix: mix
            .zip(scan.mix_stats.as_ref())
            .map(|(m, st)| st.facts(master_name, &m.info)),
        mix_choice: Some(mix_choice(scan, files, names)),
    };
    ReportInput {
        plugin_version: env!("CARGO_PKG_VERSION").to_owned(),
        created: SystemTime::now(),
        thresholds,
        master,
        stems: buses,
        sum: Some(sum),
        files: Some(files),
        coverage: None,
        delivery: Default::default(),
    }
}

/// How the mix was chosen, with every file considered named as the report names it.
fn mix_choice(scan: &Scan, files: &[Source], names: &[String]) -> MixChoice {
    let d = &scan.detection;
    let name_of = |file: usize| {
        scan.stem_files
            .iter()
            .position(|&i| i == file)
            .map_or_else(|| file_stem(&files[file].info.path), |k| names[k].clone())
    };
    MixChoice {
        method: d.method,
        mix: d.mix.map(name_of),
        stems_compared: d.stems_compared,
        compared_frames: d.compared_frames,
        sample_rate: scan.session_hz,
        candidates: d
            .considered
            .iter()
            .map(|c| MixCandidate {
                name: name_of(c.file),
                path: files[c.file].info.path.display().to_string(),
                by_name: c.by_name,
                role: c.role,
                null_db: c.figures.null_db,
                likeness_db: c.figures.likeness_db,
                nulls: c.nulls,
            })
            .collect(),
    }
}
