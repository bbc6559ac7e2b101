//! Conversions between SDK types and model types, one file per service.

pub(crate) mod application;
pub(crate) mod iam;
pub(crate) mod network;
