//! The terminal's lines about the files themselves: how the mix was chosen, and each file's
//! BWF start.

use stemcheck_engine::report::{fmt_time_of_day, FileReport, Report};

/// One line on how the mix was chosen, when it was not given.
pub fn mix_line(report: &Report) -> Option<String> {
    let d = report.files.as_ref()?.mix_detection.as_ref()?;
    let db = |v: Option<f64>| v.map_or("—".into(), |v| format!("{v:.1} dB"));
    match (d.method.as_str(), &d.mix) {
        ("found", Some(name)) => {
            let mix = d.candidates.iter().find(|c| c.role == "mix");
            let why = mix.map_or(String::new(), |m| {
                if m.nulls {
                    format!(": it equals the sum of the others (null {})", db(m.null_db))
                } else {
                    format!(
                        ": it is the closest to the sum of the others ({} after a gain fit)",
                        db(m.likeness_db)
                    )
                }
            });
            Some(format!("The mix was found among the files, {name}{why}."))
        }
        ("none", _) => Some(
            "No mix given, and none of the files is one: the stems are compared with their own \
             sum."
                .into(),
        ),
        _ => None,
    }
}

/// Whether any file carries a BWF time reference (the table then shows them).
pub fn has_bwf_starts(report: &Report) -> bool {
    report.files.as_ref().is_some_and(|f| {
        f.stems
            .iter()
            .chain(&f.mix)
            .any(|f| f.time_reference_samples.is_some())
    })
}

/// A file's BWF start as a time of day, or a dash.
pub fn bwf_start(file: Option<&FileReport>) -> String {
    file.and_then(|f| {
        f.time_reference_samples
            .map(|t| fmt_time_of_day(t, f.sample_rate))
    })
    .unwrap_or_else(|| "—".into())
}
