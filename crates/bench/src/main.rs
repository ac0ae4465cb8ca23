//! `portcullis-bench`: performance figures, each with a baseline measured in the same run.
//!
//! Every figure is printed as `name: value unit (ratio x.xx vs baseline)`.

mod access_review;
mod approval_flow;
mod bulk_grant;
mod group_join;
mod harness;
mod read_throughput;
mod scim_sync;
mod webhook_fanout;
mod webhook_isolation;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "portcullis-bench")]
struct Cli {
    /// Also run read-throughput against this PostgreSQL database (a fresh schema in it).
    #[arg(long, env = "PORTCULLIS_BENCH_POSTGRES_URL", global = true)]
    postgres_url: Option<String>,
    /// Fewer rounds: a smoke run that only proves the benchmarks work.
    #[arg(long, global = true)]
    quick: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Every benchmark.
    All,
    /// `POST /api/v1/WorkApps/Accesses` with 10,000 entries vs. a raw SQLite insert of the same rows.
    BulkGrant,
    /// 1,000 requests through a two-step policy, sequential and 32-way concurrent.
    ApprovalFlow,
    /// 1,000 users joining a group with 5 default apps, implicitly approved, vs. raw inserts.
    GroupJoin,
    /// 10,000 webhook events to a local receiver: events/s and p99 lag.
    WebhookFanout,
    /// A healthy organization's webhook latency while another floods 50 dead receivers, vs. none.
    WebhookIsolation,
    /// Reads at 64 connections vs. a bare in-memory handler; auth overhead; RSS.
    ReadThroughput,
    /// An access review over 50,000 accesses: starting it, 10,000 Revoke decisions, closing it,
    /// vs. the raw SQL copy and delete of the same rows.
    AccessReview,
    /// An identity provider's first sync over SCIM: 10,000 users and 500 groups with their
    /// members, by 1 and by 8 clients; the p99 of a `userName eq` lookup at that size.
    ScimSync,
}

/// mimalloc instead of the system allocator: a request allocates many small, short-lived
/// values (rows, JSON), where glibc's malloc was a fifth of the CPU time of a read.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    // Warnings of the server under test (a failing webhook step, say) go to stderr.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                // The bench's own bulk SQL (generating a large directory) is slow on purpose.
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,sqlx::query=error")),
        )
        .with_writer(std::io::stderr)
        .init();
    let rounds = if cli.quick { 1 } else { 5 };
    let flows = if cli.quick { 100 } else { 1000 };
    let fanout_side = if cli.quick { 20 } else { 100 };
    // Healthy events, one every 50 ms: 20 s (beyond the 15 s timeout of the first dead wave).
    let isolation_events = if cli.quick { 40 } else { 400 };
    // users × apps accesses under review, and how many are revoked.
    let (review_users, review_apps, revocations) =
        if cli.quick { (200, 25, 1_000) } else { (1_000, 50, 10_000) };
    let (scim_users, scim_groups) = if cli.quick { (300, 15) } else { (10_000, 500) };
    match cli.command {
        Command::All => {
            read_all(rounds, cli.postgres_url.as_deref(), cli.quick).await;
            bulk_grant::run(rounds).await;
            approval_flow::run(flows).await;
            group_join::run(rounds, flows).await;
            webhook_fanout::run(fanout_side).await;
            webhook_isolation::run(isolation_events).await;
            access_reviews(review_users, review_apps, revocations).await;
            scim_sync::run(scim_users, scim_groups).await;
        }
        Command::BulkGrant => bulk_grant::run(rounds).await,
        Command::ApprovalFlow => approval_flow::run(flows).await,
        Command::GroupJoin => group_join::run(rounds, flows).await,
        Command::WebhookFanout => webhook_fanout::run(fanout_side).await,
        Command::WebhookIsolation => webhook_isolation::run(isolation_events).await,
        Command::ReadThroughput => read_all(rounds, cli.postgres_url.as_deref(), cli.quick).await,
        Command::AccessReview => access_reviews(review_users, review_apps, revocations).await,
        Command::ScimSync => scim_sync::run(scim_users, scim_groups).await,
    }
}

/// The access review benchmark: Automatic apps at full size, then Manual apps with a tenth of
/// the revocations (each opens a request).
async fn access_reviews(users: usize, apps: usize, revocations: usize) {
    use portcullis_domain::ProvisioningMode::{Automatic, Manual};
    access_review::run(users, apps, revocations, Automatic).await;
    access_review::run(users, apps, revocations / 10, Manual).await;
}

/// Reads on SQLite, on PostgreSQL when given, and on SQLite with a large directory (100,000
/// users and 1,000,000 accesses; a tenth of that with `--quick`) against the small figures.
async fn read_all(rounds: usize, postgres_url: Option<&str>, quick: bool) {
    let small = read_throughput::run(rounds, None, "sqlite", None).await;
    if let Some(url) = postgres_url {
        read_throughput::run(rounds, Some(url), "postgres", None).await;
    }
    let scale = read_throughput::Scale { users: if quick { 10_000 } else { 100_000 }, apps: 10 };
    read_throughput::run_at_scale(rounds, &small, scale).await;
}
