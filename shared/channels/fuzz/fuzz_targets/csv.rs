//! The CSV bulk import on raw file bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oms_channels::csv_import::parse_csv;

fuzz_target!(|file: &[u8]| {
    let _ = parse_csv(file);
});
