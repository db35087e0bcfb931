//! Where an address is: a shipping address carries a province and a city but no
//! coordinates, so they are looked up in a table of China's provinces (at their capitals)
//! and major cities shipped with the code (`china_places.json`). A city found in the table
//! places the address there; otherwise its province does; otherwise it is not placed.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde::Deserialize;

use crate::order::Address;

/// A point on the earth, in degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub lat: f64,
    pub lon: f64,
}

/// A place of the table: where it is, and the province it is in (its English name).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Place {
    pub point: Point,
    pub province: &'static str,
}

/// Great-circle distance between two points, in km (haversine, mean earth radius).
pub fn distance_km(a: Point, b: Point) -> f64 {
    const EARTH_RADIUS_KM: f64 = 6371.0;
    let (lat1, lat2) = (a.lat.to_radians(), b.lat.to_radians());
    let dlat = lat2 - lat1;
    let dlon = (b.lon - a.lon).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.sqrt().min(1.0).asin()
}

/// Where the address is, if its city or province is in the table. A city is only taken
/// when it lies in the address's province (when one is given), so a same-named city
/// elsewhere does not move the address.
pub fn locate(address: &Address) -> Option<Place> {
    let places = gazetteer();
    let province = address.province.as_deref().and_then(|p| places.province(p));
    let city = places.city(&address.city).filter(|c| province.is_none_or(|p| p.province == c.province));
    city.or(province)
}

/// The English name of the province `name` is (in English or Chinese, with or without
/// "Province", 省, 市, 自治区...), if it is one.
pub fn canonical_province(name: &str) -> Option<&'static str> {
    gazetteer().province(name).map(|p| p.province)
}

#[derive(Debug, Deserialize)]
struct Row {
    kind: String,
    name: String,
    zh: String,
    province: String,
    lat: f64,
    lon: f64,
    aliases: Vec<String>,
}

/// The table, indexed by every normalised name of each place.
#[derive(Debug)]
struct Gazetteer {
    provinces: HashMap<String, Place>,
    cities: HashMap<String, Place>,
}

impl Gazetteer {
    fn province(&self, name: &str) -> Option<Place> {
        self.provinces.get(&normalise(name)).copied()
    }

    /// A city of the table, or a province-level city (Beijing, Shanghai, ...).
    fn city(&self, name: &str) -> Option<Place> {
        let key = normalise(name);
        self.cities.get(&key).or_else(|| self.provinces.get(&key)).copied()
    }
}

fn gazetteer() -> &'static Gazetteer {
    static TABLE: OnceLock<Gazetteer> = OnceLock::new();
    TABLE.get_or_init(|| {
        let rows: Vec<Row> =
            serde_json::from_str(include_str!("china_places.json")).expect("china_places.json is a list of places");
        let mut provinces = HashMap::new();
        let mut cities = HashMap::new();
        // Province names are leaked once, at start-up, so places can be `Copy`.
        let mut names: HashMap<String, &'static str> = HashMap::new();
        for row in rows {
            let province: &'static str =
                names.entry(row.province.clone()).or_insert_with(|| Box::leak(row.province.clone().into_boxed_str()));
            let place = Place { point: Point { lat: row.lat, lon: row.lon }, province };
            let index = if row.kind == "province" { &mut provinces } else { &mut cities };
            for name in [&row.name, &row.zh].into_iter().chain(&row.aliases) {
                index.insert(normalise(name), place);
            }
        }
        Gazetteer { provinces, cities }
    })
}

/// A name as the table is keyed: lower case, no spaces or apostrophes, and without the
/// administrative suffixes people add or leave out.
fn normalise(name: &str) -> String {
    const SUFFIXES: [&str; 14] = [
        "province",
        "municipality",
        "autonomousregion",
        "sar",
        "sheng",
        "shi",
        "city",
        "省",
        "市",
        "自治区",
        "特别行政区",
        "壮族",
        "回族",
        "维吾尔",
    ];
    let mut key: String =
        name.chars().filter(|c| !c.is_whitespace() && *c != '\'' && *c != '-').flat_map(char::to_lowercase).collect();
    while let Some(stripped) = SUFFIXES.iter().find_map(|s| key.strip_suffix(s).filter(|rest| !rest.is_empty())) {
        key = stripped.to_owned();
    }
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(province: Option<&str>, city: &str) -> Address {
        Address {
            name: None,
            line1: "1 Road".into(),
            line2: None,
            city: city.into(),
            province: province.map(Into::into),
            postal_code: None,
            country: "CN".into(),
        }
    }

    #[test]
    fn every_province_of_china_is_in_the_table_under_its_common_spellings() {
        for name in [
            "Zhejiang",
            "浙江省",
            "zhejiang province",
            "广西壮族自治区",
            "新疆维吾尔自治区",
            "Inner Mongolia",
            "上海市",
            "Xizang",
        ] {
            assert!(canonical_province(name).is_some(), "{name}");
        }
        assert_eq!(canonical_province("广西壮族自治区"), Some("Guangxi"));
        assert_eq!(canonical_province("Atlantis"), None);
    }

    #[test]
    fn an_address_is_placed_at_its_city_else_its_province() {
        let shenzhen = locate(&address(Some("Guangdong"), "Shenzhen")).unwrap();
        assert_eq!((shenzhen.province, shenzhen.point.lat), ("Guangdong", 22.54));
        let village = locate(&address(Some("广东省"), "Some village")).unwrap();
        assert_eq!((village.province, village.point.lat), ("Guangdong", 23.13));
        assert_eq!(locate(&address(None, "北京市")).unwrap().province, "Beijing");
        assert_eq!(locate(&address(None, "Hangzhou")).unwrap().province, "Zhejiang");
        assert!(locate(&address(None, "Springfield")).is_none());
        // A Hangzhou said to be in Sichuan is not placed in Zhejiang.
        assert_eq!(locate(&address(Some("Sichuan"), "Hangzhou")).unwrap().province, "Sichuan");
    }

    #[test]
    fn distances_are_great_circle_kilometres() {
        let hangzhou = Point { lat: 30.27, lon: 120.15 };
        let beijing = Point { lat: 39.90, lon: 116.41 };
        let km = distance_km(hangzhou, beijing);
        assert!((1_100.0..1_150.0).contains(&km), "{km}");
        assert!(distance_km(hangzhou, hangzhou).abs() < 1e-9);
    }
}
