#!/usr/bin/env python3
"""Least privilege, checked: every function of infra/template.yaml is granted exactly the
actions its code calls, on exactly the resources it calls them on.

Fails on a wildcard action or resource, on a SAM policy template or managed policy (they
grant more than named: DynamoDBCrudPolicy brings Scan, BatchWriteItem and DeleteItem;
SQSSendMessagePolicy brings sqs:SendMessage*), on a grant no code path uses, and on a call
with no grant. USES below is the one statement of what each function calls, from the
ports its use cases drive (see docs/dynamodb.md for which DynamoDB request each port
operation is); change it with the code, and the template with it.

Usage: python3 scripts/check-iam.py [infra/template.yaml]
"""

import re
import sys

from cfnlint.decode import decode

TABLE = ("Fn::GetAtt", "OmsTable.Arn")
# The one wildcard allowed: the objects under a named key prefix of a bucket.
NAMED_PREFIX = re.compile(r"\}/[A-Za-z0-9_-]+/\*$")


def index(name):
    return ("Fn::Sub", "${OmsTable.Arn}/index/" + name)


def queue(name):
    return ("Fn::GetAtt", name + ".Arn")


def table(*actions):
    return {("dynamodb:" + action, TABLE) for action in actions}


def query_indexes(*names):
    return {("dynamodb:Query", index(name)) for name in names}


def objects(action, prefix):
    """`action` on the bucket's objects under `prefix/` (a named prefix, never the whole bucket)."""
    return {("s3:" + action, ("Fn::Sub", "${ArtifactsBucket.Arn}/" + prefix + "/*"))}


def send_to(*queues):
    return {("sqs:SendMessage", queue(name)) for name in queues}


# A TransactWriteItems is authorised per item: PutItem, UpdateItem, DeleteItem and
# ConditionCheckItem for its Put, Update, Delete and ConditionCheck items.
USES = {
    # intake (transactional insert with a ConditionCheck of the old dedupe marker, outbox
    # Put), redelivery and PATCH (order Put, backorder entries Put/Delete), cancel (the
    # reservation's Delete and stock Updates in the order's write; a flash-sale claim's
    # order never held: the sale's CLOSED item read (GetItem) and checked (ConditionCheck),
    # its shard's Update, or once closing the stock Update and ledger Put), alerts (raise: Put;
    # move: UpdateItem), SKU mappings (PutItem, GetItem), lookups on the order indexes; the
    # platform checkout's reads of the merchant's record, the listings (GetItem) and stock (Query).
    "IngestOrderFunction": table("GetItem", "PutItem", "UpdateItem", "DeleteItem", "ConditionCheckItem", "Query")
    | query_indexes(
        "by_customer", "by_phone", "by_address", "by_card", "by_external_id", "by_channel", "by_order_number",
        "by_alert_status", "by_merchant_alerts",
    )
    | send_to("AllocateQueue")
    # the channels' webhook secrets, read at start and after a refused signature.
    | {("secretsmanager:GetSecretValue", ("Ref", "ChannelSecrets"))}
    # GET /analytics: the last order export; GET /reports: the report files (ListBucket:
    # the listing, and a missing object is a 404).
    | objects("GetObject", "exports")
    | objects("GetObject", "reports")
    | {("s3:ListBucket", ("Fn::GetAtt", "ArtifactsBucket.Arn"))},
    # the order items and the stock (Scan; a long history's moved timeline entries and the
    # period's shipments: Query); the export's objects and the report files written, runs
    # beyond the newest 30 listed and deleted.
    "ExportOrdersFunction": table("Scan", "Query")
    | objects("PutObject", "exports")
    | objects("PutObject", "reports")
    | objects("DeleteObject", "reports")
    | {("s3:ListBucket", ("Fn::GetAtt", "ArtifactsBucket.Arn"))},
    # warehouses (PutItem, GetItem, Query), counts (UpdateItem), stock and backorder reads;
    # SKU facts and carrier rate tables (PutItem, GetItem); suppliers and purchase orders
    # (transactions of Puts; a receipt's Put of the order, stock Updates, ledger Puts and
    # Puts or Deletes of the incoming items; Query of a merchant's partition, of INCOMING#);
    # consignment grants (the grant and its two copies: a transaction of Puts; GetItem;
    # Query of CONSIGNMENTS_TO#/_FROM#); goods receipts with no purchase order (a marker
    # Put, stock Updates, ledger Puts); lots (Query of a SKU's stock, Scan of every stock's
    # figures when no SKU is named).
    "InventoryFunction": table("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan") | send_to("AllocateQueue"),
    # the plan with its outbox item; backorder entries it leaves (Delete); a released hold's
    # alert (raise: Put, resolve: UpdateItem); an allocated order's reservation re-queued;
    # the plan's costs: SKU facts (GetItem), carriers' rate tables (Query of CARRIERS);
    # the consignment grants the order's merchant received (Query of CONSIGNMENTS_TO#<seller>);
    # merging: the customer's recent orders (the index by customer), a note on each order of
    # the group joined (order Put).
    "AllocateFunction": table("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query")
    | query_indexes("by_customer")
    | send_to("ReserveQueue"),
    # holds and releases (Put/Update/Delete of reservation, part and stock items), the order;
    # a re-plan reads SKU facts (GetItem) and rate tables (Query) as allocation does, and a
    # plan of another merchant's units re-reads the seller's grants (Query) before its hold.
    "ReserveStockFunction": table("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query") | send_to("AllocateQueue"),
    # the index by status, the orders it names, a lost on-hold alert raised again (Put);
    # the tracking checks: shipments, events and transit samples (Query, GetItem), a
    # shipment refolded (PutItem), the alerts they raise (Put) noted on the order;
    # an unpaid hold expired: the cancel's transaction (order Put, reservation Delete, stock
    # Updates, ledger Puts, or a ConditionCheck of no hold), an on-hold alert resolved;
    # ended flash sales closed: OPEN_FLASH_SALES (Query), the sale and its closing (GetItem),
    # the shards (BatchGetItem), the close's transactions (Updates, ledger Puts, a Delete);
    # ended auctions closed: OPEN_AUCTIONS (Query), the auction (GetItem), the close's
    # transaction (the auction Put, its open item's Delete, the winner's order Puts);
    # group buys past their deadline settled: DUE_GROUP_BUYS (Query), the offer (GetItem),
    # its pending joins (Query) made orders (Delete, Update, Puts), the settlement's
    # transaction (the offer's Update, its due item's Delete, a stock Update, a ledger Put);
    # expired lots written off once a day: the day's marker (Put), every stock's figures
    # (Scan), each SKU's stock (Query), the adjustment's stock Update and ledger Put.
    "SweepOrdersFunction": table("GetItem", "BatchGetItem", "PutItem", "UpdateItem", "DeleteItem", "ConditionCheckItem", "Query", "Scan")
    | query_indexes("by_status")
    | send_to("AllocateQueue", "ReserveQueue"),
    # the outbox's messages to their queues; the stream's failure destination is a queue.
    "RelayOutboxFunction": send_to("AllocateQueue", "ReserveQueue", "OutboundQueue", "OutboxFailuresQueue"),
    # the order and its shipments (GetItem, Query), a refused notice's alert (Put); the
    # destinations document, read at start.
    "DeliverOutboundFunction": table("GetItem", "PutItem", "Query")
    | {("secretsmanager:GetSecretValue", ("Ref", "OutboundDestinations"))},
    # the merchants' model pointers and the artifacts they name; offers and
    # recommendations read SKU facts (GetItem) and a customer's latest order (the index by
    # customer; the order's moved timeline entries: Query); recommendations read each
    # candidate's stock (Query of its stock partition), its rating, the warehouses and the
    # rate tables (delivery days); a browsing batch: one transaction of its key's and day
    # items (Put, the template keeps it to the BROWSING keys).
    # (ListBucket: without it a missing object answers 403 instead of 404.)
    "QuotePriceFunction": objects("GetObject", "models")
    | {("s3:ListBucket", ("Fn::GetAtt", "ArtifactsBucket.Arn"))}
    | table("GetItem", "PutItem", "Query")
    | query_indexes("by_customer"),
    # each merchant's sales (Query of SALES#<merchant>, the list SALES_MERCHANTS) and SKU
    # facts (GetItem), its browsing (Query of each day's BROWSING partition) and returns
    # (Query of MERCHANT_RETURNS#<merchant>, each return's GetItem); the purchase history
    # CSV in; the artifacts, reports and pointers out.
    "RetrainModelFunction": table("GetItem", "Query")
    | objects("GetObject", "history")
    | objects("PutObject", "models")
    | objects("PutObject", "reports")
    | {("s3:ListBucket", ("Fn::GetAtt", "ArtifactsBucket.Arn"))},
    # a sale: the stock Query, its shard items (Put, Delete when the set-aside fails), the
    # sale and the stock Updates in one transaction; a claim: the sale and claim reads, one
    # transaction of claim, customer and shard (Put, Update) with the order's items and its
    # outbox item (Put); the shards' levels (BatchGetItem). No queue: the outbox carries it.
    # An early end: the sale item Put again and its open item moved (Delete, Put), then the
    # close as the sweeper's (GetItem, BatchGetItem, Updates, ledger Puts, a Delete).
    "FlashSaleClaimFunction": table("GetItem", "BatchGetItem", "PutItem", "UpdateItem", "DeleteItem", "Query"),
    # a shipment in its order's transaction (order Put, tracking marker and shipment Put,
    # the hold's Update or Delete, stock Updates), the hold read (Query), shipments and
    # events (PutItem, Query, GetItem), transit samples (PutItem, Query), the alerts its
    # events raise (Put) noted on the order.
    "TrackShipmentFunction": table("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query")
    # the carriers' webhook secrets (`carrier:<name>` keys of the same secret).
    | {("secretsmanager:GetSecretValue", ("Ref", "ChannelSecrets"))},
    # the reconciliation: Scans of the stock and reservation items, each SKU's ledger
    # (Query), a warehouse for a line stored before lines named their owner (GetItem).
    # the low-stock check: suppliers, incoming units, SKU facts, sales (GetItem, Query),
    # open alerts (by_merchant_alerts), an alert raised (Put) or resolved (UpdateItem).
    "ReconcileStockFunction": table("GetItem", "PutItem", "UpdateItem", "Query", "Scan") | query_indexes("by_merchant_alerts"),
    # an auction and its OPEN_AUCTIONS item (a transaction of Puts); a bid: the key's item
    # and the auction read (GetItem), a transaction of the key's item, the auction and the
    # bid's list item (Put) and, when the end moves, the open item moved (Delete, Put); the
    # bids (Query of the auction's partition). The close is the sweep's.
    "AuctionsFunction": table("GetItem", "PutItem", "DeleteItem", "Query"),
    # an offer: the stock (Query), a transaction of the offer and its DUE_GROUP_BUYS item
    # (Put), the stock Update and the ledger Put; a join: the offer and join items read
    # (GetItem), a transaction of the customer's, key's and pending items (Put) and the
    # offer's Update; a filled offer's pending joins (Query), each made an order: the
    # pending item's Delete, the offer's Update, the order's items, outbox item and
    # reservation (Put), the stock Update and ledger Puts of its hold.
    # The settlement is the sweep's.
    "GroupBuysFunction": table("GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query"),
    # a unit: its warehouse read (GetItem), the unit Put on its merchant; a booking: the
    # unit read (GetItem), a transaction of the key's, booking's and day items and the
    # a merchant's record read (GetItem); registered or stepped in a transaction of the
    # record's Put (on its version) and its list item's Put and Delete; the review queue
    # (Query of a list partition); an approval's held orders found on by_channel (Query),
    # each order Put with its outbox item and backorder entries' Deletes, its alert
    # resolved (Put, UpdateItem); the application's documents under documents/ (S3 Put,
    # Get), never the rest of the bucket. Storefronts: templates (GetItem, Put on their
    # version, Query of their partition), a draft (GetItem, Put on its version), a
    # publication (a transaction of the draft's ConditionCheck and the published Put), an
    # unpublication (DeleteItem), a store's products (GetItem of facts and ratings, Query
    # of stock). Product listings the same way: the SKU's facts and listing (GetItem), a
    # step's transaction of the listing, list item and placement (Put, Delete), the review
    # queue and promoted placements (Query), a listing's release of held orders as above,
    # the checkout's stock read (Query).
    "MerchantsFunction": table("GetItem", "PutItem", "UpdateItem", "DeleteItem", "ConditionCheckItem", "Query")
    | query_indexes("by_channel")
    | objects("PutObject", "documents")
    | objects("GetObject", "documents"),
    # a request: the order (GetItem), a transaction of the return's key, return and index
    # items (Put) and its claims (Update); a step: the return (GetItem), a transaction of
    # its Put, the tracking item (Put), claims given back, stock and damaged items (Update),
    # ledger and outbox items (Put); an order's returns, a warehouse's damaged stock
    # (Query); the exchange's order through intake (stock Query, mapping GetItem, the
    # order's transaction with a dedupe ConditionCheck, an on-hold alert Put).
    "ReturnsFunction": table("GetItem", "PutItem", "UpdateItem", "ConditionCheckItem", "Query"),
    # booking's order (Put); a step: the booking and its order read (GetItem, Query of the
    # order's moved timeline entries), a transaction of its Put, the orders' Puts and,
    # cancelling, the day items' Deletes; availability: the unit's day items (Query).
    "RentalsFunction": table("GetItem", "PutItem", "DeleteItem", "Query"),
    # a request: read first (GetItem), the listed products, stock, ledger, warehouses and
    # rate tables (Query), each match's SKU facts (GetItem), the request Put on
    # attribute_not_exists; an accept: the request (GetItem), the order through intake
    # (stock Query, mapping, listing and merchant GetItem, the order's transaction of Puts
    # with a dedupe ConditionCheck, an on-hold alert Put), the request Put on its version.
    "MatchmakingFunction": table("GetItem", "PutItem", "ConditionCheckItem", "Query"),
    # a booking: its workshop read (GetItem), a transaction of the key's and the repair's
    # items (Put); a quote: the catalogue's SKU facts (GetItem); a step: the repair read
    # (GetItem), its service order read (GetItem, Query of its moved timeline entries), one
    # transaction of the repair's Put, the order's Puts and, when it starts, each part's
    # stock Update and ledger Put; a short part's stock read (GetItem).
    "RepairsFunction": table("GetItem", "PutItem", "UpdateItem", "Query"),
    # a request: the stock of its SKUs (Query of each stock partition), the warehouses,
    # merchants, listings and SKU facts (GetItem), the rate tables (Query of CARRIERS), the
    # request's item (PutItem on its absence or version, GetItem); an acceptance's
    # sub-orders through intake (stock Query, mapping GetItem, the order's transaction of
    # Puts with a dedupe ConditionCheck, an on-hold alert Put) and found again by their
    # channel key (GetItem).
    "BulkTradeFunction": table("GetItem", "PutItem", "ConditionCheckItem", "Query"),
}


def resource_key(resource):
    """A resource reference as a comparable pair: ('Fn::GetAtt', 'X.Arn') or ('Fn::Sub', '...')."""
    if isinstance(resource, str):
        return ("literal", resource)
    (function, argument), = resource.items()
    if function == "Fn::GetAtt":
        argument = ".".join(argument) if isinstance(argument, list) else argument
    return (function, argument)


def listed(value):
    return value if isinstance(value, list) else [value]


def grants(name, function, problems):
    found = set()
    for policy in function["Properties"].get("Policies", []) or []:
        if not isinstance(policy, dict) or set(policy) != {"Statement"}:
            problems.append(f"{name}: {policy!r} is a policy template or managed policy; write its statements out")
            continue
        for statement in policy["Statement"]:
            if statement.get("Effect") != "Allow" or "NotAction" in statement or "NotResource" in statement:
                problems.append(f"{name}: statement {statement.get('Sid')} must be a plain Allow")
            for action in listed(statement.get("Action", [])):
                if "*" in action:
                    problems.append(f"{name}: wildcard action {action}")
                for resource in listed(statement.get("Resource", [])):
                    key = resource_key(resource)
                    if "*" in str(key[1]) and not NAMED_PREFIX.search(str(key[1])):
                        problems.append(f"{name}: wildcard resource {key[1]} for {action}")
                    found.add((action, key))
    return found


def main(path):
    template, matches = decode(path)
    if template is None:
        print(f"check-iam: {path} does not parse: {matches}", file=sys.stderr)
        return 1
    problems = []
    functions = {n: r for n, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}
    for name in sorted(set(USES) - set(functions)):
        problems.append(f"{name}: listed here but not in the template")
    for name, function in sorted(functions.items()):
        if name not in USES:
            problems.append(f"{name}: not listed in scripts/check-iam.py USES; state what it calls")
            continue
        granted = grants(name, function, problems)
        for action, resource in sorted(granted - USES[name]):
            problems.append(f"{name}: unused grant {action} on {resource[1]}")
        for action, resource in sorted(USES[name] - granted):
            problems.append(f"{name}: calls {action} on {resource[1]} without a grant")
    for name, resource in template["Resources"].items():
        if resource["Type"] in ("AWS::IAM::Role", "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            problems.append(f"{name}: IAM written outside a function's Policies; keep grants where check-iam sees them")
    for problem in problems:
        print(f"check-iam: {problem}", file=sys.stderr)
    if problems:
        return 1
    print(f"check-iam: {len(functions)} functions, each granted exactly what it calls")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "infra/template.yaml"))
