pub mod cloud;
pub mod emulator;
