//! The command line: every subcommand and flag, as clap derives them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Assess consumer IoT devices against ETSI EN 303 645.
#[derive(Parser)]
#[command(name = "provisor", version, about, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// List the provisions and conditions of the standard, or show one provision.
    Catalog(CatalogArgs),
    /// Write a new assessment file (a commented template, or by asking the questions).
    Init(InitArgs),
    /// Check an assessment: applicability, verdicts, conformance. Exit 1 when not conformant.
    Check(CheckArgs),
    /// Write a report of an assessment.
    Report(ReportArgs),
    /// Print or write the TS 103 701 test plan of an assessment: every test case of every
    /// applicable provision, what it needs, and which checks bear on it.
    Plan(PlanArgs),
    /// List the failing findings that decide verdicts, and accept one (false positive or
    /// accepted risk) with a reason.
    Triage(TriageArgs),
    /// Record the review of an assessment: approval (with the SHA-256 of everything it
    /// covers) or a request for changes.
    Review(ReviewArgs),
    /// Write an assessment with its scans, evidence and reports into one tar with a
    /// manifest of hashes, signed when a key is given.
    Bundle(BundleArgs),
    /// Check a bundle against its manifest (and its signature against a key), and
    /// extract it.
    Verify(VerifyArgs),
    /// Show verdict changes between two assessments. Exit 1 on a regression.
    Diff(DiffArgs),
    /// Carry an assessment into a newer edition of the standard, and say what needs a
    /// person (questions to answer, statements to confirm, new provisions).
    Migrate(MigrateArgs),
    /// Examine a device: its firmware image. Exit 1 when a finding fails.
    Scan(ScanArgs),
    /// Write every file a firmware scan sees into a directory, for a person to look at,
    /// with provisor-manifest.json: the containers opened and each file's container,
    /// mode and SHA-256. Nothing leaves the directory; links point inside it; no device
    /// nodes or set-uid bits are made. Exit 1 when something could not be unpacked.
    Unpack(UnpackArgs),
    /// Manage the security advisories scans match components against.
    Advisories(AdvisoriesArgs),
    /// Run the team server: the REST API over an embedded SQLite database (or
    /// PostgreSQL), for manufacturers, labs and reviewers working on assessments together.
    Serve(ServeArgs),
    /// Administer a server's data: create an admin, check the audit log, back up, restore.
    Admin(AdminArgs),
    /// Send an assessment with its scans and evidence to a team server: a new assessment
    /// of a release, or the next revision of one pulled before. The API token comes from
    /// PROVISOR_TOKEN or --token-file, never from the command line.
    Push(PushArgs),
    /// Fetch an assessment from a team server into a directory, byte for byte.
    Pull(PullArgs),
    /// Run scan jobs from a server's queue (`serve` starts these itself; start more on
    /// other machines that share the database and the blob directory).
    Worker(WorkerArgs),
}

#[derive(Args)]
pub struct UnpackArgs {
    /// The image file (or a directory holding an extracted root filesystem).
    pub image: PathBuf,
    /// The directory to write into: new, or empty.
    #[arg(long, short)]
    pub output: PathBuf,
}

#[derive(Args)]
pub struct WorkerArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// The worker's id in the queue (default: host name and process id).
    #[arg(long)]
    pub id: Option<String>,
    /// How long one job may run (seconds) before the worker gives it up and exits.
    #[arg(long, default_value_t = 3600)]
    pub job_timeout: u64,
    /// Stop when the queue is empty instead of waiting for jobs.
    #[arg(long)]
    pub until_empty: bool,
    /// How long its lease on a job lasts without a heartbeat (seconds).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(2..=3600))]
    pub lease: u64,
    /// The most memory the worker may use (bytes, or with K, M, G): a scan that needs
    /// more fails, and the worker process ends, instead of the machine running out.
    #[arg(long, default_value = "8G", value_name = "SIZE")]
    pub memory_limit: String,
    /// End when standard input closes (how `serve` ties its workers' lives to its own,
    /// even when it is killed).
    #[arg(long, hide = true)]
    pub exit_with_parent: bool,
    /// Take jobs from a team server's API (https://provisor.example) instead of the
    /// database: a worker on another machine, which needs an API token with the work
    /// scope (PROVISOR_TOKEN or --token-file) and no database credentials.
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// A file holding the worker's API token; PROVISOR_TOKEN is used when absent.
    #[arg(long, value_name = "FILE", requires = "server")]
    pub token_file: Option<PathBuf>,
    /// PEM certificates to trust for the server instead of the public roots.
    #[arg(long, value_name = "FILE", requires = "server")]
    pub ca_cert: Option<PathBuf>,
    /// Where a worker on another machine keeps the images it downloads while it scans
    /// them (default: the system's temporary directory).
    #[arg(long, value_name = "DIR", requires = "server")]
    pub work_dir: Option<PathBuf>,
}

/// Where a server keeps its data.
#[derive(Args, Clone)]
pub struct StoreArgs {
    /// The data directory: the SQLite database, the blobs, the server key. Defaults to
    /// the platform's data directory ($XDG_DATA_HOME/provisor or ~/.local/share/provisor).
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// A PostgreSQL URL (postgres://USER@HOST/DB) instead of the embedded SQLite
    /// database; the blob directory then belongs on storage every server shares.
    /// Read from PROVISOR_DATABASE when absent, which keeps a password off the
    /// command line.
    #[arg(
        long,
        value_name = "URL",
        env = "PROVISOR_DATABASE",
        hide_env_values = true
    )]
    pub database: Option<String>,
    /// Where the server keeps its blobs (images, evidence, reports): `s3://BUCKET[/PREFIX]`
    /// for S3-compatible object storage (endpoint, region and keys from AWS_ENDPOINT,
    /// AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY; needs a build with the `s3`
    /// feature), or left out for the data directory. Read from PROVISOR_BLOBS when absent.
    #[arg(long, value_name = "URL", env = "PROVISOR_BLOBS")]
    pub blobs: Option<String>,
}

#[derive(Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// The address and port to listen on.
    #[arg(long, default_value = "127.0.0.1:8303", value_name = "ADDR:PORT")]
    pub listen: std::net::SocketAddr,
    /// The URL people reach the server at, when a reverse proxy stands in front of it
    /// (https:// makes cookies Secure).
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// A proxy (address or CIDR range) whose X-Forwarded-For is believed for the client
    /// address; repeat for several.
    #[arg(long, value_name = "CIDR")]
    pub trusted_proxy: Vec<String>,
    /// The largest upload accepted (bytes, or with K, M, G).
    #[arg(long, default_value = "4G", value_name = "SIZE")]
    pub max_upload: String,
    /// A PEM certificate chain to serve HTTPS with (needs --tls-key).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// How log lines are written.
    #[arg(long, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// How many worker processes run scans (0: none here; workers elsewhere share the
    /// queue).
    #[arg(long, default_value_t = 1)]
    pub workers: usize,
    /// How long one scan may run (seconds).
    #[arg(long, default_value_t = 3600)]
    pub job_timeout: u64,
    /// The most memory one worker may use (bytes, or with K, M, G).
    #[arg(long, default_value = "8G", value_name = "SIZE")]
    pub worker_memory: String,
    /// How long a worker's lease on a job lasts without a heartbeat (seconds): how soon
    /// the job of a worker that vanished runs again.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(2..=3600))]
    pub job_lease: u64,
    /// A host (or host:port) advisory feeds may be fetched from; repeat for several.
    /// Nothing else is reached, and no redirect is followed. Read from
    /// PROVISOR_ALLOW_FETCH (comma-separated) when absent.
    #[arg(
        long,
        value_name = "HOST[:PORT]",
        env = "PROVISOR_ALLOW_FETCH",
        value_delimiter = ','
    )]
    pub allow_fetch: Vec<String>,
    /// The directory advisory feeds given as paths are read from (default DATA/feeds).
    #[arg(long, value_name = "DIR")]
    pub feeds: Option<PathBuf>,
    /// How often the monitor looks for due advisory feeds (seconds).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub monitor_poll: u64,
    /// The SMTP relay e-mail digests go through: smtp+starttls://HOST[:PORT],
    /// smtps://HOST[:PORT], or smtp://HOST:PORT on loopback (needs --smtp-from; a user
    /// and password from PROVISOR_SMTP_USER and PROVISOR_SMTP_PASSWORD). Read from
    /// PROVISOR_SMTP when absent.
    #[arg(
        long,
        value_name = "URL",
        env = "PROVISOR_SMTP",
        requires = "smtp_from"
    )]
    pub smtp: Option<String>,
    /// The address digests are sent from.
    #[arg(long, value_name = "MAILBOX", env = "PROVISOR_SMTP_FROM")]
    pub smtp_from: Option<String>,
    /// How often e-mail digests are sent (minutes).
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=10080))]
    pub digest_minutes: u64,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum LogFormat {
    /// Lines for people.
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

#[derive(Args)]
pub struct AdminArgs {
    #[command(subcommand)]
    pub action: AdminAction,
}

#[derive(Subcommand)]
pub enum AdminAction {
    /// Create a server admin (the password is read from standard input, or asked for
    /// on a terminal).
    Create(AdminCreateArgs),
    /// Check the audit log: every entry's hash and link, the signed checkpoints, the
    /// heads issued reports record. Exit 1 when it does not hold.
    AuditVerify(StoreArgs),
    /// Copy the database, the blobs and the server key into a new directory while the
    /// server runs (SQLite: VACUUM INTO; PostgreSQL: pg_dump).
    Backup(BackupArgs),
    /// Restore a backup into an empty data directory (and, for PostgreSQL, an empty
    /// database with pg_restore).
    Restore(RestoreArgs),
}

#[derive(Args)]
pub struct AdminCreateArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// The login name.
    #[arg(long)]
    pub login: String,
    /// The name shown.
    #[arg(long)]
    pub name: String,
}

#[derive(Args)]
pub struct BackupArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// The directory to write the backup into (must not exist).
    #[arg(long, short)]
    pub output: PathBuf,
}

#[derive(Args)]
pub struct RestoreArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    /// The backup directory `admin backup` wrote.
    #[arg(long)]
    pub from: PathBuf,
}

/// How to reach a team server.
#[derive(Args, Clone)]
pub struct RemoteArgs {
    /// The server's URL (http://127.0.0.1:8303). Read from PROVISOR_SERVER when absent,
    /// or from the directory's pull record.
    #[arg(long, env = "PROVISOR_SERVER", value_name = "URL")]
    pub server: Option<String>,
    /// A file holding the API token; PROVISOR_TOKEN is used when absent.
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// PEM certificates to trust instead of the public roots (a server with a
    /// certificate of a private CA, or self-signed).
    #[arg(long, value_name = "FILE", env = "PROVISOR_CA_CERT")]
    pub ca_cert: Option<PathBuf>,
}

#[derive(Args)]
pub struct PushArgs {
    /// The assessment file (TOML); its scans, evidence and wording go with it.
    pub assessment: PathBuf,
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// Create a new assessment of this release (its id).
    #[arg(long, value_name = "ID", conflicts_with = "to")]
    pub release: Option<String>,
    /// Make the next revision of this assessment (its id); the directory's pull record
    /// says which, and which revision it was pulled at.
    #[arg(long, value_name = "ID")]
    pub to: Option<String>,
}

#[derive(Args)]
pub struct PullArgs {
    /// The assessment's id.
    pub id: String,
    #[command(flatten)]
    pub remote: RemoteArgs,
    /// The directory to write into (must not exist, or hold an earlier pull of the
    /// same assessment).
    #[arg(long, short)]
    pub output: PathBuf,
    /// A revision other than the current one.
    #[arg(long)]
    pub revision: Option<i64>,
}

#[derive(Args)]
pub struct MigrateArgs {
    /// The assessment file to carry over (TOML).
    pub assessment: PathBuf,
    /// The edition to carry it into.
    #[arg(long, default_value = provisor_catalog::DEFAULT_EDITION)]
    pub to: String,
    /// Where to write the new assessment; standard output when absent. Paths in it
    /// stay relative, so write it beside the old one.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Replace an existing output file.
    #[arg(long)]
    pub force: bool,
}

#[derive(Args)]
pub struct AdvisoriesArgs {
    #[command(subcommand)]
    pub action: AdvisoriesAction,
}

#[derive(Subcommand)]
pub enum AdvisoriesAction {
    /// Import OSV advisories (JSON files, one advisory or an array each) from a directory
    /// into a database file for `scan firmware --advisories` and `scan host --advisories`.
    Import {
        /// The directory of OSV files (searched recursively), or one file.
        source: PathBuf,
        /// The database file to write.
        #[arg(long, short)]
        output: PathBuf,
    },
}

#[derive(Args)]
pub struct ScanArgs {
    #[command(subcommand)]
    pub target: ScanTarget,
}

#[derive(Subcommand)]
pub enum ScanTarget {
    /// Unpack a firmware image (or an extracted root filesystem directory) and check it.
    Firmware(FirmwareArgs),
    /// Assess a live device over the network: discover its open ports, identify what
    /// speaks on them, and check it.
    Host(HostArgs),
}

#[derive(Args)]
pub struct HostArgs {
    /// The device: an IPv4 or IPv6 address, or a name.
    pub host: String,
    /// TCP ports to scan: a list of ports and ranges (22,80,8000-8100), or `all`.
    #[arg(long, default_value = "all")]
    pub ports: String,
    /// Connections in flight at once during discovery.
    #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=16384))]
    pub concurrency: u32,
    /// How long a connection may take before the port counts as silent (milliseconds).
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u64).range(10..=60000))]
    pub connect_timeout: u64,
    /// How long to wait for a service to speak first (milliseconds); a slower banner
    /// still identifies the service in the answer to a probe.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(10..=60000))]
    pub banner_timeout: u64,
    /// How long to wait for a service to answer a probe (milliseconds).
    #[arg(long, default_value_t = 1500, value_parser = clap::value_parser!(u64).range(10..=60000))]
    pub answer_timeout: u64,
    /// The manufacturer's declared interfaces (and a known-good credential for each),
    /// as TOML: undeclared open ports fail, and lockouts are told from throttling.
    #[arg(long)]
    pub ixit: Option<PathBuf>,
    /// Send no credentials at all: no default-credential or brute-force tests.
    #[arg(long)]
    pub no_auth_tests: bool,
    /// Do not probe the usual IoT UDP services (TFTP, SNMP, SSDP, mDNS, CoAP).
    #[arg(long)]
    pub no_udp: bool,
    /// Login attempts per interface, at most (default credentials and guessing runs).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub max_login_attempts: u32,
    /// Confirms that you may try credentials against this host (needed for a host that
    /// is not this machine; asked interactively on a terminal otherwise).
    #[arg(long)]
    pub i_am_authorised: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: ScanFormat,
    /// Where to write the output; standard output when absent.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Attach the findings to this assessment: write them to scans/ beside it and add
    /// its [[scan]] entry.
    #[arg(long)]
    pub assessment: Option<PathBuf>,
    /// Match the software versions services name against this advisory database
    /// (written by `provisor advisories import`).
    #[arg(long)]
    pub advisories: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ScanFormat {
    Text,
    Json,
    Sarif,
}

#[derive(Args)]
pub struct FirmwareArgs {
    /// The image file, or a directory holding an extracted root filesystem.
    pub image: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: ScanFormat,
    /// Where to write the output; standard output when absent.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Also write the components found as a CycloneDX 1.5 SBOM (JSON) to this file.
    #[arg(long)]
    pub sbom: Option<PathBuf>,
    /// Attach the findings to this assessment: write them to scans/ beside it and add
    /// its [[scan]] entry.
    #[arg(long)]
    pub assessment: Option<PathBuf>,
    /// Match the components found against this advisory database (written by
    /// `provisor advisories import`).
    #[arg(long)]
    pub advisories: Option<PathBuf>,
    /// Print the containers opened (filesystems, archives, wrappers, streams) as a tree
    /// before the findings (text output; JSON always lists them).
    #[arg(long)]
    pub tree: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum CatalogFormat {
    Table,
    Json,
    Md,
}

#[derive(Args)]
pub struct CatalogArgs {
    /// `list` (the default) or `show ID`.
    #[arg(value_name = "ACTION")]
    pub action: Option<String>,
    /// The provision to show, for `show`.
    #[arg(value_name = "ID")]
    pub id: Option<String>,
    /// The edition of the standard.
    #[arg(long, default_value = provisor_catalog::DEFAULT_EDITION)]
    pub edition: String,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: CatalogFormat,
    /// Show the official wording from this file (docs/wording.md) in place of
    /// provisor's summaries.
    #[arg(long, value_name = "FILE")]
    pub wording: Option<PathBuf>,
}

#[derive(Args)]
pub struct InitArgs {
    /// Where to write the assessment file.
    #[arg(default_value = "assessment.toml")]
    pub path: PathBuf,
    /// Ask the condition questions one at a time and fill in the answers.
    #[arg(long, short)]
    pub interactive: bool,
    /// Replace an existing file.
    #[arg(long)]
    pub force: bool,
    /// The edition of the standard.
    #[arg(long, default_value = provisor_catalog::DEFAULT_EDITION)]
    pub edition: String,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum CheckFormat {
    Table,
    Json,
}

#[derive(Args)]
pub struct CheckArgs {
    /// The assessment file (TOML).
    pub assessment: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: CheckFormat,
    /// The official wording of the provisions (docs/wording.md), instead of the file
    /// the assessment names.
    #[arg(long, value_name = "FILE")]
    pub wording: Option<PathBuf>,
    /// Also show a regulatory regime's view (`uk-psti`: the UK PSTI regulations'
    /// three requirements), and exit by it: 0 when every requirement is met.
    #[arg(long, value_name = "REGIME")]
    pub regime: Option<String>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum ReportFormat {
    Html,
    /// The lab report as PDF.
    Pdf,
    Md,
    Json,
    Sarif,
    IcsCsv,
    Junit,
    /// OSCAL system security plan (the ICS).
    OscalSsp,
    /// OSCAL assessment plan (the test plan).
    OscalAp,
    /// OSCAL assessment results (the verdicts).
    OscalAr,
    /// A draft of the statement of compliance the UK PSTI regulations require
    /// (Markdown).
    PstiStatement,
}

#[derive(Args)]
pub struct ReportArgs {
    /// The assessment file (TOML).
    pub assessment: PathBuf,
    /// Report format.
    #[arg(long, value_enum)]
    pub format: ReportFormat,
    /// Where to write the report; standard output when absent.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// The official wording of the provisions (docs/wording.md), instead of the file
    /// the assessment names.
    #[arg(long, value_name = "FILE")]
    pub wording: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum PlanFormat {
    Table,
    Md,
    Csv,
    Json,
}

#[derive(Args)]
pub struct PlanArgs {
    /// The assessment file (TOML); a self-assessment is planned as a lab assessment.
    pub assessment: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: PlanFormat,
    /// Where to write the plan; standard output when absent.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum AcceptKind {
    FalsePositive,
    AcceptedRisk,
}

#[derive(Args)]
pub struct TriageArgs {
    /// The assessment file (TOML).
    pub assessment: PathBuf,
    /// Print an `[[accept]]` stub for every failing finding not yet accepted, to fill in
    /// and paste into the assessment.
    #[arg(long, conflicts_with = "accept")]
    pub stubs: bool,
    /// Accept the finding with this id (or an unambiguous prefix of it): adds an
    /// `[[accept]]` entry to the assessment.
    #[arg(long, value_name = "FINDING", requires_all = ["kind", "reason", "by"])]
    pub accept: Option<String>,
    /// Why the finding is accepted: the check is wrong, or the risk is accepted.
    #[arg(long, value_enum)]
    pub kind: Option<AcceptKind>,
    /// Why it does not count.
    #[arg(long)]
    pub reason: Option<String>,
    /// Who accepts it.
    #[arg(long)]
    pub by: Option<String>,
    /// The last day the acceptance holds (YYYY-MM-DD); for good when absent.
    #[arg(long)]
    pub until: Option<String>,
}

#[derive(Args)]
pub struct ReviewArgs {
    /// The assessment file (TOML).
    pub assessment: PathBuf,
    /// Approve the assessment as it is now.
    #[arg(
        long,
        conflicts_with = "request_changes",
        required_unless_present = "request_changes"
    )]
    pub approve: bool,
    /// Send it back to the assessor.
    #[arg(long)]
    pub request_changes: bool,
    /// Who reviews.
    #[arg(long)]
    pub reviewer: String,
    /// The report's id, printed on every page (needed the first time).
    #[arg(long)]
    pub report_id: Option<String>,
    /// Who performed the assessment (needed the first time).
    #[arg(long)]
    pub assessor: Option<String>,
    /// The report's revision; by default the same, or the next one when the previous
    /// approval covered other content.
    #[arg(long)]
    pub revision: Option<u32>,
}

#[derive(Args)]
pub struct BundleArgs {
    /// The assessment file (TOML).
    pub assessment: PathBuf,
    /// The bundle to write (a tar).
    #[arg(long, short)]
    pub output: PathBuf,
    /// Sign the manifest with this OpenSSH Ed25519 private key (an encrypted key's
    /// passphrase comes from PROVISOR_KEY_PASSPHRASE).
    #[arg(long, value_name = "KEY")]
    pub sign: Option<PathBuf>,
}

#[derive(Args)]
pub struct VerifyArgs {
    /// The bundle (a tar written by `provisor bundle`).
    pub bundle: PathBuf,
    /// The OpenSSH public key (KEY.pub) the manifest must be signed with.
    #[arg(long, value_name = "KEY.pub")]
    pub key: Option<PathBuf>,
    /// After verifying, extract the members into this new directory.
    #[arg(long, value_name = "DIR")]
    pub extract: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum DiffFormat {
    Text,
    Json,
}

#[derive(Args)]
pub struct DiffArgs {
    /// The earlier assessment: a TOML assessment file or `provisor.assessment/2` JSON.
    pub old: PathBuf,
    /// The later assessment, in either form.
    pub new: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    pub format: DiffFormat,
}
