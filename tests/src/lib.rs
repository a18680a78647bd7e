//! Shared helpers for the cross-crate tests: the reference-data parser.
