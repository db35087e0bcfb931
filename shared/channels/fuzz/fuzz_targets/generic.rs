//! The generic channel's normaliser (our own JSON order format) on raw webhook bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oms_channels as channels;
use oms_domain::order::Channel;

fuzz_target!(|body: &[u8]| {
    let _ = channels::normalise(Channel::Generic, body);
});
