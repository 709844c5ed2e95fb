//! `provisor serve`: the team server. Opens the store (creating the embedded SQLite
//! database on first start), prints where its data is, the URL and, while there is no
//! user, the one-time setup link; serves until SIGINT or SIGTERM, then shuts down
//! gracefully.

use std::path::PathBuf;

use crate::cli::{LogFormat, ServeArgs, StoreArgs, WorkerArgs};
use crate::{Failure, Outcome};

/// The platform's data directory for provisor: `$XDG_DATA_HOME/provisor`, else
/// `~/.local/share/provisor` (`~/Library/Application Support/provisor` on macOS).
pub fn default_data_dir() -> Result<PathBuf, Failure> {
    if let Some(data) = std::env::var_os("XDG_DATA_HOME").filter(|value| !value.is_empty()) {
        return Ok(PathBuf::from(data).join("provisor"));
    }
    let home = std::env::var_os("HOME")
        .filter(|value| !value.is_empty())
        .ok_or_else(|| {
            Failure::Invalid("no data directory: HOME is not set; give --data DIR".into())
        })?;
    let base = if cfg!(target_os = "macos") {
        PathBuf::from(home).join("Library/Application Support")
    } else {
        PathBuf::from(home).join(".local/share")
    };
    Ok(base.join("provisor"))
}

/// The data directory a command uses.
pub fn data_dir(store: &StoreArgs) -> Result<PathBuf, Failure> {
    match &store.data {
        Some(data) => Ok(data.clone()),
        None => default_data_dir(),
    }
}

/// The server's configuration as far as the store goes: the data directory, the
/// database and where blobs are kept.
pub fn store_config(store: &StoreArgs) -> Result<provisor_server::Config, Failure> {
    let mut config = provisor_server::Config::new(&data_dir(store)?);
    config.database = store.database.clone();
    config.blobs = provisor_store::BlobLocation::parse(store.blobs.as_deref())
        .map_err(|error| Failure::Invalid(format!("--blobs: {error}")))?;
    Ok(config)
}

/// A runtime for the server's asynchronous work.
pub fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|error| Failure::Internal(error.into()))
}

/// Parses a size: bytes, or a number with K, M or G (powers of 1024).
pub fn parse_size(text: &str) -> Result<u64, Failure> {
    let text = text.trim();
    let (number, shift) = match text.char_indices().last() {
        Some((at, 'K' | 'k')) => (&text[..at], 10),
        Some((at, 'M' | 'm')) => (&text[..at], 20),
        Some((at, 'G' | 'g')) => (&text[..at], 30),
        _ => (text, 0),
    };
    number
        .trim()
        .parse::<u64>()
        .ok()
        .and_then(|number| number.checked_mul(1 << shift))
        .ok_or_else(|| {
            Failure::Invalid(format!(
                "\"{text}\" is not a size: use bytes, or a number with K, M or G"
            ))
        })
}

fn store_failure(error: provisor_store::StoreError) -> Failure {
    match error {
        provisor_store::StoreError::Database(_) => Failure::Internal(error.into()),
        other => Failure::Invalid(other.to_string()),
    }
}

/// Opens the store and key of a data directory, as the server would.
pub async fn open_state(
    config: provisor_server::Config,
) -> Result<provisor_server::AppState, Failure> {
    provisor_server::AppState::open(config)
        .await
        .map_err(store_failure)
}

fn init_logs(format: LogFormat) {
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("PROVISOR_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => subscriber.init(),
        LogFormat::Json => subscriber.json().init(),
    }
}

pub fn run(args: ServeArgs) -> Result<Outcome, Failure> {
    init_logs(args.log_format);
    let mut config = store_config(&args.store)?;
    let data = config.data.clone();
    config.listen = args.listen;
    config.public_url = args.public_url.clone();
    config.max_upload = parse_size(&args.max_upload)?;
    for proxy in &args.trusted_proxy {
        config.trusted_proxies.push(
            proxy
                .parse()
                .map_err(|error: String| Failure::Invalid(format!("--trusted-proxy: {error}")))?,
        );
    }
    if let (Some(certificate), Some(key)) = (&args.tls_cert, &args.tls_key) {
        config.tls = Some((certificate.clone(), key.clone()));
    }
    // Workers are this same program, given the same data directory; the database URL
    // reaches them through the environment, never their command line.
    config.workers = args.workers;
    let program = std::env::current_exe()?;
    let mut worker_arguments: Vec<std::ffi::OsString> =
        vec!["worker".into(), "--data".into(), data.clone().into()];
    worker_arguments.push("--job-timeout".into());
    worker_arguments.push(args.job_timeout.to_string().into());
    parse_size(&args.worker_memory)?;
    worker_arguments.push("--memory-limit".into());
    worker_arguments.push(args.worker_memory.clone().into());
    worker_arguments.push("--lease".into());
    worker_arguments.push(args.job_lease.to_string().into());
    config.job_lease = std::time::Duration::from_secs(args.job_lease);
    config.fetch_allow = args
        .allow_fetch
        .iter()
        .map(|host| host.trim().to_owned())
        .filter(|host| !host.is_empty())
        .collect();
    if let Some(feeds) = &args.feeds {
        config.feeds = feeds.clone();
    }
    config.monitor_poll = std::time::Duration::from_secs(args.monitor_poll);
    if let (Some(url), Some(from)) = (&args.smtp, &args.smtp_from) {
        let mut smtp = provisor_server::notify::Smtp::parse(url, from)
            .map_err(|error| Failure::Invalid(format!("--smtp: {error}")))?;
        if let (Ok(user), Ok(password)) = (
            std::env::var("PROVISOR_SMTP_USER"),
            std::env::var("PROVISOR_SMTP_PASSWORD"),
        ) {
            smtp.credentials = Some((user, password));
        }
        config.smtp = Some(smtp);
    }
    config.digest_every = std::time::Duration::from_secs(args.digest_minutes * 60);
    config.worker_command = Some((program, worker_arguments));
    provisor_server::discard_unfinished_uploads(&data);
    runtime()?.block_on(async move {
        let listener = tokio::net::TcpListener::bind(args.listen).await.map_err(|error| {
            Failure::Invalid(format!(
                "cannot listen on {}: {error}\n  = help: another program may use the port; choose another with --listen",
                args.listen
            ))
        })?;
        // Port 0 asks the system for a free port; the URL printed is the one bound.
        config.listen = listener.local_addr()?;
        let state = open_state(config).await?;
        eprintln!("provisor {} serving", env!("CARGO_PKG_VERSION"));
        eprintln!("  data:     {}", data.display());
        eprintln!(
            "  database: {}",
            match &state.config().database {
                Some(url) => provisor_store::redact_url(url),
                None => format!("{} (SQLite)", provisor_store::sqlite_path(&data).display()),
            }
        );
        eprintln!("  url:      {}", state.base_url());
        eprintln!("  api:      {}/api/v1/openapi.json", state.base_url());
        if let Some(link) = provisor_server::setup_link(&state).await.map_err(store_failure)? {
            eprintln!();
            eprintln!("No account exists yet. Create the first admin with this one-time link:");
            eprintln!("  {link}");
            eprintln!("(or stop the server and run `provisor admin create`)");
        }
        eprintln!("listening; stop with Ctrl-C");
        let shutdown = async {
            let interrupt = tokio::signal::ctrl_c();
            #[cfg(unix)]
            {
                let mut terminate =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                        .expect("a SIGTERM handler installs");
                tokio::select! {
                    _ = interrupt => {},
                    _ = terminate.recv() => {},
                }
            }
            #[cfg(not(unix))]
            let _ = interrupt.await;
        };
        provisor_server::serve(state, listener, shutdown)
            .await
            .map_err(|error| Failure::Invalid(error.to_string()))?;
        Ok(Outcome::Success)
    })
}

pub fn worker(args: WorkerArgs) -> Result<Outcome, Failure> {
    init_logs(LogFormat::Text);
    let id = args.id.clone().unwrap_or_else(|| {
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .map(|name| name.trim().to_owned())
            .unwrap_or_else(|_| "worker".into());
        format!("{host}:{}", std::process::id())
    });
    // The data segment (heap and anonymous mappings) is what a scan grows; bounding it
    // makes an allocation past the limit fail in this process, not the machine.
    let limit = parse_size(&args.memory_limit)?;
    rlimit::setrlimit(rlimit::Resource::DATA, limit, limit).map_err(|error| {
        Failure::Invalid(format!(
            "cannot limit the worker's memory to {limit} bytes: {error}"
        ))
    })?;
    if args.exit_with_parent {
        // The server holds the other end of standard input; when it ends, so does this
        // worker. A job it held is handed back when its lease runs out.
        std::thread::spawn(|| {
            let mut sink = Vec::new();
            let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
            std::process::exit(0);
        });
    }
    let mut options = provisor_server::worker::WorkerOptions::new(&id);
    options.job_timeout = std::time::Duration::from_secs(args.job_timeout);
    options.lease = std::time::Duration::from_secs(args.lease);
    options.until_empty = args.until_empty;
    // A worker on another machine: the server's API is its queue.
    let remote = match &args.server {
        Some(server) => {
            let access = crate::cli::RemoteArgs {
                server: Some(server.clone()),
                token_file: args.token_file.clone(),
                ca_cert: args.ca_cert.clone(),
            };
            let token = super::remote::token(&access)?;
            let agent = super::remote::agent(&access)?;
            let work_dir = args.work_dir.clone().unwrap_or_else(std::env::temp_dir);
            Some(super::work::RemoteQueue::new(
                server, token, agent, work_dir,
            ))
        }
        None => None,
    };
    runtime()?.block_on(async move {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        {
            let stop = stop.clone();
            tokio::spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    stop.store(true, std::sync::atomic::Ordering::Relaxed);
                }
            });
        }
        let worked = match remote {
            Some(queue) => {
                tracing::info!(
                    "worker {id} takes its jobs from {}",
                    args.server.as_deref().unwrap_or_default()
                );
                provisor_server::worker::work(std::sync::Arc::new(queue), options, stop).await
            }
            None => {
                let config = store_config(&args.store)?;
                let state = open_state(config).await?;
                provisor_server::worker::run_worker(state, options, stop).await
            }
        };
        let finished = worked.map_err(|error| Failure::Internal(error.into()))?;
        tracing::info!("worker {id} stops after {finished} jobs");
        Ok(Outcome::Success)
    })
}
