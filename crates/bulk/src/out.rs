//! Placeholder: replaced by the table writers.
