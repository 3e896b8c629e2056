//! Lock-free sharing between the audio thread and its readers.

pub mod seqlock;
