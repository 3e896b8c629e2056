//! `stemcheck check`: the plugin's checks run on exported stem files. Decoding, the
//! file-level facts and the terminal output live here; the meters, the session analysis, the
//! rules and the report are the plugin's own engine (`stemcheck`), so a file check and a live
//! check give the same figures and the same finding ids.

pub mod assemble;
pub mod bext;
pub mod checklist_lines;
pub mod codec_stream;
pub mod collect;
pub mod demo;
pub mod mix_detect;
pub mod mix_note;
pub mod options;
pub mod pcm;
pub mod problem;
pub mod rf64;
pub mod run;
pub mod scan;
pub mod sniff;
pub mod source;
pub mod stats;
pub mod terminal;
pub mod wav_stream;
pub mod wave64;
pub mod zip_source;
