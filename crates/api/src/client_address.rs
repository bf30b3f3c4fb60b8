//! The client address of a request: the TCP peer, or, when the peer is a trusted proxy,
//! the right-most address of `X-Forwarded-For` that is not itself a trusted proxy.
//!
//! Each proxy *appends* the address it received the request from, so only the entries
//! added by our own proxies can be believed: the walk goes from the right, skips trusted
//! hops, and stops at the first untrusted one. Whatever a client wrote further left
//! (a spoofed address) is never read. An entry that is not an IP address (`unknown`,
//! `not-an-ip <script>`, an obfuscated RFC 7239 node) ends the walk, and the client is
//! the last address established, so text from a header never becomes a bucket key or
//! an audit value.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The proxies (addresses or CIDR blocks) whose `X-Forwarded-For` is believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

/// A `limits.trusted_proxies` entry that is neither an address nor a CIDR block.
#[derive(Debug, thiserror::Error)]
#[error("limits.trusted_proxies: {entry:?} is neither an IP address nor a CIDR block (like 10.0.0.0/8)")]
pub struct InvalidProxy {
    entry: String,
}

impl TrustedProxies {
    /// No trusted proxy: the client is always the TCP peer.
    pub fn none() -> Self {
        Self::default()
    }

    /// Parses addresses (`10.0.0.7`, `::1`) and CIDR blocks (`10.0.0.0/8`, `fd00::/8`).
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, InvalidProxy> {
        entries
            .iter()
            .map(|entry| {
                let entry = entry.as_ref().trim();
                IpNet::from_str(entry)
                    .map(|net| net.trunc())
                    .or_else(|_| IpAddr::from_str(entry).map(IpNet::from))
                    .map_err(|_| InvalidProxy { entry: entry.to_string() })
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    /// True when no proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// True when `ip` is one of the trusted proxies.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client address of a request that came from `peer` with `headers`: `None`
    /// only when the peer is unknown.
    pub fn client_address(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let mut client = peer?.to_canonical();
        if !self.contains(client) {
            return Some(client);
        }
        // Header lines in order, then their entries, read from the right.
        let lines: Vec<Option<&str>> =
            headers.get_all("x-forwarded-for").iter().map(|value| value.to_str().ok()).collect();
        for line in lines.into_iter().rev() {
            let Some(line) = line else { return Some(client) };
            for entry in line.rsplit(',') {
                let Some(hop) = parse_hop(entry) else { return Some(client) };
                client = hop;
                if !self.contains(hop) {
                    return Some(client);
                }
            }
        }
        Some(client)
    }
}

/// One `X-Forwarded-For` entry: an address, optionally with a port (`192.0.2.1:4711`,
/// `[2001:db8::1]:4711`) or in brackets (`[2001:db8::1]`); anything else is `None`.
fn parse_hop(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    if let Ok(ip) = IpAddr::from_str(entry) {
        return Some(ip.to_canonical());
    }
    if let Ok(socket) = SocketAddr::from_str(entry) {
        return Some(socket.ip().to_canonical());
    }
    let inner = entry.strip_prefix('[')?.strip_suffix(']')?;
    IpAddr::from_str(inner).ok().filter(IpAddr::is_ipv6).map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    fn headers(lines: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for line in lines {
            map.append("x-forwarded-for", HeaderValue::from_str(line).expect("header"));
        }
        map
    }

    fn proxies() -> TrustedProxies {
        TrustedProxies::parse(&["10.0.0.0/8", "192.0.2.1", "fd00::/8"]).expect("parses")
    }

    #[test]
    fn entries_and_blocks_parse_and_garbage_is_a_clear_error() {
        let p = proxies();
        assert!(p.contains(ip("10.200.0.1")) && p.contains(ip("192.0.2.1")) && p.contains(ip("fd00::5")));
        assert!(p.contains(ip("::ffff:10.0.0.1")), "IPv4-mapped peers count as IPv4");
        assert!(!p.contains(ip("192.0.2.2")));
        let err = TrustedProxies::parse(&["10.0.0.0/8", "proxy.internal"]).expect_err("not an address");
        assert!(err.to_string().contains("proxy.internal"), "{err}");
        assert!(TrustedProxies::parse(&["10.0.0.0/33"]).is_err());
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let client = proxies().client_address(Some(ip("203.0.113.9")), &headers(&["198.51.100.1"]));
        assert_eq!(client, Some(ip("203.0.113.9")));
        assert_eq!(
            TrustedProxies::none().client_address(Some(ip("10.0.0.1")), &headers(&["1.2.3.4"])),
            Some(ip("10.0.0.1"))
        );
        assert_eq!(proxies().client_address(None, &headers(&["1.2.3.4"])), None);
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client() {
        // The client wrote "6.6.6.6"; our proxies appended what they saw.
        let h = headers(&["6.6.6.6, 203.0.113.9, 10.1.1.1"]);
        assert_eq!(proxies().client_address(Some(ip("10.0.0.2")), &h), Some(ip("203.0.113.9")));
        // The same across several header lines, in order.
        let h = headers(&["6.6.6.6", "203.0.113.9", "10.1.1.1"]);
        assert_eq!(proxies().client_address(Some(ip("10.0.0.2")), &h), Some(ip("203.0.113.9")));
        // Every hop trusted: the left-most one is the client.
        let h = headers(&["10.9.9.9, 10.1.1.1"]);
        assert_eq!(proxies().client_address(Some(ip("10.0.0.2")), &h), Some(ip("10.9.9.9")));
        // No header: the proxy itself.
        assert_eq!(proxies().client_address(Some(ip("10.0.0.2")), &HeaderMap::new()), Some(ip("10.0.0.2")));
    }

    #[test]
    fn garbage_ends_the_walk_at_the_last_address_established() {
        let p = proxies();
        let peer = Some(ip("10.0.0.2"));
        assert_eq!(p.client_address(peer, &headers(&["not-an-ip <script>"])), Some(ip("10.0.0.2")));
        assert_eq!(p.client_address(peer, &headers(&["203.0.113.9, unknown, 10.1.1.1"])), Some(ip("10.1.1.1")));
        assert_eq!(p.client_address(peer, &headers(&["203.0.113.9,,10.1.1.1"])), Some(ip("10.1.1.1")));
        let mut raw = HeaderMap::new();
        raw.append("x-forwarded-for", HeaderValue::from_static("203.0.113.9"));
        raw.append("x-forwarded-for", HeaderValue::from_bytes(b"10.1.1.1\xff").expect("opaque bytes"));
        assert_eq!(p.client_address(peer, &raw), Some(ip("10.0.0.2")), "a line that is not text ends the walk");
    }

    #[test]
    fn ports_and_brackets_are_read_as_addresses() {
        let p = proxies();
        let peer = Some(ip("10.0.0.2"));
        assert_eq!(p.client_address(peer, &headers(&["203.0.113.9:4711"])), Some(ip("203.0.113.9")));
        assert_eq!(p.client_address(peer, &headers(&["[2001:db8::7]:4711"])), Some(ip("2001:db8::7")));
        assert_eq!(p.client_address(peer, &headers(&["[2001:db8::7]"])), Some(ip("2001:db8::7")));
        assert_eq!(p.client_address(peer, &headers(&["[203.0.113.9]"])), Some(ip("10.0.0.2")), "brackets are for IPv6");
    }
}
