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
        let failed = |reason: String| DirectError::Download {
            url: url.to_owned(),
            reason,
        };
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| DirectError::BadRequest(format!("imageUrl {url:?}: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(DirectError::BadRequest(format!(
                "imageUrl must be http or https, not {:?}",
                parsed.scheme()
            )));
        }
        let max_bytes = self.settings.limits.max_bytes;
        let too_large = || DirectError::TooLarge {
            what: url.to_owned(),
            max_bytes,
        };
        let client = if self.settings.allow_private_urls {
            self.http.clone()
        } else {
            self.public_only_client(&parsed).await?
        };
        let mut response = client
            .get(parsed)
            .send()
            .await
            .map_err(|e| failed(e.to_string()))?;
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
        let addresses: Vec<std::net::SocketAddr> =
            tokio::net::lookup_host((host.trim_matches(['[', ']']), port))
                .await
                .map_err(|e| refused(format!("cannot resolve: {e}")))?
                .collect();
        if addresses.is_empty() {
            return Err(refused("resolves to no address".into()));
        }
        if let Some(internal) = addresses.iter().find(|a| !is_public_address(a.ip())) {
            return Err(refused(format!(
                "resolves to {}, which is not a public address",
                internal.ip()
            )));
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

/// Address blocks that are not the public internet: IANA's IPv4 and IPv6 special-purpose
/// address registries (RFC 6890 and its updates), each block whose "Globally Reachable" is
/// false or which reaches another network (NAT64, 6to4, Teredo, IPv4-compatible): this
/// network, private, shared (CGN), loopback, link-local, the IETF protocol block, documentation,
/// benchmarking, 6to4 relay, multicast, reserved and broadcast.
const NOT_PUBLIC: &[&str] = &[
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.88.99.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "::/96",
    "::1/128",
    "64:ff9b::/96",
    "64:ff9b:1::/48",
    "100::/64",
    "2001::/23",
    "2001:db8::/32",
    "2002::/16",
    "3fff::/20",
    "fc00::/7",
    "fe80::/10",
    "ff00::/8",
];

/// Whether an address is on the public internet: outside every block of [`NOT_PUBLIC`]; an
/// IPv4-mapped IPv6 address is judged as its IPv4 address.
pub fn is_public_address(ip: std::net::IpAddr) -> bool {
    let ip = match ip {
        std::net::IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, std::net::IpAddr::V4),
        v4 => v4,
    };
    !NOT_PUBLIC.iter().any(|block| {
        block
            .parse::<ipnet::IpNet>()
            .expect("a network in NOT_PUBLIC")
            .contains(&ip)
    })
}
