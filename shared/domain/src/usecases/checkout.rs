//! The platform's own checkout: a buyer's order placed through a merchant's storefront on
//! the platform (`POST /checkout`). A channel's order is stored and held when something is
//! not settled (a merchant not approved, a product not on sale), since the buyer already
//! bought elsewhere; the platform's checkout is where the buyer is still buying, so it
//! refuses instead: the merchant must be approved to sell and every line's SKU sellable now
//! (approved, listed and stocked: [`ensure_sellable`]), or nothing is stored. The order
//! then goes through intake like any other (channel `checkout`, external id the checkout
//! id, so the same checkout again answers the first order).

use crate::order::{Channel, NewOrder};
use crate::ports::{OrderQuery, Page, Ports, StoreError};
use crate::usecases::intake::{self, IntakeError, Receipt};
use crate::usecases::onboarding::may_sell;
use crate::usecases::products::{ensure_sellable, SellableError};
use crate::MerchantId;

/// Why a checkout stored nothing.
#[derive(Debug, thiserror::Error)]
pub enum CheckoutError {
    #[error("merchant {0} is not approved to sell")]
    MerchantNotApproved(MerchantId),
    #[error(transparent)]
    NotSellable(#[from] SellableError),
    #[error(transparent)]
    Unexpected(#[from] StoreError),
}

impl From<IntakeError> for CheckoutError {
    fn from(err: IntakeError) -> Self {
        match err {
            IntakeError::Unexpected(e) => Self::Unexpected(e),
        }
    }
}

/// Places the checkout `new` (its channel becomes `checkout`). The same checkout id of the
/// same merchant again answers the first order as a duplicate, even when a product has
/// gone off sale since; a new one is checked first and refused whole.
pub async fn checkout(ports: &Ports, mut new: NewOrder) -> Result<Receipt, CheckoutError> {
    new.channel = Channel::Checkout;
    let query = OrderQuery::of(new.merchant_id.clone()).channel(Channel::Checkout).external_id(new.external_id.clone());
    if let Some(first) = ports.orders.find_orders(&query, &Page::first(1)).await?.orders.into_iter().next() {
        let (updated, not_updated) = (Vec::new(), Vec::new());
        return Ok(Receipt {
            order_id: first.order_id,
            status: first.status,
            duplicate: true,
            updated,
            not_updated,
            not_applied: None,
        });
    }
    if !may_sell(&*ports.merchants, &new.merchant_id).await? {
        return Err(CheckoutError::MerchantNotApproved(new.merchant_id));
    }
    for line in &new.lines {
        ensure_sellable(ports, &line.sku).await?;
    }
    Ok(intake::receive_order(ports, new).await?)
}
