//! Lenient number readers for BAS files written by other implementations.
//!
//! The reference writes integers for durations, heart rate and power, but a federated feed
//! may carry `3600.0`. Readers accept either and round to the nearest integer, so one odd
//! remote feed never breaks a build.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An integer that also deserialises from a JSON float (rounded to nearest).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Int(pub i64);

impl Serialize for Int {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.0)
    }
}

impl<'de> Deserialize<'de> for Int {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Num {
            I(i64),
            F(f64),
        }
        match Num::deserialize(d)? {
            Num::I(i) => Ok(Int(i)),
            Num::F(f) if f.is_finite() => Ok(Int(f.round() as i64)),
            Num::F(_) => Err(serde::de::Error::custom("non-finite number")),
        }
    }
}

/// `deserialize_with` for `Option<i64>` fields that may hold floats.
pub fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(Option::<Int>::deserialize(d)?.map(|i| i.0))
}
