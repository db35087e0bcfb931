//! Webhook signatures: HMAC-SHA256 of the raw body with the channel's secret, compared
//! in constant time.
//!
//! | channel | header | encoding |
//! | --- | --- | --- |
//! | shopify | `X-Shopify-Hmac-Sha256` | base64 |
//! | woocommerce | `X-WC-Webhook-Signature` | base64 |
//! | generic, amazon, import | `X-OMS-Signature` | `sha256=` + hex |
//!
//! Amazon has no webhook of its own (its notifications are pulled from SP-API), so the
//! relay that forwards Amazon orders signs them as the generic channel does.

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use oms_domain::order::Channel;

type HmacSha256 = Hmac<Sha256>;

/// Why a webhook's signature was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the {header} header is missing")]
    Missing { header: &'static str },
    #[error("the {header} header does not match the body")]
    Mismatch { header: &'static str },
}

enum Encoding {
    Base64,
    PrefixedHex,
    /// EasyPost's `hmac-sha256-hex=` + hex.
    EasyPostHex,
}

fn scheme(channel: Channel) -> (&'static str, Encoding) {
    match channel {
        Channel::Shopify => ("x-shopify-hmac-sha256", Encoding::Base64),
        Channel::WooCommerce => ("x-wc-webhook-signature", Encoding::Base64),
        Channel::Generic
        | Channel::Amazon
        | Channel::Import
        | Channel::FlashSale
        | Channel::Auction
        | Channel::GroupBuy
        | Channel::Rental
        | Channel::Repair
        | Channel::Exchange
        | Channel::Checkout
        | Channel::Rfq
        | Channel::Marketplace => ("x-oms-signature", Encoding::PrefixedHex),
    }
}

/// The (lower-case) header the channel signs its webhooks in.
pub fn header_name(channel: Channel) -> &'static str {
    scheme(channel).0
}

fn mac(secret: &[u8], body: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes a key of any length");
    mac.update(body);
    mac
}

/// The header value the channel would send for `body`.
pub fn sign(channel: Channel, secret: &[u8], body: &[u8]) -> String {
    let tag = mac(secret, body).finalize().into_bytes();
    match scheme(channel).1 {
        Encoding::Base64 => base64::engine::general_purpose::STANDARD.encode(tag),
        Encoding::PrefixedHex => format!("sha256={}", hex::encode(tag)),
        Encoding::EasyPostHex => format!("hmac-sha256-hex={}", hex::encode(tag)),
    }
}

/// Checks `header_value` against the body's HMAC in constant time.
pub fn verify(channel: Channel, secret: &[u8], header_value: Option<&str>, body: &[u8]) -> Result<(), SignatureError> {
    let (header, encoding) = scheme(channel);
    verify_scheme(header, encoding, secret, header_value, body)
}

fn verify_scheme(
    header: &'static str,
    encoding: Encoding,
    secret: &[u8],
    header_value: Option<&str>,
    body: &[u8],
) -> Result<(), SignatureError> {
    let value = header_value.map(str::trim).filter(|v| !v.is_empty()).ok_or(SignatureError::Missing { header })?;
    let claimed = match encoding {
        Encoding::Base64 => base64::engine::general_purpose::STANDARD.decode(value).ok(),
        Encoding::PrefixedHex => value.strip_prefix("sha256=").and_then(|h| hex::decode(h).ok()),
        Encoding::EasyPostHex => value.strip_prefix("hmac-sha256-hex=").and_then(|h| hex::decode(h).ok()),
    }
    .ok_or(SignatureError::Mismatch { header })?;
    mac(secret, body).verify_slice(&claimed).map_err(|_| SignatureError::Mismatch { header })
}

/// How a carrier's tracking webhook is signed: the format its route names.
///
/// | format | header | value |
/// | --- | --- | --- |
/// | generic (and any carrier posting it) | `X-OMS-Signature` | `sha256=` + hex |
/// | aftership | `aftership-hmac-sha256` | base64 |
/// | easypost | `X-Hmac-Signature` | `hmac-sha256-hex=` + hex |
///
/// Each is HMAC-SHA256 of the raw body with the carrier's secret. (EasyPost normalises its
/// secret to Unicode NFKD before signing; an ASCII secret, as its dashboard generates, is
/// its own normal form.)
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrackingFormat {
    Generic,
    AfterShip,
    EasyPost,
}

fn tracking_scheme(format: TrackingFormat) -> (&'static str, Encoding) {
    match format {
        TrackingFormat::Generic => ("x-oms-signature", Encoding::PrefixedHex),
        TrackingFormat::AfterShip => ("aftership-hmac-sha256", Encoding::Base64),
        TrackingFormat::EasyPost => ("x-hmac-signature", Encoding::EasyPostHex),
    }
}

/// The (lower-case) header a tracking format signs its webhooks in.
pub fn tracking_header_name(format: TrackingFormat) -> &'static str {
    tracking_scheme(format).0
}

/// The header value a carrier posting `format` would send for `body`.
pub fn sign_tracking(format: TrackingFormat, secret: &[u8], body: &[u8]) -> String {
    let tag = mac(secret, body).finalize().into_bytes();
    match tracking_scheme(format).1 {
        Encoding::Base64 => base64::engine::general_purpose::STANDARD.encode(tag),
        Encoding::PrefixedHex => format!("sha256={}", hex::encode(tag)),
        Encoding::EasyPostHex => format!("hmac-sha256-hex={}", hex::encode(tag)),
    }
}

/// Checks a tracking webhook's `header_value` against the body's HMAC in constant time.
pub fn verify_tracking(
    format: TrackingFormat,
    secret: &[u8],
    header_value: Option<&str>,
    body: &[u8],
) -> Result<(), SignatureError> {
    let (header, encoding) = tracking_scheme(format);
    verify_scheme(header, encoding, secret, header_value, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_made_with_the_secret_verifies() {
        for channel in Channel::ALL {
            let sig = sign(channel, b"s3cret", b"{}");
            assert_eq!(verify(channel, b"s3cret", Some(&sig), b"{}"), Ok(()));
        }
    }

    #[test]
    fn shopify_signature_is_base64_of_hmac_sha256() {
        // HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog"), a published test vector.
        let sig = sign(Channel::Shopify, b"key", b"The quick brown fox jumps over the lazy dog");
        assert_eq!(sig, "97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg=");
        let generic = sign(Channel::Generic, b"key", b"The quick brown fox jumps over the lazy dog");
        assert_eq!(generic, "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
    }

    #[test]
    fn a_wrong_or_missing_signature_is_refused() {
        let sig = sign(Channel::Generic, b"s3cret", b"{}");
        assert!(matches!(verify(Channel::Generic, b"other", Some(&sig), b"{}"), Err(SignatureError::Mismatch { .. })));
        assert!(matches!(verify(Channel::Generic, b"s3cret", Some(&sig), b"{ }"), Err(SignatureError::Mismatch { .. })));
        assert!(matches!(verify(Channel::Generic, b"s3cret", None, b"{}"), Err(SignatureError::Missing { .. })));
        assert!(matches!(verify(Channel::Generic, b"s3cret", Some("sha256=zz"), b"{}"), Err(SignatureError::Mismatch { .. })));
        assert!(matches!(verify(Channel::Shopify, b"s3cret", Some("!!"), b"{}"), Err(SignatureError::Mismatch { .. })));
    }

    #[test]
    fn tracking_signatures_follow_each_providers_scheme() {
        let body = b"The quick brown fox jumps over the lazy dog";
        assert_eq!(sign_tracking(TrackingFormat::AfterShip, b"key", body), "97yD9DBThCSxMpjmqm+xQ+9NWaFJRhdZl0edvC0aPNg=");
        assert_eq!(
            sign_tracking(TrackingFormat::EasyPost, b"key", body),
            "hmac-sha256-hex=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
        for format in [TrackingFormat::Generic, TrackingFormat::AfterShip, TrackingFormat::EasyPost] {
            let sig = sign_tracking(format, b"s", b"{}");
            assert_eq!(verify_tracking(format, b"s", Some(&sig), b"{}"), Ok(()));
            assert!(verify_tracking(format, b"s", Some(&sig), b"{ }").is_err());
            assert!(verify_tracking(format, b"other", Some(&sig), b"{}").is_err());
        }
        let easypost_as_generic = sign_tracking(TrackingFormat::Generic, b"s", b"{}");
        assert!(verify_tracking(TrackingFormat::EasyPost, b"s", Some(&easypost_as_generic), b"{}").is_err());
    }
}
