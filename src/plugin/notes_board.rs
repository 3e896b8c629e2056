//! The stems' notes (the sender's brief per stem), where the master can read them: each
//! instance's report thread posts its own note under its registry slot and claim generation,
//! and the master's report thread and editor read them when they list the stems.
//!
//! Strings allocate, so no audio thread ever touches this board; a mutex is enough, held only
//! to copy a note in or out.

use std::sync::Mutex;

/// (slot, generation, note) for every instance with a note.
static BOARD: Mutex<Vec<(usize, u64, String)>> = Mutex::new(Vec::new());

fn board() -> std::sync::MutexGuard<'static, Vec<(usize, u64, String)>> {
    // A poisoned lock still holds whole entries.
    BOARD.lock().unwrap_or_else(|p| p.into_inner())
}

/// Posts the note of the instance in `slot` of `generation` (an empty note withdraws it).
pub fn post(slot: usize, generation: u64, note: &str) {
    let mut b = board();
    b.retain(|(s, _, _)| *s != slot);
    if !note.trim().is_empty() {
        b.push((slot, generation, note.to_owned()));
    }
}

/// Withdraws the note of the instance in `slot` of `generation` (it is going away).
pub fn withdraw(slot: usize, generation: u64) {
    board().retain(|&(s, g, _)| (s, g) != (slot, generation));
}

/// The note of the stem in `slot` of `generation`; empty when it has none (a reused slot's
/// previous owner's note is not returned).
pub fn read(slot: usize, generation: u64) -> String {
    board()
        .iter()
        .find(|&&(s, g, _)| (s, g) == (slot, generation))
        .map_or_else(String::new, |(_, _, n)| n.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_are_kept_per_claim() {
        // Slots far above any test registry's, so other tests' instances never collide.
        post(9_001, 1, "Kick and sub");
        assert_eq!(read(9_001, 1), "Kick and sub");
        assert_eq!(read(9_001, 2), "", "another claim of the slot");
        post(9_001, 2, "Snare");
        assert_eq!(read(9_001, 1), "", "the slot's new owner replaced it");
        withdraw(9_001, 1);
        assert_eq!(read(9_001, 2), "Snare", "an old claim withdraws nothing");
        withdraw(9_001, 2);
        assert_eq!(read(9_001, 2), "");
    }
}
