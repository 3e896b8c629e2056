pub mod writers;
