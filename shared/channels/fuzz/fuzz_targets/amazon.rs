//! The amazon normaliser on raw webhook bytes, without a merchant: the envelope's seller_id names it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oms_channels::{self as channels, Meta};
use oms_domain::order::Channel;

fuzz_target!(|body: &[u8]| {
    let _ = channels::normalise_with_meta(Channel::Amazon, body, &Meta::default());
});
