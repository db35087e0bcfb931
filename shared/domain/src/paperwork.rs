//! An order's paperwork: the invoice the buyer is billed with, and the packing list each
//! warehouse packs its parcel from. Both are read off the order as stored (and the SKU
//! catalogue's names and weights), never stored themselves, so they always agree with the
//! order: a changed address or a recorded payment shows on the next print.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::catalogue::SkuFacts;
use crate::order::{Address, OrderStatus};
use crate::{Order, Sku, WarehouseId};

/// Who the invoice bills: the order's customer, with the invoice details it gave at
/// checkout (`Customer::billing`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BillTo {
    pub customer_id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// The company billed, when the buyer gave one.
    pub company: Option<String>,
    /// The buyer's tax number, when it gave one.
    pub tax_id: Option<String>,
    /// The billing address given at checkout, else the shipping address.
    pub address: Address,
}

/// One line of an invoice.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InvoiceLine {
    pub sku: Sku,
    /// The catalogue's name of the SKU, else the SKU itself.
    pub description: String,
    pub quantity: u32,
    pub unit_price: Decimal,
    /// Quantity times unit price.
    pub amount: Decimal,
}

/// An order's invoice. Amounts are in `currency`, rounded to its minor unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Invoice {
    /// `INV-` and the order's number: one invoice per order, the same on every print.
    pub number: String,
    pub order_id: String,
    pub order_number: String,
    /// The merchant selling.
    pub seller: String,
    /// When the buyer placed the order: the invoice's date.
    pub dated: DateTime<Utc>,
    pub bill_to: BillTo,
    pub ship_to: Address,
    pub currency: String,
    pub lines: Vec<InvoiceLine>,
    /// Sum of the lines.
    pub subtotal: Decimal,
    pub discount: Decimal,
    pub shipping: Decimal,
    pub tax: Decimal,
    /// True when the unit prices include `tax` (then it is shown, not added).
    pub taxes_included: bool,
    /// Subtotal less discount plus shipping, plus tax unless the prices include it.
    pub total: Decimal,
    /// Payments recorded for the order; for an order the channel took payment for (paid,
    /// nothing recorded here), the total.
    pub paid: Decimal,
    /// What is still to pay (never below zero).
    pub balance_due: Decimal,
}

/// Why an order has no invoice.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("order {order_id} is cancelled: a cancelled order is not invoiced")]
pub struct NotInvoiceable {
    pub order_id: String,
}

impl Invoice {
    /// The invoice of `order`, its lines described by `names` (the catalogue's, by SKU).
    pub fn of(order: &Order, names: &HashMap<Sku, String>) -> Result<Invoice, NotInvoiceable> {
        if order.status == OrderStatus::Cancelled {
            return Err(NotInvoiceable { order_id: order.order_id.to_string() });
        }
        let digits = order.currency.minor_digits();
        // Every amount to the currency's minor unit, written with all its digits ("39.80").
        let round = |amount: Decimal| {
            let mut rounded = amount.round_dp(digits);
            rounded.rescale(digits);
            rounded
        };
        // A unit price keeps any finer digits it was sold at, and at least the currency's.
        let price = |amount: Decimal| if amount.scale() < digits { round(amount) } else { amount };
        let lines: Vec<InvoiceLine> = order
            .lines
            .iter()
            .map(|line| InvoiceLine {
                sku: line.sku.clone(),
                description: names.get(&line.sku).cloned().unwrap_or_else(|| line.sku.to_string()),
                quantity: line.quantity,
                unit_price: price(line.unit_price),
                amount: round(line.unit_price * Decimal::from(line.quantity)),
            })
            .collect();
        let subtotal: Decimal = lines.iter().map(|line| line.amount).sum();
        let charges = &order.charges;
        let added_tax = if charges.taxes_included { Decimal::ZERO } else { charges.tax };
        let total = round(subtotal - charges.discount + charges.shipping + added_tax);
        let recorded = round(order.payments.iter().map(|payment| payment.amount).sum());
        // Paid at the channel (the shop took the money): nothing is due, recorded or not.
        let paid = if order.paid { recorded.max(total) } else { recorded };
        let billing = order.customer.billing.as_ref();
        Ok(Invoice {
            number: format!("INV-{}", order.order_number),
            order_id: order.order_id.to_string(),
            order_number: order.order_number.to_string(),
            seller: order.merchant_id.to_string(),
            dated: order.placed_at,
            bill_to: BillTo {
                customer_id: order.customer.id.to_string(),
                name: order.customer.name.clone().or_else(|| order.shipping_address.name.clone()),
                email: order.customer.email.clone(),
                phone: order.customer.phone.clone(),
                company: billing.and_then(|b| b.company.clone()),
                tax_id: billing.and_then(|b| b.tax_id.clone()),
                address: billing.and_then(|b| b.address.clone()).unwrap_or_else(|| order.shipping_address.clone()),
            },
            ship_to: order.shipping_address.clone(),
            currency: order.currency.code().to_owned(),
            lines,
            subtotal,
            discount: round(charges.discount),
            shipping: round(charges.shipping),
            tax: round(charges.tax),
            taxes_included: charges.taxes_included,
            total,
            paid,
            balance_due: round((total - paid).max(Decimal::ZERO)),
        })
    }
}

/// One line of a parcel's packing list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackLine {
    pub sku: Sku,
    /// The catalogue's name of the SKU, else the SKU itself.
    pub description: String,
    pub quantity: u32,
    /// The catalogue's packed weight of the units, when it knows the SKU.
    pub weight_g: Option<u64>,
}

/// What one warehouse packs for the order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Parcel {
    pub warehouse: WarehouseId,
    pub lines: Vec<PackLine>,
    /// Units in the parcel.
    pub units: u32,
    /// The lines' weights summed, when the catalogue knows every SKU.
    pub weight_g: Option<u64>,
}

/// An order's packing list: a parcel per warehouse of its plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PackingList {
    pub order_id: String,
    pub order_number: String,
    pub ship_to: Address,
    /// When the plan was made.
    pub planned_at: DateTime<Utc>,
    pub parcels: Vec<Parcel>,
}

/// Why an order has no packing list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("order {order_id} is {status}: it has no plan of warehouses to pack from yet")]
pub struct NotPlanned {
    pub order_id: String,
    pub status: &'static str,
}

impl PackingList {
    /// The packing list of `order` from its plan, its lines described by `facts` (the
    /// catalogue's, by SKU). An order not planned (received, on hold, backordered) or
    /// cancelled has none.
    pub fn of(order: &Order, facts: &HashMap<Sku, SkuFacts>) -> Result<PackingList, NotPlanned> {
        let not_planned = || NotPlanned { order_id: order.order_id.to_string(), status: order.status.as_str() };
        let waiting = matches!(
            order.status,
            OrderStatus::Received | OrderStatus::OnHold | OrderStatus::Backordered | OrderStatus::Cancelled
        );
        let allocation = order.allocation.as_ref().filter(|_| !waiting).ok_or_else(not_planned)?;
        let mut by_warehouse: BTreeMap<&WarehouseId, BTreeMap<&Sku, u32>> = BTreeMap::new();
        for line in &allocation.lines {
            *by_warehouse.entry(&line.warehouse).or_default().entry(&line.sku).or_default() += line.quantity;
        }
        let parcels = by_warehouse
            .into_iter()
            .map(|(warehouse, skus)| {
                let lines: Vec<PackLine> = skus
                    .into_iter()
                    .map(|(sku, quantity)| {
                        let known = facts.get(sku);
                        PackLine {
                            sku: sku.clone(),
                            description: known.map_or_else(|| sku.to_string(), |f| f.name.clone()),
                            quantity,
                            weight_g: known.map(|f| u64::from(f.weight_g) * u64::from(quantity)),
                        }
                    })
                    .collect();
                let weight_g = lines.iter().map(|line| line.weight_g).sum::<Option<u64>>();
                Parcel { warehouse: warehouse.clone(), units: lines.iter().map(|line| line.quantity).sum(), weight_g, lines }
            })
            .collect();
        Ok(PackingList {
            order_id: order.order_id.to_string(),
            order_number: order.order_number.to_string(),
            ship_to: order.shipping_address.clone(),
            planned_at: allocation.planned_at,
            parcels,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::order::tests::sample_new_order;
    use crate::order::{Allocation, Charges, OrderLine, Payment};
    use crate::{MerchantId, OrderId};

    fn order(lines: &[(&str, u32, i64)], charges: Charges) -> Order {
        let mut new = sample_new_order("X", 1);
        new.lines = lines
            .iter()
            .map(|(sku, quantity, cents)| OrderLine {
                sku: Sku::parse(*sku).unwrap(),
                quantity: *quantity,
                unit_price: Decimal::new(*cents, 2),
            })
            .collect();
        new.charges = charges;
        Order::receive(new, OrderId::generate(), Utc::now())
    }

    fn charges(discount: i64, shipping: i64, tax: i64, taxes_included: bool) -> Charges {
        Charges {
            discount: Decimal::new(discount, 2),
            shipping: Decimal::new(shipping, 2),
            tax: Decimal::new(tax, 2),
            taxes_included,
        }
    }

    #[test]
    fn an_invoice_adds_shipping_and_tax_less_the_discount_and_shows_the_balance() {
        let mut o = order(&[("TEA", 2, 1990), ("CUP", 1, 3500)], charges(500, 1000, 600, false));
        o.paid = false;
        let names = HashMap::from([(Sku::parse("TEA").unwrap(), "Longjing tea".to_owned())]);
        let invoice = Invoice::of(&o, &names).unwrap();
        assert_eq!(invoice.number, format!("INV-{}", o.order_number));
        assert_eq!(invoice.lines[0].description, "Longjing tea");
        assert_eq!(invoice.lines[1].description, "CUP", "a SKU the catalogue lacks is described by itself");
        assert_eq!(invoice.subtotal, Decimal::new(7480, 2));
        assert_eq!(invoice.total, Decimal::new(7480 - 500 + 1000 + 600, 2));
        assert_eq!((invoice.paid, invoice.balance_due), (Decimal::ZERO, invoice.total));
        o.payments.push(Payment { amount: Decimal::new(9000, 2), currency: o.currency, reference: "p-1".into(), at: Utc::now() });
        let paid = Invoice::of(&o, &names).unwrap();
        assert_eq!((paid.paid, paid.balance_due), (Decimal::new(9000, 2), Decimal::ZERO), "never below zero");
        o.payments.clear();
        o.paid = true;
        let at_the_shop = Invoice::of(&o, &names).unwrap();
        assert_eq!((at_the_shop.paid, at_the_shop.balance_due), (at_the_shop.total, Decimal::ZERO), "paid at the channel");
    }

    #[test]
    fn tax_included_in_the_prices_is_shown_not_added() {
        let o = order(&[("TEA", 1, 10000)], charges(0, 0, 1150, true));
        let invoice = Invoice::of(&o, &HashMap::new()).unwrap();
        assert_eq!((invoice.tax, invoice.total), (Decimal::new(1150, 2), Decimal::new(10000, 2)));
    }

    #[test]
    fn a_cancelled_order_is_not_invoiced() {
        let mut o = order(&[("TEA", 1, 100)], Charges::default());
        o.transition(OrderStatus::Cancelled, Utc::now(), "cancelled").unwrap();
        assert!(Invoice::of(&o, &HashMap::new()).is_err());
    }

    #[test]
    fn a_packing_list_has_a_parcel_per_warehouse_of_the_plan_with_weights() {
        let mut o = order(&[("TEA", 3, 100), ("CUP", 1, 100)], Charges::default());
        assert!(PackingList::of(&o, &HashMap::new()).is_err(), "received: no plan yet");
        let line = |warehouse: &str, sku: &str, quantity: u32| crate::order::AllocatedLine {
            warehouse: WarehouseId::parse(warehouse).unwrap(),
            owner: MerchantId::parse("m-1").unwrap(),
            sku: Sku::parse(sku).unwrap(),
            quantity,
            transfer_price: None,
        };
        o.allocation = Some(Allocation {
            lines: vec![line("WH-B", "TEA", 1), line("WH-A", "TEA", 2), line("WH-A", "CUP", 1)],
            explanation: String::new(),
            costing: None,
            planned_at: Utc::now(),
            merge: None,
            shipments: Vec::new(),
            claimed_from: None,
        });
        o.transition(OrderStatus::Allocated, Utc::now(), "planned").unwrap();
        let tea = crate::catalogue::UncheckedSkuFacts {
            merchant_id: "m-1".into(),
            name: "Longjing tea".into(),
            category: "tea".into(),
            cost: Decimal::ONE,
            list_price: Decimal::TEN,
            weight_g: 250,
            dims_mm: [1, 1, 1],
            traits: vec![],
        };
        let facts = HashMap::from([(Sku::parse("TEA").unwrap(), SkuFacts::new(Sku::parse("TEA").unwrap(), tea).unwrap())]);
        let list = PackingList::of(&o, &facts).unwrap();
        let warehouses: Vec<&str> = list.parcels.iter().map(|p| p.warehouse.as_str()).collect();
        assert_eq!(warehouses, ["WH-A", "WH-B"]);
        assert_eq!((list.parcels[0].units, list.parcels[0].weight_g), (3, None), "the cup's weight is unknown");
        assert_eq!((list.parcels[1].units, list.parcels[1].weight_g), (1, Some(250)));
        assert_eq!(list.parcels[0].lines[1].description, "Longjing tea");
    }
}
