//! Who placed an order.

use serde::{Deserialize, Serialize};

use crate::CustomerId;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub id: CustomerId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Kept as digits with an optional leading `+`, so lookups match however it was typed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Reduces a phone number to `+` and digits: "+86 138-0000 0000" and "+8613800000000" are one customer.
pub fn normalise_phone(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    for (i, c) in raw.trim().chars().enumerate() {
        match c {
            '+' if i == 0 => out.push(c),
            '0'..='9' => out.push(c),
            ' ' | '-' | '(' | ')' | '.' => {}
            _ => return None,
        }
    }
    (out.chars().filter(char::is_ascii_digit).count() >= 5).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_normalised() {
        assert_eq!(normalise_phone("+86 138-0000 0000").as_deref(), Some("+8613800000000"));
        assert_eq!(normalise_phone("(555) 010.1234").as_deref(), Some("5550101234"));
        assert_eq!(normalise_phone("call me"), None);
    }
}
