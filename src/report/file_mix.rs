//! Which file is the mix (command-line checker only): given with `--mix`, or found among the
//! delivered files because it equals the sum of the others; the files that looked like a mix
//! and what was done with them; the `file.mix` findings that say so; and the report's
//! `files.mix_detection` section.

use serde::{Deserialize, Serialize};

use super::file_rules::id;
use super::model::{Finding, Scope, Severity};
use super::units::{plural, round};

/// How the mix was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MixMethod {
    /// Named on the command line.
    Given,
    /// Found among the files: it equals (or is closest to) the sum of the others.
    Found,
    /// None was given and none of the files is a mix.
    NotFound,
}

impl MixMethod {
    /// The JSON word: `given`, `found` or `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            MixMethod::Given => "given",
            MixMethod::Found => "found",
            MixMethod::NotFound => "none",
        }
    }
}

/// What became of a file that was considered as the mix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CandidateRole {
    /// It is the mix.
    Mix,
    /// It looks like a mix but is not the one: left out of the stems so the sum is not
    /// doubled.
    SetAside,
    /// Its name looks like a mix's but its audio does not: checked as a stem.
    Stem,
}

impl CandidateRole {
    /// The JSON word: `mix`, `set_aside` or `stem`.
    pub fn as_str(self) -> &'static str {
        match self {
            CandidateRole::Mix => "mix",
            CandidateRole::SetAside => "set_aside",
            CandidateRole::Stem => "stem",
        }
    }
}

/// A file considered as the mix, with how it compares with the sum of the stems.
#[derive(Clone, Debug, PartialEq)]
pub struct MixCandidate {
    /// Its name in the report.
    pub name: String,
    /// The file.
    pub path: String,
    /// Its name reads like a mix's (`Mix`, `Master`, `Bounce`, `…_mix`).
    pub by_name: bool,
    /// What became of it.
    pub role: CandidateRole,
    /// 10·log10(Σ(file − stem sum)² / Σ file²) at unity over the compared frames, dB; `None`
    /// when the file carried no signal there.
    pub null_db: Option<f64>,
    /// The same after the best gain per channel (how alike the two are, whatever their
    /// levels), dB.
    pub likeness_db: Option<f64>,
    /// Its null is within the null tolerance: it equals the sum of the stems.
    pub nulls: bool,
}

/// How the mix was chosen, for the report.
#[derive(Clone, Debug, PartialEq)]
pub struct MixChoice {
    /// Given, found, or none.
    pub method: MixMethod,
    /// The mix's name, when there is one.
    pub mix: Option<String>,
    /// Stems the candidates were compared with.
    pub stems_compared: usize,
    /// Frames (per channel) the comparison covered, from the start of the files.
    pub compared_frames: u64,
    /// The session's sample rate, Hz.
    pub sample_rate: u32,
    /// The files considered: the mix found, files set aside, and files named like a mix.
    pub candidates: Vec<MixCandidate>,
}

/// The report's `files.mix_detection` section.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MixReport {
    /// `given`, `found` or `none`.
    pub method: String,
    /// The mix's name, or `null`.
    pub mix: Option<String>,
    /// Seconds from the start of the files over which the candidates were compared with the
    /// stems' sum.
    pub compared_s: f64,
    /// The files considered as the mix.
    pub candidates: Vec<CandidateReport>,
}

/// One file considered as the mix.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CandidateReport {
    /// Its name.
    pub name: String,
    /// The file.
    pub file: String,
    /// Its name reads like a mix's.
    pub by_name: bool,
    /// `mix`, `set_aside` or `stem`.
    pub role: String,
    /// Null against the sum of the stems at unity, dB (`null`: no signal compared).
    pub null_db: Option<f64>,
    /// The same after the best gain per channel, dB.
    pub likeness_db: Option<f64>,
    /// The null is within the null tolerance.
    pub nulls: bool,
}

impl MixChoice {
    /// Seconds compared.
    pub fn compared_s(&self) -> f64 {
        self.compared_frames as f64 / f64::from(self.sample_rate.max(1))
    }

    /// The report section.
    pub fn report(&self) -> MixReport {
        MixReport {
            method: self.method.as_str().into(),
            mix: self.mix.clone(),
            compared_s: round(self.compared_s(), 2),
            candidates: self
                .candidates
                .iter()
                .map(|c| CandidateReport {
                    name: c.name.clone(),
                    file: c.path.clone(),
                    by_name: c.by_name,
                    role: c.role.as_str().into(),
                    null_db: c.null_db.map(|v| round(v, 1)),
                    likeness_db: c.likeness_db.map(|v| round(v, 1)),
                    nulls: c.nulls,
                })
                .collect(),
        }
    }

    /// One sentence on how the mix was chosen, for the read-me and the terminal; `None` when
    /// it was given.
    pub fn summary(&self) -> Option<String> {
        match self.method {
            MixMethod::Given => None,
            MixMethod::NotFound => Some(format!(
                "No mix was given and none of the files is one (no file equals or resembles \
                 the sum of the others over the first {:.1} s): the stems are compared with \
                 their own sum.",
                self.compared_s()
            )),
            MixMethod::Found => {
                let mix = self
                    .candidates
                    .iter()
                    .find(|c| c.role == CandidateRole::Mix)?;
                Some(format!(
                    "{} was taken as the mix: {}.",
                    mix.name,
                    self.why(mix)
                ))
            }
        }
    }

    /// Why the mix found is the mix.
    fn why(&self, mix: &MixCandidate) -> String {
        let others = plural(self.stems_compared as u64, "other file", "other files");
        let over = format!("over the first {:.1} s", self.compared_s());
        if mix.nulls {
            format!(
                "it equals the sum of the {others} (null {} {over}){}",
                db(mix.null_db),
                if mix.by_name {
                    ", and its name says so too"
                } else {
                    ", whatever its name"
                }
            )
        } else {
            format!(
                "it is close to the sum of the {others} ({} after a gain fit, {over}) though \
                 it does not null with them at unity ({}); {} The sum-check says what differs",
                db(mix.likeness_db),
                db(mix.null_db),
                if mix.by_name {
                    "its name says it is the mix."
                } else {
                    "a stem would not be this close to the others' sum."
                }
            )
        }
    }
}

fn db(v: Option<f64>) -> String {
    v.map_or("no signal".into(), |v| format!("{v:.1} dB"))
}

/// The `file.mix` findings: the mix found (info), every file set aside because it looks like
/// a mix (warn), every file named like a mix but checked as a stem (info).
pub fn evaluate_mix(choice: &MixChoice, out: &mut Vec<Finding>) {
    if let Some(summary) = choice
        .summary()
        .filter(|_| choice.method == MixMethod::Found)
    {
        let mix = choice
            .candidates
            .iter()
            .find(|c| c.role == CandidateRole::Mix);
        out.push(Finding {
            id: id::MIX.into(),
            severity: Severity::Info,
            stem: None,
            scope: Scope::Master,
            message: summary,
            value: mix.and_then(|m| m.null_db).map(|v| round(v, 1)),
            threshold: None,
        });
    }
    for c in &choice.candidates {
        match c.role {
            CandidateRole::Mix => {}
            CandidateRole::SetAside => out.push(Finding {
                id: id::MIX.into(),
                severity: Severity::Warn,
                stem: None,
                scope: Scope::Session,
                message: format!(
                    "{} looks like a mix too: {}. It was left out of the stems, so the sum is \
                     not doubled; to compare the stems with it, check again with --mix {}.",
                    c.name,
                    if c.nulls {
                        format!("it equals the sum of the stems (null {})", db(c.null_db))
                    } else {
                        format!(
                            "it is close to the sum of the stems ({} after a gain fit) but does \
                             not null with them ({})",
                            db(c.likeness_db),
                            db(c.null_db)
                        )
                    },
                    c.path
                ),
                value: c.likeness_db.map(|v| round(v, 1)),
                threshold: None,
            }),
            CandidateRole::Stem => out.push(Finding {
                id: id::MIX.into(),
                severity: Severity::Info,
                stem: Some(c.name.clone()),
                scope: Scope::Stem,
                message: format!(
                    "{} is named like a mix, but its audio is not the sum of the other files \
                     ({} after a gain fit): it was checked as a stem.",
                    c.name,
                    db(c.likeness_db)
                ),
                value: c.likeness_db.map(|v| round(v, 1)),
                threshold: None,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(name: &str, role: CandidateRole, null: f64, like: f64) -> MixCandidate {
        MixCandidate {
            name: name.into(),
            path: format!("d/{name}.wav"),
            by_name: name.contains("Mix") || name.contains("Master"),
            role,
            null_db: Some(null),
            likeness_db: Some(like),
            nulls: null <= -60.0,
        }
    }

    fn choice(candidates: Vec<MixCandidate>) -> MixChoice {
        MixChoice {
            method: MixMethod::Found,
            mix: Some("Mix".into()),
            stems_compared: 4,
            compared_frames: 48_000 * 5,
            sample_rate: 48_000,
            candidates,
        }
    }

    #[test]
    fn the_mix_found_the_files_set_aside_and_misnamed_stems_are_each_said() {
        let c = choice(vec![
            candidate("Mix", CandidateRole::Mix, -200.0, -200.0),
            candidate("Master", CandidateRole::SetAside, -12.0, -24.0),
            candidate("05_Bounce", CandidateRole::Stem, 3.0, -1.0),
        ]);
        let mut out = Vec::new();
        evaluate_mix(&c, &mut out);
        let got: Vec<(Severity, Option<&str>)> = out
            .iter()
            .map(|f| (f.severity, f.stem.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                (Severity::Info, None),
                (Severity::Warn, None),
                (Severity::Info, Some("05_Bounce"))
            ]
        );
        assert!(out.iter().all(|f| f.id == "file.mix"));
        assert!(
            out[0]
                .message
                .starts_with("Mix was taken as the mix: it equals the sum of the 4 other files (null -200.0 dB over the first 5.0 s), and its name says so too"),
            "{}",
            out[0].message
        );
        assert!(
            out[1].message.contains("--mix d/Master.wav"),
            "{}",
            out[1].message
        );
        assert!(out[1].message.contains("-24.0 dB after a gain fit"));
        let json = c.report();
        assert_eq!(json.method, "found");
        assert_eq!(json.candidates[1].role, "set_aside");
        assert_eq!(json.compared_s, 5.0);
    }

    #[test]
    fn a_mix_that_only_resembles_the_sum_says_the_sum_check_explains() {
        let c = choice(vec![candidate("Mix", CandidateRole::Mix, -14.0, -30.0)]);
        let s = c.summary().unwrap();
        assert!(s.contains("-30.0 dB after a gain fit"), "{s}");
        assert!(
            s.contains("does not null with them at unity (-14.0 dB)"),
            "{s}"
        );
        let given = MixChoice {
            method: MixMethod::Given,
            ..c.clone()
        };
        assert_eq!(given.summary(), None);
        let mut out = Vec::new();
        evaluate_mix(
            &MixChoice {
                candidates: vec![],
                ..given
            },
            &mut out,
        );
        assert!(out.is_empty());
    }
}
