//! The client's address, which every per-address limit counts by: the peer's, or, when the peer
//! is a proxy the operator trusts (`MAKERPULSE_TRUSTED_PROXIES`), the one it forwarded in
//! `X-Forwarded-For`.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The proxies whose `X-Forwarded-For` is believed: a list of networks. Empty by default, and
/// then the header is ignored, since any client can send it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Whether `ip` is one of the trusted proxies.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// Whether no proxy is trusted.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The client behind `peer`: from a trusted peer, the right-most address of
    /// `X-Forwarded-For` that is not itself trusted; otherwise `peer`.
    ///
    /// Only the right end of the header is believed: each trusted proxy appends the address it
    /// was reached from, so everything left of the first untrusted entry was written by the
    /// client and may be anything. An entry that is not an address stops the walk at the last
    /// trusted hop, which is then the client as far as anyone can tell.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.contains(peer) {
            return peer;
        }
        // Several headers are one list, in order (RFC 9110 §5.3).
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        let mut client = peer;
        for hop in hops.iter().rev() {
            let Some(ip) = parse_hop(hop) else {
                return client;
            };
            client = ip;
            if !self.contains(ip) {
                return ip;
            }
        }
        client
    }
}

/// One entry of `X-Forwarded-For`: an address, possibly with a port (`1.2.3.4:5`, `[::1]:5`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let ip = IpAddr::from_str(hop)
        .ok()
        .or_else(|| SocketAddr::from_str(hop).ok().map(|s| s.ip()))?;
    Some(ip.to_canonical())
}

impl FromStr for TrustedProxies {
    type Err = String;

    /// A comma-separated list of networks (`10.0.0.0/8`) or single addresses (`10.0.0.7`);
    /// empty for none.
    fn from_str(list: &str) -> Result<Self, String> {
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| {
                IpNet::from_str(s)
                    .or_else(|_| IpAddr::from_str(s).map(IpNet::from))
                    .map(|net| net.trunc())
                    .map_err(|_| format!("{s:?} is not a network (10.0.0.0/8) or an address"))
            })
            .collect::<Result<_, _>>()
            .map(TrustedProxies)
    }
}

impl std::fmt::Display for TrustedProxies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let list: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&list.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_claims() {
        let trusted: TrustedProxies = "10.0.0.0/8".parse().unwrap();
        let h = headers(&["1.2.3.4"]);
        assert_eq!(trusted.client(ip("192.0.2.1"), &h), ip("192.0.2.1"));
        let none = TrustedProxies::default();
        assert_eq!(none.client(ip("10.0.0.1"), &h), ip("10.0.0.1"));
    }

    #[test]
    fn behind_trusted_proxies_the_right_most_untrusted_hop_is_the_client() {
        let trusted: TrustedProxies = "10.0.0.0/8, 172.18.0.5".parse().unwrap();
        // The client spoofed the first entry; the proxies appended the rest.
        let h = headers(&["6.6.6.6, 198.51.100.7", "10.1.2.3"]);
        assert_eq!(trusted.client(ip("172.18.0.5"), &h), ip("198.51.100.7"));
        assert_eq!(
            trusted.client(ip("10.0.0.1"), &headers(&["203.0.113.9:4711"])),
            ip("203.0.113.9")
        );
        // No header, or every hop trusted: the furthest trusted hop.
        assert_eq!(
            trusted.client(ip("10.0.0.1"), &HeaderMap::new()),
            ip("10.0.0.1")
        );
        assert_eq!(
            trusted.client(ip("10.0.0.1"), &headers(&["10.9.9.9"])),
            ip("10.9.9.9")
        );
        // Garbage stops the walk at the last trusted hop.
        assert_eq!(
            trusted.client(ip("10.0.0.1"), &headers(&["1.1.1.1, unknown"])),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn mapped_ipv6_peers_match_ipv4_networks() {
        let trusted: TrustedProxies = "127.0.0.1".parse().unwrap();
        assert!(trusted.contains(ip("::ffff:127.0.0.1")));
        assert!(!trusted.contains(ip("127.0.0.2")));
    }

    #[test]
    fn lists_parse_and_refuse_nonsense() {
        assert!("".parse::<TrustedProxies>().unwrap().is_empty());
        let list: TrustedProxies = "172.16.0.0/12,::1".parse().unwrap();
        assert_eq!(list.to_string(), "172.16.0.0/12,::1/128");
        assert!("10.0.0.0/33".parse::<TrustedProxies>().is_err());
        assert!("proxy.local".parse::<TrustedProxies>().is_err());
    }
}
