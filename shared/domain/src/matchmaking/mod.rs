//! Buyer requests matched to the catalogue. A buyer (or platform staff for them) asks for
//! a product by name and specification, a quantity, the region it goes to and a deadline;
//! the platform matches the text against every merchant's listed products
//! ([`text_match`]), prices each matching stock as an offer landed in the region (the
//! wholesale price at that quantity times the quantity, plus one parcel's shipping), leaves
//! out with a reason the stock that cannot serve it, ranks the rest and proposes the best.
//! The buyer accepts the proposal and it becomes an order through the normal intake.
//!
//! A request goes `open` -> `proposed` (some offer) | `no_match` (none); a proposed one
//! -> `accepted` (with its order) or `expired` (its deadline passed first).

pub mod ranking;
pub mod shipping;
pub mod terms;
pub mod text_match;

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::order::Address;
use crate::validation::clean_text;
use crate::{BuyerRequestId, CustomerId, OrderId, ValidationError};

pub use ranking::{rank, Candidate, Exclusion, ExclusionReason, Offer, Proposal};

/// Longest product name a buyer may ask for.
pub const MAX_NAME_LEN: usize = 200;
/// Longest specification a buyer may give.
pub const MAX_SPECIFICATION_LEN: usize = 500;
/// Most units one request may ask for.
pub const MAX_QUANTITY: u32 = 1_000_000;
/// Furthest a deadline may be from the request.
pub const MAX_DEADLINE_DAYS: i64 = 90;

/// What the buyer asks for, checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestDetails {
    pub name: String,
    pub specification: String,
    pub quantity: u32,
    /// The province the goods go to, as `allocation::geo` spells it.
    pub region: String,
    pub deadline: DateTime<Utc>,
}

fn bounded_text(field: &str, raw: &str, min: usize, max: usize) -> Result<String, ValidationError> {
    let cleaned = clean_text(raw);
    let len = cleaned.chars().count();
    if len < min || len > max {
        return Err(ValidationError::new(field, format!("must be {min} to {max} characters")));
    }
    Ok(cleaned)
}

impl RequestDetails {
    /// A name of 1 to [`MAX_NAME_LEN`] characters, a specification of up to
    /// [`MAX_SPECIFICATION_LEN`], 1 to [`MAX_QUANTITY`] units, a known province, a
    /// deadline after `now` and at most [`MAX_DEADLINE_DAYS`] on; else the first field at
    /// fault.
    pub fn parse(
        name: &str,
        specification: &str,
        quantity: i64,
        region: &str,
        deadline: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Self, ValidationError> {
        let name = bounded_text("name", name, 1, MAX_NAME_LEN)?;
        let specification = bounded_text("specification", specification, 0, MAX_SPECIFICATION_LEN)?;
        let quantity = u32::try_from(quantity)
            .ok()
            .filter(|q| (1..=MAX_QUANTITY).contains(q))
            .ok_or_else(|| ValidationError::new("quantity", format!("must be 1 to {MAX_QUANTITY}")))?;
        let region = crate::allocation::geo::canonical_province(region)
            .ok_or_else(|| ValidationError::new("region", "must be a province of China"))?
            .to_owned();
        if deadline <= now {
            return Err(ValidationError::new("deadline", "must be in the future"));
        }
        if deadline > now + Duration::days(MAX_DEADLINE_DAYS) {
            return Err(ValidationError::new("deadline", format!("must be at most {MAX_DEADLINE_DAYS} days on")));
        }
        Ok(Self { name, specification, quantity, region, deadline })
    }

    /// The words matched against the catalogue.
    pub fn text(&self) -> String {
        format!("{} {}", self.name, self.specification)
    }
}

/// Where a request is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    Open,
    Proposed,
    Accepted,
    Expired,
    NoMatch,
}

impl RequestStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RequestStatus::Open => "open",
            RequestStatus::Proposed => "proposed",
            RequestStatus::Accepted => "accepted",
            RequestStatus::Expired => "expired",
            RequestStatus::NoMatch => "no_match",
        }
    }
}

impl fmt::Display for RequestStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A buyer's request, its proposal and, once accepted, its order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BuyerRequest {
    pub request_id: BuyerRequestId,
    pub customer_id: CustomerId,
    pub details: RequestDetails,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shipping_address: Option<Address>,
    pub status: RequestStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proposal: Option<Proposal>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<OrderId>,
    /// Who entered it: the storefront, or the staff member for the buyer.
    pub entered_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Bumped by every stored change; an update is written over the version read.
    pub version: u64,
}

/// Why a request cannot take a step.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    #[error("a request that is {0} cannot take this step")]
    WrongState(RequestStatus),
    #[error("the request's deadline has passed")]
    PastDeadline,
}

impl BuyerRequest {
    /// A new, open request.
    pub fn open(
        request_id: BuyerRequestId,
        customer_id: CustomerId,
        details: RequestDetails,
        shipping_address: Option<Address>,
        entered_by: &str,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            request_id,
            customer_id,
            details,
            shipping_address,
            status: RequestStatus::Open,
            proposal: None,
            order_id: None,
            entered_by: entered_by.to_owned(),
            created_at: now,
            updated_at: now,
            version: 0,
        }
    }

    /// Records the matching's proposal: `proposed` when it holds an offer, `no_match` when not.
    pub fn propose(&mut self, proposal: Proposal, now: DateTime<Utc>) -> Result<(), StepError> {
        if self.status != RequestStatus::Open {
            return Err(StepError::WrongState(self.status));
        }
        self.status = if proposal.offers.is_empty() { RequestStatus::NoMatch } else { RequestStatus::Proposed };
        self.proposal = Some(proposal);
        self.updated_at = now;
        Ok(())
    }

    /// The best offer, when proposed.
    pub fn best_offer(&self) -> Option<&Offer> {
        self.proposal.as_ref().and_then(|p| p.offers.first())
    }

    /// Whether the deadline has passed at `now`.
    pub fn is_past_deadline(&self, now: DateTime<Utc>) -> bool {
        now >= self.details.deadline
    }

    /// The buyer accepted the best offer, which became `order_id`. Only a proposed request
    /// before its deadline takes it.
    pub fn accept(&mut self, order_id: OrderId, now: DateTime<Utc>) -> Result<(), StepError> {
        self.check_acceptable(now)?;
        self.status = RequestStatus::Accepted;
        self.order_id = Some(order_id);
        self.updated_at = now;
        Ok(())
    }

    /// Whether [`accept`](Self::accept) would take the step at `now`.
    pub fn check_acceptable(&self, now: DateTime<Utc>) -> Result<(), StepError> {
        if self.status != RequestStatus::Proposed {
            return Err(StepError::WrongState(self.status));
        }
        if self.is_past_deadline(now) {
            return Err(StepError::PastDeadline);
        }
        Ok(())
    }

    /// A proposed request whose deadline passed unanswered expires; `false` when it is not
    /// one.
    pub fn expire(&mut self, now: DateTime<Utc>) -> bool {
        if self.status != RequestStatus::Proposed || !self.is_past_deadline(now) {
            return false;
        }
        self.status = RequestStatus::Expired;
        self.updated_at = now;
        true
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::TimeZone;

    pub(crate) fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 9, 0, 0).unwrap()
    }

    pub(crate) fn details(quantity: u32) -> RequestDetails {
        RequestDetails::parse("ink stone", "120mm", i64::from(quantity), "Zhejiang", now() + Duration::days(10), now()).unwrap()
    }

    fn field_of(result: Result<RequestDetails, ValidationError>) -> String {
        result.unwrap_err().field
    }

    #[test]
    fn a_request_names_its_first_field_at_fault() {
        let later = now() + Duration::days(1);
        let parse = |name: &str, spec: &str, qty: i64, region: &str, deadline| {
            RequestDetails::parse(name, spec, qty, region, deadline, now())
        };
        assert_eq!(field_of(parse("  ", "", 1, "Zhejiang", later)), "name");
        assert_eq!(field_of(parse(&"x".repeat(201), "", 1, "Zhejiang", later)), "name");
        assert_eq!(field_of(parse("ink", &"x".repeat(501), 1, "Zhejiang", later)), "specification");
        assert_eq!(field_of(parse("ink", "", 0, "Zhejiang", later)), "quantity");
        assert_eq!(field_of(parse("ink", "", -3, "Zhejiang", later)), "quantity");
        assert_eq!(field_of(parse("ink", "", 1_000_001, "Zhejiang", later)), "quantity");
        assert_eq!(field_of(parse("ink", "", 1, "Atlantis", later)), "region");
        assert_eq!(field_of(parse("ink", "", 1, "Zhejiang", now())), "deadline");
        assert_eq!(field_of(parse("ink", "", 1, "Zhejiang", now() + Duration::days(91))), "deadline");
    }

    #[test]
    fn a_request_takes_the_province_in_any_spelling() {
        let parsed = RequestDetails::parse("ink", "", 1_000_000, "浙江省", now() + Duration::days(90), now()).unwrap();
        assert_eq!(parsed.region, "Zhejiang");
        assert_eq!(parsed.quantity, 1_000_000);
    }

    fn request() -> BuyerRequest {
        BuyerRequest::open(
            BuyerRequestId::parse("br-1").unwrap(),
            CustomerId::parse("c-1").unwrap(),
            details(10),
            None,
            "storefront",
            now(),
        )
    }

    fn proposal_with(offers: usize) -> Proposal {
        let offer = ranking::tests::offer("m-1", "10.00");
        Proposal { offers: vec![offer; offers], excluded: Vec::new() }
    }

    #[test]
    fn a_request_with_an_offer_is_proposed_and_without_one_matches_nothing() {
        let mut proposed = request();
        proposed.propose(proposal_with(1), now()).unwrap();
        assert_eq!(proposed.status, RequestStatus::Proposed);
        let mut unmatched = request();
        unmatched.propose(proposal_with(0), now()).unwrap();
        assert_eq!(unmatched.status, RequestStatus::NoMatch);
        assert_eq!(unmatched.propose(proposal_with(1), now()), Err(StepError::WrongState(RequestStatus::NoMatch)));
    }

    #[test]
    fn a_proposed_request_is_accepted_once_before_its_deadline() {
        let mut r = request();
        assert_eq!(r.accept(OrderId::parse("o-1").unwrap(), now()), Err(StepError::WrongState(RequestStatus::Open)));
        r.propose(proposal_with(2), now()).unwrap();
        r.accept(OrderId::parse("o-1").unwrap(), now()).unwrap();
        assert_eq!((r.status, r.order_id.as_ref().map(OrderId::as_str)), (RequestStatus::Accepted, Some("o-1")));
        assert_eq!(r.accept(OrderId::parse("o-2").unwrap(), now()), Err(StepError::WrongState(RequestStatus::Accepted)));
    }

    #[test]
    fn a_proposal_past_its_deadline_cannot_be_accepted_and_expires() {
        let mut r = request();
        r.propose(proposal_with(1), now()).unwrap();
        let late = r.details.deadline;
        assert_eq!(r.accept(OrderId::parse("o-1").unwrap(), late), Err(StepError::PastDeadline));
        assert!(!r.clone().expire(now()));
        assert!(r.expire(late));
        assert_eq!(r.status, RequestStatus::Expired);
        assert!(!r.expire(late));
    }
}
