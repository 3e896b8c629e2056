//! `stemcheck check`: the plugin's checks run on exported stem files. Decoding, the
//! file-level facts and the terminal output live here; the meters, the session analysis, the
//! rules and the report are the plugin's own engine (`stemcheck`), so a file check and a live
//! check give the same figures and the same finding ids.

pub mod assemble;
pub mod collect;
pub mod demo;
pub mod options;
pub mod problem;
pub mod run;
pub mod scan;
pub mod sniff;
pub mod source;
pub mod stats;
pub mod terminal;
