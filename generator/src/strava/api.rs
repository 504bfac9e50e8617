//! Strava's HTTP API as a sync needs it: OAuth token exchange and refresh (the refresh
//! token rotates: the newest is saved at once, under the user's Strava lock), authenticated
//! GETs with rate-limit waits, one refresh on 401 and retries with backoff on network
//! errors and 5xx.
//!
//! Time comes from a [`Clock`], so tests neither sleep through a real quarter hour nor
//! depend on the wall clock.

use super::StravaError;
use crate::net::{Client, Limits, Response};
use bincio_bas::strava::{StravaCredentials, StravaToken, update_token};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The time source of a sync.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Unix seconds, UTC.
    fn now_s(&self) -> i64;
    /// Wait (a rate-limit reset, a backoff).
    fn sleep(&self, d: Duration);
}

/// The real clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_s(&self) -> i64 {
        time::OffsetDateTime::now_utc().unix_timestamp()
    }
    fn sleep(&self, d: Duration) {
        std::thread::sleep(d);
    }
}

/// Refresh the access token when it has less than this left (seconds): a request must not
/// start with a token that expires on the way.
const REFRESH_MARGIN_S: i64 = 5;
/// Network errors and 5xx answers are retried this many times, waiting 1, 2, 4 … s.
const RETRIES: u32 = 3;

/// Why a request did not come back with an answer to use.
#[derive(Debug)]
pub enum CallError {
    /// Rate-limited for longer than the caller may wait: continue after this (Unix s).
    Paused { until: i64 },
    /// Anything else.
    Failed(StravaError),
}

impl From<StravaError> for CallError {
    fn from(e: StravaError) -> Self {
        Self::Failed(e)
    }
}

/// What the API reports while it works (for progress bars and the job status).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Wait {
    /// Waiting for the rate limit to reset at this Unix time.
    RateLimit { until: i64 },
}

/// An authenticated session for one user.
pub struct Api<'a> {
    base: String,
    http: Client,
    creds: StravaCredentials,
    user_dir: PathBuf,
    token: StravaToken,
    clock: &'a dyn Clock,
    /// Longest rate-limit wait accepted (seconds); longer waits give [`CallError::Paused`].
    max_wait_s: u64,
    on_wait: &'a (dyn Fn(&Wait) + Sync),
    /// Seconds spent waiting (rate limits and backoff), to report throughput without them.
    pub waited_s: f64,
    /// Requests sent (for the closing summary).
    pub requests: u64,
}

impl<'a> Api<'a> {
    /// A session from the user's saved token.
    pub fn open(
        base: &str,
        creds: StravaCredentials,
        user_dir: &Path,
        clock: &'a dyn Clock,
        max_wait_s: u64,
        on_wait: &'a (dyn Fn(&Wait) + Sync),
    ) -> Result<Self, StravaError> {
        let path = bincio_bas::layout::UserDir::new(user_dir).strava_token();
        let token = bincio_bas::strava::read_secret::<StravaToken>(&path)?
            .ok_or_else(|| StravaError::NotConnected(path.display().to_string()))?;
        let limits = Limits { total: Duration::from_secs(60), ..Limits::default() };
        Ok(Self {
            base: base.trim_end_matches('/').to_owned(),
            http: Client::new(limits),
            creds,
            user_dir: user_dir.to_path_buf(),
            token,
            clock,
            max_wait_s,
            on_wait,
            waited_s: 0.0,
            requests: 0,
        })
    }

    /// The token as last saved.
    pub fn token(&self) -> &StravaToken {
        &self.token
    }

    fn sleep(&mut self, d: Duration) {
        self.waited_s += d.as_secs_f64();
        self.clock.sleep(d);
    }

    /// Refresh the access token (always saving the rotated refresh token). Another program
    /// may have refreshed it already: the file is re-read under the lock, and a fresh token
    /// found there is used as is.
    pub fn refresh(&mut self, force: bool) -> Result<(), StravaError> {
        let now = self.clock.now_s();
        let url = format!("{}/oauth/token", self.base);
        let http = self.http.clone();
        let creds = self.creds.clone();
        let stale_access = self.token.access_token.clone();
        let result = update_token(&self.user_dir, |current| {
            let Some(mut tok) = current else {
                return (None, Err(StravaError::NotConnected("strava_token.json".into())));
            };
            let changed_elsewhere = tok.access_token != stale_access;
            if changed_elsewhere && tok.expires_at - REFRESH_MARGIN_S > now {
                return (Some(tok.clone()), Ok(tok));
            }
            if !force && tok.expires_at - REFRESH_MARGIN_S > now {
                return (Some(tok.clone()), Ok(tok));
            }
            let answer = http.post_form(
                &url,
                &[("Accept", "application/json")],
                &[
                    ("client_id", &creds.client_id),
                    ("client_secret", &creds.client_secret),
                    ("grant_type", "refresh_token"),
                    ("refresh_token", &tok.refresh_token),
                ],
            );
            match answer {
                Err(e) => {
                    let err =
                        StravaError::Network { url: e.url().to_owned(), reason: e.to_string() };
                    (Some(tok), Err(err))
                }
                Ok(r) if r.is_success() => match parse_token_answer(&url, &r) {
                    Ok(t) => {
                        tok.access_token = t.access_token;
                        tok.refresh_token = t.refresh_token;
                        tok.expires_at = t.expires_at;
                        (Some(tok.clone()), Ok(tok))
                    }
                    Err(e) => (Some(tok), Err(e)),
                },
                Ok(r) if r.status == 400 || r.status == 401 => {
                    let why = format!("refresh answered HTTP {}", r.status);
                    (Some(tok), Err(StravaError::Reconnect(why)))
                }
                Ok(r) => {
                    let err = StravaError::Status {
                        url: url.clone(),
                        status: r.status,
                        body: body_text(&r),
                    };
                    (Some(tok), Err(err))
                }
            }
        })?;
        self.requests += 1;
        self.token = result?;
        Ok(())
    }

    /// `GET {base}{path}` with the bearer token. 404 is returned (a manual activity has no
    /// streams); 401 refreshes once; 429 waits for the limit's reset or pauses; network
    /// errors and 5xx retry with backoff.
    pub fn get(&mut self, path: &str) -> Result<Response, CallError> {
        let url = format!("{}{}", self.base, path);
        if self.token.expires_at - REFRESH_MARGIN_S <= self.clock.now_s() {
            self.refresh(false)?;
        }
        let mut refreshed = false;
        let mut attempt = 0u32;
        loop {
            let bearer = format!("Bearer {}", self.token.access_token);
            self.requests += 1;
            let answer =
                self.http.get(&url, &[("Authorization", &bearer), ("Accept", "application/json")]);
            let r = match answer {
                Ok(r) if r.status < 500 => r,
                other => {
                    let reason = match other {
                        Ok(r) => format!("HTTP {}: {}", r.status, body_text(&r)),
                        Err(e) => e.to_string(),
                    };
                    if attempt >= RETRIES {
                        return Err(StravaError::Network { url, reason }.into());
                    }
                    tracing::warn!(url, attempt, "Strava request failed, retrying: {reason}");
                    self.sleep(Duration::from_secs(1 << attempt));
                    attempt += 1;
                    continue;
                }
            };
            match r.status {
                401 if !refreshed => {
                    refreshed = true;
                    self.refresh(true)?;
                }
                401 => return Err(StravaError::Reconnect(format!("{url} answered 401")).into()),
                429 => {
                    let until = reset_time(&r, self.clock.now_s());
                    let wait = (until - self.clock.now_s()).max(1);
                    if wait as u64 > self.max_wait_s {
                        return Err(CallError::Paused { until });
                    }
                    (self.on_wait)(&Wait::RateLimit { until });
                    tracing::info!(until, "Strava rate limit: waiting {wait} s");
                    self.sleep(Duration::from_secs(wait as u64));
                }
                _ => return Ok(r),
            }
        }
    }

    /// `GET` a JSON document (any status but 2xx is an error naming the URL).
    pub fn get_json(&mut self, path: &str) -> Result<serde_json::Value, CallError> {
        let url = format!("{}{}", self.base, path);
        let r = self.get(path)?;
        if !r.is_success() {
            let err = StravaError::Status { url, status: r.status, body: body_text(&r) };
            return Err(err.into());
        }
        serde_json::from_slice(&r.body)
            .map_err(|e| StravaError::Json { url, reason: e.to_string() }.into())
    }
}

/// When a 429 may be retried: `Retry-After` when present, else the next natural quarter hour
/// (the 15-minute window), or midnight UTC when the daily read limit is used up.
pub fn reset_time(r: &Response, now: i64) -> i64 {
    if let Some(s) = r.header("retry-after").and_then(|v| v.trim().parse::<i64>().ok()) {
        return now + s.max(1);
    }
    let pair = |name: &str| -> Option<(i64, i64)> {
        let v = r.header(name)?;
        let mut it = v.split(',').map(|x| x.trim().parse::<i64>().ok());
        Some((it.next()??, it.next()??))
    };
    let daily_spent = [
        ("x-readratelimit-usage", "x-readratelimit-limit"),
        ("x-ratelimit-usage", "x-ratelimit-limit"),
    ]
    .iter()
    .any(|(u, l)| matches!((pair(u), pair(l)), (Some((_, du)), Some((_, dl))) if du >= dl));
    if daily_spent {
        return (now.div_euclid(86_400) + 1) * 86_400;
    }
    (now.div_euclid(900) + 1) * 900
}

fn body_text(r: &Response) -> String {
    let s = String::from_utf8_lossy(&r.body);
    s.chars().take(300).collect()
}

/// The fields of a token answer we rely on.
#[derive(serde::Deserialize)]
struct TokenAnswer {
    access_token: String,
    refresh_token: String,
    expires_at: i64,
}

fn parse_token_answer(url: &str, r: &Response) -> Result<TokenAnswer, StravaError> {
    serde_json::from_slice(&r.body)
        .map_err(|e| StravaError::Json { url: url.to_owned(), reason: e.to_string() })
}

pub use bincio_bas::strava::{authorize_url, deauthorize, exchange_code, save_connected};

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(headers: &[(&str, &str)]) -> Response {
        Response {
            status: 429,
            headers: headers.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
            body: Vec::new(),
        }
    }

    #[test]
    fn a_429_waits_for_the_quarter_hour_the_day_or_retry_after() {
        // 2026-11-30T14:37:10Z → the window resets at 14:45.
        let now = 1_796_049_430;
        assert_eq!(reset_time(&answer(&[]), now) % 900, 0);
        assert_eq!(reset_time(&answer(&[]), now) - now, 470);
        let daily =
            answer(&[("x-readratelimit-limit", "100,1000"), ("x-readratelimit-usage", "40,1000")]);
        assert_eq!(reset_time(&daily, now) % 86_400, 0);
        assert!(reset_time(&daily, now) > now);
        assert_eq!(reset_time(&answer(&[("retry-after", "30")]), now), now + 30);
    }

    #[test]
    fn the_authorize_url_asks_for_private_activities_and_carries_the_state() {
        let u = authorize_url("http://h/", "42", "http://127.0.0.1:9/cb", "s t");
        assert!(u.starts_with("http://h/oauth/authorize?client_id=42&"), "{u}");
        assert!(u.contains("scope=read%2Cactivity%3Aread_all"), "{u}");
        assert!(u.contains("state=s%20t"), "{u}");
    }
}
