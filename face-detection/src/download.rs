//! Downloading an `imageUrl` for a direct call: http(s) only, size-capped while reading,
//! and never to an address inside (loopback, private, link-local...), resolved once and
//! pinned so a second lookup cannot rebind it.

use std::time::Duration;

use media_core::ports::{FaceItems, ObjectStore, PresignGet};

use crate::direct::DirectError;
use crate::FaceDetection;

impl<O: ObjectStore + PresignGet, I: FaceItems> FaceDetection<O, I> {
    /// Downloads an http(s) URL, refusing bodies over the byte limit before and while reading.
    pub(crate) async fn download(&self, url: &str) -> Result<Vec<u8>, DirectError> {
        let failed = |reason: String| DirectError::Download { url: url.to_owned(), reason };
        let parsed = reqwest::Url::parse(url).map_err(|e| DirectError::BadRequest(format!("imageUrl {url:?}: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(DirectError::BadRequest(format!("imageUrl must be http or https, not {:?}", parsed.scheme())));
        }
        let max_bytes = self.settings.limits.max_bytes;
        let too_large = || DirectError::TooLarge { what: url.to_owned(), max_bytes };
        let client = if self.settings.allow_private_urls {
            self.http.clone()
        } else {
            self.public_only_client(&parsed).await?
        };
        let mut response = client.get(parsed).send().await.map_err(|e| failed(e.to_string()))?;
        if !response.status().is_success() {
            return Err(failed(format!("HTTP {}", response.status())));
        }
        if response.content_length().is_some_and(|n| n > max_bytes) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| failed(e.to_string()))? {
            if (body.len() + chunk.len()) as u64 > max_bytes {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// A client bound to the URL's host's public addresses: every address the host resolves
    /// to is checked, the connection is pinned to them (no second lookup to rebind), and
    /// redirects are not followed (they could lead inside).
    async fn public_only_client(&self, url: &reqwest::Url) -> Result<reqwest::Client, DirectError> {
        let refused = |reason: String| DirectError::BadRequest(format!("imageUrl {url}: {reason}"));
        let host = url.host_str().ok_or_else(|| refused("no host".into()))?;
        let port = url.port_or_known_default().unwrap_or(443);
        let addresses: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.trim_matches(['[', ']']), port))
            .await
            .map_err(|e| refused(format!("cannot resolve: {e}")))?
            .collect();
        if addresses.is_empty() {
            return Err(refused("resolves to no address".into()));
        }
        if let Some(internal) = addresses.iter().find(|a| !is_public_address(a.ip())) {
            return Err(refused(format!("resolves to {}, which is not a public address", internal.ip())));
        }
        reqwest::Client::builder()
            .timeout(self.settings.download_timeout)
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("media-share-face-detection")
            .resolve_to_addrs(host, &addresses)
            .build()
            .map_err(|e| refused(e.to_string()))
    }
}

/// Whether an address is on the public internet (not loopback, private, link-local, shared,
/// documentation, multicast or unspecified).
pub fn is_public_address(ip: std::net::IpAddr) -> bool {
    match ip {
        std::net::IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b)))
        }
        std::net::IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_address(std::net::IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}
