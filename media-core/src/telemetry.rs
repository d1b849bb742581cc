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

/// Installs the global subscriber once; later calls do nothing.
pub fn init() {
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

#[cfg(test)]
mod tests {
    use super::*;
    use tracing::Level;

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
