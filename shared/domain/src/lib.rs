//! The order management domain.
//!
//! Everything here is plain Rust: the canonical order, its rules and its status
//! machine, warehouses and stock, the allocation rule, and the use cases
//! (`usecases`) written against narrow async traits (`ports`). Adapters live in
//! other crates: the sales channels' formats and signatures (`oms-channels`), and
//! the ports (an embedded SQLite set and an AWS set); this crate knows nothing of
//! any of them.

pub mod access;
pub mod alert;
pub mod allocation;
pub mod analytics;
pub mod auction;
pub mod browsing;
pub mod carrier;
pub mod carrier_choice;
pub mod catalogue;
pub mod consignment;
pub mod delivery;
pub mod document;
pub mod flash_sale;
pub mod forecast;
pub mod fraud;
pub mod group_buy;
pub mod ids;
pub mod ledger;
pub mod lot;
pub mod matchmaking;
pub mod messages;
pub mod money;
pub mod onboarding;
pub mod order;
pub mod outbound;
pub mod paperwork;
pub mod ports;
pub mod product;
pub mod rental;
pub mod repair;
pub mod replenishment;
pub mod reports;
pub mod reservation;
pub mod returns;
pub mod review;
pub mod rfq;
pub mod sales;
pub mod service_order;
pub mod shipment;
pub mod sku_mapping;
pub mod stock;
pub mod storefront;
pub mod supply;
pub mod usecases;
pub mod validation;

pub use ids::{
    AlertId, BuyerRequestId, CarrierId, ConsignmentId, CustomerId, ExternalId, MerchantId, OrderId, OrderNumber, PurchaseOrderId,
    ReceiptId, RfqId, ShipmentId, Sku, SupplierId, TrackingEventId, TrackingNumber, WarehouseId,
};
pub use money::{Currency, Money};
pub use order::{Order, OrderStatus};
pub use validation::ValidationError;
