//! Serves the built web client and its run-time `config.json` on 127.0.0.1.

use std::path::PathBuf;

use anyhow::Result;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::{Json, Router};
use tokio_util::sync::CancellationToken;
use tower_http::services::{ServeDir, ServeFile};

pub async fn serve_client(
    listener: tokio::net::TcpListener,
    client_dir: PathBuf,
    config: serde_json::Value,
    shutdown: CancellationToken,
) -> Result<()> {
    let config_route = get(move || {
        let config = config.clone();
        async move {
            (
                [(axum::http::header::CACHE_CONTROL, "no-cache")],
                Json(config),
            )
        }
    });
    let router = if client_dir.join("index.html").exists() {
        let index = ServeFile::new(client_dir.join("index.html"));
        Router::new()
            .route("/config.json", config_route)
            .fallback_service(ServeDir::new(&client_dir).fallback(index))
    } else {
        let message = format!(
            "<!doctype html><title>media-sharing</title><p>The web client is not built at {}: run <code>make client</code>.</p>",
            client_dir.display()
        );
        Router::new()
            .route("/config.json", config_route)
            .fallback(move || {
                let message = message.clone();
                async move { Html(message).into_response() }
            })
    };
    axum::serve(listener, router)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await?;
    Ok(())
}
