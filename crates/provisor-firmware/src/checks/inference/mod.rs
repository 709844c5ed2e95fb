//! Checks that infer answers to the conditions of the standard from the image.

pub mod conditions;
