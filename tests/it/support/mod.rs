pub mod cli;
pub mod cloud;
pub mod emulator;
pub mod fixtures;
