//! A stand-in Strava server for tests: hyper on 127.0.0.1, speaking the documented shapes
//! (SummaryActivity, StreamSet, token responses, error bodies) of `docs/strava.md`.
//!
//! It is strict where Strava is: access tokens expire (every `token_ttl_s`), refresh tokens
//! rotate and only the newest is accepted, and stream requests are rate limited — after
//! `streams_per_window` stream calls every further one answers 429 until the test opens the
//! next window (the stand-in's "quarter hour"; a test never sleeps through a real one). The
//! test data (≥ 200 activities of every kind) is generated in code.

#![allow(dead_code)]

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response, StatusCode};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

pub const CLIENT_ID: &str = "4242";
pub const CLIENT_SECRET: &str = "standin-secret";
pub const CODE: &str = "standin-code";
pub const ATHLETE_ID: i64 = 777;

/// One generated activity: its summary and (unless manual) its streams.
#[derive(Clone, Debug)]
pub struct Generated {
    pub summary: Value,
    pub streams: Option<Value>,
}

/// What the stand-in has seen (for assertions).
#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub stream_calls: u64,
    pub rate_limited: u64,
    pub refreshes: u64,
    pub refused_refreshes: u64,
    pub unauthorized: u64,
    pub list_calls: u64,
    pub deauthorized: u64,
}

#[derive(Debug)]
struct State {
    activities: Vec<Generated>,
    access: String,
    access_expires: i64,
    refresh: String,
    serial: u64,
    window_used: u64,
    streams_per_window: u64,
    token_ttl_s: i64,
    /// The daily read limit is spent: a 429 says so in `X-ReadRateLimit-Usage`.
    daily_spent: bool,
    stats: Stats,
}

/// A running stand-in.
#[derive(Clone)]
pub struct StandIn {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

fn now_s() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Strava's sport types, cycled through by the generator; (sport_type, trainer).
pub const KINDS: &[&str] = &[
    "Ride",
    "Run",
    "MountainBikeRide",
    "GravelRide",
    "EBikeRide",
    "VirtualRide",
    "TrailRun",
    "VirtualRun",
    "Swim",
    "Hike",
    "Walk",
    "AlpineSki",
    "NordicSki",
    "BackcountrySki",
    "Snowboard",
    "Rowing",
    "Kayaking",
    "StandUpPaddling",
    "WeightTraining",
    "Yoga",
    "Workout",
    "Ride",
    "Run",
    "Ride",
];

/// Generate `n` activities, one a day from 2024-01-01, of every kind: indoor trainer rides,
/// manual entries, private and followers-only ones, measured and estimated power, several
/// UTC offsets.
pub fn generate(n: usize) -> Vec<Generated> {
    let base = 1_704_096_000i64; // 2024-01-01T08:00:00Z
    let offsets = [3600.0, 7200.0, -25200.0, 19800.0, 0.0, 34200.0];
    (0..n)
        .map(|i| {
            let kind = KINDS[i % KINDS.len()];
            let start = base + i as i64 * 86_400 + (i as i64 % 7) * 600;
            let manual = i % 23 == 11;
            let trainer = kind == "Ride" && i % 10 == 3;
            let indoor = trainer || kind.starts_with("Virtual");
            let samples = 300 + (i * 37) % 900; // 10–40 minutes at 2 s
            let step = 2.0;
            let speed = match kind {
                k if k.contains("Ride") => 7.0 + (i % 5) as f64,
                "Swim" => 0.9,
                "Walk" | "Hike" | "Snowshoe" => 1.4,
                "WeightTraining" | "Yoga" | "Workout" => 0.0,
                _ => 3.2 + (i % 3) as f64 * 0.3,
            };
            let pause = if i % 4 == 0 { 60.0 } else { 0.0 };
            let mut time = Vec::new();
            let mut latlng = Vec::new();
            let mut dist = Vec::new();
            let mut alt = Vec::new();
            let mut hr = Vec::new();
            let mut watts = Vec::new();
            let mut cad = Vec::new();
            let mut vel = Vec::new();
            let mut moving = Vec::new();
            let (lat0, lon0) = (45.0 + (i % 10) as f64 * 0.1, 6.0 + (i % 7) as f64 * 0.1);
            let mut d = 0.0;
            for k in 0..samples {
                // A pause of `pause` seconds in the middle.
                let t = k as f64 * step + if k > samples / 2 { pause } else { 0.0 };
                if k > 0 {
                    d += speed * step;
                }
                time.push(json!(t));
                dist.push(json!((d * 10.0_f64).round() / 10.0));
                latlng.push(json!([lat0 + d / 111_000.0, lon0 + (k as f64 * 0.00001)]));
                alt.push(json!(300.0 + (k as f64 / 30.0).sin() * 20.0));
                hr.push(json!(120 + (k % 30) as i64));
                watts.push(json!(150 + (k % 50) as i64));
                cad.push(json!(80 + (k % 10) as i64));
                vel.push(json!(speed));
                moving.push(json!(speed > 0.0));
            }
            let elapsed = ((samples - 1) as f64 * step + pause).round();
            let moving_time = ((samples - 1) as f64 * step).round();
            let distance = (d * 10.0).round() / 10.0;
            let has_power = kind.contains("Ride");
            let device_watts = has_power && i % 3 != 1;
            let hr_avg = 120.0 + 14.5;
            let visibility = match i % 9 {
                2 => "only_me",
                5 => "followers_only",
                _ => "everyone",
            };
            let private = i % 17 == 8;
            let offset = offsets[i % offsets.len()];
            let start_date = time_fmt(start);
            let start_local = time_fmt(start + offset as i64);
            let id = 9_000_000_000i64 + i as i64 * 7;
            let mut summary = json!({
                "resource_state": 2,
                "athlete": {"id": ATHLETE_ID, "resource_state": 1},
                "id": id,
                "external_id": format!("garmin_push_{i}"),
                "upload_id": 12_000_000 + i as i64,
                "name": format!("{kind} number {i} – “quoted”"),
                "distance": if manual { 5000.0 + i as f64 } else { distance },
                "moving_time": if manual { 1800.0 } else { moving_time },
                "elapsed_time": if manual { 1900.0 } else { elapsed },
                "total_elevation_gain": 12.5 + (i % 40) as f64,
                "type": kind,
                "sport_type": kind,
                "start_date": start_date,
                "start_date_local": start_local,
                "timezone": "(GMT+01:00) Europe/Paris",
                "utc_offset": offset,
                "start_latlng": if indoor || manual { json!([]) } else { json!([lat0, lon0]) },
                "end_latlng": if indoor || manual { json!([]) } else { json!([lat0 + d / 111_000.0, lon0]) },
                "trainer": trainer,
                "commute": i % 13 == 4,
                "manual": manual,
                "private": private,
                "visibility": if private { "only_me" } else { visibility },
                "flagged": false,
                "gear_id": if kind.contains("Ride") { json!("b123") } else if kind.contains("Run") { json!("g456") } else { Value::Null },
                "average_speed": if manual { 2.7 } else { distance / moving_time },
                "max_speed": speed + 1.5,
                "has_heartrate": !manual,
                "map": {"id": format!("a{id}"), "summary_polyline": "", "resource_state": 2},
            });
            if !manual {
                summary["average_heartrate"] = json!(hr_avg);
                summary["max_heartrate"] = json!(149.0);
                if has_power {
                    summary["average_watts"] = json!(174.5);
                    summary["max_watts"] = json!(199);
                    summary["weighted_average_watts"] = json!(176);
                    summary["kilojoules"] = json!(174.5 * moving_time / 1000.0);
                    summary["device_watts"] = json!(device_watts);
                    summary["average_cadence"] = json!(84.5);
                }
            }
            let streams = (!manual).then(|| {
                let mut set = serde_json::Map::new();
                let put = |set: &mut serde_json::Map<String, Value>, k: &str, data: Vec<Value>| {
                    let n = data.len();
                    set.insert(
                        k.to_owned(),
                        json!({"data": data, "series_type": "distance", "original_size": n, "resolution": "high"}),
                    );
                };
                put(&mut set, "time", time);
                put(&mut set, "distance", dist);
                if !indoor || kind == "VirtualRide" {
                    // Virtual rides have coordinates of a game's map; trainer rides none.
                    if !trainer {
                        put(&mut set, "latlng", latlng);
                    }
                }
                put(&mut set, "altitude", alt);
                put(&mut set, "heartrate", hr);
                put(&mut set, "velocity_smooth", vel);
                put(&mut set, "moving", moving);
                if has_power {
                    put(&mut set, "watts", watts);
                    put(&mut set, "cadence", cad);
                }
                Value::Object(set)
            });
            Generated { summary, streams }
        })
        .collect()
}

fn time_fmt(unix: i64) -> String {
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", secs / 3600, secs % 3600 / 60, secs % 60)
}

impl StandIn {
    /// Start on 127.0.0.1 (a background thread with its own runtime).
    pub fn start(activities: Vec<Generated>) -> Self {
        let state = Arc::new(Mutex::new(State {
            activities,
            access: String::new(),
            access_expires: 0,
            refresh: String::new(),
            serial: 0,
            window_used: 0,
            streams_per_window: 70,
            token_ttl_s: 20,
            daily_spent: false,
            stats: Stats::default(),
        }));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind stand-in");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("addr");
        let st = Arc::clone(&state);
        std::thread::spawn(move || {
            let rt =
                tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                loop {
                    let Ok((stream, _)) = listener.accept().await else { continue };
                    let st = Arc::clone(&st);
                    tokio::spawn(async move {
                        let io = hyper_util::rt::TokioIo::new(stream);
                        let svc = hyper::service::service_fn(move |req| {
                            let st = Arc::clone(&st);
                            async move { Ok::<_, std::convert::Infallible>(handle(&st, req).await) }
                        });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(io, svc)
                            .await;
                    });
                }
            });
        });
        Self { addr, state }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The next rate-limit window (what a quarter hour does on Strava).
    pub fn open_window(&self) {
        self.state.lock().expect("state").window_used = 0;
    }

    pub fn stats(&self) -> Stats {
        self.state.lock().expect("state").stats.clone()
    }

    /// The only refresh token the stand-in accepts now.
    pub fn current_refresh_token(&self) -> String {
        self.state.lock().expect("state").refresh.clone()
    }

    pub fn activities(&self) -> Vec<Generated> {
        self.state.lock().expect("state").activities.clone()
    }

    /// Stream calls allowed per window (70 by default).
    pub fn set_streams_per_window(&self, n: u64) {
        self.state.lock().expect("state").streams_per_window = n;
    }

    /// The daily read limit is spent (`true`) or reset at midnight UTC (`false`).
    pub fn set_daily_limit_spent(&self, spent: bool) {
        self.state.lock().expect("state").daily_spent = spent;
    }

    /// Add activities (a new ride on Strava).
    pub fn push(&self, g: Generated) {
        self.state.lock().expect("state").activities.push(g);
    }
}

fn reply(status: StatusCode, body: Value, headers: &[(&str, String)]) -> Response<Full<Bytes>> {
    let mut r = Response::builder()
        .status(status)
        .header("content-type", "application/json; charset=utf-8");
    for (k, v) in headers {
        r = r.header(*k, v);
    }
    r.body(Full::new(Bytes::from(body.to_string()))).expect("response")
}

fn error(
    status: StatusCode,
    message: &str,
    resource: &str,
    field: &str,
    code: &str,
) -> Response<Full<Bytes>> {
    reply(
        status,
        json!({"message": message, "errors": [{"resource": resource, "field": field, "code": code}]}),
        &[],
    )
}

fn query_map(q: Option<&str>) -> HashMap<String, String> {
    q.unwrap_or("")
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), decode(v)))
        .collect()
}

fn decode(s: &str) -> String {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn issue(st: &mut State) -> Value {
    st.serial += 1;
    st.access = format!("access-{}", st.serial);
    st.refresh = format!("refresh-{}", st.serial);
    st.access_expires = now_s() + st.token_ttl_s;
    json!({"token_type": "Bearer", "access_token": st.access, "refresh_token": st.refresh,
           "expires_at": st.access_expires, "expires_in": st.token_ttl_s})
}

fn rate_headers(st: &State) -> Vec<(&'static str, String)> {
    let used = st.window_used.min(100);
    vec![
        ("x-ratelimit-limit", "200,2000".to_owned()),
        ("x-ratelimit-usage", format!("{used},{}", st.stats.stream_calls.min(1999))),
        ("x-readratelimit-limit", "100,1000".to_owned()),
        ("x-readratelimit-usage", format!("{used},{}", st.stats.stream_calls.min(999))),
    ]
}

async fn handle(state: &Arc<Mutex<State>>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query = query_map(req.uri().query());
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim_start_matches("Bearer ").to_owned());
    let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let form = query_map(Some(&String::from_utf8_lossy(&body)));
    let mut st = state.lock().expect("state");

    if method == hyper::Method::GET && path == "/oauth/authorize" {
        // The user "approves" at once: redirect back with the code.
        let redirect = query.get("redirect_uri").cloned().unwrap_or_default();
        let sep = if redirect.contains('?') { '&' } else { '?' };
        let loc = format!(
            "{redirect}{sep}state={}&code={CODE}&scope=read,activity:read_all",
            query.get("state").cloned().unwrap_or_default()
        );
        return Response::builder()
            .status(StatusCode::FOUND)
            .header("location", loc)
            .body(Full::new(Bytes::new()))
            .expect("redirect");
    }
    if method == hyper::Method::POST && path == "/oauth/token" {
        if form.get("client_id").map(String::as_str) != Some(CLIENT_ID)
            || form.get("client_secret").map(String::as_str) != Some(CLIENT_SECRET)
        {
            return error(
                StatusCode::BAD_REQUEST,
                "Bad Request",
                "Application",
                "client_id",
                "invalid",
            );
        }
        match form.get("grant_type").map(String::as_str) {
            Some("authorization_code") if form.get("code").map(String::as_str) == Some(CODE) => {
                let mut t = issue(&mut st);
                t["athlete"] = json!({"id": ATHLETE_ID, "username": "dave_standin", "firstname": "Dave", "lastname": "Stand-In"});
                return reply(StatusCode::OK, t, &[]);
            }
            Some("refresh_token")
                if form.get("refresh_token") == Some(&st.refresh) && !st.refresh.is_empty() =>
            {
                st.stats.refreshes += 1;
                let t = issue(&mut st);
                return reply(StatusCode::OK, t, &[]);
            }
            Some("refresh_token") => {
                st.stats.refused_refreshes += 1;
                return error(
                    StatusCode::BAD_REQUEST,
                    "Bad Request",
                    "RefreshToken",
                    "refresh_token",
                    "invalid",
                );
            }
            _ => {
                return error(
                    StatusCode::BAD_REQUEST,
                    "Bad Request",
                    "AuthorizationCode",
                    "code",
                    "invalid",
                );
            }
        }
    }
    if method == hyper::Method::POST && path == "/oauth/deauthorize" {
        if form.get("access_token") == Some(&st.access) {
            st.stats.deauthorized += 1;
            st.access.clear();
            st.refresh.clear();
            return reply(StatusCode::OK, json!({"access_token": form.get("access_token")}), &[]);
        }
        return error(
            StatusCode::UNAUTHORIZED,
            "Authorization Error",
            "Athlete",
            "access_token",
            "invalid",
        );
    }
    // Everything below needs a valid access token.
    let valid = auth.as_deref().is_some_and(|a| !st.access.is_empty() && a == st.access)
        && now_s() < st.access_expires;
    if !valid {
        st.stats.unauthorized += 1;
        return error(
            StatusCode::UNAUTHORIZED,
            "Authorization Error",
            "Athlete",
            "access_token",
            "invalid",
        );
    }
    let rl = rate_headers(&st);
    if method == hyper::Method::GET && path == "/api/v3/athlete" {
        let a = json!({"id": ATHLETE_ID, "username": "dave_standin", "firstname": "Dave", "lastname": "Stand-In",
            "bikes": [{"id": "b123", "name": "Grey Steel", "primary": true, "distance": 1.0}],
            "shoes": [{"id": "g456", "name": "Trail Shoes", "primary": true, "distance": 1.0}]});
        return reply(StatusCode::OK, a, &rl);
    }
    if method == hyper::Method::GET && path == "/api/v3/athlete/activities" {
        st.stats.list_calls += 1;
        let after: i64 = query.get("after").and_then(|v| v.parse().ok()).unwrap_or(0);
        let page: usize = query.get("page").and_then(|v| v.parse().ok()).unwrap_or(1).max(1);
        let per_page: usize =
            query.get("per_page").and_then(|v| v.parse().ok()).unwrap_or(30).clamp(1, 200);
        let mut list: Vec<&Value> =
            st.activities.iter().map(|g| &g.summary).filter(|s| start_of(s) > after).collect();
        list.sort_by_key(|s| start_of(s));
        let out: Vec<Value> =
            list.into_iter().skip((page - 1) * per_page).take(per_page).cloned().collect();
        return reply(StatusCode::OK, Value::Array(out), &rl);
    }
    if method == hyper::Method::GET
        && path.starts_with("/api/v3/activities/")
        && path.ends_with("/streams")
    {
        if st.window_used >= st.streams_per_window {
            st.stats.rate_limited += 1;
            let mut h = rate_headers(&st);
            let daily = if st.daily_spent { 1000 } else { st.stats.stream_calls.min(999) };
            h[3] = ("x-readratelimit-usage", format!("100,{daily}"));
            return reply(
                StatusCode::TOO_MANY_REQUESTS,
                json!({"message": "Rate Limit Exceeded", "errors": [{"resource": "Application", "field": "rate limit", "code": "exceeded"}]}),
                &h,
            );
        }
        st.window_used += 1;
        st.stats.stream_calls += 1;
        let id: i64 = path
            .trim_start_matches("/api/v3/activities/")
            .trim_end_matches("/streams")
            .parse()
            .unwrap_or(-1);
        let found = st.activities.iter().find(|g| g.summary["id"].as_i64() == Some(id)).cloned();
        return match found.and_then(|g| g.streams) {
            Some(s) => reply(StatusCode::OK, s, &rl),
            None => error(StatusCode::NOT_FOUND, "Record Not Found", "Activity", "id", "not found"),
        };
    }
    error(StatusCode::NOT_FOUND, "Record Not Found", "Resource", "path", "not found")
}

/// Start of a summary, Unix seconds.
pub fn start_of(s: &Value) -> i64 {
    let d = s["start_date"].as_str().unwrap_or("");
    let p = |a: usize, b: usize| d.get(a..b).and_then(|x| x.parse::<i64>().ok()).unwrap_or(0);
    let (y, m, day) = (p(0, 4), p(5, 7), p(8, 10));
    let (hh, mm, ss) = (p(11, 13), p(14, 16), p(17, 19));
    // Days from civil.
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + hh * 3600 + mm * 60 + ss
}
