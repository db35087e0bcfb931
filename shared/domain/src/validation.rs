//! The one error every parser in the domain returns: which field, and what is wrong with it.

use std::fmt;

/// Bad input, naming the field (a JSON path such as `lines[0].quantity`) and the problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    pub field: String,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }

    /// The same error with `prefix` put in front of its field path (`lines[2]` + `quantity`).
    pub fn within(self, prefix: &str) -> Self {
        let field = if self.field.is_empty() {
            prefix.to_owned()
        } else if self.field.starts_with('[') {
            format!("{prefix}{}", self.field)
        } else {
            format!("{prefix}.{}", self.field)
        };
        Self { field, ..self }
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

impl std::error::Error for ValidationError {}

/// Parses a JSON object body into `T`, naming the field whose value has the wrong type or
/// is missing. Every body of the contract is an object; serde would otherwise also take a
/// struct from an array of its fields in order, which no client means.
pub fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ValidationError> {
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => {}
        Some(_) => return Err(ValidationError::new("", "the body must be a JSON object")),
        None => return Err(ValidationError::new("", "the body is empty; a JSON object is expected")),
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let message = clean_serde_message(&err.inner().to_string());
        if err.inner().is_syntax() || err.inner().is_eof() {
            // Not about any one field: the body is not JSON.
            return ValidationError::new("", format!("the body is not valid JSON: {message}"));
        }
        let path = err.path().to_string();
        let within = if path == "." || path == "?" { String::new() } else { path };
        // A missing field names itself in the message only: name it as the field.
        let field = match missing_field(&message) {
            Some(name) if within.is_empty() => name.to_owned(),
            Some(name) => format!("{within}.{name}"),
            None => within,
        };
        ValidationError::new(field, message)
    })?;
    de.end().map_err(|err| ValidationError::new("", clean_serde_message(&err.to_string())))?;
    Ok(value)
}

/// Free text as stored: each control character (a NUL, a line break, an escape) becomes a
/// space, and the ends are trimmed. Names, address lines and reasons are shown to people
/// and carriers; a channel's text is never refused for this, only cleaned.
pub fn clean_text(raw: &str) -> String {
    raw.chars().map(|c| if c.is_control() { ' ' } else { c }).collect::<String>().trim().to_owned()
}

/// A character a name must not hold: a control character (U+0000 to U+001F, U+007F to
/// U+009F) or a direction mark, embedding, override or isolate (U+200E, U+200F, U+202A to
/// U+202E, U+2066 to U+2069), which makes a name show as other text than it is.
pub fn is_hidden_in_names(c: char) -> bool {
    c.is_control() || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A name given through the API (a supplier's, a warehouse's): refused, naming `field`,
/// when it holds a character [`is_hidden_in_names`]; unlike a channel's text it is not
/// cleaned, since the caller can send it again without one.
pub fn refuse_hidden_text(field: &str, raw: &str) -> Result<(), ValidationError> {
    match raw.chars().find(|c| is_hidden_in_names(*c)) {
        Some(c) => Err(ValidationError::new(
            field,
            format!("must not contain control or text-direction characters (found U+{:04X})", u32::from(c)),
        )),
        None => Ok(()),
    }
}

/// The earliest moment any date the API takes may name (2000-01-01T00:00:00Z).
pub fn earliest_date() -> chrono::DateTime<chrono::Utc> {
    chrono::NaiveDate::from_ymd_opt(2000, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).map(|t| t.and_utc()).unwrap_or_default()
}

/// The first moment past the last day any date the API takes may name (2100-12-31 is the
/// last day; this is 2101-01-01T00:00:00Z).
pub fn past_latest_date() -> chrono::DateTime<chrono::Utc> {
    chrono::NaiveDate::from_ymd_opt(2101, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).map(|t| t.and_utc()).unwrap_or_default()
}

/// Refuses, naming `field`, a moment before 2000-01-01 or after 2100-12-31: no record of
/// the platform lies there, and a day added to a far date would leave the 4-digit years.
pub fn check_date_range(field: &str, at: chrono::DateTime<chrono::Utc>) -> Result<(), ValidationError> {
    if at < earliest_date() || at >= past_latest_date() {
        return Err(ValidationError::new(field, "must be from 2000-01-01 to 2100-12-31"));
    }
    Ok(())
}

/// The field serde says is missing ("missing field `quantity`").
fn missing_field(message: &str) -> Option<&str> {
    message.strip_prefix("missing field `")?.split('`').next()
}

/// serde_json appends "at line 1 column 42"; the field path already says where.
fn clean_serde_message(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(idx) => message[..idx].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Line {
        quantity: u32,
    }
    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Body {
        lines: Vec<Line>,
    }

    #[test]
    fn wrong_type_names_the_field_path() {
        let err = parse_json::<Body>(br#"{"lines":[{"quantity":1},{"quantity":"2"}]}"#).unwrap_err();
        assert_eq!(err.field, "lines[1].quantity");
        assert!(err.message.starts_with("invalid type: string"), "{}", err.message);
    }

    #[test]
    fn malformed_json_is_a_validation_error() {
        let err = parse_json::<Body>(b"{\"lines\": [").unwrap_err();
        assert!(err.message.contains("EOF"), "{}", err.message);
    }

    #[test]
    fn free_text_has_its_control_characters_made_spaces_and_is_trimmed() {
        assert_eq!(clean_text(" a\u{0}b\nc\u{1b} "), "a b c");
        assert_eq!(clean_text("\u{0}"), "");
        assert_eq!(clean_text("Li Lei"), "Li Lei");
    }

    #[test]
    fn a_missing_field_is_named_as_the_field_and_broken_json_names_none() {
        let err = parse_json::<Line>(b"{}").unwrap_err();
        assert_eq!((err.field.as_str(), err.message.as_str()), ("quantity", "missing field `quantity`"));
        let err = parse_json::<Body>(br#"{"lines":[{}]}"#).unwrap_err();
        assert_eq!(err.field, "lines[0].quantity");
        let err = parse_json::<Line>(br#"{"quantity":5"#).unwrap_err();
        assert_eq!(err.field, "", "{err:?}");
    }

    #[test]
    fn only_objects_are_bodies() {
        assert!(parse_json::<Line>(b"[5]").is_err());
        assert!(parse_json::<Line>(b"  ").is_err());
        assert_eq!(parse_json::<Line>(b" {\"quantity\": 5}").unwrap().quantity, 5);
    }

    #[test]
    fn trailing_garbage_is_refused() {
        assert!(parse_json::<Body>(br#"{"lines":[]} x"#).is_err());
    }

    #[test]
    fn names_refuse_control_and_direction_characters_naming_the_field() {
        for bad in ["Acme\u{202E}gnp", "a\u{0}b", "a\nb", "a\u{85}", "\u{200E}x", "x\u{2066}", "\u{7F}"] {
            assert_eq!(refuse_hidden_text("name", bad).unwrap_err().field, "name", "{bad:?}");
        }
        assert!(refuse_hidden_text("name", "Acme Supply \u{4E0A}\u{6D77}").is_ok());
    }

    #[test]
    fn dates_are_bounded_to_this_and_the_next_century() {
        let at = |y, m, d| chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap().and_hms_opt(0, 0, 0).unwrap().and_utc();
        assert!(check_date_range("to", at(2000, 1, 1)).is_ok());
        assert!(check_date_range("to", at(2100, 12, 31)).is_ok());
        assert_eq!(check_date_range("to", at(1999, 12, 31)).unwrap_err().field, "to");
        assert_eq!(check_date_range("to", at(2101, 1, 1)).unwrap_err().field, "to");
        assert_eq!(check_date_range("from", at(9999, 12, 31)).unwrap_err().field, "from");
    }

    #[test]
    fn within_prefixes_paths() {
        let err = ValidationError::new("quantity", "too big").within("lines[3]");
        assert_eq!(err.field, "lines[3].quantity");
        let err = ValidationError::new("[0]", "x").within("lines");
        assert_eq!(err.field, "lines[0]");
    }
}
