//! Running the built `stemcheck` binary and reading what it wrote.

#![allow(dead_code)]

use std::ffi::OsString;
use std::fs;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// What one run printed and returned.
pub struct Run {
    /// Exit status.
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// The JSON report, when one was written.
    pub report: Option<Value>,
}

impl Run {
    /// The JSON report (panics with the output when there is none).
    pub fn json(&self) -> &Value {
        self.report
            .as_ref()
            .unwrap_or_else(|| panic!("no report:\n{}{}", self.stdout, self.stderr))
    }

    /// Every finding as (id, stem, severity).
    pub fn findings(&self) -> Vec<(String, Option<String>, String)> {
        self.json()["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["id"].as_str().unwrap().to_string(),
                    f["stem"].as_str().map(String::from),
                    f["severity"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    /// The finding `id` about `stem` (`None`: the master or the session).
    pub fn finding(&self, id: &str, stem: Option<&str>) -> Option<&Value> {
        self.json()["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == id && f["stem"].as_str() == stem)
    }

    /// Finding ids at fail or warn level, with their stem.
    pub fn problems(&self) -> Vec<(String, Option<String>)> {
        self.findings()
            .into_iter()
            .filter(|(_, _, sev)| sev != "info")
            .map(|(i, s, _)| (i, s))
            .collect()
    }

    /// The stem `name` of the report.
    pub fn stem(&self, name: &str) -> &Value {
        self.json()["stems"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("no stem {name}"))
    }

    /// The `files` entry of stem `name`.
    pub fn file(&self, name: &str) -> &Value {
        self.json()["files"]["stems"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap_or_else(|| panic!("no file {name}"))
    }

    /// Stem names, in the report's order.
    pub fn stem_names(&self) -> Vec<String> {
        self.json()["stems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["name"].as_str().unwrap().to_string())
            .collect()
    }
}

/// `stemcheck check <inputs…> --json <dir>/report.json <extra…>`.
pub fn check(dir: &Path, inputs: &[&Path], extra: &[&str]) -> Run {
    let json = dir.join("report.json");
    let _ = fs::remove_file(&json);
    let mut args: Vec<OsString> = vec!["check".into()];
    args.extend(inputs.iter().map(|p| p.as_os_str().to_owned()));
    args.extend(["--json".into(), json.clone().into()]);
    args.extend(extra.iter().map(OsString::from));
    let out = Command::new(env!("CARGO_BIN_EXE_stemcheck"))
        .args(&args)
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs");
    let report = fs::read_to_string(&json)
        .ok()
        .map(|t| serde_json::from_str(&t).expect("valid JSON"));
    Run {
        code: out.status.code().expect("an exit status"),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
        report,
    }
}
