//! The sign-off rules and the written report (JSON and Markdown), free of plugin-framework
//! types.
//!
//! The plugin fills a [`ReportInput`] from the registry, then [`build_report`] runs the rules
//! and returns a [`Report`] (schema `stemcheck.report/1`), [`render_markdown`] turns it into
//! the read-me and [`write_report`] puts both files into the report folder. [`evaluate`] and
//! [`Verdict::from_findings`] give the live checklist and banner from the same rules.

mod brief;
mod build;
mod checklist;
mod coverage_rules;
mod delivery_model;
mod escape;
mod file_input;
mod file_mix;
mod file_model;
mod file_rules;
mod files;
mod input;
mod markdown;
mod markdown_delivery;
mod model;
mod order;
mod pass;
mod rules;
mod session_report;
mod stamp;
mod sum_rules;
mod units;

#[cfg(test)]
pub(crate) mod fixtures;

pub use brief::{
    stem_note, Brief, ARTIST_MAX_CHARS, NOTES_MAX_CHARS, STEM_NOTE_MAX_CHARS, TITLE_MAX_CHARS,
};
pub use build::build_report;
pub use checklist::{checklist, id as checklist_id};
pub use coverage_rules::id as coverage_id;
pub use delivery_model::{BriefReport, CheckState, ChecklistItem, SessionPoint, SessionReport};
pub use escape::{clean_text, md_block_quote, md_inline};
pub use file_input::{Encoding, FileFacts, FileSettings, FilesInput};
pub use file_mix::{CandidateRole, MixCandidate, MixChoice, MixMethod, MixReport};
pub use file_rules::{fmt_time_of_day, id as file_id};
pub use files::{write_report, ReportFiles, ReportWriteError};
pub use input::{BusInput, DeliveryInput, ReportInput, SumInput, Thresholds};
pub use markdown::render_markdown;
pub use model::{
    BusLevels, FileReport, FilesReport, Finding, LimiterReport, LimiterVerdict, MasterReport, Pass,
    RenderModeReport, Report, Scope, Severity, StemReport, SumReport, ThresholdsReport,
    UncheckedReason, Verdict, WindowStatus, SCHEMA,
};
pub use order::{compare_names, sort_stems};
pub use pass::pass_of;
pub use rules::{evaluate, id};
pub use session_report::{fmt_clock, session_report};
pub use stamp::{file_stamp, format_utc};
pub use sum_rules::id as analysis_id;
pub use units::fmt_time;
