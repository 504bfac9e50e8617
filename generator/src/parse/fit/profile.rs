//! The bits of the FIT profile that turn enum numbers into Bincio's words: sport and
//! sub-sport tables, manufacturer and product names, the source hint and the
//! barometric-altimeter guess.
//!
//! Sport and sub-sport map straight from the FIT enum numbers (stable across profile
//! versions) so no string round trip is needed. Manufacturer and Garmin product names come
//! from `fitparser`'s generated profile tables (hundreds of entries we would otherwise copy);
//! they are looked up once per file, so its speed does not matter here.

use bincio_bas::{Sport, SubSport};
use fitparser::profile::field_types::{GarminProduct, Manufacturer};

/// FIT `sport` values that say nothing about the sport itself.
pub const SPORT_GENERIC: u8 = 0;
pub const SPORT_TRANSITION: u8 = 3;
pub const SPORT_FITNESS_EQUIPMENT: u8 = 4;
pub const SPORT_MULTISPORT: u8 = 18;

/// FIT `file` type of a course (a planned route, not a recording).
pub const FILE_TYPE_COURSE: u8 = 6;
pub const FILE_TYPE_ACTIVITY: u8 = 4;

/// True when a FIT sport number names an actual sport (not generic/transition/multisport).
pub fn is_specific_sport(sport: u8) -> bool {
    !matches!(sport, SPORT_GENERIC | SPORT_TRANSITION | SPORT_MULTISPORT | 254 | 255)
}

/// FIT `sport` (and, for fitness equipment, `sub_sport`) → BAS sport.
pub fn sport(sport: u8, sub_sport: Option<u8>) -> Sport {
    match sport {
        1 => Sport::Running,
        2 | 21 => Sport::Cycling, // cycling, e_biking
        5 => Sport::Swimming,
        11 => Sport::Walking,
        12..=14 => Sport::Skiing, // cross_country_skiing, alpine_skiing, snowboarding
        16 | 17 => Sport::Hiking, // mountaineering, hiking
        // Fitness equipment is a machine; its sub-sport says which sport it stands in for.
        SPORT_FITNESS_EQUIPMENT => match sub_sport {
            Some(1 | 45) => Sport::Running, // treadmill, indoor_running
            Some(5 | 6) => Sport::Cycling,  // spin, indoor_cycling
            Some(27) => Sport::Walking,     // indoor_walking
            Some(25) => Sport::Skiing,      // indoor_skiing
            _ => Sport::Other,
        },
        _ => Sport::Other,
    }
}

/// FIT `sub_sport` → the nearest BAS sub-sport (docs/decisions.md E14), falling back
/// to what the sport itself implies (cross-country skiing is nordic, alpine is alpine).
pub fn sub_sport(sport: Option<u8>, sub_sport: Option<u8>) -> Option<SubSport> {
    let from_sub = sub_sport.and_then(|s| match s {
        // treadmill, spin, indoor_cycling, indoor_rowing, elliptical, stair_climbing,
        // indoor_skiing, indoor_walking, indoor_running, virtual_activity
        1 | 5 | 6 | 14 | 15 | 16 | 25 | 27 | 45 | 58 => Some(SubSport::Indoor),
        2 | 7 => Some(SubSport::Road),          // street (run), road
        3 => Some(SubSport::Trail),             // trail
        4 | 13 => Some(SubSport::Track),        // track, track_cycling
        8 | 9 | 47 => Some(SubSport::Mountain), // mountain, downhill, e_bike_mountain
        11 | 46 => Some(SubSport::Gravel),      // cyclocross, gravel_cycling
        17 => Some(SubSport::Pool),             // lap_swimming
        18 => Some(SubSport::OpenWater),        // open_water
        42 => Some(SubSport::Nordic),           // skate_skiing
        // backcountry, resort: FIT files them under alpine skiing/snowboarding.
        37 | 38 => Some(SubSport::Alpine),
        _ => None, // generic and everything without a BAS equivalent
    });
    from_sub.or(match sport {
        Some(12) => Some(SubSport::Nordic),
        Some(13 | 14) => Some(SubSport::Alpine),
        _ => None,
    })
}

/// FIT manufacturer ids whose `product` is a Garmin product number (the `garmin_product`
/// subfield): garmin, dynastream_oem, dynastream, tacx.
fn uses_garmin_products(manufacturer: u16) -> bool {
    matches!(manufacturer, 1 | 13 | 15 | 89)
}

/// The profile name of a manufacturer (`garmin`, `hammerhead`, `wahoo_fitness`), or
/// `None` for an id the profile does not know or the `development` id.
pub fn manufacturer_name(manufacturer: u16) -> Option<String> {
    match Manufacturer::from(manufacturer) {
        Manufacturer::Value(_) | Manufacturer::Development => None,
        m => Some(m.to_string()),
    }
}

/// `manufacturer product` for display: the product's own name when the file carries one,
/// else the Garmin product name, else the product number (`sigmasport 46`).
pub fn device_name(
    manufacturer: Option<u16>,
    product: Option<u16>,
    product_name: Option<&str>,
) -> Option<String> {
    let mfr = manufacturer.map(|m| manufacturer_name(m).unwrap_or_else(|| m.to_string()));
    let prod = match (product_name, product) {
        (Some(name), _) => Some(name.to_owned()),
        (None, Some(p)) if manufacturer.is_some_and(uses_garmin_products) => {
            Some(GarminProduct::from(p).to_string())
        }
        (None, Some(p)) => Some(p.to_string()),
        (None, None) => None,
    };
    match (mfr, prod) {
        (Some(m), Some(p)) => Some(format!("{m} {p}")),
        (Some(m), None) => Some(m),
        (None, Some(p)) => Some(p),
        (None, None) => None,
    }
}

/// The activity `source` implied by the manufacturer (docs/decisions.md E7).
pub fn source(manufacturer: u16) -> Option<String> {
    let named = match Manufacturer::from(manufacturer) {
        Manufacturer::Garmin => "garmin",
        Manufacturer::Hammerhead => "karoo",
        Manufacturer::WahooFitness => "wahoo",
        Manufacturer::Zwift | Manufacturer::ZwiftByte => "zwift",
        _ => return manufacturer_name(manufacturer),
    };
    Some(named.to_owned())
}

/// A heuristic, not a fact the file states: head units and watches known to carry a
/// barometric altimeter. Garmin Edge (except the GPS-only Edge 20/25) and fenix, every
/// Hammerhead Karoo and Wahoo ELEMNT.
pub fn known_barometric(manufacturer: Option<u16>, product: Option<u16>) -> bool {
    let Some(m) = manufacturer else { return false };
    match Manufacturer::from(m) {
        Manufacturer::Hammerhead | Manufacturer::WahooFitness => true,
        Manufacturer::Garmin => product.is_some_and(|p| {
            let name = GarminProduct::from(p).to_string();
            (name.starts_with("edge") && !name.starts_with("edge20") && !name.starts_with("edge25"))
                || name.starts_with("fenix")
        }),
        _ => false,
    }
}
