//! ivcd's integration tests: one binary (see matklad, "Delete Cargo
//! Integration Tests"), one module per capability, helpers in `support`.

mod calendar;
mod parsers;
mod support;
