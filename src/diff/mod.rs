//! Pure comparison of Desired and Actual into field-level changes, after normalisation.
