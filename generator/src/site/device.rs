//! Device names as people know them: "Garmin Edge 810", "Zwift", "COROS PACE 2".
//!
//! Extraction stores what the file says (`garmin edge810`, `wahoo_fitness 28`: the FIT
//! profile's manufacturer and product identifiers, or a GPX/TCX creator string), so the BAS
//! data stays a faithful record and a better table later changes every page without a
//! re-extraction. This curated table turns those identifiers into the product names printed
//! on the box, at render time only. A product number the table does not know says nothing
//! to a reader, so it shows the brand alone; an identifier it does not know is shown with
//! underscores as spaces rather than dropped.

/// Manufacturer identifiers (FIT profile names, lower case) → the brand as written.
const BRANDS: &[(&str, &str)] = &[
    ("garmin", "Garmin"),
    // Dynastream is Garmin's ANT+ subsidiary: its HRM straps are sold as Garmin.
    ("dynastream", "Garmin"),
    ("dynastream_oem", "Garmin"),
    ("tacx", "Tacx"),
    ("hammerhead", "Hammerhead"),
    ("wahoo_fitness", "Wahoo"),
    ("zwift", "Zwift"),
    ("zwift_byte", "Zwift"),
    ("mywhoosh", "MyWhoosh"),
    ("peaksware", "TrainingPeaks"),
    ("stages_cycling", "Stages"),
    ("coros", "COROS"),
    ("sigmasport", "SIGMA"),
    ("stryd", "Stryd"),
    ("strava", "Strava"),
    ("onelap", "OneLap"),
    ("suunto", "Suunto"),
    ("polar", "Polar"),
    ("bryton", "Bryton"),
    ("lezyne", "Lezyne"),
    ("srm", "SRM"),
    ("favero_electronics", "Favero"),
    ("rouvy", "Rouvy"),
    ("trainerroad", "TrainerRoad"),
    ("apple", "Apple"),
    ("samsung", "Samsung"),
];

/// Garmin product identifiers (FIT `garmin_product` names) whose display name does not
/// follow the family rules of [`garmin_family`].
const GARMIN_PRODUCTS: &[(&str, &str)] = &[
    ("hrm1", "HRM"),
    ("hrm_dual", "HRM-Dual"),
    ("hrm_pro", "HRM-Pro"),
    ("vivo_active", "vívoactive"),
    ("vivo_active_hr", "vívoactive HR"),
    ("vivoactive3", "vívoactive 3"),
    ("vivoactive4", "vívoactive 4"),
    ("edge_explore", "Edge Explore"),
    ("edge_explore2", "Edge Explore 2"),
    ("edge_touring", "Edge Touring"),
    ("edge_remote", "Edge Remote"),
    ("fr735xt", "Forerunner 735XT"),
    ("fr920xt", "Forerunner 920XT"),
    ("fr910xt", "Forerunner 910XT"),
    ("fr310xt", "Forerunner 310XT"),
    ("fr310xt_4t", "Forerunner 310XT"),
    ("fenix5x", "fēnix 5X"),
    ("fenix5s", "fēnix 5S"),
    ("fenix6", "fēnix 6"),
    ("fenix7", "fēnix 7"),
    ("epix_gen2", "epix (Gen 2)"),
    ("connectiq_simulator", "Connect IQ simulator"),
    ("connect", "Garmin Connect"),
    ("training_center", "Training Center"),
];

/// Products other brands write as a number (FIT has no names for them), where the number
/// is known to mean one device.
const NUMBERED_PRODUCTS: &[(&str, &str, &str)] =
    &[("hammerhead", "1", "Karoo"), ("hammerhead", "2", "Karoo 2"), ("hammerhead", "3", "Karoo 3")];

/// The display name of a stored device string, or `None` when it carries no name at all
/// (`255 1`: a manufacturer id the FIT profile does not know and a product number).
pub fn display_name(raw: &str) -> Option<String> {
    let raw = raw.trim();
    if raw.is_empty() || raw.chars().all(|c| c.is_ascii_digit() || c.is_whitespace()) {
        return None;
    }
    Some(name(raw))
}

fn name(raw: &str) -> String {
    let (first, rest) = match raw.split_once(' ') {
        Some((a, b)) => (a, b.trim()),
        None => (raw, ""),
    };
    let Some(brand) = BRANDS.iter().find(|(id, _)| *id == first).map(|(_, b)| *b) else {
        // A creator string (GPX/TCX: "Garmin Forerunner 910XT") is already written for
        // people; only a bare lower-case identifier gets its underscores replaced.
        return if raw.chars().any(|c| c.is_ascii_uppercase()) || raw.contains(' ') {
            raw.to_owned()
        } else {
            raw.replace('_', " ")
        };
    };
    if rest.is_empty() {
        return brand.to_owned();
    }
    if let Some((_, _, name)) = NUMBERED_PRODUCTS.iter().find(|(b, n, _)| *b == first && *n == rest)
    {
        return format!("{brand} {name}");
    }
    if rest.chars().all(|c| c.is_ascii_digit()) {
        // An unnamed product number ("zwift 0", "wahoo_fitness 28"): the brand alone.
        return brand.to_owned();
    }
    let product = if brand == "Garmin" { garmin_product(rest) } else { rest.to_owned() };
    // "Stages Stages M200", "COROS COROS PACE 2", "TrainingPeaks TrainingPeaks Virtual":
    // the product name already carries the brand.
    if product.to_lowercase().starts_with(&brand.to_lowercase()) {
        return product;
    }
    format!("{brand} {product}")
}

/// A Garmin product identifier as Garmin writes it.
fn garmin_product(id: &str) -> String {
    if let Some((_, name)) = GARMIN_PRODUCTS.iter().find(|(k, _)| *k == id) {
        return (*name).to_owned();
    }
    garmin_family(id).unwrap_or_else(|| id.replace('_', " "))
}

/// The family rules: `edge810`/`edge_530` → "Edge 810"/"Edge 530", `fr945` → "Forerunner
/// 945", `fenix5` → "fēnix 5", `fenix5_plus`/`fr245_music` keep their suffix.
fn garmin_family(id: &str) -> Option<String> {
    const FAMILIES: &[(&str, &str)] = &[
        ("edge", "Edge"),
        ("fr", "Forerunner"),
        ("fenix", "fēnix"),
        ("epix", "epix"),
        ("venu", "Venu"),
        ("instinct", "Instinct"),
        ("enduro", "Enduro"),
        ("oregon", "Oregon"),
        ("gpsmap", "GPSMAP"),
        ("etrex", "eTrex"),
    ];
    let (prefix, family) = FAMILIES.iter().find(|(p, _)| id.starts_with(p))?;
    let tail = id[prefix.len()..].trim_start_matches('_');
    let mut parts = tail.split('_');
    let model = parts.next().unwrap_or("");
    if model.is_empty() || !model.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let mut out = format!("{family} {}", model.to_uppercase());
    for p in parts {
        out.push(' ');
        match p {
            "plus" => out.push('+'),
            "music" => out.push_str("Music"),
            "pro" => out.push_str("Pro"),
            "solar" => out.push_str("Solar"),
            other => out.push_str(other),
        }
    }
    Some(out.replace(" +", "+"))
}

#[cfg(test)]
mod tests {
    use super::display_name;

    /// Every device string the sample files produce, and what a reader expects to see.
    #[test]
    fn sample_devices_read_as_their_product_names() {
        for (raw, shown) in [
            ("garmin edge810", "Garmin Edge 810"),
            ("garmin edge_530", "Garmin Edge 530"),
            ("garmin edge25", "Garmin Edge 25"),
            ("garmin fr945", "Garmin Forerunner 945"),
            ("garmin fr735xt", "Garmin Forerunner 735XT"),
            ("garmin fr110", "Garmin Forerunner 110"),
            ("garmin fenix5", "Garmin fēnix 5"),
            ("garmin fenix5_plus", "Garmin fēnix 5+"),
            ("garmin vivo_active_hr", "Garmin vívoactive HR"),
            ("dynastream hrm1", "Garmin HRM"),
            ("hammerhead Karoo 2", "Hammerhead Karoo 2"),
            ("zwift 0", "Zwift"),
            ("zwift", "Zwift"),
            ("mywhoosh 3570", "MyWhoosh"),
            ("peaksware TrainingPeaks Virtual", "TrainingPeaks Virtual"),
            ("stages_cycling Stages M200", "Stages M200"),
            ("coros COROS PACE 2", "COROS PACE 2"),
            ("wahoo_fitness 28", "Wahoo"),
            ("sigmasport 46", "SIGMA"),
            ("strava 102", "Strava"),
            ("Garmin GPSMAP 64s", "Garmin GPSMAP 64s"),
            ("Garmin Forerunner 910XT", "Garmin Forerunner 910XT"),
            ("some_unknown_thing", "some unknown thing"),
        ] {
            assert_eq!(display_name(raw).as_deref(), Some(shown), "{raw}");
        }
        assert_eq!(display_name("255 1"), None);
    }
}
