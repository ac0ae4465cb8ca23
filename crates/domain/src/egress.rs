//! The egress policy of webhook deliveries: which addresses the server may connect to.
//!
//! By default only public (global) internet addresses are allowed: loopback, private (RFC 1918,
//! unique local `fc00::/7`), link-local (including the cloud metadata address
//! `169.254.169.254`), unspecified, shared (CGNAT `100.64.0.0/10`), multicast, broadcast,
//! documentation, benchmarking and reserved ranges are refused. IPv4-mapped (`::ffff:a.b.c.d`),
//! NAT64 (`64:ff9b::/96`) and 6to4 (`2002::/16`) IPv6 addresses are judged by the IPv4 address
//! they carry. Operators open the policy with an allow-list of networks (self-hosted receivers)
//! or turn it off.
//!
//! The checks here are pure: the delivery worker applies [`EgressPolicy::check`] to every address
//! a name resolves to (and to literal addresses) before connecting; subscription creation applies
//! [`EgressPolicy::check_target`] to the URL's host without resolving it.
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub use ipnet::IpNet;

/// Why `ip` is not a public internet address (`"loopback"`, `"private"`, …), or `None` when it is
/// one.
pub fn non_global_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_reason(v4),
        IpAddr::V6(v6) => v6_reason(v6),
    }
}

fn v4_reason(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        _ if ip.is_unspecified() => "unspecified",
        (0, _, _) => "a \"this network\" address (0.0.0.0/8)",
        (127, _, _) => "loopback",
        (10, _, _) | (192, 168, _) => "private",
        (172, 16..=31, _) => "private",
        (100, 64..=127, _) => "shared address space (CGNAT, 100.64.0.0/10)",
        (169, 254, _) => "link-local",
        (192, 0, 0) => "reserved (IETF protocol assignments, 192.0.0.0/24)",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation",
        (198, 18..=19, _) => "benchmarking (198.18.0.0/15)",
        _ if ip.is_broadcast() => "broadcast",
        (224..=239, _, _) => "multicast",
        (240..=255, _, _) => "reserved (240.0.0.0/4)",
        _ => return None,
    })
}

fn v6_reason(ip: Ipv6Addr) -> Option<&'static str> {
    let segments = ip.segments();
    if ip.is_unspecified() {
        return Some("unspecified");
    }
    if ip.is_loopback() {
        return Some("loopback");
    }
    // Addresses that carry an IPv4 address are as reachable as that address.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_reason(v4);
    }
    let embedded = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return v4_reason(embedded(segments[6], segments[7]));
    }
    if segments[0] == 0x2002 {
        return v4_reason(embedded(segments[1], segments[2]));
    }
    Some(match segments[0] {
        _ if segments[..6] == [0; 6] => "reserved (IPv4-compatible, ::/96)",
        0x0100 if segments[1..4] == [0; 3] => "reserved (discard-only, 100::/64)",
        0x2001 if segments[1] == 0x0db8 => "documentation",
        s if s & 0xfe00 == 0xfc00 => "private (unique local, fc00::/7)",
        s if s & 0xffc0 == 0xfe80 => "link-local",
        s if s & 0xffc0 == 0xfec0 => "private (site-local, fec0::/10)",
        s if s & 0xff00 == 0xff00 => "multicast",
        _ => return None,
    })
}

/// A target the policy refuses: the address (or name) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Blocked {
    /// The refused address, as text.
    pub address: String,
    /// The name it was resolved from, when there was one.
    pub host: Option<String>,
    pub reason: &'static str,
}

impl fmt::Display for Blocked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "blocked by egress policy: {}", self.address)?;
        if let Some(host) = &self.host {
            write!(f, " (from {host})")?;
        }
        write!(f, " is {}", self.reason)
    }
}

impl std::error::Error for Blocked {}

/// Which addresses webhook deliveries may connect to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EgressPolicy {
    /// Turns the filter off: every address is allowed (`--webhook-allow-private`).
    pub allow_private: bool,
    /// Networks allowed although they are not public (`--webhook-allow-network`).
    pub allowed_networks: Vec<IpNet>,
}

impl EgressPolicy {
    /// The default: public addresses only.
    pub fn public_only() -> Self {
        Self::default()
    }

    /// Public addresses and these networks.
    pub fn allowing(networks: impl IntoIterator<Item = IpNet>) -> Self {
        Self { allow_private: false, allowed_networks: networks.into_iter().collect() }
    }

    /// May a delivery connect to `ip`?
    pub fn check(&self, ip: IpAddr) -> Result<(), Blocked> {
        // `::ffff:127.0.0.1` is 127.0.0.1 for the allow-list too.
        let ip = ip.to_canonical();
        if self.allow_private || self.allowed_networks.iter().any(|net| net.contains(&ip)) {
            return Ok(());
        }
        match non_global_reason(ip) {
            None => Ok(()),
            Some(reason) => Err(Blocked { address: ip.to_string(), host: None, reason }),
        }
    }

    /// The check at subscription creation, without resolving names: a literal address must pass
    /// [`check`](Self::check); `localhost` (and `*.localhost`) is judged as 127.0.0.1 and ::1;
    /// other obviously internal names (single-label names, `*.internal`, `*.local`, `*.lan`,
    /// `*.home.arpa`, `*.intranet`, `*.corp`) are refused unless private targets are allowed or
    /// an allow-list of networks is configured (they are then judged after resolution, at
    /// delivery).
    pub fn check_target(&self, host: &TargetHost) -> Result<(), Blocked> {
        match host {
            TargetHost::Ip(ip) => self.check(*ip),
            TargetHost::Name(name) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                if name == "localhost" || name.ends_with(".localhost") {
                    let loopback = [IpAddr::from(Ipv4Addr::LOCALHOST), Ipv6Addr::LOCALHOST.into()];
                    if loopback.iter().any(|ip| self.check(*ip).is_ok()) {
                        return Ok(());
                    }
                    return Err(Blocked { address: name, host: None, reason: "loopback" });
                }
                let internal = !name.contains('.')
                    || INTERNAL_SUFFIXES.iter().any(|suffix| name.ends_with(suffix));
                if internal && !self.allow_private && self.allowed_networks.is_empty() {
                    return Err(Blocked { address: name, host: None, reason: "an internal name" });
                }
                Ok(())
            }
        }
    }
}

/// Name suffixes that only resolve inside private networks.
const INTERNAL_SUFFIXES: &[&str] =
    &[".internal", ".local", ".lan", ".home.arpa", ".intranet", ".corp", ".private"];

/// The host of a target URL, as the HTTP client will read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetHost {
    Ip(IpAddr),
    Name(String),
}

impl TargetHost {
    /// The host of an absolute URL, parsed exactly as the HTTP client parses it (WHATWG URL
    /// rules: `127.1`, `0x7f000001` and `2130706433` are all 127.0.0.1; userinfo and fragments
    /// are not the host).
    pub fn of(url: &url::Url) -> Option<Self> {
        match url.host()? {
            url::Host::Ipv4(ip) => Some(Self::Ip(ip.into())),
            url::Host::Ipv6(ip) => Some(Self::Ip(ip.into())),
            url::Host::Domain(name) => Some(Self::Name(name.to_string())),
        }
    }
}

/// Parses a network for the allow-list: `10.0.0.0/8`, `fd00::/8`, or a single address.
pub fn parse_network(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    if let Ok(net) = text.parse::<IpNet>() {
        return Ok(net.trunc());
    }
    text.parse::<IpAddr>()
        .map(IpNet::from)
        .map_err(|_| format!("'{text}' is not a network like 10.0.0.0/8 or an IP address"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn public_addresses_pass() {
        for public in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.215.14",
            "100.63.255.255",
            "100.128.0.0",
            "172.15.255.255",
            "172.32.0.0",
            "192.169.0.1",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
            "2606:4700::1111",
            "2a00:1450:4001:80b::200e",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert_eq!(non_global_reason(ip(public)), None, "{public}");
            assert!(EgressPolicy::public_only().check(ip(public)).is_ok(), "{public}");
        }
    }

    #[test]
    fn every_non_global_range_is_refused_with_its_reason() {
        for (address, reason) in [
            ("127.0.0.1", "loopback"),
            ("127.255.255.254", "loopback"),
            ("0.0.0.0", "unspecified"),
            ("0.1.2.3", "a \"this network\" address (0.0.0.0/8)"),
            ("10.0.0.1", "private"),
            ("172.16.0.1", "private"),
            ("172.31.255.255", "private"),
            ("192.168.1.1", "private"),
            ("100.64.0.1", "shared address space (CGNAT, 100.64.0.0/10)"),
            ("100.127.255.255", "shared address space (CGNAT, 100.64.0.0/10)"),
            ("169.254.169.254", "link-local"),
            ("192.0.0.8", "reserved (IETF protocol assignments, 192.0.0.0/24)"),
            ("192.0.2.1", "documentation"),
            ("198.51.100.7", "documentation"),
            ("203.0.113.9", "documentation"),
            ("198.18.0.1", "benchmarking (198.18.0.0/15)"),
            ("224.0.0.1", "multicast"),
            ("239.255.255.250", "multicast"),
            ("240.0.0.1", "reserved (240.0.0.0/4)"),
            ("255.255.255.255", "broadcast"),
            ("::", "unspecified"),
            ("::1", "loopback"),
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:10.1.2.3", "private"),
            ("::ffff:169.254.169.254", "link-local"),
            ("::127.0.0.1", "reserved (IPv4-compatible, ::/96)"),
            ("64:ff9b::7f00:1", "loopback"),
            ("2002:a00:1::", "private"),
            ("100::1", "reserved (discard-only, 100::/64)"),
            ("2001:db8::1", "documentation"),
            ("fc00::1", "private (unique local, fc00::/7)"),
            ("fd12:3456::1", "private (unique local, fc00::/7)"),
            ("fe80::1", "link-local"),
            ("febf::1", "link-local"),
            ("fec0::1", "private (site-local, fec0::/10)"),
            ("ff02::1", "multicast"),
        ] {
            assert_eq!(non_global_reason(ip(address)), Some(reason), "{address}");
            let blocked = EgressPolicy::public_only().check(ip(address)).unwrap_err();
            assert_eq!(blocked.reason, reason);
        }
    }

    #[test]
    fn the_error_names_the_address_and_the_reason() {
        let blocked = EgressPolicy::public_only().check(ip("127.0.0.1")).unwrap_err();
        assert_eq!(blocked.to_string(), "blocked by egress policy: 127.0.0.1 is loopback");
        let from_name = Blocked { host: Some("localhost".into()), ..blocked };
        assert_eq!(
            from_name.to_string(),
            "blocked by egress policy: 127.0.0.1 (from localhost) is loopback"
        );
        // A mapped address is reported as the IPv4 address it is.
        let mapped = EgressPolicy::public_only().check(ip("::ffff:127.0.0.1")).unwrap_err();
        assert_eq!(mapped.address, "127.0.0.1");
    }

    #[test]
    fn the_allow_list_opens_exactly_its_networks_and_allow_private_everything() {
        let policy = EgressPolicy::allowing([
            parse_network("127.0.0.0/8").unwrap(),
            parse_network("fd00::/8").unwrap(),
            parse_network("10.1.2.3").unwrap(),
        ]);
        for allowed in ["127.0.0.1", "127.9.9.9", "::ffff:127.0.0.1", "fd00::5", "10.1.2.3"] {
            assert!(policy.check(ip(allowed)).is_ok(), "{allowed}");
        }
        for refused in ["10.1.2.4", "::1", "169.254.169.254", "192.168.0.1", "fc00::1"] {
            assert!(policy.check(ip(refused)).is_err(), "{refused}");
        }
        assert!(policy.check(ip("8.8.8.8")).is_ok(), "public stays allowed");
        let open = EgressPolicy { allow_private: true, allowed_networks: vec![] };
        for any in ["127.0.0.1", "::1", "169.254.169.254", "10.0.0.1", "0.0.0.0"] {
            assert!(open.check(ip(any)).is_ok(), "{any}");
        }
    }

    #[test]
    fn networks_parse_as_cidr_or_single_addresses() {
        assert_eq!(parse_network("10.0.0.0/8").unwrap().to_string(), "10.0.0.0/8");
        assert_eq!(parse_network(" 10.9.9.9/8 ").unwrap().to_string(), "10.0.0.0/8");
        assert_eq!(parse_network("192.168.1.5").unwrap().to_string(), "192.168.1.5/32");
        assert_eq!(parse_network("::1").unwrap().to_string(), "::1/128");
        assert_eq!(parse_network("fd00::/8").unwrap().to_string(), "fd00::/8");
        for bad in ["", "10.0.0.0/33", "localhost", "10.0.0/8", "fd00::/129"] {
            assert!(parse_network(bad).is_err(), "{bad}");
        }
    }

    /// Every spelling of an internal target, as the HTTP client parses it.
    #[test]
    fn every_spelling_of_an_internal_host_is_refused_at_creation() {
        let strict = EgressPolicy::public_only();
        for (url, address) in [
            ("http://127.0.0.1/", "127.0.0.1"),
            ("http://127.1/", "127.0.0.1"),
            ("http://0x7f000001/", "127.0.0.1"),
            ("http://2130706433/", "127.0.0.1"),
            ("http://0177.0.0.1/", "127.0.0.1"),
            ("http://[::1]/", "::1"),
            ("http://[::ffff:127.0.0.1]/", "127.0.0.1"),
            ("http://[::ffff:7f00:1]/", "127.0.0.1"),
            ("http://0.0.0.0/", "0.0.0.0"),
            ("http://0/", "0.0.0.0"),
            ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
            ("http://10.0.0.1:8080/hook", "10.0.0.1"),
            ("http://[fd00::1]/", "fd00::1"),
            ("http://example.com@127.0.0.1/", "127.0.0.1"),
            ("http://user:pass@127.0.0.1:9000/", "127.0.0.1"),
            ("http://127.0.0.1#@example.com/", "127.0.0.1"),
            ("http://127.0.0.1?@example.com/", "127.0.0.1"),
            ("http://localhost:8080/", "localhost"),
            ("http://LOCALHOST./", "localhost"),
            ("http://%6c%6fcalhost/", "localhost"),
            ("http://api.localhost/", "api.localhost"),
            ("http://metadata.google.internal/", "metadata.google.internal"),
            ("http://printer.local/", "printer.local"),
            ("http://intranet/", "intranet"),
        ] {
            let parsed = url::Url::parse(url).unwrap();
            let host = TargetHost::of(&parsed).unwrap();
            let blocked = strict.check_target(&host).expect_err(url);
            assert_eq!(blocked.address, address, "{url}");
        }
        for url in [
            "https://example.com/hook",
            "https://hooks.example.com:8443/x",
            "http://8.8.8.8/",
            "https://[2606:4700::1111]/",
            "http://example.com#@127.0.0.1/",
        ] {
            let host = TargetHost::of(&url::Url::parse(url).unwrap()).unwrap();
            assert!(strict.check_target(&host).is_ok(), "{url}");
        }
    }

    #[test]
    fn allowed_networks_and_allow_private_open_the_creation_check() {
        let loopback = EgressPolicy::allowing([parse_network("127.0.0.0/8").unwrap()]);
        let host = |url: &str| TargetHost::of(&url::Url::parse(url).unwrap()).unwrap();
        assert!(loopback.check_target(&host("http://127.0.0.1:9000/hook")).is_ok());
        assert!(loopback.check_target(&host("http://localhost:9000/hook")).is_ok());
        assert!(loopback.check_target(&host("http://[::1]:9000/hook")).is_err());
        assert!(loopback.check_target(&host("http://10.0.0.1/")).is_err());
        // With an allow-list, internal names are judged after resolution instead.
        assert!(loopback.check_target(&host("http://hooks.corp/")).is_ok());
        let open = EgressPolicy { allow_private: true, allowed_networks: vec![] };
        for url in ["http://[::1]/", "http://localhost/", "http://intranet/", "http://10.0.0.1/"] {
            assert!(open.check_target(&host(url)).is_ok(), "{url}");
        }
    }
}
