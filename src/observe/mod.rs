//! Reading Actual through `Cloud`, concurrently and bounded.
