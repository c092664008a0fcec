//! The ipc-labs runner: builds a lab, plays its scenarios with every party on
//! its own pseudo-terminal inside a sandbox, compares what the terminals showed
//! with the expected snapshots, and reports every IPC object or process left
//! behind.
//!
//! The data flows through one module per step: [`lab`] (lab.toml) →
//! [`scenario`] (steps, played on [`party`] terminals inside a [`sandbox`]) →
//! [`transcript`] → [`snapshot`] comparison and [`inventory`] of leaks →
//! [`run`] (a lab's verdict) → [`report`].

pub mod catalog;
pub mod compile;
pub mod grade;
pub mod gradescope;
pub mod host;
pub mod interrupt;
pub mod inventory;
pub mod junit;
pub mod lab;
pub mod party;
pub mod report;
pub mod run;
pub mod sandbox;
pub mod scenario;
pub mod snapshot;
pub mod summary;
pub mod transcript;
