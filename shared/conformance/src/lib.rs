//! One conformance suite over the store ports (`OrderStore`, `WarehouseStore`, `SkuCatalogue`, `RateTables`,
//! `InventoryStore`, `AlertStore`), written once and run by every adapter set, so that a failed
//! condition is the same domain outcome whichever store answers.
//!
//! Each case is a `pub async fn` taking a fresh, empty [`Subject`] and panicking on
//! failure. An adapter crate runs them all, one `#[tokio::test]` each, with
//!
//! ```ignore
//! async fn subject() -> oms_conformance::Subject { /* a fresh, empty store */ }
//! oms_conformance::conformance_tests!(subject);
//! ```
//!
//! The calling crate needs `tokio` (features `macros`, `rt-multi-thread`) as a
//! dev-dependency: the concurrency cases spawn real tasks on a multi-threaded runtime.

use oms_domain::ports::{
    AlertStore, ConsignmentStore, FlashSaleStore, InventoryStore, OrderStore, RateTables, SalesHistory, ShipmentStore,
    SkuCatalogue, SkuMappingStore, WarehouseStore,
};
use std::fmt;
use std::sync::Arc;

pub mod alerts;
pub mod auctions;
pub mod backorders;
pub mod browsing;
pub mod buyer_requests;
pub mod carrier_choice;
pub mod catalogue;
pub mod concurrency;
pub mod consignments;
pub mod effects;
pub mod fixtures;
pub mod flash_sales;
pub mod group_buys;
pub mod inventory;
pub mod ledger;
pub mod lots;
pub mod merchants;
pub mod orders;
pub mod payments;
pub mod products;
pub mod races;
pub mod rentals;
pub mod repairs;
pub mod returns;
pub mod reviews;
pub mod rfqs;
pub mod sales;
pub mod shipments;
pub mod sku_mappings;
pub mod storefronts;
pub mod supply;
pub mod warehouses;

pub use alerts::*;
pub use auctions::*;
pub use backorders::*;
pub use browsing::*;
pub use buyer_requests::*;
pub use carrier_choice::*;
pub use catalogue::*;
pub use concurrency::*;
pub use consignments::*;
pub use effects::*;
pub use flash_sales::*;
pub use group_buys::*;
pub use inventory::*;
pub use ledger::*;
pub use lots::*;
pub use merchants::*;
pub use orders::*;
pub use payments::*;
pub use products::*;
pub use rentals::*;
pub use repairs::*;
pub use returns::*;
pub use reviews::*;
pub use rfqs::*;
pub use sales::*;
pub use shipments::*;
pub use sku_mappings::*;
pub use storefronts::*;
pub use supply::*;
pub use warehouses::*;

/// The stores under test: fresh and empty for every case.
#[derive(Clone)]
pub struct Subject {
    pub orders: Arc<dyn OrderStore>,
    pub warehouses: Arc<dyn WarehouseStore>,
    pub inventory: Arc<dyn InventoryStore>,
    pub alerts: Arc<dyn AlertStore>,
    pub sku_mappings: Arc<dyn SkuMappingStore>,
    pub catalogue: Arc<dyn SkuCatalogue>,
    pub rates: Arc<dyn RateTables>,
    pub flash_sales: Arc<dyn FlashSaleStore>,
    pub supply: Arc<dyn oms_domain::ports::SupplyStore>,
    pub shipments: Arc<dyn ShipmentStore>,
    pub sales: Arc<dyn SalesHistory>,
    pub outbox: Arc<dyn Outbox>,
    pub consignments: Arc<dyn ConsignmentStore>,
    pub auctions: Arc<dyn oms_domain::ports::AuctionStore>,
    pub group_buys: Arc<dyn oms_domain::ports::GroupBuyStore>,
    pub rentals: Arc<dyn oms_domain::ports::RentalStore>,
    pub reviews: Arc<dyn oms_domain::ports::ReviewStore>,
    pub repairs: Arc<dyn oms_domain::ports::RepairStore>,
    pub returns: Arc<dyn oms_domain::ports::ReturnStore>,
    pub merchants: Arc<dyn oms_domain::ports::MerchantStore>,
    pub storefronts: Arc<dyn oms_domain::ports::StorefrontStore>,
    pub browsing: Arc<dyn oms_domain::ports::BrowsingStore>,
    pub products: Arc<dyn oms_domain::ports::ProductStore>,
    pub rfqs: Arc<dyn oms_domain::ports::RfqStore>,
    pub buyer_requests: Arc<dyn oms_domain::ports::BuyerRequestStore>,
}

/// What the store's order writes have queued so far (`Effects::send`, the outbox): read by
/// the cases that check a message lands exactly with its write. Embedded: the queue's
/// rows; AWS: the outbox items the table's stream relays.
#[async_trait::async_trait]
pub trait Outbox: Send + Sync {
    async fn sent(&self) -> Vec<oms_domain::messages::Outgoing>;
}

impl fmt::Debug for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subject").finish_non_exhaustive()
    }
}

/// Expands into one `#[tokio::test]` per conformance case, each given a fresh subject
/// made by `$make` (a path to an `async fn() -> Subject`).
#[macro_export]
macro_rules! conformance_tests {
    ($make:path) => {
        $crate::__each_case!([$crate::__one_case] $make);
    };
}

/// Every case, by name. Calls `apply!(name, args...)` for each, given `[apply] args...`.
#[doc(hidden)]
#[macro_export]
macro_rules! __each_case {
    ([$($apply:tt)*] $($arg:tt)*) => {
        // orders
        $($apply)*!(an_inserted_order_reads_back_whole_at_version_1, $($arg)*);
        $($apply)*!(an_unknown_order_reads_as_none, $($arg)*);
        $($apply)*!(second_insert_with_same_channel_merchant_and_external_id_returns_the_first_order, $($arg)*);
        $($apply)*!(a_duplicate_insert_returns_the_first_order_as_it_is_now, $($arg)*);
        $($apply)*!(the_same_external_id_on_two_channels_makes_two_orders, $($arg)*);
        $($apply)*!(the_same_external_id_from_two_merchants_on_one_channel_makes_two_orders, $($arg)*);
        $($apply)*!(an_update_at_the_stored_version_writes_the_order_and_bumps_the_version, $($arg)*);
        $($apply)*!(an_update_at_a_stale_version_is_a_version_conflict_and_changes_nothing, $($arg)*);
        $($apply)*!(an_update_of_an_unknown_order_is_a_version_conflict_and_creates_nothing, $($arg)*);
        $($apply)*!(orders_are_found_by_customer_newest_first, $($arg)*);
        $($apply)*!(orders_are_found_by_phone_newest_first, $($arg)*);
        $($apply)*!(orders_are_found_by_shipping_address_and_card_newest_first, $($arg)*);
        $($apply)*!(an_order_is_found_by_its_channel_and_external_id, $($arg)*);
        $($apply)*!(orders_are_found_by_external_id_on_any_channel_newest_first, $($arg)*);
        $($apply)*!(orders_are_found_by_channel_newest_first, $($arg)*);
        $($apply)*!(find_orders_answers_at_most_the_limit_keeping_the_newest, $($arg)*);
        $($apply)*!(filters_are_combined_before_the_page_is_cut, $($arg)*);
        $($apply)*!(paging_walks_every_match_once_newest_first, $($arg)*);
        $($apply)*!(another_merchants_orders_never_appear, $($arg)*);
        $($apply)*!(orders_are_found_by_their_channel_order_number, $($arg)*);
        $($apply)*!(a_lookup_that_matches_nothing_finds_nothing, $($arg)*);
        $($apply)*!(lookups_follow_an_update_of_the_customer, $($arg)*);
        $($apply)*!(the_largest_order_with_a_long_history_reads_whole_and_is_reserved_and_cancelled, $($arg)*);
        // backorders
        $($apply)*!(backorders_are_indexed_per_sku_oldest_first_while_backordered, $($arg)*);
        $($apply)*!(an_order_on_hold_is_indexed_like_a_backorder_until_released, $($arg)*);
        $($apply)*!(a_backorder_leaves_the_index_when_allocated_or_cancelled, $($arg)*);
        $($apply)*!(the_backorder_index_and_the_order_never_disagree, $($arg)*);
        // effects of an order write, and orders by status
        $($apply)*!(an_inserted_order_queues_its_messages_and_a_duplicate_queues_none, $($arg)*);
        $($apply)*!(an_update_queues_its_messages_only_when_it_lands, $($arg)*);
        $($apply)*!(a_write_that_releases_the_orders_hold_gives_its_stock_back_with_it, $($arg)*);
        $($apply)*!(a_write_naming_a_hold_the_order_no_longer_has_writes_nothing, $($arg)*);
        $($apply)*!(orders_are_found_by_status_and_age_oldest_first_and_final_ones_never, $($arg)*);
        $($apply)*!(orders_by_status_are_paged_oldest_first_and_each_entry_says_since_when, $($arg)*);
        $($apply)*!(a_write_that_must_find_no_hold_loses_to_a_hold_placed_meanwhile, $($arg)*);
        // warehouses
        $($apply)*!(a_stored_warehouse_reads_back_whole, $($arg)*);
        $($apply)*!(an_unknown_warehouse_reads_as_none, $($arg)*);
        $($apply)*!(putting_a_warehouse_again_replaces_it, $($arg)*);
        $($apply)*!(a_warehouse_is_never_taken_over_by_another_merchant_even_registering_it_at_once, $($arg)*);
        $($apply)*!(warehouses_are_listed_by_id, $($arg)*);
        // inventory
        $($apply)*!(set_on_hand_creates_a_stock_level_then_updates_it, $($arg)*);
        $($apply)*!(set_on_hand_keeps_the_units_reserved, $($arg)*);
        $($apply)*!(set_on_hand_below_the_units_reserved_is_refused_and_changes_nothing, $($arg)*);
        $($apply)*!(stock_of_lists_every_warehouse_holding_the_sku_by_warehouse_id, $($arg)*);
        $($apply)*!(stock_of_an_unknown_sku_is_empty, $($arg)*);
        $($apply)*!(a_reservation_holds_every_line_across_two_warehouses, $($arg)*);
        $($apply)*!(a_reservation_with_one_short_line_changes_nothing_and_names_that_line, $($arg)*);
        $($apply)*!(reserving_twice_for_the_same_order_is_already_reserved_and_holds_nothing_more, $($arg)*);
        $($apply)*!(reserving_a_never_counted_sku_is_insufficient_with_none_available, $($arg)*);
        $($apply)*!(a_reservation_built_from_one_stock_line_twice_holds_their_sum_once, $($arg)*);
        $($apply)*!(releasing_gives_the_units_back_and_a_second_release_holds_nothing, $($arg)*);
        $($apply)*!(releasing_an_order_that_never_reserved_holds_nothing, $($arg)*);
        $($apply)*!(an_order_that_holds_nothing_has_no_reservation, $($arg)*);
        $($apply)*!(releasing_a_hold_that_was_replaced_changes_nothing, $($arg)*);
        $($apply)*!(a_reservation_larger_than_one_write_is_held_and_released_whole, $($arg)*);
        $($apply)*!(a_reservation_short_in_a_later_part_holds_nothing, $($arg)*);
        $($apply)*!(two_owners_of_one_sku_in_one_warehouse_are_counted_and_reserved_apart, $($arg)*);
        $($apply)*!(a_release_gives_each_line_back_to_the_owner_it_came_from, $($arg)*);
        // alerts
        $($apply)*!(a_raised_alert_reads_back_whole, $($arg)*);
        $($apply)*!(raising_the_same_kind_and_subject_again_answers_the_first_alert_in_any_status, $($arg)*);
        $($apply)*!(alerts_are_listed_by_status_oldest_first_a_page_at_a_time, $($arg)*);
        $($apply)*!(a_merchants_alerts_are_listed_without_any_other_merchants, $($arg)*);
        $($apply)*!(an_alert_moves_forward_once_and_never_back, $($arg)*);
        $($apply)*!(moving_an_unknown_alert_is_not_found_and_creates_nothing, $($arg)*);
        // SKU mappings
        $($apply)*!(a_mapped_channel_sku_reads_back_as_ours_for_its_channel_and_merchant_only, $($arg)*);
        $($apply)*!(mapping_a_channel_sku_again_replaces_the_mapping, $($arg)*);
        $($apply)*!(sku_facts_read_back_whole_and_an_unknown_sku_reads_as_none, $($arg)*);
        $($apply)*!(putting_sku_facts_again_replaces_them, $($arg)*);
        $($apply)*!(rate_tables_read_back_whole_and_are_listed_by_carrier, $($arg)*);
        $($apply)*!(putting_a_rate_table_again_replaces_every_band, $($arg)*);
        // concurrency
        $($apply)*!(two_hundred_concurrent_one_unit_reservations_take_exactly_the_fifty_in_stock, $($arg)*);
        $($apply)*!(concurrent_two_line_reservations_never_oversell_and_reserved_is_what_succeeded, $($arg)*);
        $($apply)*!(concurrent_reservations_of_two_owners_stock_in_one_warehouse_never_take_each_others, $($arg)*);
        $($apply)*!(concurrent_reservations_for_one_order_hold_its_lines_once, $($arg)*);
        $($apply)*!(concurrent_releases_of_one_order_give_its_units_back_once, $($arg)*);
        $($apply)*!(a_stale_release_racing_a_new_reservation_never_frees_the_new_hold, $($arg)*);
        $($apply)*!(concurrent_updates_at_the_same_version_let_exactly_one_win, $($arg)*);
        $($apply)*!(concurrent_inserts_of_one_channel_order_store_it_once, $($arg)*);
        // flash sales
        $($apply)*!(a_new_sale_sets_its_units_aside_and_reads_back_whole, $($arg)*);
        $($apply)*!(a_sale_short_of_stock_is_insufficient_and_changes_nothing, $($arg)*);
        $($apply)*!(a_claim_takes_its_shards_units_and_stores_its_order_and_message_with_it, $($arg)*);
        $($apply)*!(the_same_idempotency_key_again_is_the_first_claim_and_writes_nothing, $($arg)*);
        $($apply)*!(a_claim_past_the_customers_limit_writes_nothing, $($arg)*);
        $($apply)*!(a_claim_from_a_short_shard_writes_nothing, $($arg)*);
        $($apply)*!(eighty_concurrent_claims_with_retries_for_twenty_units_take_exactly_twenty_each_with_its_order, $($arg)*);
        $($apply)*!(concurrent_claims_of_one_customer_never_pass_the_limit, $($arg)*);
        // shipments and tracking
        $($apply)*!(a_shipment_consumes_exactly_its_units_from_the_hold_and_the_stock, $($arg)*);
        $($apply)*!(the_last_units_shipped_leave_no_hold_and_a_release_holds_nothing, $($arg)*);
        $($apply)*!(a_shipment_write_whose_tracking_number_is_taken_writes_nothing, $($arg)*);
        $($apply)*!(concurrent_shipments_of_the_same_held_units_ship_them_once_and_never_go_negative, $($arg)*);
        $($apply)*!(a_carrier_event_is_stored_once_and_events_read_back_by_time, $($arg)*);
        $($apply)*!(a_shipment_update_is_conditional_on_its_version, $($arg)*);
        $($apply)*!(orders_of_one_merge_group_share_a_tracking_number_and_no_other_order_may, $($arg)*);
        $($apply)*!(transit_times_are_kept_per_carrier_and_lane_newest_first_once_per_shipment, $($arg)*);
        $($apply)*!(a_reserved_orders_sale_lands_with_its_write_and_reads_back_whole, $($arg)*);
        $($apply)*!(the_same_orders_sale_written_twice_is_one_sale, $($arg)*);
        $($apply)*!(each_merchants_sales_are_paged_oldest_first_and_never_another_merchants, $($arg)*);
        // stock ledger and reconciliation
        $($apply)*!(every_stock_change_appends_its_ledger_entry_in_the_same_write, $($arg)*);
        $($apply)*!(an_adjustment_below_the_units_held_is_refused_and_writes_nothing, $($arg)*);
        $($apply)*!(a_count_as_of_a_moment_keeps_the_movements_made_since, $($arg)*);
        $($apply)*!(the_ledger_is_paged_oldest_first_and_filtered_by_owner, $($arg)*);
        $($apply)*!(a_flash_sale_set_aside_and_its_claims_holds_reconcile, $($arg)*);
        $($apply)*!(concurrent_orders_for_units_over_three_warehouses_reserve_exactly_them_and_reconcile, $($arg)*);
        // suppliers and purchase orders
        $($apply)*!(a_supplier_reads_back_is_listed_per_merchant_and_is_never_taken_over, $($arg)*);
        $($apply)*!(a_purchase_order_reads_back_its_units_are_incoming_and_lists_filter_before_the_page, $($arg)*);
        $($apply)*!(a_reference_used_again_answers_the_first_purchase_order_and_writes_nothing, $($arg)*);
        $($apply)*!(a_receipt_grows_the_order_the_stock_and_the_ledger_together_and_reconciles, $($arg)*);
        $($apply)*!(the_same_receipt_id_again_is_applied_once, $($arg)*);
        // lots
        $($apply)*!(receipts_record_their_lots_once_under_a_duplicate_receipt_id, $($arg)*);
        $($apply)*!(a_goods_receipt_past_the_stock_bound_writes_nothing, $($arg)*);
        $($apply)*!(units_leaving_a_stock_are_taken_from_the_lot_expiring_first, $($arg)*);
        $($apply)*!(lots_of_are_listed_by_warehouse_owner_then_expiry_with_none_last, $($arg)*);
        $($apply)*!(the_sweep_writes_an_expired_lot_off_once_never_below_the_units_held, $($arg)*);
        $($apply)*!(the_same_goods_receipt_sent_at_once_is_applied_once, $($arg)*);
        $($apply)*!(an_over_receipt_or_a_sku_not_ordered_changes_nothing, $($arg)*);
        $($apply)*!(concurrent_receipts_on_one_purchase_order_never_exceed_what_was_ordered, $($arg)*);
        // payments and holds that expire
        $($apply)*!(a_payment_is_recorded_once_per_reference_and_marks_the_order_paid, $($arg)*);
        $($apply)*!(an_unpaid_orders_hold_expires_in_the_sweep_and_its_stock_returns_as_an_expiry, $($arg)*);
        // consignment grants
        $($apply)*!(a_grant_reads_back_whole_and_is_listed_for_its_seller_and_its_owner_only, $($arg)*);
        $($apply)*!(a_grant_is_written_only_on_the_version_before_and_never_changes_its_merchants, $($arg)*);
        // orders by status (the staff dashboard)
        $($apply)*!(orders_are_found_by_status_alone_newest_first_across_channels_and_follow_a_move, $($arg)*);
        // flash sales closed after their end
        $($apply)*!(an_ended_sale_closes_once_giving_exactly_its_unclaimed_units_back_to_stock, $($arg)*);
        $($apply)*!(the_sweep_closes_an_ended_sale_and_a_claim_expiring_after_gives_its_unit_to_stock, $($arg)*);
        $($apply)*!(late_claims_racing_the_close_never_take_a_released_unit_and_no_unit_is_released_twice, $($arg)*);
        $($apply)*!(a_sale_of_more_shards_than_one_write_holds_closes_whole, $($arg)*);
        // carrier choice
        $($apply)*!(a_bands_handled_traits_and_longest_side_read_back_whole, $($arg)*);
        $($apply)*!(an_orders_promised_date_and_its_plans_chosen_carriers_read_back_whole, $($arg)*);
        // flash sales: units given back by a cancel, a sale ended early
        $($apply)*!(a_claims_unheld_unit_goes_back_to_the_sale_or_after_the_close_to_stock_once, $($arg)*);
        $($apply)*!(a_sale_ended_early_takes_no_claim_after_and_closes_once_giving_its_unclaimed_units_back, $($arg)*);
        // auctions
        $($apply)*!(an_auction_reads_back_whole_and_is_stored_once, $($arg)*);
        $($apply)*!(a_bid_is_written_on_the_version_read_and_its_key_again_is_the_first_bid, $($arg)*);
        $($apply)*!(bids_are_listed_oldest_first_a_page_at_a_time, $($arg)*);
        $($apply)*!(a_bid_in_the_last_minutes_moves_the_auction_in_the_index_of_ended_ones, $($arg)*);
        $($apply)*!(an_ended_auction_closes_once_with_the_winners_order_and_its_message, $($arg)*);
        $($apply)*!(the_sweep_closes_auctions_below_their_reserve_or_without_bids_with_no_order, $($arg)*);
        $($apply)*!(equal_bids_at_the_same_instant_exactly_one_wins, $($arg)*);
        $($apply)*!(racing_bids_of_different_amounts_never_leave_the_best_below_an_accepted_one, $($arg)*);
        // group buys
        $($apply)*!(a_group_buy_is_stored_with_its_capacity_set_aside_and_reads_back_whole, $($arg)*);
        $($apply)*!(a_group_buy_short_of_stock_is_refused_and_sets_nothing_aside, $($arg)*);
        $($apply)*!(the_same_customer_or_key_again_is_the_first_join_and_writes_nothing, $($arg)*);
        $($apply)*!(joins_past_the_capacity_or_the_deadline_write_nothing, $($arg)*);
        $($apply)*!(a_filled_group_makes_one_unpaid_order_per_join_at_the_group_price_from_the_set_aside, $($arg)*);
        $($apply)*!(an_unfilled_group_buy_expires_at_its_deadline_giving_every_unit_back_once, $($arg)*);
        $($apply)*!(many_buyers_joining_at_once_never_pass_the_capacity_and_fill_the_group_once, $($arg)*);
        // rentals
        $($apply)*!(a_rental_unit_is_stored_and_only_its_merchant_replaces_its_terms, $($arg)*);
        $($apply)*!(a_booking_claims_its_days_and_its_key_again_answers_the_first, $($arg)*);
        $($apply)*!(a_booking_overlapping_another_is_refused_whole_and_one_beside_it_is_taken, $($arg)*);
        $($apply)*!(a_move_is_conditional_on_its_state_and_a_cancellation_frees_the_days, $($arg)*);
        $($apply)*!(a_rental_runs_from_booking_to_the_settled_deposit_and_keeps_its_days, $($arg)*);
        $($apply)*!(a_cancelled_booking_cancels_its_order_and_charges_beyond_the_deposit_are_a_follow_up_order, $($arg)*);
        $($apply)*!(customers_racing_for_overlapping_days_of_one_unit_leave_exactly_one_booking, $($arg)*);
        // reviews
        $($apply)*!(a_review_is_stored_once_per_order_and_sku_and_counted_in_its_rating, $($arg)*);
        $($apply)*!(a_skus_reviews_read_newest_first_per_merchant, $($arg)*);
        $($apply)*!(concurrent_reviews_of_one_orders_sku_store_and_count_one, $($arg)*);
        // repairs
        $($apply)*!(a_repair_is_stored_once_per_customer_and_key, $($arg)*);
        $($apply)*!(a_repair_move_is_conditional_on_its_state, $($arg)*);
        $($apply)*!(a_repair_runs_from_booking_to_completed_with_its_order_and_parts, $($arg)*);
        $($apply)*!(a_repair_short_of_parts_does_not_start_and_changes_nothing, $($arg)*);
        $($apply)*!(two_repairs_racing_for_the_last_part_leave_one_started, $($arg)*);
        // browsing
        $($apply)*!(a_browsing_batch_is_stored_once_per_customer_and_key, $($arg)*);
        $($apply)*!(a_merchants_browsing_reads_back_by_time_range_and_never_another_merchants, $($arg)*);
        $($apply)*!(a_merchants_returns_since_a_time_are_its_own_oldest_first, $($arg)*);
        // returns
        $($apply)*!(a_return_claims_its_units_and_its_key_again_answers_the_first, $($arg)*);
        $($apply)*!(returns_never_claim_more_than_delivered_and_a_refusal_gives_units_back, $($arg)*);
        $($apply)*!(a_return_move_is_conditional_on_its_version_and_a_tracking_number_names_one_return, $($arg)*);
        $($apply)*!(an_inspection_puts_units_back_on_hand_and_damaged_apart_with_ledger_entries, $($arg)*);
        $($apply)*!(two_staff_steps_racing_from_one_version_leave_one_and_its_effects_once, $($arg)*);
        $($apply)*!(buyers_racing_for_the_same_delivered_units_never_return_more_than_delivered, $($arg)*);
        // merchant onboarding
        $($apply)*!(a_merchant_registers_once_and_a_second_registration_answers_the_first, $($arg)*);
        $($apply)*!(a_step_is_written_only_over_the_version_it_was_taken_from, $($arg)*);
        $($apply)*!(merchants_are_listed_by_status_oldest_first_a_page_at_a_time, $($arg)*);
        $($apply)*!(two_admins_deciding_at_once_leave_exactly_one_decision, $($arg)*);
        // storefronts
        $($apply)*!(a_template_is_replaced_only_by_a_higher_version_and_a_retry_is_unchanged, $($arg)*);
        $($apply)*!(a_first_draft_is_saved_once_and_an_edit_only_over_the_version_read, $($arg)*);
        $($apply)*!(two_editors_saving_from_one_version_leave_exactly_one_draft, $($arg)*);
        $($apply)*!(publishing_copies_the_draft_and_later_edits_stay_unpublished_until_published_again, $($arg)*);
        $($apply)*!(a_publication_of_a_draft_version_since_edited_writes_nothing, $($arg)*);
        $($apply)*!(one_merchants_storefront_is_never_another_merchants, $($arg)*);
        $($apply)*!(an_order_held_for_its_merchant_is_released_by_the_approval, $($arg)*);
        // the reviewed catalogue
        $($apply)*!(a_listing_is_created_once_per_sku_and_a_second_answers_the_first, $($arg)*);
        $($apply)*!(a_listing_step_is_written_only_over_its_version_and_moves_its_place_in_the_lists, $($arg)*);
        $($apply)*!(listings_are_listed_by_status_oldest_first_a_page_at_a_time, $($arg)*);
        $($apply)*!(promoted_listings_read_by_rank_per_merchant_and_leave_when_unlisted, $($arg)*);
        $($apply)*!(two_reviewers_deciding_one_listing_at_once_leave_exactly_one_decision, $($arg)*);
        $($apply)*!(an_order_held_for_an_unlisted_product_is_released_by_its_listing, $($arg)*);
        // requests for quotes
        $($apply)*!(a_request_for_quotes_is_created_once_per_id_and_a_second_answers_the_first, $($arg)*);
        $($apply)*!(a_request_change_is_written_only_over_the_version_it_was_taken_from, $($arg)*);
        $($apply)*!(two_quotes_taken_from_one_version_at_once_leave_exactly_one, $($arg)*);
        // buyer requests
        $($apply)*!(a_buyer_request_is_created_once_and_the_same_id_again_answers_the_stored_one, $($arg)*);
        $($apply)*!(a_buyer_request_is_updated_only_over_the_version_read, $($arg)*);
        $($apply)*!(two_steps_from_one_version_of_a_buyer_request_leave_exactly_one_written, $($arg)*);
    };
}

/// One test for one case.
#[doc(hidden)]
#[macro_export]
macro_rules! __one_case {
    ($case:ident, $make:path) => {
        #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $case() {
            $crate::$case($make().await).await;
        }
    };
}

/// The names of every case, as `conformance_tests!` runs them.
pub fn case_names() -> Vec<&'static str> {
    let mut names = Vec::new();
    macro_rules! name {
        ($case:ident, $names:ident) => {
            $names.push(stringify!($case));
        };
    }
    __each_case!([name] names);
    names
}

#[cfg(test)]
mod tests {
    /// A case written but left out of the macro would never run anywhere: catch that.
    #[test]
    fn every_public_case_is_run_by_the_macro() {
        let listed = super::case_names();
        let sources = [
            include_str!("orders.rs"),
            include_str!("warehouses.rs"),
            include_str!("inventory.rs"),
            include_str!("concurrency.rs"),
            include_str!("alerts.rs"),
            include_str!("backorders.rs"),
            include_str!("effects.rs"),
            include_str!("sku_mappings.rs"),
            include_str!("flash_sales.rs"),
            include_str!("catalogue.rs"),
            include_str!("supply.rs"),
            include_str!("lots.rs"),
            include_str!("shipments.rs"),
            include_str!("sales.rs"),
            include_str!("consignments.rs"),
            include_str!("ledger.rs"),
            include_str!("payments.rs"),
            include_str!("carrier_choice.rs"),
            include_str!("auctions.rs"),
            include_str!("group_buys.rs"),
            include_str!("rentals.rs"),
            include_str!("reviews.rs"),
            include_str!("repairs.rs"),
            include_str!("returns.rs"),
            include_str!("browsing.rs"),
            include_str!("merchants.rs"),
            include_str!("storefronts.rs"),
            include_str!("products.rs"),
            include_str!("rfqs.rs"),
            include_str!("buyer_requests.rs"),
        ];
        let mut written = Vec::new();
        for source in sources {
            for line in source.lines() {
                if let Some(rest) = line.strip_prefix("pub async fn ") {
                    let name = rest.split('(').next().unwrap();
                    assert!(rest.contains("(s: Subject)"), "case {name} must take a Subject");
                    written.push(name);
                }
            }
        }
        for name in &written {
            assert!(listed.contains(name), "case {name} is not in __each_case!");
        }
        assert_eq!(written.len(), listed.len(), "__each_case! lists a case that does not exist (or twice)");
    }
}
