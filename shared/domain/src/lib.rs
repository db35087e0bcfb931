//! The order management domain.
//!
//! Everything here is plain Rust: the canonical order and its status machine,
//! warehouses and stock, the allocation rule, the channel formats, and the use
//! cases (`usecases`) written against narrow async traits (`ports`). Adapters
//! for those ports live in other crates (an embedded SQLite set and an AWS
//! set); this crate knows nothing of either.

pub mod allocation;
pub mod channels;
pub mod ids;
pub mod messages;
pub mod money;
pub mod order;
pub mod ports;
pub mod reservation;
pub mod stock;
pub mod usecases;
pub mod validation;

pub use ids::{CustomerId, ExternalId, MerchantId, OrderId, Sku, WarehouseId};
pub use money::{Currency, Money};
pub use order::{Order, OrderStatus};
pub use validation::ValidationError;
