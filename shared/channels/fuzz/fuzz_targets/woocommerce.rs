//! The woocommerce normaliser on raw webhook bytes, with a merchant, so the fuzzer reaches past the merchant check.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oms_channels::{self as channels, Meta};
use oms_domain::order::Channel;

fuzz_target!(|body: &[u8]| {
    let _ = channels::normalise_with_meta(Channel::WooCommerce, body, &Meta::merchant("https://shop.example.com/"));
});
