//! The report as a table on the terminal: one line per stem and for the mix, the sum-check,
//! every finding, and the verdict. Coloured when asked (or when writing to a terminal).

use console::Style;
use stemcheck_engine::report::{
    FileReport, LimiterVerdict, Report, Severity, StemReport, Verdict, WindowStatus,
};

/// Colours, or none.
struct Paint {
    on: bool,
}

impl Paint {
    fn with(&self, style: Style, text: &str) -> String {
        if self.on {
            style.force_styling(true).apply_to(text).to_string()
        } else {
            text.to_string()
        }
    }

    fn severity(&self, s: Severity) -> String {
        match s {
            Severity::Fail => self.with(Style::new().red().bold(), "FAIL"),
            Severity::Warn => self.with(Style::new().yellow().bold(), "WARN"),
            Severity::Info => self.with(Style::new().cyan(), "INFO"),
        }
    }

    fn verdict(&self, v: Verdict) -> String {
        let style = match v {
            Verdict::Ready => Style::new().green().bold(),
            Verdict::Warnings => Style::new().yellow().bold(),
            Verdict::NotReady => Style::new().red().bold(),
        };
        self.with(style, v.banner())
    }

    fn window(&self, w: WindowStatus) -> String {
        match w {
            WindowStatus::Under => self.with(Style::new().dim(), "under"),
            WindowStatus::In => self.with(Style::new().green(), "in"),
            WindowStatus::Over => self.with(Style::new().red(), "over"),
        }
    }
}

fn level(v: Option<f64>) -> String {
    v.map_or("silence".into(), |v| format!("{v:.2}"))
}

fn loudest(levels: &[Option<f64>]) -> Option<f64> {
    levels.iter().flatten().copied().reduce(f64::max)
}

fn limiter(v: Option<LimiterVerdict>) -> &'static str {
    v.map_or("—", LimiterVerdict::as_str)
}

fn format_of(f: Option<&FileReport>) -> String {
    f.map_or("—".into(), |f| {
        let layout = match f.channels {
            1 => "mono".to_string(),
            2 if f.dual_mono => "dual mono".into(),
            2 => "stereo".into(),
            n => format!("{n} ch"),
        };
        let kind = if f.encoding == "float" {
            "float"
        } else {
            "bit"
        };
        format!("{} {}-{kind} {layout}", f.container, f.bit_depth)
    })
}

fn secs(v: Option<f64>) -> String {
    v.map_or("—".into(), |v| format!("{v:.2}"))
}

fn gain(s: &StemReport) -> String {
    s.gain_db.as_ref().map_or("—".into(), |g| {
        let cells: Vec<String> = g
            .iter()
            .map(|v| v.map_or("—".into(), |v| format!("{v:+.2}")))
            .collect();
        let mut text = cells.join("/");
        if s.polarity_inverted == Some(true) {
            text.push_str(" inv");
        }
        text
    })
}

/// Pads `text` to `width` characters (colour codes do not count).
fn pad(text: &str, width: usize) -> String {
    let visible = console::measure_text_width(text);
    format!("{text}{}", " ".repeat(width.saturating_sub(visible)))
}

/// The whole table, ready to print.
pub fn render(report: &Report, color: bool) -> String {
    let paint = Paint { on: color };
    let mut out = Vec::new();
    let files = report.files.as_ref();
    let rate = report.sample_rate.map_or("?".into(), |r| r.to_string());
    let duration = files
        .and_then(|f| {
            f.stems
                .iter()
                .chain(&f.mix)
                .map(|f| f.duration_s)
                .reduce(f64::max)
        })
        .map_or(String::new(), |d| format!(", {d:.3} s"));
    let mix = files.and_then(|f| f.mix.as_ref());
    out.push(format!(
        "Stemcheck {}: {} stem{}{}, {rate} Hz{duration}",
        report.plugin_version,
        report.stems.len(),
        if report.stems.len() == 1 { "" } else { "s" },
        mix.map_or(", no mix".into(), |m| format!(", mix {}", m.file)),
    ));
    if let Some(line) = crate::mix_note::mix_line(report) {
        out.push(line);
    }
    out.push(String::new());

    let mut header = vec![
        "name", "format", "peak", "true pk", "LUFS", "LRA", "window", "limiter", "gain dB",
        "offset", "pre-roll", "tail",
    ];
    let starts = crate::mix_note::has_bwf_starts(report);
    if starts {
        header.push("BWF start");
    }
    let mut rows: Vec<Vec<String>> = Vec::new();
    for s in &report.stems {
        let file = files.and_then(|f| f.stems.iter().find(|f| f.name == s.name));
        rows.push(vec![
            s.name.clone(),
            format_of(file),
            level(loudest(&s.levels.sample_peak_dbfs)),
            level(loudest(&s.levels.true_peak_dbtp)),
            secs(s.levels.loudness.integrated_lufs),
            secs(s.levels.loudness.lra_lu),
            paint.window(s.levels.window),
            limiter(s.limiter.verdict).into(),
            gain(s),
            s.offset_samples.map_or("—".into(), |k| k.to_string()),
            secs(file.and_then(|f| f.leading_silence_s)),
            secs(file.and_then(|f| f.tail_s)),
        ]);
        if starts {
            rows.last_mut()
                .expect("a row")
                .push(crate::mix_note::bwf_start(file));
        }
    }
    let m = &report.master;
    rows.push(vec![
        if mix.is_some() {
            format!("mix: {}", m.name)
        } else {
            m.name.clone()
        },
        format_of(mix),
        level(loudest(&m.levels.sample_peak_dbfs)),
        level(loudest(&m.levels.true_peak_dbtp)),
        secs(m.levels.loudness.integrated_lufs),
        secs(m.levels.loudness.lra_lu),
        paint.window(m.levels.window),
        limiter(m.limiter.verdict).into(),
        "".into(),
        "".into(),
        secs(mix.and_then(|f| f.leading_silence_s)),
        secs(mix.and_then(|f| f.tail_s)),
    ]);
    if starts {
        rows.last_mut()
            .expect("a row")
            .push(crate::mix_note::bwf_start(mix));
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            rows.iter()
                .map(|r| console::measure_text_width(&r[c]))
                .chain([header[c].len()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: Vec<String>| {
        cells
            .iter()
            .zip(&widths)
            .map(|(c, &w)| pad(c, w))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_string()
    };
    out.push(paint.with(
        Style::new().bold(),
        &line(header.iter().map(|h| h.to_string()).collect()),
    ));
    let last = rows.len() - 1;
    for (i, row) in rows.into_iter().enumerate() {
        if i == last {
            out.push(String::new());
        }
        out.push(line(row));
    }
    out.push(String::new());

    let s = &report.sum;
    let db = |v: Option<f64>| v.map_or("—".into(), |v| format!("{v:.1} dB"));
    if mix.is_some() {
        out.push(format!(
            "Sum-check against the mix: null {}, fitted {}, unaccounted {}, cancellation {}, \
             stem sum true peak {}",
            db(s.null_depth_db),
            db(s.null_depth_fitted_db),
            db(s.unaccounted_db),
            db(s.cancellation_db),
            s.sum_true_peak_dbtp
                .map_or("—".into(), |v| format!("{v:.2} dBTP")),
        ));
    } else {
        out.push(format!(
            "Stems summed at unity (no mix given, so no null test): cancellation {}, true peak {}",
            db(s.cancellation_db),
            s.sum_true_peak_dbtp
                .map_or("—".into(), |v| format!("{v:.2} dBTP")),
        ));
    }
    out.push(String::new());

    for f in &report.findings {
        let who = f.stem.as_deref().unwrap_or("");
        out.push(format!(
            "{}  {}  {}{}",
            paint.severity(f.severity),
            paint.with(Style::new().bold(), &pad(&f.id, 17)),
            if who.is_empty() {
                String::new()
            } else {
                format!("{who}: ")
            },
            f.message
        ));
    }
    if !report.findings.is_empty() {
        out.push(String::new());
    }
    out.extend(crate::checklist_lines::lines(report));
    let count = |sev: Severity| report.findings.iter().filter(|f| f.severity == sev).count();
    out.push(format!(
        "{}  ({} fail, {} warn, {} info)",
        paint.verdict(report.verdict),
        count(Severity::Fail),
        count(Severity::Warn),
        count(Severity::Info),
    ));
    let mut text = out.join("\n");
    text.push('\n');
    text
}
