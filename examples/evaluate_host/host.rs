//! The evaluator's host mode: each session played through the built CLAP bundle in a real CLAP
//! host (clack-host), its stems and master as plugin instances in this process, paced at a
//! multiple of real time or flat out with the CLAP render mode offline, and the report the
//! master writes at the stop read back. The figures and findings then come from the plugin
//! itself, at the speed a user's host runs it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use stemcheck::report::Report;

use crate::clap_host::{ClapBundle, PluginInstance, TransportInfo};
use crate::state::configure_master;

/// The plugin's CLAP id.
const PLUGIN_ID: &str = "com.stemcheck.stemcheck";
/// Block length of the host.
const BLOCK: usize = 512;
/// Longest wait for the report after the stop.
const REPORT_TIMEOUT: Duration = Duration::from_secs(30);

/// How the host plays each session.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum HostMode {
    /// In real-time mode, `x` times faster than real time.
    Paced(f64),
    /// Flat out, the CLAP render mode set to offline.
    Offline,
}

impl HostMode {
    /// How the mode is printed.
    pub fn describe(self) -> String {
        match self {
            HostMode::Paced(x) => format!("paced at {x}x real time, render mode real time"),
            HostMode::Offline => "flat out, render mode offline".into(),
        }
    }
}

/// Plays sessions through one bundle.
pub struct Host {
    bundle: ClapBundle,
    mode: HostMode,
}

impl Host {
    /// Loads the `.clap` bundle at `path`.
    pub fn new(path: &Path, mode: HostMode) -> Result<Self, String> {
        if !path.exists() {
            return Err(format!(
                "{}: no CLAP bundle (build it with `cargo xtask bundle stemcheck --release`)",
                path.display()
            ));
        }
        Ok(Self {
            bundle: ClapBundle::load(path),
            mode,
        })
    }

    /// Plays `stems` (name and per-channel audio) and `master` from position 0 to the end,
    /// stops, and returns the master's report.
    pub fn play(
        &self,
        rate: f32,
        stems: &[(String, &[Vec<f32>])],
        master: &[Vec<f32>],
    ) -> Result<Report, String> {
        let dir = tempfile::tempdir().map_err(|e| format!("a temporary folder: {e}"))?;
        let offline = self.mode == HostMode::Offline;
        let mut instances: Vec<(PluginInstance, &[Vec<f32>])> = stems
            .iter()
            .map(|(name, audio)| {
                let mut p = PluginInstance::new_with_track_name(&self.bundle, PLUGIN_ID, name);
                start(&mut p, offline, rate, audio.len());
                (p, *audio)
            })
            .collect();
        let mut m = PluginInstance::new_with_track_name(&self.bundle, PLUGIN_ID, "Master");
        configure_master(&mut m, dir.path());
        start(&mut m, offline, rate, master.len());
        instances.push((m, master));
        let frames = master[0].len();
        let started = Instant::now();
        for pos in (0..frames).step_by(BLOCK) {
            let len = BLOCK.min(frames - pos);
            let transport = Some(TransportInfo {
                playing: true,
                pos_samples: pos as i64,
                sample_rate: f64::from(rate),
            });
            for (p, audio) in &mut instances {
                let block: Vec<Vec<f32>> = audio
                    .iter()
                    .map(|c| {
                        let mut b = vec![0.0; len];
                        let have = c.len().saturating_sub(pos).min(len);
                        b[..have].copy_from_slice(&c[pos..pos + have]);
                        b
                    })
                    .collect();
                p.process(&block, transport);
            }
            if let HostMode::Paced(x) = self.mode {
                let due = Duration::from_secs_f64((pos + len) as f64 / f64::from(rate) / x);
                if let Some(wait) = due.checked_sub(started.elapsed()) {
                    std::thread::sleep(wait);
                }
            }
        }
        for _ in 0..3 {
            for (p, audio) in &mut instances {
                let silence = vec![vec![0.0f32; 256]; audio.len()];
                p.process(
                    &silence,
                    Some(TransportInfo {
                        playing: false,
                        pos_samples: frames as i64,
                        sample_rate: f64::from(rate),
                    }),
                );
            }
        }
        let report = wait_for_report(dir.path());
        drop(instances);
        report
    }
}

/// Sets the render mode and activates for `channels` channels.
fn start(p: &mut PluginInstance, offline: bool, rate: f32, channels: usize) {
    if offline {
        p.set_render_mode(true);
    }
    p.activate(f64::from(rate), BLOCK as u32, channels);
}

fn wait_for_report(dir: &Path) -> Result<Report, String> {
    let asked = Instant::now();
    loop {
        let files: BTreeSet<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        if let Some(path) = files.into_iter().next() {
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            return serde_json::from_str(&text)
                .map_err(|e| format!("{}: not a report: {e}", path.display()));
        }
        if asked.elapsed() > REPORT_TIMEOUT {
            return Err(format!("no report after {REPORT_TIMEOUT:?}"));
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}
