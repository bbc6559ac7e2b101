//! Changes into a petgraph DAG ordered by references between resources.
