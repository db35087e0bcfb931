//! Which carrier and service take each shipment of a plan, and why.
//!
//! Chosen at plan time from the carriers' rate tables (the same tables the cost model
//! prices plans with, `PUT /carriers/{id}/rates`), one choice per warehouse the plan ships
//! from. The warehouse may ship with another carrier: the shipment it reports records
//! the one used.
//!
//! The parcel of a shipment is the plan's lines from that warehouse: its weight the sum of
//! the units' catalogue weights (a SKU the catalogue does not weigh weighs
//! [`DEFAULT_UNIT_WEIGHT_G`], as in the cost model), its longest side the longest side of
//! any unit in it, its traits those of its units' that restrict carriage
//! ([`RESTRICTED_TRAITS`]), and its distance the warehouse's from the buyer as the cost
//! model reckons it ([`cost::distance_km`]).
//!
//! A service (one carrier's bands of one service name) fits the parcel when one of its
//! bands reaches as far, takes as heavy and as long a parcel and handles every restricted
//! trait of it; it is offered at its cheapest fitting band (ties: the faster). Only tables
//! in the planning currency ([`PLANNING_CURRENCY`]) are weighed, as by the cost model.
//!
//! Of the services that fit:
//! - with no promised date (`deliver_by`), the cheapest wins (ties: the faster, then by
//!   carrier id and service name);
//! - with one, a service arriving by it (plan date + transit days <= `deliver_by`) beats
//!   every one arriving later, and among those the cheapest wins (same ties);
//! - when none arrives in time, the fastest wins (ties: the cheaper, then by id), and its
//!   reason says so.
//!
//! When none fits, no carrier is chosen and the reason says why: the plan stands and the
//! warehouse chooses. The runners-up (at most [`MAX_RUNNERS_UP`], fitting ones first in
//! the order they ranked) each say why they lost.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::allocation::cost::{self, DEFAULT_UNIT_WEIGHT_G, PLANNING_CURRENCY};
use crate::allocation::geo;
use crate::allocation::AllocatedLine;
use crate::carrier::{RateBand, RateTable, RESTRICTED_TRAITS};
use crate::catalogue::SkuFacts;
use crate::order::Order;
use crate::stock::Warehouse;
use crate::{CarrierId, Currency, Sku, WarehouseId};

/// Most runners-up one shipment records.
pub const MAX_RUNNERS_UP: usize = 5;

/// A shipment as the choice sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parcel {
    pub weight_g: u64,
    /// The longest side of any unit in it, in mm (0 when the catalogue knows none).
    pub longest_side_mm: u32,
    /// Its restricted traits, in the order of [`RESTRICTED_TRAITS`].
    pub traits: Vec<String>,
    pub distance_km: u32,
}

impl Parcel {
    /// The parcel of `lines` (SKU and units), going `distance_km`, with the catalogue's
    /// `facts` of those SKUs (any missing: [`DEFAULT_UNIT_WEIGHT_G`], no size, no traits).
    pub fn of<'a>(lines: impl IntoIterator<Item = (&'a Sku, u32)>, facts: &HashMap<Sku, SkuFacts>, distance_km: u32) -> Self {
        let mut weight_g: u64 = 0;
        let mut longest_side_mm = 0;
        let mut traits: Vec<&str> = Vec::new();
        for (sku, units) in lines {
            let known = facts.get(sku);
            let unit_g = known.map_or(DEFAULT_UNIT_WEIGHT_G, |f| f.weight_g);
            weight_g = weight_g.saturating_add(u64::from(unit_g) * u64::from(units));
            if let Some(f) = known {
                longest_side_mm = longest_side_mm.max(f.dims_mm.into_iter().max().unwrap_or(0));
                traits.extend(f.traits.iter().map(String::as_str));
            }
        }
        let traits = RESTRICTED_TRAITS.iter().filter(|t| traits.contains(t)).map(|t| (*t).to_owned()).collect();
        Self { weight_g, longest_side_mm, traits, distance_km }
    }

    fn describe(&self) -> String {
        let mut text = format!("{} g, longest side {} mm, {} km", self.weight_g, self.longest_side_mm, self.distance_km);
        if !self.traits.is_empty() {
            text.push_str(", ");
            text.push_str(&self.traits.join(", "));
        }
        text
    }
}

/// The carrier and service chosen for one shipment of a plan, and why. `carrier`,
/// `service`, `price`, `currency` and `transit_days` are all `None` when no service fits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShipmentCarrier {
    /// The warehouse the shipment leaves from.
    pub warehouse: WarehouseId,
    pub carrier: Option<CarrierId>,
    pub service: Option<String>,
    pub price: Option<Decimal>,
    pub currency: Option<Currency>,
    pub transit_days: Option<u32>,
    /// Why it won (or why none did), in a sentence.
    pub why: String,
    /// The services that lost, fitting ones first in the order they ranked, then those
    /// that do not fit; at most [`MAX_RUNNERS_UP`].
    #[serde(default)]
    pub runners_up: Vec<RunnerUp>,
}

/// A service weighed for a shipment that lost, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunnerUp {
    pub carrier: CarrierId,
    pub service: String,
    /// Its price and transit for the parcel; `None` when it does not fit.
    pub price: Option<Decimal>,
    pub transit_days: Option<u32>,
    pub why: String,
}

/// One carrier's service offered for the parcel: its cheapest fitting band.
#[derive(Debug, Clone)]
struct Offer<'a> {
    carrier: &'a CarrierId,
    currency: Currency,
    service: &'a str,
    price: Decimal,
    transit_days: u32,
    /// Days after the promised date it arrives (0 or less: in time); `None` with no date.
    late_by: Option<i64>,
}

impl Offer<'_> {
    fn in_time(&self) -> bool {
        self.late_by.is_none_or(|late| late <= 0)
    }
}

/// How the winner was picked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    Cheapest,
    CheapestInTime(NaiveDate),
    FastestLate(NaiveDate),
}

/// Chooses the carrier and service for each shipment of a plan: one per warehouse in
/// `lines` (in warehouse id order), for `order` (its address, its `deliver_by`), with
/// the `warehouses` on record, the carriers' `tables` and the catalogue's `facts` of the
/// order's SKUs, planned at `planned_at`.
pub fn choose_for_plan(
    order: &Order,
    lines: &[AllocatedLine],
    warehouses: &[Warehouse],
    tables: &[RateTable],
    facts: &HashMap<Sku, SkuFacts>,
    planned_at: DateTime<Utc>,
) -> Vec<ShipmentCarrier> {
    let mut by_warehouse: BTreeMap<&WarehouseId, Vec<(&Sku, u32)>> = BTreeMap::new();
    for line in lines {
        by_warehouse.entry(&line.warehouse).or_default().push((&line.sku, line.quantity));
    }
    let place = geo::locate(&order.shipping_address);
    by_warehouse
        .into_iter()
        .map(|(warehouse, skus)| {
            let record = warehouses.iter().find(|w| &w.warehouse_id == warehouse);
            let parcel = Parcel::of(skus, facts, cost::distance_km(place, record));
            choose(warehouse.clone(), &parcel, tables, planned_at, order.deliver_by)
        })
        .collect()
}

/// Chooses the carrier and service for one shipment from `warehouse`: see the module's
/// rules.
pub fn choose(
    warehouse: WarehouseId,
    parcel: &Parcel,
    tables: &[RateTable],
    planned_at: DateTime<Utc>,
    deliver_by: Option<NaiveDate>,
) -> ShipmentCarrier {
    let planned_on = planned_at.date_naive();
    let mut offers: Vec<Offer<'_>> = Vec::new();
    let mut unfit: Vec<RunnerUp> = Vec::new();
    let tables: Vec<&RateTable> = tables.iter().filter(|t| t.currency.code() == PLANNING_CURRENCY).collect();
    for table in &tables {
        let mut services: BTreeMap<&str, Vec<&RateBand>> = BTreeMap::new();
        for band in &table.bands {
            services.entry(band.service.as_str()).or_default().push(band);
        }
        for (service, bands) in services {
            match fit(parcel, &bands) {
                Ok(band) => offers.push(Offer {
                    carrier: &table.carrier,
                    currency: table.currency,
                    service,
                    price: band.price,
                    transit_days: band.transit_days,
                    late_by: deliver_by.map(|by| (planned_on + chrono::Days::new(u64::from(band.transit_days)) - by).num_days()),
                }),
                Err(why) => unfit.push(RunnerUp {
                    carrier: table.carrier.clone(),
                    service: service.to_owned(),
                    price: None,
                    transit_days: None,
                    why,
                }),
            }
        }
    }
    unfit.sort_by(|a, b| (&a.carrier, &a.service).cmp(&(&b.carrier, &b.service)));

    let rule = match deliver_by {
        None => Rule::Cheapest,
        Some(by) if offers.iter().any(Offer::in_time) => Rule::CheapestInTime(by),
        Some(by) => Rule::FastestLate(by),
    };
    offers.sort_by(|a, b| {
        let key = |o: &Offer<'_>| match rule {
            Rule::Cheapest | Rule::CheapestInTime(_) => (!o.in_time(), o.price, Decimal::from(o.transit_days)),
            Rule::FastestLate(_) => (false, Decimal::from(o.transit_days), o.price),
        };
        key(a).cmp(&key(b)).then_with(|| (a.carrier, a.service).cmp(&(b.carrier, b.service)))
    });

    let Some(winner) = offers.first() else {
        let why = if tables.is_empty() {
            format!("no carrier has a rate table in {PLANNING_CURRENCY}: none chosen, the warehouse chooses")
        } else {
            let weighed = match unfit.len() {
                1 => "the one service weighed does not fit".to_owned(),
                n => format!("none of {n} services fits"),
            };
            format!("{weighed} the parcel ({}): none chosen, the warehouse chooses", parcel.describe())
        };
        unfit.truncate(MAX_RUNNERS_UP);
        return ShipmentCarrier {
            warehouse,
            carrier: None,
            service: None,
            price: None,
            currency: None,
            transit_days: None,
            why,
            runners_up: unfit,
        };
    };

    let fitting = offers.len();
    let named = format!("{} {}", winner.carrier, winner.service);
    let why = match rule {
        Rule::Cheapest if fitting == 1 => format!("{named}: the only service that fits the parcel ({})", parcel.describe()),
        Rule::Cheapest => format!("{named}: the cheapest of {fitting} services that fit the parcel; no delivery date promised"),
        Rule::CheapestInTime(by) => {
            let in_time = offers.iter().filter(|o| o.in_time()).count();
            let which = if in_time == 1 {
                "the only service that fits the parcel and arrives".to_owned()
            } else {
                format!("the cheapest of {in_time} services that fit the parcel and arrive")
            };
            format!("{named}: {which} by {by} (in {})", days(i64::from(winner.transit_days)))
        }
        Rule::FastestLate(by) => {
            let which = match fitting {
                1 => "the only service that fits the parcel does not arrive".to_owned(),
                n => format!("none of {n} services that fit the parcel arrives"),
            };
            format!("{named}: {which} by {by}; the fastest, {} late", days(winner.late_by.unwrap_or(0)))
        }
    };
    let mut runners_up: Vec<RunnerUp> = offers[1..]
        .iter()
        .map(|o| RunnerUp {
            carrier: o.carrier.clone(),
            service: o.service.to_owned(),
            price: Some(o.price),
            transit_days: Some(o.transit_days),
            why: lost(winner, o, rule),
        })
        .chain(unfit)
        .collect();
    runners_up.truncate(MAX_RUNNERS_UP);
    ShipmentCarrier {
        warehouse,
        carrier: Some(winner.carrier.clone()),
        service: Some(winner.service.to_owned()),
        price: Some(winner.price),
        currency: Some(winner.currency),
        transit_days: Some(winner.transit_days),
        why,
        runners_up,
    }
}

/// The cheapest band of one service that fits the parcel (ties: the faster), or why none
/// does: the first of the parcel's needs that no band meets together with those before
/// it (traits, then distance, then weight, then size).
fn fit<'a>(parcel: &Parcel, bands: &[&'a RateBand]) -> Result<&'a RateBand, String> {
    let handling: Vec<&RateBand> = bands.iter().copied().filter(|b| parcel.traits.iter().all(|t| b.handles(t))).collect();
    if handling.is_empty() {
        let missing: Vec<&str> =
            parcel.traits.iter().map(String::as_str).filter(|t| !bands.iter().any(|b| b.handles(t))).collect();
        return Err(if missing.is_empty() {
            format!("no band handles {} together", parcel.traits.join(" and "))
        } else {
            format!("does not handle {}", missing.join(" or "))
        });
    }
    let reaching: Vec<&RateBand> = handling.into_iter().filter(|b| b.max_distance_km >= parcel.distance_km).collect();
    if reaching.is_empty() {
        return Err(format!("does not reach {} km", parcel.distance_km));
    }
    let carrying: Vec<&RateBand> = reaching.into_iter().filter(|b| u64::from(b.max_weight_g) >= parcel.weight_g).collect();
    if carrying.is_empty() {
        return Err(format!("too heavy for its bands ({} g)", parcel.weight_g));
    }
    carrying
        .into_iter()
        .filter(|b| b.max_side_mm.is_none_or(|side| side >= parcel.longest_side_mm))
        .min_by_key(|b| (b.price, b.transit_days))
        .ok_or_else(|| format!("too large for its bands (longest side {} mm)", parcel.longest_side_mm))
}

/// Why `loser` ranked below `winner` under `rule`.
fn lost(winner: &Offer<'_>, loser: &Offer<'_>, rule: Rule) -> String {
    let dearer = loser.price - winner.price;
    let slower = i64::from(loser.transit_days) - i64::from(winner.transit_days);
    let digits = winner.currency.minor_digits() as usize;
    let dearer = format!("{dearer:.digits$}");
    let dearer_at_all = loser.price > winner.price;
    match rule {
        Rule::CheapestInTime(_) if !loser.in_time() => {
            format!("arrives {} after deliver_by", days(loser.late_by.unwrap_or(0)))
        }
        Rule::Cheapest | Rule::CheapestInTime(_) if dearer_at_all => format!("dearer by {dearer}"),
        Rule::Cheapest | Rule::CheapestInTime(_) if slower > 0 => format!("as cheap, slower by {}", days(slower)),
        Rule::FastestLate(_) if slower > 0 => {
            format!("slower by {} (arrives {} after deliver_by)", days(slower), days(loser.late_by.unwrap_or(0)))
        }
        Rule::FastestLate(_) if dearer_at_all => format!("as fast, dearer by {dearer}"),
        _ => "as cheap and as fast: loses the tie on carrier id and service name".to_owned(),
    }
}

/// What the plan chose for a shipment leaving `warehouse` that the warehouse reports sent
/// with `used`, for the order's timeline: "as planned (sf express)" or "planned sf
/// express, shipped with zto"; `None` when the plan chose no carrier for it (plans made
/// before carriers were chosen, a warehouse the plan did not name, none fitted).
pub fn planned_versus_used(shipments: &[ShipmentCarrier], warehouse: &WarehouseId, used: &CarrierId) -> Option<String> {
    let planned = shipments.iter().find(|s| &s.warehouse == warehouse)?;
    let carrier = planned.carrier.as_ref()?;
    let service = planned.service.as_deref().unwrap_or_default();
    Some(if carrier == used {
        format!("as planned ({carrier} {service})")
    } else {
        format!("planned {carrier} {service}, shipped with {used}")
    })
}

/// "1 day", "3 days".
fn days(n: i64) -> String {
    if n == 1 {
        "1 day".to_owned()
    } else {
        format!("{n} days")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::carrier::UncheckedBand;
    use chrono::TimeZone;

    /// (service, km, g, price in fen, days, handles, longest side)
    type B<'a> = (&'a str, i64, i64, i64, i64, &'a [&'a str], Option<i64>);

    fn table(carrier: &str, bands: &[B<'_>]) -> RateTable {
        let bands = bands
            .iter()
            .map(|(service, km, g, fen, days, handles, side)| UncheckedBand {
                service: (*service).into(),
                max_distance_km: *km,
                max_weight_g: *g,
                price: Decimal::new(*fen, 2),
                transit_days: *days,
                handles: handles.iter().map(|h| (*h).to_owned()).collect(),
                max_side_mm: *side,
            })
            .collect();
        RateTable::new(CarrierId::parse(carrier).unwrap(), Currency::parse("CNY").unwrap(), bands).unwrap()
    }

    fn parcel(weight_g: u64, side: u32, traits: &[&str], km: u32) -> Parcel {
        Parcel { weight_g, longest_side_mm: side, traits: traits.iter().map(|t| (*t).to_owned()).collect(), distance_km: km }
    }

    fn noon() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 20, 12, 0, 0).unwrap()
    }

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
    }

    fn pick(parcel: &Parcel, tables: &[RateTable], by: Option<NaiveDate>) -> ShipmentCarrier {
        choose(WarehouseId::parse("wh-1").unwrap(), parcel, tables, noon(), by)
    }

    fn chosen(c: &ShipmentCarrier) -> Option<(String, String)> {
        Some((c.carrier.as_ref()?.to_string(), c.service.clone()?))
    }

    fn lost_why<'a>(c: &'a ShipmentCarrier, carrier: &str) -> &'a str {
        &c.runners_up.iter().find(|r| r.carrier.as_str() == carrier).unwrap_or_else(|| panic!("{c:?}")).why
    }

    /// A cheap slow carrier handling nothing, a dear fast one handling fragile parcels up
    /// to 600 mm long.
    fn two_carriers() -> Vec<RateTable> {
        vec![
            table("slow", &[("standard", 3000, 5000, 800, 4, &[], None)]),
            table("fast", &[("express", 3000, 5000, 1500, 1, &["fragile"], Some(600))]),
        ]
    }

    #[test]
    fn without_a_promised_date_the_cheapest_service_that_fits_wins() {
        let c = pick(&parcel(1000, 300, &[], 500), &two_carriers(), None);
        assert_eq!(chosen(&c), Some(("slow".into(), "standard".into())), "{c:?}");
        assert_eq!(
            (c.price, c.transit_days, c.currency.map(|c| c.to_string())),
            (Some(Decimal::new(800, 2)), Some(4), Some("CNY".into()))
        );
        assert!(c.why.contains("cheapest of 2 services"), "{}", c.why);
        assert_eq!(lost_why(&c, "fast"), "dearer by 7.00");
    }

    #[test]
    fn a_service_must_handle_every_restricted_trait_and_take_the_size_and_weight() {
        let tables = two_carriers();
        let fragile = pick(&parcel(1000, 300, &["fragile"], 500), &tables, None);
        assert_eq!(chosen(&fragile), Some(("fast".into(), "express".into())));
        assert_eq!(lost_why(&fragile, "slow"), "does not handle fragile");
        assert!(fragile.why.contains("the only service that fits"), "{}", fragile.why);
        // Too long for the fast one's bands: only the slow one fits.
        let long = pick(&parcel(1000, 900, &[], 500), &tables, None);
        assert_eq!(chosen(&long), Some(("slow".into(), "standard".into())));
        assert_eq!(
            pick(&parcel(1000, 900, &[], 500), &tables[1..], None).runners_up[0].why,
            "too large for its bands (longest side 900 mm)"
        );
        let alone = pick(&parcel(1000, 900, &[], 500), &tables[1..], None);
        assert!(alone.carrier.is_none() && alone.why.starts_with("the one service weighed does not fit the parcel"), "{alone:?}");
        // Too heavy for both, too far for both.
        let heavy = pick(&parcel(6000, 100, &[], 500), &tables, None);
        assert_eq!(lost_why(&heavy, "slow"), "too heavy for its bands (6000 g)");
        let far = pick(&parcel(100, 100, &[], 4000), &tables, None);
        assert_eq!(lost_why(&far, "fast"), "does not reach 4000 km");
    }

    #[test]
    fn when_nothing_fits_no_carrier_is_chosen_and_the_reason_says_so() {
        let c = pick(&parcel(1000, 900, &["fragile"], 500), &two_carriers(), None);
        assert_eq!((c.carrier.as_ref(), c.service.as_ref(), c.price, c.transit_days), (None, None, None, None));
        assert!(
            c.why.starts_with("none of 2 services fits the parcel (1000 g, longest side 900 mm, 500 km, fragile)"),
            "{}",
            c.why
        );
        assert_eq!(c.runners_up.len(), 2);
        let none = pick(&parcel(1000, 0, &[], 500), &[], None);
        assert!(none.carrier.is_none() && none.why.starts_with("no carrier has a rate table in CNY"), "{none:?}");
    }

    #[test]
    fn a_service_arriving_in_time_beats_a_cheaper_late_one() {
        // Planned on the 20th: slow arrives the 24th, fast the 21st.
        let c = pick(&parcel(1000, 300, &[], 500), &two_carriers(), Some(day(22)));
        assert_eq!(chosen(&c), Some(("fast".into(), "express".into())), "{c:?}");
        assert!(c.why.contains("the only service that fits the parcel and arrives by 2026-11-22 (in 1 day)"), "{}", c.why);
        assert_eq!(lost_why(&c, "slow"), "arrives 2 days after deliver_by");
        // A date both meet: the cheaper wins again.
        let easy = pick(&parcel(1000, 300, &[], 500), &two_carriers(), Some(day(24)));
        assert_eq!(chosen(&easy), Some(("slow".into(), "standard".into())));
        assert!(easy.why.contains("the cheapest of 2 services that fit the parcel and arrive by 2026-11-24"), "{}", easy.why);
    }

    #[test]
    fn when_none_arrives_in_time_the_fastest_wins_and_says_it_is_late() {
        let c = pick(&parcel(1000, 300, &[], 500), &two_carriers(), Some(day(20)));
        assert_eq!(chosen(&c), Some(("fast".into(), "express".into())));
        assert!(
            c.why.contains("none of 2 services that fit the parcel arrives by 2026-11-20; the fastest, 1 day late"),
            "{}",
            c.why
        );
        assert_eq!(lost_why(&c, "slow"), "slower by 3 days (arrives 4 days after deliver_by)");
    }

    #[test]
    fn ties_go_to_the_faster_then_by_carrier_id_and_service() {
        let same = |carrier: &str, days| table(carrier, &[("standard", 3000, 5000, 800, days, &[], None)]);
        let c = pick(&parcel(100, 0, &[], 10), &[same("zto", 2), same("sto", 2), same("yto", 1)], None);
        assert_eq!(chosen(&c), Some(("yto".into(), "standard".into())));
        let order: Vec<(&str, &str)> = c.runners_up.iter().map(|r| (r.carrier.as_str(), r.why.as_str())).collect();
        assert_eq!(
            order,
            [("sto", "as cheap, slower by 1 day"), ("zto", "as cheap, slower by 1 day")],
            "the same inputs in any order give the same choice"
        );
        let again = pick(&parcel(100, 0, &[], 10), &[same("yto", 1), same("zto", 2), same("sto", 2)], None);
        assert_eq!(c, again);
    }

    #[test]
    fn a_services_cheapest_fitting_band_is_its_offer_and_runners_up_are_bounded() {
        let t = table(
            "sf",
            &[
                ("standard", 300, 1000, 800, 1, &[], None),
                ("standard", 3000, 1000, 1200, 2, &[], None),
                ("standard", 3000, 5000, 2000, 2, &[], None),
            ],
        );
        let c = pick(&parcel(800, 0, &[], 1000), std::slice::from_ref(&t), None);
        assert_eq!(c.price, Some(Decimal::new(1200, 2)));
        let many: Vec<RateTable> =
            (0..9).map(|i| table(&format!("c{i}"), &[("standard", 3000, 5000, 800 + i, 2, &[], None)])).collect();
        let c = pick(&parcel(800, 0, &[], 1000), &many, None);
        assert_eq!((chosen(&c).unwrap().0.as_str(), c.runners_up.len()), ("c0", MAX_RUNNERS_UP));
    }

    #[test]
    fn a_shipment_sent_with_another_carrier_says_which_was_planned() {
        let planned = [pick(&parcel(1000, 300, &[], 500), &two_carriers(), None)];
        let (wh, other) = (WarehouseId::parse("wh-1").unwrap(), WarehouseId::parse("wh-2").unwrap());
        let carrier = |c: &str| CarrierId::parse(c).unwrap();
        assert_eq!(planned_versus_used(&planned, &wh, &carrier("slow")).as_deref(), Some("as planned (slow standard)"));
        assert_eq!(
            planned_versus_used(&planned, &wh, &carrier("fast")).as_deref(),
            Some("planned slow standard, shipped with fast")
        );
        assert_eq!(planned_versus_used(&planned, &other, &carrier("fast")), None);
        assert_eq!(planned_versus_used(&[], &wh, &carrier("fast")), None);
    }

    #[test]
    fn a_parcel_sums_weights_and_takes_the_restricted_traits_and_longest_side_of_its_units() {
        let facts = |sku: &str, g: i64, dims: [i64; 3], traits: &[&str]| {
            let raw = crate::catalogue::UncheckedSkuFacts {
                merchant_id: "m-1".into(),
                name: sku.into(),
                category: "x".into(),
                cost: Decimal::ONE,
                list_price: Decimal::ONE,
                weight_g: g,
                dims_mm: dims,
                traits: traits.iter().map(|t| (*t).to_owned()).collect(),
            };
            (Sku::parse(sku).unwrap(), SkuFacts::new(Sku::parse(sku).unwrap(), raw).unwrap())
        };
        let known: HashMap<Sku, SkuFacts> =
            [facts("A", 300, [100, 700, 50], &["gift", "cold_chain"]), facts("B", 1000, [200, 200, 200], &["fragile"])]
                .into_iter()
                .collect();
        let (a, b, c) = (Sku::parse("A").unwrap(), Sku::parse("B").unwrap(), Sku::parse("C").unwrap());
        let p = Parcel::of([(&a, 2), (&b, 1), (&c, 1)], &known, 42);
        assert_eq!(p, parcel(600 + 1000 + u64::from(DEFAULT_UNIT_WEIGHT_G), 700, &["fragile", "cold_chain"], 42));
    }
}
