//! Integration tests of the engine: the decision rule case by case, and its laws as
//! property tests.

mod lab;
mod laws;
mod rule;
mod support;
