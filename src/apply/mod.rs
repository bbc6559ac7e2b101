//! The executor: walks a plan's graph with bounded parallelism, waits for EMR Serverless states, retries what AWS asks to be retried, and reports events.
