//! Heights from an Open-Elevation-compatible web service, for instances without tiles.
//!
//! `POST {url}/api/v1/lookup` with `{"locations": [{"latitude": …, "longitude": …}, …]}`
//! answers `{"results": [{"latitude": …, "longitude": …, "elevation": …}, …]}` in the same
//! order. Points go in batches of [`BATCH`] through the shared outbound client
//! (`generator/src/net.rs`: connect and total timeouts, body caps), and a point repeated
//! in a row (a stop) is asked once.

use crate::net::{Client, Limits};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Points per request (what public Open-Elevation instances accept comfortably).
pub const BATCH: usize = 500;

/// Why the service gave no heights. Every variant names the URL.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    #[error(transparent)]
    Net(#[from] crate::net::NetError),
    #[error("{url}: the elevation service answered HTTP {status}: {body}")]
    Status { url: String, status: u16, body: String },
    #[error("{url}: the elevation service's answer is not the expected JSON: {reason}")]
    Body { url: String, reason: String },
}

#[derive(Serialize)]
struct Location {
    latitude: f64,
    longitude: f64,
}

#[derive(Serialize)]
struct Request<'a> {
    locations: &'a [Location],
}

#[derive(Deserialize)]
struct Answer {
    results: Vec<Height>,
}

#[derive(Deserialize)]
struct Height {
    elevation: Option<f64>,
}

/// An elevation service.
#[derive(Debug, Clone)]
pub struct Service {
    url: String,
    client: Client,
}

impl Service {
    /// The service at `base_url` (its `/api/v1/lookup` is called).
    pub fn new(base_url: &str) -> Self {
        let limits = Limits {
            connect: Duration::from_secs(5),
            total: Duration::from_secs(30),
            max_body_bytes: 8 * 1024 * 1024,
        };
        Self {
            url: format!("{}/api/v1/lookup", base_url.trim_end_matches('/')),
            client: Client::new(limits),
        }
    }

    /// The lookup URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Heights at each point; `None` for a point without a finite position or that the
    /// service had no height for.
    pub fn elevations(&self, points: &[(f64, f64)]) -> Result<Vec<Option<f64>>, LookupError> {
        // Distinct consecutive positions only.
        let mut unique: Vec<(f64, f64)> = Vec::new();
        let mut slot: Vec<Option<usize>> = Vec::with_capacity(points.len());
        for &(lat, lon) in points {
            if !(lat.is_finite() && lon.is_finite()) {
                slot.push(None);
                continue;
            }
            if unique.last() != Some(&(lat, lon)) {
                unique.push((lat, lon));
            }
            slot.push(Some(unique.len() - 1));
        }
        let mut heights = Vec::with_capacity(unique.len());
        for batch in unique.chunks(BATCH) {
            heights.extend(self.batch(batch)?);
        }
        Ok(slot.into_iter().map(|s| s.and_then(|i| heights[i])).collect())
    }

    fn batch(&self, points: &[(f64, f64)]) -> Result<Vec<Option<f64>>, LookupError> {
        let locations: Vec<Location> =
            points.iter().map(|&(latitude, longitude)| Location { latitude, longitude }).collect();
        let body = serde_json::to_vec(&Request { locations: &locations })
            .map_err(|e| LookupError::Body { url: self.url.clone(), reason: e.to_string() })?;
        let resp = self.client.post(&self.url, &[("content-type", "application/json")], &body)?;
        if !resp.is_success() {
            let text: String = String::from_utf8_lossy(&resp.body).chars().take(200).collect();
            return Err(LookupError::Status {
                url: self.url.clone(),
                status: resp.status,
                body: text,
            });
        }
        let answer: Answer = serde_json::from_slice(&resp.body)
            .map_err(|e| LookupError::Body { url: self.url.clone(), reason: e.to_string() })?;
        if answer.results.len() != points.len() {
            return Err(LookupError::Body {
                url: self.url.clone(),
                reason: format!("{} results for {} locations", answer.results.len(), points.len()),
            });
        }
        Ok(answer.results.into_iter().map(|h| h.elevation.filter(|e| e.is_finite())).collect())
    }
}
