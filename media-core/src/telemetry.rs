//! Structured logs: JSON in Lambda (or with `LOG_FORMAT=json`), compact text on a terminal.

use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Levels when `RUST_LOG` is unset or unreadable: the SDK's per-request lines are noise.
const DEFAULT_LEVELS: &str = "info,aws_config=warn,aws_smithy_runtime=warn";

/// `RUST_LOG` as comma-separated `target=level` directives and a bare default level
/// (`info,media_core=debug`): a `Targets` filter, not an `EnvFilter`, whose span and field
/// matching needs the regex engine and its Unicode tables in every binary.
fn levels(rust_log: Option<&str>) -> Targets {
    rust_log
        .and_then(|text| text.parse().ok())
        .unwrap_or_else(|| DEFAULT_LEVELS.parse().expect("the default levels parse"))
}

/// When [`init`] first ran: where the function's own code starts.
static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// Installs the global subscriber once; later calls do nothing.
pub fn init() {
    STARTED.get_or_init(std::time::Instant::now);
    let json = std::env::var("LOG_FORMAT")
        .map(|f| f == "json")
        .unwrap_or(false)
        || std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
    let filter = levels(std::env::var("RUST_LOG").ok().as_deref());
    // stderr: stdout is for answers (`devstack invoke` prints JSON there); Lambda keeps both.
    let layer = tracing_subscriber::fmt::layer()
        .with_target(false)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let registry = tracing_subscriber::registry().with(filter);
    let _ = if json {
        registry
            .with(
                layer
                    .json()
                    .flatten_event(true)
                    .with_current_span(false)
                    .without_time(),
            )
            .try_init()
    } else {
        registry.with(layer.compact()).try_init()
    };
}

/// Logs `init done` once the function is ready for its first event, with the time since the
/// process started (the kernel's clock, in 10 ms ticks: loading the binary and its libraries
/// included) and since [`init`] (the function's own setup: configuration, SDK clients, a
/// model). Lambda's REPORT line gives the whole init phase as `Init Duration`
/// ("Lambda execution environment lifecycle",
/// https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html).
pub fn init_done() {
    let since_init_ms = STARTED
        .get()
        .map(|started| started.elapsed().as_millis() as u64);
    tracing::info!(
        since_process_start_ms = process_age_ms(),
        since_init_ms,
        "init done"
    );
}

/// USER_HZ, the unit of /proc's process times: 100 on every architecture Lambda runs
/// (x86_64 and arm64).
const CLOCK_TICKS_PER_SECOND: f64 = 100.0;

/// How long ago this process started, from `/proc/self/stat` (field 22, `starttime`, in
/// clock ticks since boot) and `/proc/uptime`.
fn process_age_ms() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let uptime = std::fs::read_to_string("/proc/uptime").ok()?;
    age_ms(&stat, &uptime)
}

fn age_ms(stat: &str, uptime: &str) -> Option<u64> {
    // The command name (field 2) is in parentheses and may hold spaces: count from its end.
    let fields = &stat[stat.rfind(')')? + 1..];
    let start_ticks: f64 = fields.split_whitespace().nth(19)?.parse().ok()?;
    let uptime_s: f64 = uptime.split_whitespace().next()?.parse().ok()?;
    let age_s = uptime_s - start_ticks / CLOCK_TICKS_PER_SECOND;
    Some((age_s.max(0.0) * 1e3).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

    #[test]
    fn the_process_age_is_uptime_less_the_start_time() {
        // proc(5): field 22 is starttime; the name may hold spaces and parentheses.
        let stat = "4242 (boot (strap) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 \
                    1 0 12345 1000000 200 18446744073709551615";
        assert_eq!(age_ms(stat, "200.00 300.00\n"), Some(76_550));
        assert_eq!(age_ms("garbage", "200.00 300.00"), None);
        assert!(
            process_age_ms().is_some(),
            "this process's own /proc entries read"
        );
    }

    #[test]
    fn rust_log_sets_the_default_level_and_per_target_levels() {
        let filter = levels(Some("warn,media_core=debug"));
        assert!(filter.would_enable("media_core::aws", &Level::DEBUG));
        assert!(!filter.would_enable("aws_config", &Level::INFO));
        assert!(filter.would_enable("aws_config", &Level::WARN));
    }

    #[test]
    fn without_rust_log_the_sdk_logs_warnings_only_and_the_rest_info() {
        let filter = levels(None);
        assert!(filter.would_enable("content_updated", &Level::INFO));
        assert!(!filter.would_enable("content_updated", &Level::DEBUG));
        assert!(!filter.would_enable("aws_smithy_runtime::client", &Level::INFO));
        assert!(filter.would_enable("aws_config::meta", &Level::WARN));
    }
}
