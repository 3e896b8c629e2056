pub mod run;
pub mod wave;
pub mod writers;
pub mod zips;
