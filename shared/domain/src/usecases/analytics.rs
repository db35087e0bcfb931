//! `GET /analytics`: one pass over the orders of a merchant (or every merchant's, for
//! platform staff), a page at a time, into an [`Analytics`] report.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::analytics::{Analytics, Dimension, Report};
use crate::ports::{OrderArchive, StoreError};
use crate::validation::check_date_range;
use crate::{MerchantId, ValidationError};

/// Orders read per page of the pass.
pub const PAGE: usize = 500;
/// The longest period one report covers.
pub const MAX_DAYS: i64 = 366;

/// What a report covers: orders placed from `from` (inclusive) to `to` (exclusive).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnalyticsQuery {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub by: Dimension,
    /// One merchant's orders; `None`: every merchant's (platform staff).
    pub merchant: Option<MerchantId>,
}

impl AnalyticsQuery {
    /// Reads `from` and `to` (RFC 3339 times or `YYYY-MM-DD` dates; `to` as a date is
    /// the end of that day; default: the 30 days up to `now`) and `by` (default channel).
    pub fn parse(from: Option<&str>, to: Option<&str>, by: Option<&str>, now: DateTime<Utc>) -> Result<Self, ValidationError> {
        let to = to.map(|raw| moment("to", raw, 1)).transpose()?.unwrap_or(now);
        let from = from.map(|raw| moment("from", raw, 0)).transpose()?.unwrap_or(to - Duration::days(30));
        if from >= to {
            return Err(ValidationError::new("from", "must be before to"));
        }
        if to - from > Duration::days(MAX_DAYS) {
            return Err(ValidationError::new("to", format!("a report covers at most {MAX_DAYS} days")));
        }
        let by = match by {
            None => Dimension::Channel,
            Some(raw) => Dimension::parse(raw.trim()).ok_or_else(|| {
                let names: Vec<&str> = Dimension::ALL.iter().map(|d| d.as_str()).collect();
                ValidationError::new("by", format!("{raw:?} is not one of {}", names.join(", ")))
            })?,
        };
        Ok(AnalyticsQuery { from, to, by, merchant: None })
    }
}

/// A time, or a date's start plus `days_after` days; either from 2000-01-01 to 2100-12-31
/// ([`check_date_range`], checked before the days are added).
fn moment(field: &str, raw: &str, days_after: i64) -> Result<DateTime<Utc>, ValidationError> {
    let raw = raw.trim();
    if let Ok(at) = DateTime::parse_from_rfc3339(raw) {
        let at = at.with_timezone(&Utc);
        check_date_range(field, at)?;
        return Ok(at);
    }
    let start = NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .and_then(|day| day.and_hms_opt(0, 0, 0))
        .ok_or_else(|| ValidationError::new(field, format!("{raw:?} is neither an RFC 3339 time nor a YYYY-MM-DD date")))?
        .and_utc();
    check_date_range(field, start)?;
    Ok(start + Duration::days(days_after))
}

/// The report over every order `query` covers.
pub async fn report(archive: &dyn OrderArchive, query: &AnalyticsQuery) -> Result<Report, StoreError> {
    let mut analytics = Analytics::new(query.from, query.to, query.by);
    let mut after = None;
    loop {
        let page = archive.orders_after(query.merchant.as_ref(), after.as_ref(), PAGE).await?;
        page.iter().for_each(|order| analytics.add(order));
        match page.last() {
            Some(last) if page.len() == PAGE => after = Some(last.order_id.clone()),
            _ => break,
        }
    }
    Ok(analytics.report())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone as _;

    #[test]
    fn a_query_reads_dates_times_and_defaults() {
        let now = Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap();
        let q = AnalyticsQuery::parse(Some("2026-11-01"), Some("2026-11-30"), Some("province"), now).unwrap();
        assert_eq!(q.from, Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap());
        assert_eq!(q.to, Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap(), "a date as `to` includes that day");
        assert_eq!(q.by, Dimension::Province);
        let default = AnalyticsQuery::parse(None, None, None, now).unwrap();
        assert_eq!((default.to - default.from, default.by), (Duration::days(30), Dimension::Channel));
        assert_eq!(AnalyticsQuery::parse(Some("yesterday"), None, None, now).unwrap_err().field, "from");
        assert_eq!(AnalyticsQuery::parse(None, None, Some("colour"), now).unwrap_err().field, "by");
        assert_eq!(AnalyticsQuery::parse(Some("2020-01-01"), None, None, now).unwrap_err().field, "to");
        assert_eq!(AnalyticsQuery::parse(Some("2026-12-01"), Some("2026-11-01"), None, now).unwrap_err().field, "from");
    }

    #[test]
    fn dates_outside_2000_to_2100_are_refused_naming_the_field() {
        let now = Utc.with_ymd_and_hms(2026, 11, 30, 12, 0, 0).unwrap();
        let field = |from, to| AnalyticsQuery::parse(from, to, None, now).unwrap_err().field;
        assert_eq!(field(Some("9999-12-01"), Some("9999-12-31")), "to");
        assert_eq!(field(None, Some("2101-01-01T00:00:00Z")), "to");
        assert_eq!(field(Some("1999-12-31"), Some("2000-01-05")), "from");
        assert_eq!(field(Some("1970-01-01T00:00:00Z"), Some("1970-01-02")), "to");
        let last = AnalyticsQuery::parse(Some("2100-12-01"), Some("2100-12-31"), None, now).unwrap();
        assert_eq!(last.to, Utc.with_ymd_and_hms(2101, 1, 1, 0, 0, 0).unwrap(), "the last day is taken whole");
    }
}
