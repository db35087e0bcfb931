//! `oms report`'s files (CSV per table, XLSX with a sheet per table, SVG charts, one
//! self-contained HTML page with every value escaped), a report read from a data directory,
//! and `oms serve`'s scheduled reports listed by `GET /reports`.

use std::io::Read as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone as _, Utc};
use rust_decimal::Decimal;

use oms_domain::order::{Address, Channel, Charges, Customer, NewOrder, OrderLine};
use oms_domain::ports::SystemClock;
use oms_domain::reports::{Cell, Chart, ChartKind, Document, ReportQuery, Series, Table, Template};
use oms_domain::{Currency, CustomerId, ExternalId, MerchantId, Order, OrderId, OrderNumber, Sku};
use oms_embedded::Embedded;
use oms_local::reports::{self, Formats, ReportRequest};
use oms_local::server::{self, ServeOptions};

/// A document whose SKU is markup, to prove the page escapes it.
fn document() -> Document {
    let at = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).single().expect("a valid fixture");
    Document {
        template: Template::Inventory,
        title: "Inventory & <stock>".into(),
        from: at,
        to: at,
        merchant: None,
        tables: vec![
            Table {
                name: "stock",
                title: "Stock".into(),
                columns: vec!["sku", "available", "rate", "cost"],
                rows: vec![
                    vec![
                        Cell::text("<script>alert(1)</script>"),
                        Cell::Int(0),
                        Cell::Ratio(0.5),
                        Cell::Decimal(Decimal::new(1250, 2)),
                    ],
                    vec![Cell::text("TEA, \"green\""), Cell::Int(7), Cell::Empty, Cell::Decimal(Decimal::new(3, 0))],
                ],
            },
            Table { name: "empty", title: "Nothing".into(), columns: vec!["a"], rows: vec![] },
        ],
        charts: vec![Chart {
            name: "lowest_available",
            title: "Lowest <b>".into(),
            kind: ChartKind::Bar,
            y_label: "units",
            categories: vec!["<script>alert(1)</script>".into(), "TEA".into()],
            series: vec![Series { label: "available".into(), values: vec![0.0, 7.0] }],
        }],
    }
}

fn zip_entry(path: &std::path::Path, name: &str) -> String {
    let mut archive =
        zip::ZipArchive::new(std::fs::File::open(path).expect("the workbook opens")).expect("an XLSX file is a zip");
    let mut text = String::new();
    archive
        .by_name(name)
        .unwrap_or_else(|_| panic!("{name} is in the workbook"))
        .read_to_string(&mut text)
        .expect("a text entry");
    text
}

#[test]
fn each_format_is_written_csv_per_table_xlsx_sheets_and_an_escaped_html_page() {
    let out = tempfile::tempdir().unwrap();
    let written = reports::write(&[document()], Formats::ALL, out.path()).unwrap();
    let names: Vec<String> = written.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    assert_eq!(
        names,
        ["inventory-stock.csv", "inventory-empty.csv", "inventory.xlsx", "inventory-lowest_available.svg", "inventory.html"]
    );

    let csv = std::fs::read_to_string(out.path().join("inventory-stock.csv")).unwrap();
    assert_eq!(csv, "sku,available,rate,cost\n<script>alert(1)</script>,0,0.5000,12.50\n\"TEA, \"\"green\"\"\",7,,3\n");
    assert_eq!(std::fs::read_to_string(out.path().join("inventory-empty.csv")).unwrap(), "a\n");

    let xlsx = out.path().join("inventory.xlsx");
    let workbook = zip_entry(&xlsx, "xl/workbook.xml");
    assert!(workbook.contains(r#"name="stock""#) && workbook.contains(r#"name="empty""#), "{workbook}");
    let strings = zip_entry(&xlsx, "xl/sharedStrings.xml");
    assert!(strings.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{strings}");
    assert!(zip_entry(&xlsx, "xl/worksheets/sheet1.xml").contains("<v>12.5</v>"));

    let page = std::fs::read_to_string(out.path().join("inventory.html")).unwrap();
    assert!(page.contains("<svg"), "the chart is inline");
    assert!(!page.contains("<script>"), "a value is never markup");
    assert!(page.contains("<td>&lt;script&gt;alert(1)&lt;/script&gt;</td>"));
    assert!(page.contains("<title>Inventory &amp; &lt;stock&gt;</title>"));
    assert!(page.contains("<td colspan=\"1\">none</td>"));
    assert!(!page.contains("<?xml") && !page.contains("src=\"http"), "self-contained");
    let svg = std::fs::read_to_string(out.path().join("inventory-lowest_available.svg")).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("Lowest &lt;b&gt;"), "{svg}");
}

#[test]
fn one_format_writes_only_its_files() {
    let out = tempfile::tempdir().unwrap();
    let written = reports::write(&[document()], Formats::parse("xlsx").unwrap(), out.path()).unwrap();
    assert_eq!(written, [out.path().join("inventory.xlsx")]);
    assert_eq!(Formats::parse("csv,html").unwrap(), Formats { csv: true, xlsx: false, html: true });
    assert!(Formats::parse("pdf").is_err());
}

fn order(external: &str, sku: &str, quantity: u32, cents: i64) -> Order {
    let placed_at = Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).single().expect("a valid fixture");
    let new = NewOrder {
        channel: Channel::Generic,
        external_id: ExternalId::parse(external).expect("a valid fixture"),
        order_number: OrderNumber::parse(external).expect("a valid fixture"),
        merchant_id: MerchantId::parse("m-1").expect("a valid fixture"),
        placed_at,
        currency: Currency::parse("CNY").expect("a valid fixture"),
        customer: Customer::known(CustomerId::parse("c-1").expect("a valid fixture")),
        shipping_address: Address {
            name: None,
            line1: "1 West Lake Rd".into(),
            line2: None,
            city: "Hangzhou".into(),
            province: Some("Zhejiang".into()),
            postal_code: None,
            country: "CN".into(),
        },
        lines: vec![OrderLine { sku: Sku::parse(sku).expect("a valid fixture"), quantity, unit_price: Decimal::new(cents, 2) }],
        charges: Charges::default(),
        channel_updated_at: placed_at,
        cancelled_at: None,
        paid: true,
        deliver_by: None,
    };
    Order::receive(new, OrderId::generate(), placed_at)
}

#[tokio::test]
async fn a_report_reads_the_data_directorys_orders_into_its_files() {
    let data = tempfile::tempdir().unwrap();
    {
        let store = Embedded::open(data.path()).unwrap();
        let ports = store.ports(Arc::new(SystemClock));
        for (external, sku, quantity, cents) in [("A-1", "TEA", 2, 1000), ("A-2", "MUG", 1, 550)] {
            let inserted = ports.orders.insert_order(&order(external, sku, quantity, cents)).await.unwrap();
            assert_eq!(inserted, oms_domain::ports::InsertOutcome::Inserted);
        }
    }
    let query = ReportQuery::parse(Some("2026-11-20"), Some("2026-11-20"), None, Utc::now()).unwrap();
    let out = data.path().join("out");
    let request = ReportRequest {
        templates: vec![Template::Sales],
        query,
        formats: Formats::parse("csv").unwrap(),
        out: Some(out.clone()),
        data_dir: data.path().to_owned(),
    };
    let written = reports::run(&request).await.unwrap();
    assert_eq!(written.len(), 5, "{written:?}");
    assert_eq!(std::fs::read_to_string(out.join("sales-totals.csv")).unwrap(), "currency,orders,units,revenue\nCNY,2,3,25.50\n");
    assert_eq!(
        std::fs::read_to_string(out.join("sales-by_sku.csv")).unwrap(),
        "currency,sku,orders,units,revenue\nCNY,TEA,1,2,20.00\nCNY,MUG,1,1,5.50\n"
    );
}

#[tokio::test]
async fn oms_serve_writes_scheduled_reports_that_get_reports_lists() {
    let data = tempfile::tempdir().unwrap();
    let options = ServeOptions {
        run_workers: false,
        report_every: Some(Duration::from_secs(3600)),
        ..ServeOptions::local(SocketAddr::from(([127, 0, 0, 1], 0)), data.path().to_owned())
    };
    let running = server::start(options).await.unwrap();
    let url = format!("http://{}/reports", running.addr);
    let mut listed = serde_json::Value::Null;
    for _ in 0..100 {
        listed = reqwest::get(&url).await.unwrap().json().await.unwrap();
        if listed["reports"]
            .as_array()
            .is_some_and(|files| files.iter().any(|f| f["path"].as_str().is_some_and(|p| p.ends_with("/performance.html"))))
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let files = listed["reports"].as_array().expect("a list");
    // Every template in every format, at start (no run is an hour old yet), once.
    assert_eq!(files.len(), 25, "{listed}");
    let page = files.iter().find(|f| f["path"].as_str().unwrap().ends_with("/sales.html")).unwrap();
    let response = reqwest::get(format!("{url}/{}", page["path"].as_str().unwrap())).await.unwrap();
    assert_eq!(response.headers()["content-type"], "text/html; charset=utf-8");
    assert!(response.text().await.unwrap().contains("<svg"));
    running.shutdown().await;
}

#[test]
fn only_the_newest_report_runs_are_kept_and_nothing_else_is_touched() {
    let data = tempfile::tempdir().unwrap();
    let root = reports::root(data.path());
    for day in 1..=5 {
        std::fs::create_dir_all(root.join(format!("202611{day:02}T030000Z"))).unwrap();
        std::fs::write(root.join(format!("202611{day:02}T030000Z/sales.csv")), "a,b\n").unwrap();
    }
    std::fs::create_dir_all(root.join("notes")).unwrap();
    assert_eq!(reports::prune_runs(data.path(), 3).unwrap(), 2);
    let mut left: Vec<String> =
        std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    left.sort();
    assert_eq!(left, ["20261103T030000Z", "20261104T030000Z", "20261105T030000Z", "notes"]);
    assert_eq!(reports::prune_runs(data.path(), 3).unwrap(), 0, "nothing more to delete");
}
