//! Reading and writing the plugin's saved state (nice-plug's JSON behind a length prefix), and
//! making an instance the session's master through it, as a host restoring a session does.

use super::clap_host::PluginInstance;
use serde_json::{json, Value};
use std::path::Path;

/// A plugin instance whose state the host can save and load (CLAP `state` extension).
pub trait StateIo {
    /// Saves the plugin's state.
    fn save_state(&mut self) -> Vec<u8>;
    /// Loads a state; `Err` when the plugin refuses it.
    fn load_state(&mut self, data: &[u8]) -> Result<(), String>;
}

impl StateIo for PluginInstance {
    fn save_state(&mut self) -> Vec<u8> {
        PluginInstance::save_state(self)
    }

    fn load_state(&mut self, data: &[u8]) -> Result<(), String> {
        PluginInstance::load_state(self, data)
    }
}

/// The JSON inside a CLAP state saved by nice-plug (an 8-byte little-endian length, then JSON).
pub fn decode_state(bytes: &[u8]) -> Value {
    assert!(
        bytes.len() >= 8,
        "state of {} bytes has no length prefix",
        bytes.len()
    );
    let (prefix, body) = bytes.split_at(8);
    let len = u64::from_le_bytes(prefix.try_into().expect("8 bytes"));
    assert_eq!(
        len,
        body.len() as u64,
        "state length prefix against the bytes that follow"
    );
    serde_json::from_slice(body).unwrap_or_else(|e| {
        panic!(
            "saved state is not JSON ({e}): {}",
            String::from_utf8_lossy(body)
        )
    })
}

/// `body` with the length prefix a CLAP state stream starts with.
pub fn encode_raw(body: &[u8]) -> Vec<u8> {
    let mut out = (body.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(body);
    out
}

pub fn encode_state(state: &Value) -> Vec<u8> {
    encode_raw(&serde_json::to_vec(state).expect("a Value serialises"))
}

/// A persisted field as nice-plug stores it: a string holding the field's own JSON.
pub fn field(value: Value) -> Value {
    Value::String(value.to_string())
}

/// Makes `plugin` the session's master through its state, as a host restoring a session does.
pub fn configure_master(plugin: &mut impl StateIo, report_dir: &Path) {
    let mut state = decode_state(&plugin.save_state());
    assert_eq!(
        state["params"]["role"],
        json!({ "f32": 0.0 }),
        "a fresh instance's role as saved: {state}"
    );
    let dir = report_dir.to_str().expect("temporary folder path is UTF-8");
    state["params"]["role"] = json!({ "f32": 1.0 });
    state["fields"]["report_dir"] = field(json!(dir));
    state["fields"]["auto_report"] = field(json!(true));
    plugin
        .load_state(&encode_state(&state))
        .expect("the master's state loads");

    let back = decode_state(&plugin.save_state());
    assert_eq!(back["params"]["role"], json!({ "f32": 1.0 }), "{back}");
    assert_eq!(back["fields"]["report_dir"], field(json!(dir)), "{back}");
    assert_eq!(back["fields"]["auto_report"], field(json!(true)), "{back}");
}
