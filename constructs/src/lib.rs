//! pantri constructs (to come).
