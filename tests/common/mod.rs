//! Shared helpers for the integration tests.
//!
//! Every test crate that declares `mod common;` compiles this module on its own and usually uses
//! only part of it, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod audio;
pub mod clap_host;
pub mod gui_host;
pub mod picture;
pub mod rig;
pub mod state;
pub mod threads;
pub mod xserver;
