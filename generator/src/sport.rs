//! Sport and sub-sport normalisation from the many spellings files and exports use
//! (being written).

use bincio_bas::{Sport, SubSport};

/// Map a raw sport name (`Virtual Ride`, `TRAIL_RUN`, `EMountainBikeRide`, FIT `cycling`)
/// to the BAS sport.
pub fn normalise_sport(_raw: &str) -> Sport {
    Sport::Other
}

/// Map a raw sport/sub-sport name to the BAS sub-sport, or `None`.
pub fn normalise_sub_sport(_raw: &str) -> Option<SubSport> {
    None
}
