//! The terms a product's or a buyer's text is matched on: words lower-cased, letters split
//! from digits ("1kg" is "1" and "kg"), Chinese as overlapping character bigrams (a run of
//! one character as itself), and one spelling for each unit and synonym: "kilogram",
//! "公斤" and "千克" are "kg"; a length after a number is converted to millimetres and a
//! weight to kilograms, so "12 cm" and "120mm" are the same two terms; "inkstone" and
//! "砚台" are "ink" "stone".

use std::str::FromStr;

use rust_decimal::Decimal;

/// A unit: its spellings, the canonical term, and what one of it is in the canonical unit.
struct Unit {
    spellings: &'static [&'static str],
    canonical: &'static str,
    factor: Decimal,
}

fn units() -> [Unit; 5] {
    [
        Unit {
            spellings: &["mm", "millimetre", "millimetres", "millimeter", "millimeters", "毫米"],
            canonical: "mm",
            factor: Decimal::ONE,
        },
        Unit {
            spellings: &["cm", "centimetre", "centimetres", "centimeter", "centimeters", "厘米", "公分"],
            canonical: "mm",
            factor: Decimal::TEN,
        },
        Unit { spellings: &["m", "metre", "metres", "meter", "meters", "米"], canonical: "mm", factor: Decimal::ONE_THOUSAND },
        Unit {
            spellings: &["kg", "kgs", "kilo", "kilos", "kilogram", "kilograms", "kilogramme", "公斤", "千克"],
            canonical: "kg",
            factor: Decimal::ONE,
        },
        Unit { spellings: &["g", "gram", "grams", "gramme", "grammes", "克"], canonical: "kg", factor: Decimal::new(1, 3) },
    ]
}

/// Words written as one that mean two or more terms, in English or Chinese.
const SYNONYMS: &[(&str, &[&str])] = &[
    ("inkstone", &["ink", "stone"]),
    ("inkstones", &["ink", "stone"]),
    ("砚台", &["ink", "stone"]),
    ("砚", &["ink", "stone"]),
    ("teapot", &["tea", "pot"]),
    ("teapots", &["tea", "pot"]),
    ("茶壶", &["tea", "pot"]),
    ("毛笔", &["brush"]),
];

/// A piece of text before units and synonyms are applied.
#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Number(Decimal),
    Word(String),
    Han(Vec<char>),
}

fn is_han(c: char) -> bool {
    matches!(c, '\u{3400}'..='\u{4dbf}' | '\u{4e00}'..='\u{9fff}' | '\u{f900}'..='\u{faff}')
}

#[derive(PartialEq, Clone, Copy)]
enum Class {
    Digit,
    Letter,
    Han,
    Other,
}

fn class(c: char) -> Class {
    if c.is_ascii_digit() {
        Class::Digit
    } else if is_han(c) {
        Class::Han
    } else if c.is_alphanumeric() {
        Class::Letter
    } else {
        Class::Other
    }
}

/// Splits `text` into numbers (a decimal point kept between digits), words and runs of
/// Chinese characters; anything else separates them.
fn pieces(text: &str) -> Vec<Piece> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let kind = class(chars[i]);
        let start = i;
        while i < chars.len() {
            let decimal_point = kind == Class::Digit
                && chars[i] == '.'
                && chars.get(i + 1).is_some_and(char::is_ascii_digit)
                && !chars[start..i].contains(&'.');
            if class(chars[i]) != kind && !decimal_point {
                break;
            }
            i += 1;
        }
        if kind == Class::Other {
            i = i.max(start + 1);
            continue;
        }
        let run: String = chars[start..i].iter().collect();
        out.push(match kind {
            Class::Digit => Piece::Number(Decimal::from_str(&run).map_or(Decimal::ZERO, |n| n.normalize())),
            Class::Han => Piece::Han(run.chars().collect()),
            _ => Piece::Word(run.to_lowercase()),
        });
    }
    out
}

fn unit_named(word: &str) -> Option<Unit> {
    units().into_iter().find(|u| u.spellings.contains(&word))
}

/// The unit a run of Chinese characters starts with, and how many characters it takes.
fn han_unit_prefix(run: &[char]) -> Option<(Unit, usize)> {
    (1..=run.len().min(2)).rev().find_map(|len| {
        let word: String = run[..len].iter().collect();
        unit_named(&word).map(|u| (u, len))
    })
}

fn push_word(word: &str, terms: &mut Vec<String>) {
    if let Some((_, parts)) = SYNONYMS.iter().find(|(w, _)| *w == word) {
        terms.extend(parts.iter().map(|p| (*p).to_owned()));
    } else if let Some(unit) = unit_named(word) {
        terms.push(unit.canonical.to_owned());
    } else {
        terms.push(word.to_owned());
    }
}

/// Bigrams of a Chinese run (the character itself for a run of one), then the terms of
/// any synonym written inside it.
fn push_han(run: &[char], terms: &mut Vec<String>) {
    if run.is_empty() {
        return;
    }
    if run.len() == 1 {
        push_word(&run[0].to_string(), terms);
        return;
    }
    let text: String = run.iter().collect();
    for pair in run.windows(2) {
        terms.push(pair.iter().collect());
    }
    // Longer synonyms first; one inside a longer one found already ("砚" in "砚台") adds nothing.
    let mut found: Vec<&str> = Vec::new();
    let mut han_synonyms: Vec<&(&str, &[&str])> = SYNONYMS.iter().filter(|(w, _)| w.chars().all(is_han)).collect();
    han_synonyms.sort_by_key(|(w, _)| std::cmp::Reverse(w.chars().count()));
    for &(word, parts) in han_synonyms {
        if text.contains(word) && !found.iter().any(|f| f.contains(word)) {
            found.push(word);
            terms.extend(parts.iter().map(|p| (*p).to_owned()));
        }
    }
}

/// The terms of `text`, in order.
pub fn terms(text: &str) -> Vec<String> {
    let pieces = pieces(text);
    let mut terms = Vec::new();
    let mut i = 0;
    while i < pieces.len() {
        match (&pieces[i], pieces.get(i + 1)) {
            (Piece::Number(n), Some(Piece::Word(w))) if unit_named(w).is_some() => {
                let unit = unit_named(w).expect("checked above");
                terms.push((n * unit.factor).normalize().to_string());
                terms.push(unit.canonical.to_owned());
                i += 2;
            }
            (Piece::Number(n), Some(Piece::Han(run))) if han_unit_prefix(run).is_some() => {
                let (unit, len) = han_unit_prefix(run).expect("checked above");
                terms.push((n * unit.factor).normalize().to_string());
                terms.push(unit.canonical.to_owned());
                push_han(&run[len..], &mut terms);
                i += 2;
            }
            (Piece::Number(n), _) => {
                terms.push(n.to_string());
                i += 1;
            }
            (Piece::Word(w), _) => {
                push_word(w, &mut terms);
                i += 1;
            }
            (Piece::Han(run), _) => {
                push_han(run, &mut terms);
                i += 1;
            }
        }
    }
    terms
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_lower_cased_and_split_on_punctuation() {
        assert_eq!(terms("Duan-Inkstone, GREEN"), ["duan", "ink", "stone", "green"]);
    }

    #[test]
    fn letters_are_split_from_digits_and_units_take_one_spelling() {
        assert_eq!(terms("1kg"), ["1", "kg"]);
        assert_eq!(terms("1 kilogram"), ["1", "kg"]);
        assert_eq!(terms("1公斤"), ["1", "kg"]);
        assert_eq!(terms("500 g"), ["0.5", "kg"]);
    }

    #[test]
    fn lengths_after_a_number_are_millimetres() {
        assert_eq!(terms("12 cm"), ["120", "mm"]);
        assert_eq!(terms("120mm"), ["120", "mm"]);
        assert_eq!(terms("12.0 centimetres"), ["120", "mm"]);
        assert_eq!(terms("12厘米"), ["120", "mm"]);
        assert_eq!(terms("millimetre"), ["mm"]);
    }

    #[test]
    fn chinese_is_indexed_as_bigrams_with_its_synonyms() {
        assert_eq!(terms("端砚台"), ["端砚", "砚台", "ink", "stone"]);
        assert_eq!(terms("墨"), ["墨"]);
    }

    #[test]
    fn a_model_number_keeps_its_parts() {
        assert_eq!(terms("DY-120A"), ["dy", "120", "a"]);
    }
}
