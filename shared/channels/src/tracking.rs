//! Carriers' tracking webhooks (`POST /carriers/{carrier}/events`), normalised into the
//! domain's [`TrackingEvent`]s. The route's carrier segment names the format: `aftership`
//! and `easypost` are those providers' documented webhooks; any other name (`generic`, or a
//! carrier such as `sf-express`) posts our generic format. Signatures: [`signature`](crate::signature).
//!
//! - **generic**: `{"event_id","tracking_number","status","at","location","description"}`
//!   (plus an optional `eta`, the carrier's promised delivery time); `status` one of
//!   in_transit, out_for_delivery, delivered, failed_attempt, returned, lost.
//! - **AfterShip** (`tracking_update`): `{"event","event_id","msg":{"tracking_number","slug",
//!   "tag","subtag","expected_delivery","checkpoints":[{"checkpoint_time","tag","subtag",
//!   "message","location","city","state","country_name"}]}}`. Each checkpoint is an event
//!   (AfterShip sends the whole history each time); its id is derived from its status and
//!   time. Tags: `InTransit` in_transit; `OutForDelivery` and `AvailableForPickup`
//!   out_for_delivery; `Delivered` delivered; `AttemptFail` failed_attempt; `Exception` by
//!   subtag: `Exception_010`/`_011` (returning, returned to sender) returned, `_013` lost,
//!   the delays (`_004`, `_005`, `_006`, `_016`, `_017`, `_018`) in_transit, any other
//!   failed_attempt. `Pending`, `InfoReceived` and `Expired` carry no event of ours.
//! - **EasyPost** (`tracker.updated` / `tracker.created` Event): `{"id","object":"Event",
//!   "description","result":{"object":"Tracker","tracking_code","status","carrier",
//!   "est_delivery_date","tracking_details":[{"datetime","status","message",
//!   "tracking_location":{"city","state","country","zip"}}]}}`. Each tracking detail is an
//!   event, id derived as above. Statuses: `in_transit`, `out_for_delivery`, `delivered`
//!   as ours; `available_for_pickup` out_for_delivery; `return_to_sender` returned;
//!   `failure` failed_attempt; `pre_transit`, `unknown`, `cancelled`, `error` none.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::Deserialize;

use oms_domain::shipment::{ShipmentStatus, TrackingEvent};
use oms_domain::validation::parse_json;
use oms_domain::{CarrierId, TrackingEventId, TrackingNumber, ValidationError};

pub use crate::signature::TrackingFormat;

/// Most events one webhook may carry (a provider's whole history of one parcel fits).
pub const MAX_EVENTS: usize = 500;

/// The format a route's carrier segment names.
pub fn format_of(carrier: &str) -> TrackingFormat {
    match carrier.to_ascii_lowercase().as_str() {
        "aftership" => TrackingFormat::AfterShip,
        "easypost" => TrackingFormat::EasyPost,
        _ => TrackingFormat::Generic,
    }
}

/// Parses a webhook body in `format` into events, each received `now`. `carrier` is the
/// route's segment (a provider's payload may name the carrier itself: then that name).
pub fn parse_events(
    format: TrackingFormat,
    carrier: &CarrierId,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<Vec<TrackingEvent>, ValidationError> {
    let events = match format {
        TrackingFormat::Generic => vec![generic(carrier, body, now)?],
        TrackingFormat::AfterShip => aftership(carrier, body, now)?,
        TrackingFormat::EasyPost => easypost(carrier, body, now)?,
    };
    if events.len() > MAX_EVENTS {
        return Err(ValidationError::new("", format!("{} events in one webhook; at most {MAX_EVENTS}", events.len())));
    }
    Ok(events)
}

fn tracking_number(field: &str, raw: &str) -> Result<TrackingNumber, ValidationError> {
    TrackingNumber::parse(raw).map_err(|e| e.within(field))
}

/// Free text kept from a carrier: trimmed, at most 500 characters, `None` when blank.
fn text(raw: Option<&str>) -> Option<String> {
    let cleaned = oms_domain::validation::clean_text(raw?);
    (!cleaned.is_empty()).then(|| cleaned.chars().take(500).collect())
}

/// Fields beyond these are ignored: the contract lets a payload gain fields.
#[derive(Debug, Deserialize)]
struct Generic {
    event_id: String,
    tracking_number: String,
    status: String,
    at: DateTime<Utc>,
    location: Option<String>,
    description: Option<String>,
    eta: Option<DateTime<Utc>>,
}

fn generic(carrier: &CarrierId, body: &[u8], now: DateTime<Utc>) -> Result<TrackingEvent, ValidationError> {
    let g: Generic = parse_json(body)?;
    Ok(TrackingEvent {
        event_id: TrackingEventId::parse(g.event_id).map_err(|e| e.within("event_id"))?,
        tracking_number: tracking_number("tracking_number", &g.tracking_number)?,
        carrier: carrier.clone(),
        status: ShipmentStatus::parse(&g.status)?,
        at: g.at,
        location: text(g.location.as_deref()),
        description: text(g.description.as_deref()),
        promised: g.eta,
        received_at: now,
    })
}

/// A provider's time: RFC 3339, or a date and time with no offset (AfterShip's
/// `checkpoint_time` is often the carrier's local time without one: read as UTC), or a
/// date (the end of that day, UTC).
fn provider_time(field: &str, raw: &str) -> Result<DateTime<Utc>, ValidationError> {
    let raw = raw.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        return Ok(at.with_timezone(&Utc));
    }
    if let Ok(at) = NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S%.f") {
        return Ok(at.and_utc());
    }
    if let Ok(day) = NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        return Ok(day.and_hms_opt(23, 59, 59).expect("a valid time of day").and_utc());
    }
    Err(ValidationError::new(field, format!("{raw:?} is not a date and time")))
}

#[derive(Debug, Deserialize)]
struct AfterShip {
    msg: AfterShipMsg,
}

#[derive(Debug, Deserialize)]
struct AfterShipMsg {
    tracking_number: String,
    slug: Option<String>,
    tag: Option<String>,
    subtag: Option<String>,
    expected_delivery: Option<String>,
    #[serde(default)]
    checkpoints: Vec<AfterShipCheckpoint>,
    updated_at: Option<String>,
}

#[derive(Debug, Deserialize)]
struct AfterShipCheckpoint {
    checkpoint_time: String,
    tag: Option<String>,
    subtag: Option<String>,
    message: Option<String>,
    location: Option<String>,
    city: Option<String>,
    state: Option<String>,
    country_name: Option<String>,
}

/// Our status for an AfterShip tag and subtag, if it has one.
pub fn aftership_status(tag: &str, subtag: Option<&str>) -> Option<ShipmentStatus> {
    match tag {
        "InTransit" => Some(ShipmentStatus::InTransit),
        "OutForDelivery" | "AvailableForPickup" => Some(ShipmentStatus::OutForDelivery),
        "Delivered" => Some(ShipmentStatus::Delivered),
        "AttemptFail" => Some(ShipmentStatus::FailedAttempt),
        "Exception" => Some(match subtag.unwrap_or_default() {
            "Exception_010" | "Exception_011" => ShipmentStatus::Returned,
            "Exception_013" => ShipmentStatus::Lost,
            "Exception_004" | "Exception_005" | "Exception_006" | "Exception_016" | "Exception_017" | "Exception_018" => {
                ShipmentStatus::InTransit
            }
            _ => ShipmentStatus::FailedAttempt,
        }),
        _ => None,
    }
}

fn carrier_named(fallback: &CarrierId, named: Option<&str>) -> CarrierId {
    named.and_then(|n| CarrierId::parse(n).ok()).unwrap_or_else(|| fallback.clone())
}

fn aftership(carrier: &CarrierId, body: &[u8], now: DateTime<Utc>) -> Result<Vec<TrackingEvent>, ValidationError> {
    let payload: AfterShip = parse_json(body)?;
    let msg = payload.msg;
    let parcel = Parcel {
        number: tracking_number("msg.tracking_number", &msg.tracking_number)?,
        carrier: carrier_named(carrier, msg.slug.as_deref()),
        now,
    };
    let promised = msg.expected_delivery.as_deref().map(|d| provider_time("msg.expected_delivery", d)).transpose()?;
    let mut events = Vec::new();
    for (i, checkpoint) in msg.checkpoints.iter().enumerate() {
        let field = format!("msg.checkpoints[{i}]");
        let tag = checkpoint.tag.as_deref().unwrap_or_default();
        let Some(status) = aftership_status(tag, checkpoint.subtag.as_deref()) else { continue };
        let at = provider_time(&format!("{field}.checkpoint_time"), &checkpoint.checkpoint_time)?;
        let place = place([checkpoint.city.as_deref(), checkpoint.state.as_deref(), checkpoint.country_name.as_deref()]);
        let location = text(checkpoint.location.as_deref()).or_else(|| text(Some(&place)));
        events.push(parcel.event(status, at, location, text(checkpoint.message.as_deref())));
    }
    // The tracking's own tag when it has no checkpoint of ours (a webhook of the status alone).
    let status_only = match msg.tag.as_deref().and_then(|tag| aftership_status(tag, msg.subtag.as_deref())) {
        Some(status) if events.is_empty() => {
            let at = msg.updated_at.as_deref().map(|t| provider_time("msg.updated_at", t)).transpose()?;
            Some((status, at))
        }
        _ => None,
    };
    Ok(parcel.finish(events, status_only, promised))
}

#[derive(Debug, Deserialize)]
struct EasyPost {
    result: EasyPostTracker,
}

#[derive(Debug, Deserialize)]
struct EasyPostTracker {
    tracking_code: String,
    carrier: Option<String>,
    status: Option<String>,
    est_delivery_date: Option<String>,
    #[serde(default)]
    tracking_details: Vec<EasyPostDetail>,
    updated_at: Option<String>,
}

#[derive(Debug, Deserialize)]
struct EasyPostDetail {
    datetime: String,
    status: String,
    message: Option<String>,
    tracking_location: Option<EasyPostLocation>,
}

#[derive(Debug, Deserialize)]
struct EasyPostLocation {
    city: Option<String>,
    state: Option<String>,
    country: Option<String>,
}

/// Our status for an EasyPost tracker status, if it has one.
pub fn easypost_status(status: &str) -> Option<ShipmentStatus> {
    match status {
        "in_transit" => Some(ShipmentStatus::InTransit),
        "out_for_delivery" | "available_for_pickup" => Some(ShipmentStatus::OutForDelivery),
        "delivered" => Some(ShipmentStatus::Delivered),
        "return_to_sender" => Some(ShipmentStatus::Returned),
        "failure" => Some(ShipmentStatus::FailedAttempt),
        _ => None,
    }
}

fn easypost(carrier: &CarrierId, body: &[u8], now: DateTime<Utc>) -> Result<Vec<TrackingEvent>, ValidationError> {
    let event: EasyPost = parse_json(body)?;
    let tracker = event.result;
    let parcel = Parcel {
        number: tracking_number("result.tracking_code", &tracker.tracking_code)?,
        carrier: carrier_named(carrier, tracker.carrier.as_deref().map(|c| c.trim()).map(str::to_ascii_lowercase).as_deref()),
        now,
    };
    let promised = tracker.est_delivery_date.as_deref().map(|d| provider_time("result.est_delivery_date", d)).transpose()?;
    let mut events = Vec::new();
    for (i, detail) in tracker.tracking_details.iter().enumerate() {
        let Some(status) = easypost_status(&detail.status) else { continue };
        let at = provider_time(&format!("result.tracking_details[{i}].datetime"), &detail.datetime)?;
        let location =
            detail.tracking_location.as_ref().map(|l| place([l.city.as_deref(), l.state.as_deref(), l.country.as_deref()]));
        events.push(parcel.event(status, at, text(location.as_deref()), text(detail.message.as_deref())));
    }
    // The tracker's own status when it has no detail of ours.
    let status_only = match tracker.status.as_deref().and_then(easypost_status) {
        Some(status) if events.is_empty() => {
            let at = tracker.updated_at.as_deref().map(|t| provider_time("result.updated_at", t)).transpose()?;
            Some((status, at))
        }
        _ => None,
    };
    Ok(parcel.finish(events, status_only, promised))
}

/// The parcel a provider's webhook is about, and when it arrived: what every event read
/// from it shares.
struct Parcel {
    number: TrackingNumber,
    carrier: CarrierId,
    now: DateTime<Utc>,
}

impl Parcel {
    /// One event of this parcel; providers send no id per scan, so it is derived.
    fn event(
        &self,
        status: ShipmentStatus,
        at: DateTime<Utc>,
        location: Option<String>,
        description: Option<String>,
    ) -> TrackingEvent {
        TrackingEvent {
            event_id: TrackingEvent::derived_id(status, at),
            tracking_number: self.number.clone(),
            carrier: self.carrier.clone(),
            status,
            at,
            location,
            description,
            promised: None,
            received_at: self.now,
        }
    }

    /// The webhook's events: those read from its scans, else one from the parcel's own
    /// status (at its update time, else now) when it has one of ours; the promise rides on
    /// the latest event, so the shipment keeps the latest promise.
    fn finish(
        &self,
        mut events: Vec<TrackingEvent>,
        status_only: Option<(ShipmentStatus, Option<DateTime<Utc>>)>,
        promised: Option<DateTime<Utc>>,
    ) -> Vec<TrackingEvent> {
        if let Some((status, at)) = status_only {
            events.push(self.event(status, at.unwrap_or(self.now), None, None));
        }
        if let Some(last) = events.iter_mut().max_by_key(|e| e.at) {
            last.promised = promised;
        }
        events
    }
}

/// City, state and country, those given, joined by `, `.
fn place(parts: [Option<&str>; 3]) -> String {
    parts.into_iter().flatten().filter(|p| !p.trim().is_empty()).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-25T00:00:00Z").unwrap().with_timezone(&Utc)
    }

    fn carrier(name: &str) -> CarrierId {
        CarrierId::parse(name).unwrap()
    }

    #[test]
    fn the_route_segment_names_the_format() {
        assert_eq!(format_of("aftership"), TrackingFormat::AfterShip);
        assert_eq!(format_of("EasyPost"), TrackingFormat::EasyPost);
        assert_eq!(format_of("generic"), TrackingFormat::Generic);
        assert_eq!(format_of("sf-express"), TrackingFormat::Generic);
    }

    #[test]
    fn a_generic_event_is_read_with_its_id_and_status_and_bad_ones_name_the_field() {
        let body = br#"{"event_id":"e-1","tracking_number":"SF1","status":"out_for_delivery","at":"2026-11-21T08:00:00Z","location":"Beijing","description":"on the van"}"#;
        let events = parse_events(TrackingFormat::Generic, &carrier("sf"), body, now()).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!((events[0].event_id.as_str(), events[0].status), ("e-1", ShipmentStatus::OutForDelivery));
        assert_eq!(events[0].location.as_deref(), Some("Beijing"));
        let bad = br#"{"event_id":"e-1","tracking_number":"SF1","status":"teleported","at":"2026-11-21T08:00:00Z"}"#;
        assert_eq!(parse_events(TrackingFormat::Generic, &carrier("sf"), bad, now()).unwrap_err().field, "status");
        let no_number = br#"{"event_id":"e-1","status":"delivered","at":"2026-11-21T08:00:00Z"}"#;
        assert_eq!(parse_events(TrackingFormat::Generic, &carrier("sf"), no_number, now()).unwrap_err().field, "tracking_number");
        assert!(parse_events(TrackingFormat::Generic, &carrier("sf"), b"[1]", now()).is_err());
    }

    #[test]
    fn an_aftership_webhook_gives_one_event_per_checkpoint_mapped_to_our_statuses() {
        let body = br#"{"event":"tracking_update","event_id":"6d4f","ts":1700000000,"msg":{"tracking_number":"AS1","slug":"sf-express","tag":"Exception","subtag":"Exception_011","expected_delivery":"2026-11-24","checkpoints":[
            {"checkpoint_time":"2026-11-21T08:00:00+08:00","tag":"InfoReceived","subtag":"InfoReceived_001","message":"label"},
            {"checkpoint_time":"2026-11-21T10:00:00","tag":"InTransit","subtag":"InTransit_007","message":"departed","city":"Hangzhou","country_name":"China"},
            {"checkpoint_time":"2026-11-22T10:00:00Z","tag":"Exception","subtag":"Exception_011","message":"returned","location":"Hangzhou"}]}}"#;
        let events = parse_events(TrackingFormat::AfterShip, &carrier("aftership"), body, now()).unwrap();
        let statuses: Vec<ShipmentStatus> = events.iter().map(|e| e.status).collect();
        assert_eq!(statuses, [ShipmentStatus::InTransit, ShipmentStatus::Returned]);
        assert_eq!(events[0].carrier.as_str(), "sf-express", "the slug names the carrier");
        assert_eq!(events[0].location.as_deref(), Some("Hangzhou, China"));
        assert_eq!(events[1].promised.map(|p| p.to_rfc3339()), Some("2026-11-24T23:59:59+00:00".into()));
        assert_eq!(aftership_status("Exception", Some("Exception_013")), Some(ShipmentStatus::Lost));
        assert_eq!(aftership_status("Exception", Some("Exception_004")), Some(ShipmentStatus::InTransit));
        assert_eq!(aftership_status("AttemptFail", None), Some(ShipmentStatus::FailedAttempt));
        let again = parse_events(TrackingFormat::AfterShip, &carrier("aftership"), body, now()).unwrap();
        assert_eq!(again[0].event_id, events[0].event_id, "derived ids are stable across deliveries");
    }

    #[test]
    fn a_webhook_of_the_status_alone_gives_one_event_at_its_update_time_else_now() {
        let aftership = br#"{"msg":{"tracking_number":"SF1","tag":"OutForDelivery","updated_at":"2026-11-21T09:00:00Z","expected_delivery":"2026-11-21T18:00:00Z","checkpoints":[]}}"#;
        let events = parse_events(TrackingFormat::AfterShip, &carrier("aftership"), aftership, now()).unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].status, ShipmentStatus::OutForDelivery);
        assert_eq!(events[0].at.to_rfc3339(), "2026-11-21T09:00:00+00:00");
        assert_eq!(events[0].promised.map(|p| p.to_rfc3339()), Some("2026-11-21T18:00:00+00:00".into()));
        let easypost = br#"{"result":{"tracking_code":"EZ2","status":"delivered","tracking_details":[]}}"#;
        let events = parse_events(TrackingFormat::EasyPost, &carrier("easypost"), easypost, now()).unwrap();
        assert_eq!(events.iter().map(|e| (e.status, e.at)).collect::<Vec<_>>(), [(ShipmentStatus::Delivered, now())]);
        assert_eq!(events[0].received_at, now());
    }

    #[test]
    fn an_easypost_event_gives_one_event_per_tracking_detail() {
        let body = br#"{"id":"evt_1","object":"Event","description":"tracker.updated","result":{"id":"trk_1","object":"Tracker","tracking_code":"EZ1","carrier":"USPS","status":"delivered","est_delivery_date":"2026-11-23T00:00:00Z","tracking_details":[
            {"object":"TrackingDetail","message":"Pre-Shipment Info Sent","status":"pre_transit","datetime":"2026-11-20T08:00:00Z"},
            {"object":"TrackingDetail","message":"Arrived","status":"in_transit","datetime":"2026-11-21T08:00:00Z","tracking_location":{"city":"Beijing","state":"BJ","country":"CN","zip":null}},
            {"object":"TrackingDetail","message":"Delivered","status":"delivered","datetime":"2026-11-22T08:00:00Z"}]}}"#;
        let events = parse_events(TrackingFormat::EasyPost, &carrier("easypost"), body, now()).unwrap();
        let statuses: Vec<ShipmentStatus> = events.iter().map(|e| e.status).collect();
        assert_eq!(statuses, [ShipmentStatus::InTransit, ShipmentStatus::Delivered]);
        assert_eq!(events[0].location.as_deref(), Some("Beijing, BJ, CN"));
        assert_eq!(events[0].carrier.as_str(), "usps");
        assert_eq!(easypost_status("return_to_sender"), Some(ShipmentStatus::Returned));
        assert_eq!(easypost_status("failure"), Some(ShipmentStatus::FailedAttempt));
        let missing = br#"{"id":"evt_1","result":{"tracking_details":[]}}"#;
        assert_eq!(
            parse_events(TrackingFormat::EasyPost, &carrier("easypost"), missing, now()).unwrap_err().field,
            "result.tracking_code"
        );
    }
}
