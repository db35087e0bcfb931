//! The HTTP adapter against the local fakes of each API: the requests have the shape each
//! API documents (the fakes refuse any other), a repeat lands once, a destination that is
//! down is tried again, and one that refuses is refused for good.

use chrono::{TimeZone, Utc};
use serde_json::json;

use oms_domain::order::{Address, Channel};
use oms_domain::outbound::{
    ChannelShipment, Delivered, Delivery, DeliveryError, FulfilmentCancellation, FulfilmentRequest, PickLine, WarehouseOrder,
};
use oms_domain::ports::Outbound;
use oms_domain::{CarrierId, ExternalId, MerchantId, OrderId, OrderNumber, Sku, TrackingNumber, WarehouseId};
use oms_outbound::fakes::Fakes;
use oms_outbound::{Destinations, HttpOutbound};

fn shipment(channel: Channel, external: &str, carrier: &str, number: &str, lines: &[(&str, u32)], complete: bool) -> Delivery {
    Delivery::ChannelShipment(ChannelShipment {
        request_id: format!("ord_1.{number}.shipped"),
        channel,
        merchant_id: MerchantId::parse("m-1").expect("a valid test value"),
        external_id: ExternalId::parse(external).expect("a valid test value"),
        order_number: OrderNumber::parse("#1001").expect("a valid test value"),
        carrier: CarrierId::parse(carrier).expect("a valid test value"),
        tracking_number: TrackingNumber::parse(number).expect("a valid test value"),
        lines: lines.iter().map(|(s, q)| (Sku::parse(*s).expect("a valid test value"), *q)).collect(),
        shipped_at: Utc.with_ymd_and_hms(2026, 11, 21, 8, 0, 0).single().expect("a valid test value"),
        package_number: 1,
        order_complete: complete,
    })
}

fn address() -> Address {
    serde_json::from_value(json!({"name": "Li Lei", "line1": "1 West Lake Rd", "city": "Hangzhou",
        "province": "Zhejiang", "postal_code": "310000", "country": "CN"}))
    .expect("a valid test value")
}

fn lines() -> Vec<PickLine> {
    vec![PickLine {
        sku: Sku::parse("SKU-1").expect("a valid test value"),
        quantity: 2,
        owner: MerchantId::parse("m-1").expect("a valid test value"),
    }]
}

fn warehouse_order(request_id: &str) -> WarehouseOrder {
    WarehouseOrder {
        request_id: request_id.into(),
        order_id: OrderId::parse("ord_1").expect("a valid test value"),
        order_number: OrderNumber::parse("1001").expect("a valid test value"),
        merchant_id: MerchantId::parse("m-1").expect("a valid test value"),
        warehouse: WarehouseId::parse("wh-hz").expect("a valid test value"),
        lines: lines(),
    }
}

fn request(id: &str) -> Delivery {
    Delivery::Fulfilment(Box::new(FulfilmentRequest {
        order: warehouse_order(id),
        carrier: Some(CarrierId::parse("sf").expect("a valid test value")),
        service: Some("standard".into()),
        ship_to: address(),
        recipient: "Li Lei".into(),
        phone: Some("+8613800000000".into()),
        deliver_by: None,
        requested_at: Utc.with_ymd_and_hms(2026, 11, 20, 10, 0, 0).single().expect("a valid test value"),
    }))
}

#[tokio::test]
async fn a_warehouse_takes_a_signed_request_once_and_its_cancellation() {
    let fakes = Fakes::start(&["wh-hz"]).await.expect("a valid test value");
    let outbound = HttpOutbound::new(fakes.destinations(&["m-1"]));
    assert_eq!(outbound.deliver(&request("r-1")).await, Ok(Delivered::Sent));
    assert_eq!(outbound.deliver(&request("r-1")).await, Ok(Delivered::AlreadyThere), "a repeat lands once");
    let cancel = Delivery::Cancellation(FulfilmentCancellation {
        order: warehouse_order("r-2"),
        reason: "buyer asked".into(),
        cancelled_at: Utc.with_ymd_and_hms(2026, 11, 20, 11, 0, 0).single().expect("a valid test value"),
    });
    assert_eq!(outbound.deliver(&cancel).await, Ok(Delivered::Sent));
    let got = fakes.warehouse_requests();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!((got[0].event.as_str(), got[0].request_id.as_str()), ("fulfilment.requested", "r-1"));
    assert_eq!(got[0].body["lines"], json!([{"sku": "SKU-1", "quantity": 2, "owner": "m-1"}]));
    assert_eq!((&got[0].body["carrier"], &got[0].body["ship_to"]["city"]), (&json!("sf"), &json!("Hangzhou")));
    assert_eq!((got[1].event.as_str(), &got[1].body["reason"]), ("fulfilment.cancelled", &json!("buyer asked")));
    assert!(fakes.problems().is_empty(), "{:?}", fakes.problems());

    // Signed with another secret: the warehouse refuses it, for good.
    let mut wrong = fakes.destinations(&["m-1"]);
    wrong.warehouses.get_mut("wh-hz").expect("a valid test value").secret = "not-the-secret".into();
    let refused = HttpOutbound::new(wrong).deliver(&request("r-3")).await;
    assert!(matches!(refused, Err(DeliveryError::Refused(_))), "{refused:?}");
}

#[tokio::test]
async fn shopify_gets_a_fulfillment_of_the_parcels_lines_with_its_tracking_number_once() {
    let fakes = Fakes::start(&[]).await.expect("a valid test value");
    fakes.seed_shopify("5940139491234", &[(11, "TEE-BLK-M", 2), (12, "MUG-01", 1)]);
    let outbound = HttpOutbound::new(fakes.destinations(&["m-1"]));
    let first = shipment(Channel::Shopify, "5940139491234", "ups", "1Z999", &[("TEE-BLK-M", 1)], false);
    assert_eq!(outbound.deliver(&first).await, Ok(Delivered::Sent));
    assert_eq!(outbound.deliver(&first).await, Ok(Delivered::AlreadyThere));
    let rest = shipment(Channel::Shopify, "5940139491234", "ups", "1Z998", &[("TEE-BLK-M", 1), ("MUG-01", 1)], true);
    assert_eq!(outbound.deliver(&rest).await, Ok(Delivered::Sent));
    let done = fakes.shopify_fulfillments("5940139491234");
    assert_eq!(done.len(), 2);
    assert_eq!((&done[0]["tracking_number"], &done[0]["tracking_company"]), (&json!("1Z999"), &json!("ups")));
    assert_eq!(done[1]["line_items"], json!([{"id": 11, "quantity": 1}, {"id": 12, "quantity": 1}]));
    // Nothing of the SKU is left to fulfil: refused, not tried forever.
    let over = shipment(Channel::Shopify, "5940139491234", "ups", "1Z997", &[("MUG-01", 1)], true);
    assert!(matches!(outbound.deliver(&over).await, Err(DeliveryError::Refused(_))));
    assert!(fakes.problems().is_empty(), "{:?}", fakes.problems());
}

#[tokio::test]
async fn woocommerce_gets_a_customer_note_and_completes_the_order_when_all_shipped() {
    let fakes = Fakes::start(&[]).await.expect("a valid test value");
    fakes.seed_woocommerce("727");
    let outbound = HttpOutbound::new(fakes.destinations(&["m-1"]));
    let part = shipment(Channel::WooCommerce, "727", "sf", "SF1", &[("WOO-HOODIE", 1)], false);
    assert_eq!(outbound.deliver(&part).await, Ok(Delivered::Sent));
    assert_eq!(
        fakes.woocommerce_order("727").expect("a valid test value").0,
        "processing",
        "a partial shipment leaves it processing"
    );
    assert_eq!(outbound.deliver(&part).await, Ok(Delivered::AlreadyThere));
    let last = shipment(Channel::WooCommerce, "727", "sf", "SF2", &[("WOO-HOODIE", 1)], true);
    assert_eq!(outbound.deliver(&last).await, Ok(Delivered::Sent));
    let (status, notes) = fakes.woocommerce_order("727").expect("a valid test value");
    assert_eq!(status, "completed");
    assert_eq!(
        notes,
        vec![
            "Shipped by sf with tracking number SF1 (1 x WOO-HOODIE).",
            "Shipped by sf with tracking number SF2 (1 x WOO-HOODIE)."
        ]
    );
    assert!(fakes.problems().is_empty(), "{:?}", fakes.problems());
}

#[tokio::test]
async fn amazon_gets_a_shipment_confirmation_with_a_fresh_token_and_a_repeat_edits_the_same_package() {
    let fakes = Fakes::start(&[]).await.expect("a valid test value");
    fakes.seed_amazon("113-5539421-7261831", &[("52852651034158", "MY-SKU-1", 2), ("52852651034159", "MY-SKU-2", 2)]);
    let outbound = HttpOutbound::new(fakes.destinations(&["m-1"]));
    let parcel = shipment(Channel::Amazon, "113-5539421-7261831", "zto", "ZTO1", &[("MY-SKU-1", 2), ("MY-SKU-2", 1)], false);
    assert_eq!(outbound.deliver(&parcel).await, Ok(Delivered::Sent));
    assert_eq!(outbound.deliver(&parcel).await, Ok(Delivered::Sent));
    let packages = fakes.amazon_packages("113-5539421-7261831");
    assert_eq!(packages.len(), 1, "the same package reference: one package");
    let package = &packages["1"];
    assert_eq!((&package["carrierCode"], &package["carrierName"]), (&json!("Other"), &json!("zto")));
    assert_eq!(
        package["orderItems"],
        json!([{"orderItemId": "52852651034158", "quantity": 2}, {"orderItemId": "52852651034159", "quantity": 1}])
    );
    assert_eq!(package["shipDate"], "2026-11-21T08:00:00Z");
    assert!(fakes.problems().is_empty(), "{:?}", fakes.problems());

    // A token revoked before it expired: refused, forgotten, and a new one exchanged on the
    // next attempt.
    fakes.revoke_amazon_tokens();
    assert!(matches!(outbound.deliver(&parcel).await, Err(DeliveryError::Retry(_))), "refused with the old token: again later");
    assert_eq!(outbound.deliver(&parcel).await, Ok(Delivered::Sent));
}

#[tokio::test]
async fn a_destination_that_is_down_is_tried_again_and_one_not_configured_is_skipped() {
    let fakes = Fakes::start(&["wh-hz"]).await.expect("a valid test value");
    let outbound = HttpOutbound::new(fakes.destinations(&["m-1"]));
    fakes.be_unavailable_for(1);
    assert!(matches!(outbound.deliver(&request("r-9")).await, Err(DeliveryError::Retry(_))));
    assert_eq!(outbound.deliver(&request("r-9")).await, Ok(Delivered::Sent));
    assert_eq!(fakes.warehouse_requests().len(), 1);

    let nowhere = HttpOutbound::new(Destinations::none());
    assert!(matches!(nowhere.deliver(&request("r-10")).await, Ok(Delivered::NoDestination(_))));
    // A shop is its merchant's: another merchant's order is never written back to it.
    let mut theirs = shipment(Channel::WooCommerce, "727", "sf", "SF4", &[("SKU-1", 1)], true);
    if let Delivery::ChannelShipment(s) = &mut theirs {
        s.merchant_id = MerchantId::parse("m-2").expect("a valid test value");
    }
    assert!(matches!(outbound.deliver(&theirs).await, Ok(Delivered::NoDestination(_))));
    let generic = shipment(Channel::Generic, "G-1", "sf", "SF3", &[("SKU-1", 1)], true);
    assert!(matches!(outbound.deliver(&generic).await, Ok(Delivered::NoDestination(_))));
    drop(fakes);
    assert!(matches!(outbound.deliver(&request("r-11")).await, Err(DeliveryError::Retry(_))), "unreachable: again later");
}
