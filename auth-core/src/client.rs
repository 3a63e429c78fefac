//! Who the client is: the address sessions, lockout, rate limits and the audit log record.
//!
//! The client is the socket peer, unless the peer is one of the configured trusted proxies
//! (`AUTH__SERVER__TRUSTED_PROXIES`: addresses or CIDR ranges). Then the forwarding chain is
//! read, from the `Forwarded` header (RFC 7239) or else `X-Forwarded-For`, nearest hop first:
//! trusted proxies are passed over, and the first address that is not one is the client. A
//! client cannot choose its address by sending these headers itself: entries it adds sit to
//! the left of what the trusted proxy appends, and the walk stops at the first untrusted one.
//! A hop that is not an address (`unknown`, an obfuscated name, garbage) ends the walk at the
//! proxy that reported it.
//!
//! ```
//! use auth_core::client::TrustedProxies;
//!
//! let proxies = TrustedProxies::parse(&["10.0.0.0/8".to_owned()]).unwrap();
//! let peer = "10.0.0.7".parse().unwrap();
//! // A client sent `X-Forwarded-For: 1.2.3.4` itself; the proxy appended its real address.
//! let client = proxies.resolve(peer, None, Some("1.2.3.4, 203.0.113.9"));
//! assert_eq!(client.to_string(), "203.0.113.9");
//! // The same headers from a peer that is not a trusted proxy change nothing.
//! let direct = "198.51.100.1".parse().unwrap();
//! assert_eq!(proxies.resolve(direct, None, Some("1.2.3.4")), direct);
//! ```

use std::net::{IpAddr, SocketAddr};

use ipnet::IpNet;

/// The proxies whose forwarding headers are believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    nets: Vec<IpNet>,
}

/// An entry of `AUTH__SERVER__TRUSTED_PROXIES` that is neither an address nor a CIDR range.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is neither an IP address nor a CIDR range (write `10.0.0.0/8` or `127.0.0.1`)")]
pub struct InvalidProxy(pub String);

impl TrustedProxies {
    /// No trusted proxy: the peer is always the client.
    #[must_use]
    pub fn none() -> Self {
        Self::default()
    }

    /// Parses addresses (`127.0.0.1`, `::1`) and CIDR ranges (`10.0.0.0/8`, `fd00::/8`).
    ///
    /// # Errors
    /// [`InvalidProxy`] naming the first entry that is neither.
    pub fn parse(entries: &[String]) -> Result<Self, InvalidProxy> {
        let nets = entries
            .iter()
            .map(|entry| {
                let entry = entry.trim();
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| InvalidProxy(entry.to_owned()))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { nets })
    }

    /// Whether `ip` is a trusted proxy.
    #[must_use]
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.nets.iter().any(|net| net.contains(&ip))
    }

    /// Whether any proxy is trusted (when none is, the headers are never read).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }

    /// The client's address for a request from `peer` carrying these header values (every
    /// occurrence of a header joined with `,`).
    #[must_use]
    pub fn resolve(
        &self,
        peer: IpAddr,
        forwarded: Option<&str>,
        x_forwarded_for: Option<&str>,
    ) -> IpAddr {
        let peer = canonical(peer);
        if !self.contains(peer) {
            return peer;
        }
        let hops: Vec<Option<IpAddr>> = match (forwarded, x_forwarded_for) {
            (Some(forwarded), _) => forwarded_for(forwarded),
            (None, Some(list)) => list.split(',').map(parse_hop).collect(),
            (None, None) => return peer,
        };
        let mut client = peer;
        for hop in hops.into_iter().rev() {
            let Some(hop) = hop else {
                return client;
            };
            client = hop;
            if !self.contains(hop) {
                return hop;
            }
        }
        client
    }
}

/// A client address as the key counters are kept under (the lockout's pairs, the rate limits
/// per address): the address, or `unknown` for a request without one (in-process callers and
/// servers that do not record peers all share it).
#[must_use]
pub fn client_key(ip: Option<&str>) -> &str {
    ip.filter(|ip| !ip.is_empty()).unwrap_or("unknown")
}

/// An IPv4 address mapped into IPv6 (`::ffff:10.0.0.1`, what a dual-stack socket reports)
/// as the IPv4 address it is; any other address as it is.
#[must_use]
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// One hop of `X-Forwarded-For`, or of a `for=` value: an address, optionally with a port
/// (`192.0.2.1:4711`, `[2001:db8::1]:4711`), optionally quoted.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim().trim_matches('"');
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Ok(socket) = hop.parse::<SocketAddr>() {
        return Some(canonical(socket.ip()));
    }
    // `[2001:db8::1]` without a port.
    let bracketed = hop.strip_prefix('[')?.strip_suffix(']')?;
    bracketed.parse::<IpAddr>().ok().map(canonical)
}

/// The `for=` values of a `Forwarded` header, one per element, in order. An element without
/// `for` counts as a hop that is not an address.
fn forwarded_for(header: &str) -> Vec<Option<IpAddr>> {
    header
        .split(',')
        .map(|element| {
            element.split(';').find_map(|pair| {
                let (key, value) = pair.split_once('=')?;
                key.trim()
                    .eq_ignore_ascii_case("for")
                    .then(|| parse_hop(value))
                    .flatten()
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies::parse(&list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn entries_parse_as_addresses_or_ranges() {
        let p = proxies(&["127.0.0.1", "10.0.0.0/8", "fd00::/8", " ::1 "]);
        for trusted in ["127.0.0.1", "10.1.2.3", "fd12::1", "::1", "::ffff:10.0.0.1"] {
            assert!(p.contains(ip(trusted)), "{trusted}");
        }
        for other in ["127.0.0.2", "11.0.0.1", "fe80::1", "203.0.113.1"] {
            assert!(!p.contains(ip(other)), "{other}");
        }
        for bad in ["10.0.0.0/33", "localhost", "", "1.2.3"] {
            assert_eq!(
                TrustedProxies::parse(&[bad.to_owned()]),
                Err(InvalidProxy(bad.to_owned()))
            );
        }
    }

    #[test]
    fn untrusted_peers_are_the_client_whatever_they_send() {
        let p = proxies(&["10.0.0.0/8"]);
        let peer = ip("198.51.100.7");
        assert_eq!(p.resolve(peer, Some("for=1.2.3.4"), Some("1.2.3.4")), peer);
        assert_eq!(
            TrustedProxies::none().resolve(peer, None, Some("1.2.3.4")),
            peer
        );
        assert_eq!(
            TrustedProxies::none().resolve(ip("::ffff:198.51.100.7"), None, None),
            peer,
            "mapped IPv4 is IPv4"
        );
    }

    #[test]
    fn the_walk_stops_at_the_first_untrusted_hop() {
        let p = proxies(&["10.0.0.0/8"]);
        let peer = ip("10.0.0.1");
        assert_eq!(
            p.resolve(peer, None, None),
            peer,
            "no header: the proxy itself"
        );
        assert_eq!(
            p.resolve(peer, None, Some("203.0.113.9")),
            ip("203.0.113.9")
        );
        // A spoofed entry to the left of the real client is never reached.
        assert_eq!(
            p.resolve(peer, None, Some("6.6.6.6, 203.0.113.9, 10.0.0.2")),
            ip("203.0.113.9")
        );
        // Every hop trusted: the farthest one.
        assert_eq!(
            p.resolve(peer, None, Some("10.0.0.3, 10.0.0.2")),
            ip("10.0.0.3")
        );
        // Garbage reported by a trusted hop ends the walk at that hop.
        assert_eq!(
            p.resolve(peer, None, Some("203.0.113.9, nonsense, 10.0.0.2")),
            ip("10.0.0.2")
        );
        assert_eq!(p.resolve(peer, None, Some("")), peer);
        assert_eq!(
            p.resolve(peer, None, Some("203.0.113.9:4711")),
            ip("203.0.113.9"),
            "a port is ignored"
        );
    }

    #[test]
    fn forwarded_is_read_before_x_forwarded_for() {
        let p = proxies(&["10.0.0.0/8"]);
        let peer = ip("10.0.0.1");
        assert_eq!(
            p.resolve(
                peer,
                Some("for=6.6.6.6, for=\"[2001:db8::7]:4711\";proto=https;by=10.0.0.1"),
                Some("198.51.100.1")
            ),
            ip("2001:db8::7")
        );
        assert_eq!(
            p.resolve(peer, Some("For=192.0.2.60;proto=http"), None),
            ip("192.0.2.60"),
            "parameter names are case-insensitive"
        );
        assert_eq!(
            p.resolve(peer, Some("for=192.0.2.60, for=unknown"), None),
            peer,
            "an unknown hop ends the walk at the proxy that reported it"
        );
        assert_eq!(p.resolve(peer, Some("proto=https"), None), peer);
        assert_eq!(
            p.resolve(peer, Some("for=_hidden, for=10.0.0.5"), None),
            ip("10.0.0.5")
        );
    }
}
