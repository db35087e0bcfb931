//! The local runtime: hosts every function of the OMS in one process on the embedded
//! store and queue, so the product runs on one machine with no AWS account.
//!
//! - [`server`] starts the HTTP routes and the queue workers over one data directory;
//!   [`connections`] is its HTTP listener, with connection and client-time limits.
//! - [`workers`] drains the embedded queues into the same consumers the Lambda SQS
//!   functions run.
//! - [`demo`] plays a scripted day of business and prints a summary.
//! - [`import`] takes orders in bulk from a CSV file.
//! - [`bench`] measures the normalisers, `oms serve`'s intake rate and quote latency;
//!   [`allocation_bench`] our allocation planner against Saleor's strategies and the optimum.
//!   [`flash_bench`] flash-sale claims beside Redis, and [`flash_model`] the DynamoDB
//!   capacity of a flash sale.
//! - [`progress`] shows long work's progress: a bar on a terminal, plain lines in a log.
//! - [`retrain`] trains the pricing models from a CSV history into the data directory.
//! - [`reconcile`] checks every stock against its holds and its ledger.
//! - [`reports`] writes the report templates as CSV, XLSX, SVG charts and HTML (`oms
//!   report`, `oms serve --report-every-hours`); [`report_bench`] times them over a year
//!   of orders.

pub mod allocation_bench;
pub mod bench;
pub mod connections;
pub mod demo;
pub mod flash_bench;
pub mod flash_model;
pub mod import;
pub mod progress;
pub mod recommend_bench;
pub mod reconcile;
pub mod report_bench;
pub mod reports;
pub mod retrain;
pub mod server;
pub mod sweep;
pub mod workers;
