//! The store's errors: what a caller can act on (not found, conflict, invalid, locked)
//! apart from what it can only report (the database or the disk failing).

/// What goes wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached.
    #[error("cannot connect to the database {url}: {reason}")]
    Connect {
        /// The URL, its password replaced.
        url: String,
        /// Why.
        reason: String,
    },
    /// The database failed a query.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A file of the blob directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// The object store failed, or sent a blob that is not what its key says.
    #[error("{0}")]
    Blob(String),
    /// What was asked for does not exist (or is not visible to the caller).
    #[error("{0} not found")]
    NotFound(String),
    /// The change conflicts with what is stored (a name taken, a stale revision).
    #[error("{0}")]
    Conflict(String),
    /// The change is not allowed on a locked (approved) assessment.
    #[error("{0}")]
    Locked(String),
    /// A worker's claim on a job is no longer current: its lease ran out and the job was
    /// taken back (fencing); the worker must stop the job.
    #[error("{0}")]
    LeaseLost(String),
    /// The input is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// An upload exceeded its limit.
    #[error("upload larger than the limit of {limit} bytes")]
    TooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
}

impl StoreError {
    /// Whether the database refused the change for a unique constraint.
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Database(sqlx::Error::Database(error)) => error.is_unique_violation(),
            _ => false,
        }
    }
}
