//! A request for quotes as a record: the buyer's requirement list for one region, the
//! merchants the platform weighs for it (and those it left out, each with why), the quotes
//! per line (automatic, from a candidate's listing, or the merchant's own, which replaces
//! it), and, once the buyer accepts, the parent order: the sub-orders planned from the
//! cheapest cover, one per merchant, each made through intake under the external id
//! `<rfq id>-<merchant>` (so making them again finds the ones made already).
//!
//! Its life: open (quotes taken until `quotes_until`), then accepted (quotes refused, the
//! plan fixed). Every change is stored over the version read.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::{cheapest_cover, Cover, LineQuote, RequiredLine, Uncovered};
use crate::onboarding::Region;
use crate::order::Address;
use crate::{CustomerId, ExternalId, MerchantId, RfqId, Sku, ValidationError, WarehouseId};

/// The most lines a requirement list holds.
pub const MAX_LINES: usize = 200;
/// The most units one line asks for.
pub const MAX_QUANTITY: u32 = 1_000_000;
/// How far ahead quotes may be collected.
pub const MAX_QUOTING_DAYS: i64 = 30;
/// The longest rfq id: the sub-orders' external ids are `<rfq id>-<merchant>`.
pub const MAX_RFQ_ID_LEN: usize = 48;

/// What a buyer asks for, checked by [`RfqRequest::check`].
#[derive(Debug, Clone, PartialEq)]
pub struct RfqRequest {
    pub rfq_id: RfqId,
    pub customer_id: CustomerId,
    pub region: Region,
    pub shipping_address: Address,
    pub lines: Vec<RequiredLine>,
    pub quotes_until: DateTime<Utc>,
}

impl RfqRequest {
    /// The request, when 1 to [`MAX_LINES`] lines of distinct SKUs each ask for 1 to
    /// [`MAX_QUANTITY`] units, the address (when it names a province) lies in the region,
    /// and quotes close after `now` and at most [`MAX_QUOTING_DAYS`] days on.
    pub fn check(self, now: DateTime<Utc>) -> Result<Self, ValidationError> {
        if self.rfq_id.as_str().chars().count() > MAX_RFQ_ID_LEN {
            return Err(ValidationError::new("rfq_id", format!("must be at most {MAX_RFQ_ID_LEN} characters")));
        }
        if self.lines.is_empty() || self.lines.len() > MAX_LINES {
            return Err(ValidationError::new("lines", format!("must hold 1 to {MAX_LINES} lines")));
        }
        for (i, line) in self.lines.iter().enumerate() {
            if line.quantity == 0 || line.quantity > MAX_QUANTITY {
                return Err(ValidationError::new(format!("lines[{i}].quantity"), format!("must be 1 to {MAX_QUANTITY}")));
            }
            if self.lines[..i].iter().any(|earlier| earlier.sku == line.sku) {
                return Err(ValidationError::new(format!("lines[{i}].sku"), format!("{} is asked for twice", line.sku)));
            }
        }
        if let Some(province) = self.shipping_address.province.as_deref() {
            if crate::allocation::geo::canonical_province(province).is_some_and(|p| p != self.region.as_str()) {
                return Err(ValidationError::new(
                    "shipping_address.province",
                    format!("is not in the region {}", self.region.as_str()),
                ));
            }
        }
        if self.quotes_until <= now || self.quotes_until > now + Duration::days(MAX_QUOTING_DAYS) {
            return Err(ValidationError::new(
                "quotes_until",
                format!("must be in the future and at most {MAX_QUOTING_DAYS} days on"),
            ));
        }
        Ok(self)
    }
}

/// A merchant the platform weighs for the region: where it ships from and what one
/// shipment of its lines to the buyer costs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub merchant: MerchantId,
    /// Its warehouses holding stock of the list that ship to the region.
    pub warehouses: Vec<WarehouseId>,
    #[serde(with = "rust_decimal::serde::str")]
    pub shipping: Decimal,
}

/// A merchant holding stock of the list that the platform does not weigh, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeftOut {
    pub merchant: MerchantId,
    pub reason: String,
}

/// Where a quote came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuoteSource {
    /// The merchant's approved, listed, stocked listing's wholesale price for the quantity.
    Listing,
    /// The merchant's own quote (`POST /rfqs/{id}/quotes`).
    Merchant,
}

impl QuoteSource {
    pub fn as_str(self) -> &'static str {
        match self {
            QuoteSource::Listing => "listing",
            QuoteSource::Merchant => "merchant",
        }
    }
}

/// One merchant's unit price for one line; at most one per (merchant, line).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    pub merchant: MerchantId,
    pub line: usize,
    #[serde(with = "rust_decimal::serde::str")]
    pub unit_price: Decimal,
    pub source: QuoteSource,
    pub quoted_at: DateTime<Utc>,
}

/// One sub-order of the parent: a merchant's lines at its quoted prices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedChild {
    pub merchant: MerchantId,
    pub external_id: ExternalId,
    /// `(line, unit price)`.
    pub lines: Vec<(usize, Decimal)>,
}

/// The buyer's acceptance: the cover taken and the sub-orders it plans.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Acceptance {
    pub accepted_at: DateTime<Utc>,
    #[serde(with = "rust_decimal::serde::str")]
    pub total: Decimal,
    pub explanation: String,
    pub children: Vec<PlannedChild>,
}

/// A request for quotes and everything collected for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rfq {
    pub rfq_id: RfqId,
    pub customer_id: CustomerId,
    pub region: Region,
    pub shipping_address: Address,
    pub lines: Vec<RequiredLine>,
    pub quotes_until: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub candidates: Vec<Candidate>,
    pub left_out: Vec<LeftOut>,
    pub quotes: Vec<Quote>,
    pub accepted: Option<Acceptance>,
    /// 1 when created, one more with each stored change.
    pub version: u64,
}

/// Why a merchant's quote is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuoteRefused {
    #[error("the request was accepted: quotes are closed")]
    Accepted,
    #[error("quotes closed at {0}")]
    Closed(DateTime<Utc>),
    #[error("the request asks for no SKU {0}")]
    NotAsked(Sku),
    #[error("the unit price must be above 0 and at most {max}")]
    BadPrice { max: Decimal },
}

/// What [`Rfq::accept`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accepted {
    /// Accepted now: store the record.
    Now,
    /// Accepted before: nothing changed.
    Already,
}

impl Rfq {
    /// A new request at version 1, with the candidates weighed and the quotes collected.
    pub fn open(
        request: RfqRequest,
        candidates: Vec<Candidate>,
        left_out: Vec<LeftOut>,
        quotes: Vec<Quote>,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            rfq_id: request.rfq_id,
            customer_id: request.customer_id,
            region: request.region,
            shipping_address: request.shipping_address,
            lines: request.lines,
            quotes_until: request.quotes_until,
            created_at: now,
            candidates,
            left_out,
            quotes,
            accepted: None,
            version: 1,
        }
    }

    /// The index of the line asking for `sku`.
    pub fn line_of(&self, sku: &Sku) -> Option<usize> {
        self.lines.iter().position(|l| &l.sku == sku)
    }

    /// Whether quotes are still taken: not accepted, and before `quotes_until`.
    pub fn check_open(&self, now: DateTime<Utc>) -> Result<(), QuoteRefused> {
        if self.accepted.is_some() {
            return Err(QuoteRefused::Accepted);
        }
        if now >= self.quotes_until {
            return Err(QuoteRefused::Closed(self.quotes_until));
        }
        Ok(())
    }

    /// Records `candidate`'s own unit price for the line of `sku`, replacing its quote of
    /// that line (automatic or its own), and weighs the merchant from now on. The caller
    /// has checked that the merchant stocks the SKU where it ships to the region.
    pub fn quote(
        &mut self,
        candidate: Candidate,
        sku: &Sku,
        unit_price: Decimal,
        now: DateTime<Utc>,
    ) -> Result<(), QuoteRefused> {
        self.check_open(now)?;
        let line = self.line_of(sku).ok_or_else(|| QuoteRefused::NotAsked(sku.clone()))?;
        let max = crate::catalogue::MAX_PRICE;
        if unit_price <= Decimal::ZERO || unit_price > max {
            return Err(QuoteRefused::BadPrice { max });
        }
        let merchant = candidate.merchant.clone();
        self.left_out.retain(|l| l.merchant != merchant);
        match self.candidates.iter_mut().find(|c| c.merchant == merchant) {
            Some(known) => *known = candidate,
            None => self.candidates.push(candidate),
        }
        self.quotes.retain(|q| !(q.merchant == merchant && q.line == line));
        self.quotes.push(Quote { merchant, line, unit_price, source: QuoteSource::Merchant, quoted_at: now });
        Ok(())
    }

    /// The quotes as the combination weighs them.
    pub fn line_quotes(&self) -> Vec<LineQuote> {
        self.quotes.iter().map(|q| LineQuote { merchant: q.merchant.clone(), line: q.line, unit_price: q.unit_price }).collect()
    }

    /// Each candidate's one shipment to the buyer.
    pub fn shipping(&self) -> BTreeMap<MerchantId, Decimal> {
        self.candidates.iter().map(|c| (c.merchant.clone(), c.shipping)).collect()
    }

    /// The cheapest cover of the list by the quotes so far, or the line nobody quoted.
    pub fn proposal(&self) -> Result<Cover, Uncovered> {
        cheapest_cover(&self.lines, &self.line_quotes(), &self.shipping())
    }

    /// Accepts the cheapest cover: plans one sub-order per merchant of it and closes
    /// quoting. Accepting again changes nothing (`Already`).
    pub fn accept(&mut self, now: DateTime<Utc>) -> Result<Accepted, Uncovered> {
        if self.accepted.is_some() {
            return Ok(Accepted::Already);
        }
        let cover = self.proposal()?;
        let children = cover
            .by_merchant
            .iter()
            .map(|(merchant, lines)| PlannedChild {
                merchant: merchant.clone(),
                external_id: self.child_external_id(merchant),
                lines: lines.clone(),
            })
            .collect();
        self.accepted = Some(Acceptance { accepted_at: now, total: cover.total, explanation: cover.explanation, children });
        Ok(Accepted::Now)
    }

    /// The external id of `merchant`'s sub-order: `<rfq id>-<merchant>`, cut to the
    /// longest external id (a merchant id that long is the only way to reach it).
    pub fn child_external_id(&self, merchant: &MerchantId) -> ExternalId {
        let raw: String = format!("{}-{}", self.rfq_id, merchant).chars().take(crate::ids::MAX_ID_LEN).collect();
        ExternalId::parse(raw).expect("an rfq id and a merchant id make an external id")
    }

    /// The record as the next write stores it.
    pub fn next_version(&self) -> Self {
        Self { version: self.version + 1, ..self.clone() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::AddressParts;

    fn m(id: &str) -> MerchantId {
        MerchantId::parse(id).unwrap()
    }

    fn sku(raw: &str) -> Sku {
        Sku::parse(raw).unwrap()
    }

    fn now() -> DateTime<Utc> {
        "2026-12-01T10:00:00Z".parse().unwrap()
    }

    pub(crate) fn address() -> Address {
        Address::parse(AddressParts {
            name: Some("Buyer"),
            line1: Some("1 West Lake Rd"),
            line2: None,
            city: Some("Hangzhou"),
            province: Some("Zhejiang"),
            postal_code: Some("310000"),
            country: Some("CN"),
        })
        .unwrap()
    }

    fn request(lines: &[(&str, u32)]) -> RfqRequest {
        RfqRequest {
            rfq_id: RfqId::parse("rfq-1").unwrap(),
            customer_id: CustomerId::parse("c-1").unwrap(),
            region: Region::parse("Zhejiang").unwrap(),
            shipping_address: address(),
            lines: lines.iter().map(|(s, q)| RequiredLine { sku: sku(s), quantity: *q }).collect(),
            quotes_until: now() + Duration::days(2),
        }
    }

    fn candidate(id: &str, shipping: i64) -> Candidate {
        Candidate { merchant: m(id), warehouses: vec![], shipping: Decimal::from(shipping) }
    }

    fn listing(id: &str, line: usize, price: i64) -> Quote {
        Quote { merchant: m(id), line, unit_price: Decimal::from(price), source: QuoteSource::Listing, quoted_at: now() }
    }

    #[test]
    fn a_request_is_refused_for_each_rule_it_breaks() {
        assert!(request(&[("A", 1)]).check(now()).is_ok());
        assert_eq!(request(&[]).check(now()).unwrap_err().field, "lines");
        assert_eq!(request(&[("A", 0)]).check(now()).unwrap_err().field, "lines[0].quantity");
        assert_eq!(request(&[("A", MAX_QUANTITY + 1)]).check(now()).unwrap_err().field, "lines[0].quantity");
        assert_eq!(request(&[("A", 1), ("A", 2)]).check(now()).unwrap_err().field, "lines[1].sku");
        let many: Vec<(String, u32)> = (0..=MAX_LINES).map(|i| (format!("S{i}"), 1)).collect();
        let many: Vec<(&str, u32)> = many.iter().map(|(s, q)| (s.as_str(), *q)).collect();
        assert_eq!(request(&many).check(now()).unwrap_err().field, "lines");
        let past = RfqRequest { quotes_until: now(), ..request(&[("A", 1)]) };
        assert_eq!(past.check(now()).unwrap_err().field, "quotes_until");
        let far = RfqRequest { quotes_until: now() + Duration::days(MAX_QUOTING_DAYS + 1), ..request(&[("A", 1)]) };
        assert_eq!(far.check(now()).unwrap_err().field, "quotes_until");
        let elsewhere = RfqRequest { region: Region::parse("Guangdong").unwrap(), ..request(&[("A", 1)]) };
        assert_eq!(elsewhere.check(now()).unwrap_err().field, "shipping_address.province");
    }

    #[test]
    fn a_merchants_own_quote_replaces_its_listing_price_and_counts_in_the_cover() {
        let mut rfq = Rfq::open(request(&[("A", 10)]), vec![candidate("a", 5)], vec![], vec![listing("a", 0, 12)], now());
        rfq.quote(candidate("a", 5), &sku("A"), Decimal::from(9), now()).unwrap();
        assert_eq!(rfq.quotes.len(), 1);
        assert_eq!((rfq.quotes[0].unit_price, rfq.quotes[0].source), (Decimal::from(9), QuoteSource::Merchant));
        assert_eq!(rfq.proposal().unwrap().total, Decimal::from(95));
    }

    #[test]
    fn a_quote_is_refused_after_the_deadline_after_acceptance_for_an_unasked_sku_and_at_a_bad_price() {
        let mut rfq = Rfq::open(request(&[("A", 1)]), vec![candidate("a", 0)], vec![], vec![], now());
        let price = Decimal::from(3);
        assert_eq!(rfq.quote(candidate("a", 0), &sku("B"), price, now()), Err(QuoteRefused::NotAsked(sku("B"))));
        assert!(matches!(rfq.quote(candidate("a", 0), &sku("A"), Decimal::ZERO, now()), Err(QuoteRefused::BadPrice { .. })));
        let too_dear = crate::catalogue::MAX_PRICE + Decimal::ONE;
        assert!(matches!(rfq.quote(candidate("a", 0), &sku("A"), too_dear, now()), Err(QuoteRefused::BadPrice { .. })));
        let late = rfq.quotes_until;
        assert_eq!(rfq.quote(candidate("a", 0), &sku("A"), price, late), Err(QuoteRefused::Closed(late)));
        rfq.quote(candidate("a", 0), &sku("A"), price, now()).unwrap();
        rfq.accept(now()).unwrap();
        assert_eq!(rfq.quote(candidate("a", 0), &sku("A"), price, now()), Err(QuoteRefused::Accepted));
        assert!(rfq.quotes.len() == 1 && rfq.accepted.is_some());
    }

    #[test]
    fn a_merchant_left_out_that_quotes_is_weighed_from_then_on() {
        let left = LeftOut { merchant: m("b"), reason: "ships elsewhere".into() };
        let mut rfq = Rfq::open(request(&[("A", 1)]), vec![], vec![left], vec![], now());
        assert!(rfq.proposal().is_err());
        rfq.quote(candidate("b", 4), &sku("A"), Decimal::from(6), now()).unwrap();
        assert!(rfq.left_out.is_empty());
        assert_eq!(rfq.proposal().unwrap().total, Decimal::from(10));
    }

    #[test]
    fn accepting_plans_one_sub_order_per_merchant_of_the_cover_and_accepting_again_changes_nothing() {
        let quotes = vec![listing("a", 0, 10), listing("b", 1, 10), listing("a", 1, 30)];
        let mut rfq =
            Rfq::open(request(&[("A", 2), ("B", 3)]), vec![candidate("a", 1), candidate("b", 1)], vec![], quotes, now());
        assert_eq!(rfq.accept(now()), Ok(Accepted::Now));
        let accepted = rfq.accepted.clone().unwrap();
        assert_eq!(accepted.total, Decimal::from(52));
        let planned: Vec<(&str, &str, usize)> =
            accepted.children.iter().map(|c| (c.merchant.as_str(), c.external_id.as_str(), c.lines.len())).collect();
        assert_eq!(planned, [("a", "rfq-1-a", 1), ("b", "rfq-1-b", 1)]);
        assert_eq!(rfq.accept(now() + Duration::hours(1)), Ok(Accepted::Already));
        assert_eq!(rfq.accepted, Some(accepted));
    }

    #[test]
    fn a_list_nobody_covers_cannot_be_accepted_and_names_its_line() {
        let mut rfq = Rfq::open(request(&[("A", 1), ("B", 1)]), vec![candidate("a", 1)], vec![], vec![listing("a", 0, 1)], now());
        assert_eq!(rfq.accept(now()).unwrap_err().sku, sku("B"));
        assert!(rfq.accepted.is_none());
    }
}
