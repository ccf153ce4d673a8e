//! The application: shared state, the router, and serving with graceful shutdown.

use std::future::Future;
use std::io::ErrorKind;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axum::Router;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::catalog::Catalog;
use crate::config::Config;
use crate::db::Database;
use crate::live::Hub;
use crate::scorecard::edits::{Committer, Edits};
use crate::scorecard::snapshot::Cache;
use crate::web::lookups::FailedLookups;

/// What every handler can reach; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub db: Database,
    pub catalog: Arc<Catalog>,
    pub config: Arc<Config>,
    /// Live events to open pages.
    pub hub: Hub,
    /// Active scorecards' stored state, kept in memory between writes.
    pub cache: Arc<Cache>,
    /// Edits of stored workflows, committed in groups.
    pub edits: Edits,
    /// Failed share-link look-ups per client address.
    pub lookups: Arc<FailedLookups>,
    /// Set when shutdown begins: the readiness probe then fails so traffic moves away.
    pub draining: Arc<AtomicBool>,
    /// The instance lock: the argon2 hash creating a scorecard asks for, if any.
    pub admin: Option<Arc<str>>,
}

impl AppState {
    /// Opens the database named by the settings (creating it and applying migrations).
    pub async fn open(config: Config) -> Result<AppState, String> {
        let admin = crate::web::admin::load(&config)?.map(Arc::from);
        config.create_data_dir()?;
        let url = config.database_url();
        let db = Database::connect(&url, config.sqlite_synchronous)
            .await
            .map_err(|e| {
                format!(
                    "cannot open the database at {url}: {e}; check that the folder exists and is writable (--data-dir / SCORECARD_DATA_DIR, or --database-url / SCORECARD_DATABASE_URL)"
                )
            })?;
        let catalog = Arc::new(Catalog::bundled());
        let hub = Hub::default();
        let cache = Arc::new(Cache::default());
        let edits = Edits::start(Committer {
            db: db.clone(),
            cache: cache.clone(),
            catalog: catalog.clone(),
            hub: hub.clone(),
        })
        .map_err(|e| format!("cannot start the thread that commits edits: {e}"))?;
        Ok(AppState {
            db,
            catalog,
            config: Arc::new(config),
            hub,
            cache,
            edits,
            lookups: Arc::new(FailedLookups::default()),
            draining: Arc::new(AtomicBool::new(false)),
            admin,
        })
    }
}

/// Every route of the application, with its layers.
pub fn build_router(state: AppState) -> Router {
    let mut router = Router::new()
        .merge(crate::web::routes())
        .merge(crate::scorecard::routes())
        .merge(crate::history::handlers::routes())
        .merge(crate::live::handlers::routes())
        .merge(crate::walk::routes());
    if state.config.bench_mirror {
        router = router.merge(crate::web::mirror::routes());
    }
    let config = state.config.clone();
    crate::web::metrics::handle();
    crate::web::layers::apply(router, &config).with_state(state)
}

/// Serves until `shutdown` completes, then finishes the requests in flight.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // The peer address feeds the rate limit on failed link look-ups.
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}

/// Binds the configured address, with a message that says what to change when it cannot.
pub async fn bind(config: &Config) -> Result<TcpListener, String> {
    TcpListener::bind(config.bind).await.map_err(|e| {
        let why = match e.kind() {
            ErrorKind::AddrInUse => {
                "the address is already in use: stop the other program or choose another port"
                    .to_string()
            }
            ErrorKind::PermissionDenied => {
                "permission denied: choose a port above 1024".to_string()
            }
            ErrorKind::AddrNotAvailable => {
                "this machine has no such address: use 127.0.0.1 or 0.0.0.0".to_string()
            }
            _ => e.to_string(),
        };
        format!(
            "cannot listen on {}: {why} (--bind or SCORECARD_BIND)",
            config.bind
        )
    })
}

/// The server's life: open the database, bind, serve until SIGINT or SIGTERM.
pub async fn run(config: Config) -> Result<(), String> {
    let state = AppState::open(config.clone()).await?;
    let listener = bind(&config).await?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    tracing::info!(%addr, database = %redact_url(&config.database_url()), "scorecard listening on http://{addr}");
    if state.admin.is_none() && !addr.ip().is_loopback() {
        tracing::warn!(
            "anyone who can reach {addr} can create scorecards: set an admin password (SCORECARD_ADMIN_PASSWORD_HASH) for installs open to the internet"
        );
    }
    let db = state.db.clone();
    let hub = state.hub.clone();
    let draining = state.draining.clone();
    // Readiness fails and open event streams end as soon as shutdown begins, so neither
    // holds it up.
    let shutdown = async move {
        shutdown_signal().await;
        draining.store(true, Ordering::SeqCst);
        hub.close();
    };
    let result = serve(listener, build_router(state), shutdown).await;
    db.close().await;
    tracing::info!("scorecard stopped");
    result.map_err(|e| format!("the server stopped: {e}"))
}

/// Completes on Ctrl-C or SIGTERM (what `docker stop` sends).
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
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

/// Keeps credentials in a database URL out of the logs.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://***{}", &url[..scheme], &url[at..])
        }
        _ => url.to_string(),
    }
}

/// `scorecard healthcheck`: a plain HTTP/1.1 GET of /healthz on the configured port, so a
/// container image needs no curl.
pub async fn healthcheck(config: &Config) -> Result<(), String> {
    let mut addr = config.bind;
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let check = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            .await?;
        let mut head = vec![0; 64];
        let n = stream.read(&mut head).await?;
        Ok::<_, std::io::Error>(String::from_utf8_lossy(&head[..n]).into_owned())
    };
    let head = tokio::time::timeout(std::time::Duration::from_secs(5), check)
        .await
        .map_err(|_| format!("{addr} did not answer within 5 s"))?
        .map_err(|e| format!("cannot reach {addr}: {e}"))?;
    if head.starts_with("HTTP/1.1 200") {
        Ok(())
    } else {
        Err(format!(
            "{addr} answered: {}",
            head.lines().next().unwrap_or("")
        ))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_credentials_never_reach_the_log() {
        assert_eq!(
            super::redact_url("postgres://u:secret@db/x"),
            "postgres://***@db/x"
        );
        assert_eq!(
            super::redact_url("sqlite://./data/s.db"),
            "sqlite://./data/s.db"
        );
    }
}
