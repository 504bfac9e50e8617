//! Heights from an Open-Elevation-compatible web service, for instances without tiles.
//!
//! `POST {url}/api/v1/lookup` with `{"locations": [{"latitude": …, "longitude": …}, …]}`
//! answers `{"results": [{"latitude": …, "longitude": …, "elevation": …}, …]}` in the same
//! order. Points go in batches of [`BATCH`] through the shared outbound client
//! (`generator/bas/src/net.rs`: connect and total timeouts, body caps), and a point repeated
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;

    /// A one-thread Open-Elevation stand-in on 127.0.0.1: answers each lookup with
    /// elevation = latitude × 10 (or with `status` when it is not 200), and counts requests.
    fn serve(status: u16) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let seen = count.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let (mut line, mut len, mut path) = (String::new(), 0usize, String::new());
                reader.read_line(&mut line).expect("request line");
                path.push_str(line.split_whitespace().nth(1).unwrap_or(""));
                loop {
                    line.clear();
                    reader.read_line(&mut line).expect("header");
                    if line.trim().is_empty() {
                        break;
                    }
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        len = v.trim().parse().expect("length");
                    }
                }
                let mut body = vec![0u8; len];
                reader.read_exact(&mut body).expect("body");
                seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let v: serde_json::Value = serde_json::from_slice(&body).expect("json body");
                let results: Vec<serde_json::Value> = v["locations"]
                    .as_array()
                    .expect("locations")
                    .iter()
                    .map(|l| {
                        let lat = l["latitude"].as_f64().expect("lat");
                        serde_json::json!({"latitude": lat, "longitude": l["longitude"], "elevation": lat * 10.0})
                    })
                    .collect();
                let out = if status == 200 && path == "/api/v1/lookup" {
                    serde_json::json!({ "results": results }).to_string()
                } else {
                    "{\"error\": \"nope\"}".to_owned()
                };
                let code = if path == "/api/v1/lookup" { status } else { 404 };
                let mut s = stream;
                let _ = write!(
                    s,
                    "HTTP/1.1 {code} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{out}",
                    out.len()
                );
            }
        });
        (url, count)
    }

    #[test]
    fn batches_points_and_keeps_their_order() {
        let (url, count) = serve(200);
        let service = Service::new(&format!("{url}/"));
        // 1200 distinct points, each twice in a row, and one without a position.
        let mut pts: Vec<(f64, f64)> = Vec::new();
        for i in 0..1200 {
            let p = (40.0 + i as f64 * 0.001, 13.0);
            pts.push(p);
            pts.push(p);
        }
        pts.push((f64::NAN, 13.0));
        let h = service.elevations(&pts).expect("lookup");
        assert_eq!(h.len(), pts.len());
        for (p, e) in pts.iter().zip(&h).take(2400) {
            assert!((e.expect("height") - p.0 * 10.0).abs() < 1e-9);
        }
        assert_eq!(h[2400], None);
        // 1200 distinct positions in batches of 500.
        assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 3);
    }

    #[test]
    fn an_error_status_names_the_url() {
        let (url, _) = serve(503);
        let err = Service::new(&url).elevations(&[(46.0, 13.0)]).expect_err("503");
        let text = err.to_string();
        assert!(text.contains(&format!("{url}/api/v1/lookup")) && text.contains("503"), "{text}");
        // Nothing listening: a transport error, also naming the URL.
        let closed = TcpListener::bind("127.0.0.1:0").expect("bind");
        let dead = format!("http://{}", closed.local_addr().expect("addr"));
        drop(closed);
        let err = Service::new(&dead).elevations(&[(46.0, 13.0)]).expect_err("refused");
        assert!(err.to_string().contains(&dead), "{err}");
    }
}
