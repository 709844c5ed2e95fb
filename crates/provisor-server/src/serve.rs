//! Serving: the listener (plain HTTP, or TLS through rustls with the certificate and
//! key given), the background duties (signing an audit checkpoint when the chain has
//! grown), and the graceful shutdown: stop accepting, let requests in flight finish
//! within a grace period, close the store.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tower::ServiceExt;

use crate::AppState;

/// How long requests in flight may take to finish after a shutdown was asked for.
pub const GRACE: Duration = Duration::from_secs(20);
/// How often the server signs a checkpoint of the audit chain (when it has grown).
pub const CHECKPOINT_EVERY: Duration = Duration::from_secs(60);

/// What goes wrong when serving.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The certificate or key cannot be used.
    #[error("{0}")]
    Tls(String),
    /// The listener failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

fn tls_config(
    certificate: &std::path::Path,
    key: &std::path::Path,
) -> Result<Arc<rustls::ServerConfig>, ServeError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let chain = CertificateDer::pem_file_iter(certificate)
        .and_then(|certificates| certificates.collect::<Result<Vec<_>, _>>())
        .map_err(|error| {
            ServeError::Tls(format!(
                "{}: not a PEM certificate chain: {error}",
                certificate.display()
            ))
        })?;
    if chain.is_empty() {
        return Err(ServeError::Tls(format!(
            "{}: holds no certificate",
            certificate.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|error| {
        ServeError::Tls(format!("{}: not a PEM private key: {error}", key.display()))
    })?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|error| ServeError::Tls(error.to_string()))?
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .map_err(|error| {
        ServeError::Tls(format!(
            "the certificate and key do not go together: {error}"
        ))
    })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Signs a checkpoint whenever the chain has grown, until the process ends.
async fn checkpoints(state: AppState) {
    let mut interval = tokio::time::interval(CHECKPOINT_EVERY);
    loop {
        interval.tick().await;
        if let Err(error) = state.store().checkpoint(state.key()).await {
            tracing::warn!("cannot sign an audit checkpoint: {error}");
        }
    }
}

/// Counts the verdicts of the assessments stored without them (by a server before
/// they were counted, or a bulk load): each current revision is judged once, in the
/// background at start, one at a time, for the portfolio. A revision that no longer
/// judges stays without counts until the next revision.
pub async fn count_uncounted(state: AppState) {
    let mut after = String::new();
    loop {
        let batch = match state.store().uncounted(&after, 50).await {
            Ok(batch) if !batch.is_empty() => batch,
            Ok(_) => return,
            Err(error) => {
                tracing::warn!("cannot list the assessments to count: {error}");
                return;
            }
        };
        for (id, revision) in batch {
            let counted = async {
                let record = state.store().assessment(&id).await?;
                let files = state.store().files(&id, revision).await?;
                let judged =
                    crate::judge::judge(&state, &record.organisation_id, &record.main_file, &files)
                        .await?;
                let counts = crate::judge::counts(&judged.assessment);
                state.store().set_counts(&id, revision, &counts).await?;
                Ok::<(), crate::ApiError>(())
            };
            if let Err(error) = counted.await {
                tracing::warn!(
                    "cannot count the verdicts of assessment {id}: {}",
                    error.detail()
                );
            }
            after = id;
        }
    }
}

/// Removes the uploads a killed server was receiving (never acknowledged, so nothing
/// is lost). Only the server calls this, before it serves: workers share the data
/// directory.
pub fn discard_unfinished_uploads(data: &std::path::Path) {
    if let Ok(entries) = std::fs::read_dir(data.join("uploads")) {
        for entry in entries.flatten() {
            let path = entry.path();
            let _ = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
        }
    }
}

/// Serves the app on a bound listener until `shutdown` completes, then finishes the
/// requests in flight (for at most [`GRACE`]) and signs a last checkpoint.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServeError> {
    let tls = match &state.config().tls {
        Some((certificate, key)) => Some(tokio_rustls::TlsAcceptor::from(tls_config(
            certificate,
            key,
        )?)),
        None => None,
    };
    let app = crate::app(state.clone());
    let background = tokio::spawn(checkpoints(state.clone()));
    let counting = tokio::spawn(count_uncounted(state.clone()));
    let monitoring = tokio::spawn(crate::monitor::monitor(state.clone()));
    let notifying = tokio::spawn(crate::notify::sender(state.clone()));
    let (stop_workers, workers_stop) = tokio::sync::watch::channel(false);
    let workers = tokio::spawn(crate::supervise::supervise(state.clone(), workers_stop));
    let graceful = GracefulShutdown::new();
    let builder = auto::Builder::new(TokioExecutor::new());
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of descriptors or similar: wait a little rather than spin.
                    tracing::warn!("accept failed: {error}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let app = app.clone();
        let service = hyper::service::service_fn(
            move |mut request: hyper::Request<hyper::body::Incoming>| {
                request
                    .extensions_mut()
                    .insert(ConnectInfo::<SocketAddr>(peer));
                app.clone().oneshot(request.map(axum::body::Body::new))
            },
        );
        match &tls {
            Some(acceptor) => {
                let acceptor = acceptor.clone();
                let builder = builder.clone();
                let watcher = graceful.watcher();
                tokio::spawn(async move {
                    // A client that never finishes its handshake costs ten seconds.
                    let handshake =
                        tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream))
                            .await;
                    let Ok(Ok(stream)) = handshake else { return };
                    let connection = builder
                        .serve_connection_with_upgrades(TokioIo::new(stream), service)
                        .into_owned();
                    if let Err(error) = watcher.watch(connection).await {
                        tracing::debug!("connection from {peer}: {error}");
                    }
                });
            }
            None => {
                let connection = builder
                    .serve_connection_with_upgrades(TokioIo::new(stream), service)
                    .into_owned();
                let connection = graceful.watch(connection);
                tokio::spawn(async move {
                    if let Err(error) = connection.await {
                        tracing::debug!("connection from {peer}: {error}");
                    }
                });
            }
        }
    }
    tracing::info!("shutting down: finishing the requests in flight");
    drop(listener);
    if tokio::time::timeout(GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still running after {GRACE:?} were cut off");
    }
    background.abort();
    counting.abort();
    monitoring.abort();
    notifying.abort();
    let _ = stop_workers.send(true);
    let _ = workers.await;
    if let Err(error) = state.store().checkpoint(state.key()).await {
        tracing::warn!("cannot sign the last audit checkpoint: {error}");
    }
    state.store().close().await;
    Ok(())
}
