//! Outbound HTTP for the features that talk to other hosts: Strava sync and the daemon's
//! Strava token exchange, following other instances and elevation lookups. It lives in the
//! shared crate so the daemon and the generator use the same client.
//!
//! One place decides how Bincio behaves on the network: every request has a connect timeout
//! and a total timeout, every body is read with a size cap (a hostile or broken remote cannot
//! fill memory), HTTP error statuses are returned as values rather than errors (callers
//! distinguish 304, 401, 429 … themselves), and every error names the URL. The client is
//! blocking on purpose: callers run in the watcher's worker threads or the CLI; the daemon
//! calls it from `spawn_blocking`, never on the async runtime's threads.

use std::time::Duration;

/// How long to wait for a TCP/TLS connection, and for the whole exchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub connect: Duration,
    pub total: Duration,
    /// Largest body accepted, in bytes.
    pub max_body_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(5),
            total: Duration::from_secs(20),
            max_body_bytes: 20 * 1024 * 1024,
        }
    }
}

/// Why a request produced no response.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("{url}: {reason}")]
    Transport { url: String, reason: String },
    #[error("{url}: the response is larger than {limit_bytes} bytes")]
    TooLarge { url: String, limit_bytes: u64 },
}

impl NetError {
    /// The URL the failed request was for.
    pub fn url(&self) -> &str {
        match self {
            Self::Transport { url, .. } | Self::TooLarge { url, .. } => url,
        }
    }
}

/// A response whose body was read completely (within the size cap).
#[derive(Clone, Debug)]
pub struct Response {
    pub status: u16,
    /// Header names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The first header of that (case-insensitive) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// A reusable client (keeps connections alive between requests to the same host).
#[derive(Clone)]
pub struct Client {
    agent: ureq::Agent,
    limits: Limits,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("limits", &self.limits).finish()
    }
}

impl Client {
    pub fn new(limits: Limits) -> Self {
        let config = ureq::Agent::config_builder()
            .timeout_connect(Some(limits.connect))
            .timeout_global(Some(limits.total))
            .http_status_as_error(false)
            // Redirects are answers too: a private instance redirects to its login page,
            // and callers must see that rather than parse the login page.
            .max_redirects(0)
            .user_agent(concat!("bincio/", env!("CARGO_PKG_VERSION")))
            .build();
        Self { agent: config.into(), limits }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// `GET url` with extra headers.
    pub fn get(&self, url: &str, headers: &[(&str, &str)]) -> Result<Response, NetError> {
        let mut request = self.agent.get(url);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        self.finish(url, request.call())
    }

    /// `POST url` with a body and extra headers (give the content type in `headers`).
    pub fn post(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Result<Response, NetError> {
        let mut request = self.agent.post(url);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        self.finish(url, request.send(body))
    }

    /// `POST url` with `application/x-www-form-urlencoded` fields (OAuth token exchanges).
    pub fn post_form(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        fields: &[(&str, &str)],
    ) -> Result<Response, NetError> {
        let mut all = headers.to_vec();
        all.push(("Content-Type", "application/x-www-form-urlencoded"));
        self.post(url, &all, form_encode(fields).as_bytes())
    }

    /// `DELETE url` with extra headers.
    pub fn delete(&self, url: &str, headers: &[(&str, &str)]) -> Result<Response, NetError> {
        let mut request = self.agent.delete(url);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        self.finish(url, request.call())
    }

    fn finish(
        &self,
        url: &str,
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Response, NetError> {
        let mut response = result
            .map_err(|e| NetError::Transport { url: url.to_owned(), reason: e.to_string() })?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let limit = self.limits.max_body_bytes;
        let body =
            response.body_mut().with_config().limit(limit).read_to_vec().map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => {
                    NetError::TooLarge { url: url.to_owned(), limit_bytes: limit }
                }
                other => NetError::Transport { url: url.to_owned(), reason: other.to_string() },
            })?;
        Ok(Response { status, headers, body })
    }
}

/// `k=v&k2=v2` with every byte outside `A-Za-z0-9-._~` percent-encoded: a form body or
/// a URL query.
pub fn form_encode(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Percent-encode everything but the unreserved characters of RFC 3986.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::TcpListener;

    /// Serves one canned HTTP/1.1 answer on 127.0.0.1 and returns the URL.
    fn serve_once(answer: Vec<u8>) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        std::thread::spawn(move || {
            if let Ok((mut stream, _)) = listener.accept() {
                let mut buf = [0u8; 4096];
                let _ = stream.read(&mut buf);
                let _ = stream.write_all(&answer);
            }
        });
        format!("http://{addr}/x")
    }

    #[test]
    fn statuses_are_values_and_headers_are_kept() {
        let url = serve_once(
            b"HTTP/1.1 304 Not Modified\r\nETag: \"abc\"\r\nContent-Length: 0\r\n\r\n".to_vec(),
        );
        let r = Client::new(Limits::default())
            .get(&url, &[("If-None-Match", "\"abc\"")])
            .expect("response");
        assert_eq!(r.status, 304);
        assert_eq!(r.header("etag"), Some("\"abc\""));
        assert!(r.body.is_empty());
    }

    #[test]
    fn form_fields_are_percent_encoded() {
        assert_eq!(
            form_encode(&[("redirect_uri", "http://127.0.0.1:8/cb?a=1"), ("scope", "read,x y")]),
            "redirect_uri=http%3A%2F%2F127.0.0.1%3A8%2Fcb%3Fa%3D1&scope=read%2Cx%20y"
        );
    }

    #[test]
    fn redirects_are_not_followed() {
        let url = serve_once(
            b"HTTP/1.1 302 Found\r\nLocation: /login\r\nContent-Length: 0\r\n\r\n".to_vec(),
        );
        let r = Client::new(Limits::default()).get(&url, &[]).expect("response");
        assert_eq!(r.status, 302);
        assert_eq!(r.header("location"), Some("/login"));
    }

    #[test]
    fn a_body_over_the_cap_is_refused_naming_the_url() {
        let mut answer = b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n".to_vec();
        answer.extend(std::iter::repeat_n(b'x', 5000));
        let url = serve_once(answer);
        let client = Client::new(Limits { max_body_bytes: 1000, ..Limits::default() });
        let err = client.get(&url, &[]).expect_err("too large");
        assert!(matches!(err, NetError::TooLarge { .. }), "{err}");
        assert!(err.to_string().contains(&url), "{err}");
    }

    #[test]
    fn a_dead_port_is_a_transport_error_naming_the_url() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/feed.json", listener.local_addr().expect("addr"));
        drop(listener);
        let err = Client::new(Limits::default()).get(&url, &[]).expect_err("refused");
        assert!(err.to_string().contains(&url), "{err}");
    }
}
