//! The accept loop: 127.0.0.1 by default, HTTP/1.1, graceful drain on SIGTERM/Ctrl+C.

use crate::state::AppState;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// Serve until `shutdown` resolves, then drain open connections (bounded by the config's
/// drain timeout). Expired sessions are purged hourly.
pub async fn serve(
    st: Arc<AppState>,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let purge_state = Arc::clone(&st);
    let purger = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            let r = purge_state
                .db
                .call(|c| crate::db::sessions::purge_expired(c, crate::db::now_s()))
                .await;
            if let Ok(n) = r
                && n > 0
            {
                tracing::info!(purged = n, "expired sessions removed");
            }
        }
    });
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer) = match accepted {
                    Ok(v) => v,
                    Err(e) => {
                        // EMFILE and friends: back off instead of spinning.
                        tracing::warn!(error = %e, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let _ = stream.set_nodelay(true);
                let st = Arc::clone(&st);
                let svc = service_fn(move |req| {
                    let st = Arc::clone(&st);
                    let fut: std::pin::Pin<Box<dyn std::future::Future<Output = crate::reply::Resp> + Send>> =
                        Box::pin(crate::router::handle(st, req, peer));
                    async move { Ok::<_, std::convert::Infallible>(fut.await) }
                });
                let mut builder = http1::Builder::new();
                builder.timer(hyper_util::rt::TokioTimer::new()).header_read_timeout(Duration::from_secs(30));
                let conn = builder.serve_connection(TokioIo::new(stream), svc);
                let conn = graceful.watch(conn);
                tokio::spawn(async move {
                    if let Err(e) = conn.await {
                        tracing::debug!(error = %e, %peer, "connection ended with an error");
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    purger.abort();
    drop(listener);
    tracing::info!("shutting down: draining connections");
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all connections closed"),
        () = tokio::time::sleep(st.cfg.drain_timeout) => tracing::warn!("drain timeout; closing remaining connections"),
    }
    Ok(())
}

/// Resolves on SIGTERM or Ctrl+C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}

/// Bind the listen address.
pub async fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    TcpListener::bind(addr).await
}
