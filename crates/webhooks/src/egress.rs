//! The egress policy on the wire: a DNS resolver for the HTTP client that drops every address
//! the policy refuses, so the client only ever connects to addresses that passed the check. It
//! resolves each name when a connection is made (no answer is cached between check and
//! connect), and literal addresses, which the client never resolves, are checked by the worker
//! before it sends (see `Worker::post`).
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use portcullis_domain::egress::{Blocked, EgressPolicy};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Resolves names (the system resolver, or fixed entries first) and keeps the allowed addresses.
#[derive(Clone)]
pub struct EgressResolver {
    policy: Arc<EgressPolicy>,
    /// Fixed answers, like `/etc/hosts` (lower-case names); still subject to the policy.
    hosts: Arc<HashMap<String, Vec<IpAddr>>>,
}

impl EgressResolver {
    pub fn new(policy: Arc<EgressPolicy>, hosts: &[(String, IpAddr)]) -> Self {
        let mut fixed: HashMap<String, Vec<IpAddr>> = HashMap::new();
        for (name, ip) in hosts {
            fixed.entry(name.to_ascii_lowercase()).or_default().push(*ip);
        }
        Self { policy, hosts: Arc::new(fixed) }
    }

    async fn lookup(&self, host: &str) -> std::io::Result<Vec<IpAddr>> {
        if let Some(fixed) = self.hosts.get(&host.to_ascii_lowercase()) {
            return Ok(fixed.clone());
        }
        Ok(tokio::net::lookup_host((host, 0)).await?.map(|a| a.ip()).collect())
    }

    /// The allowed addresses among those `host` resolves to; the refusal of the first refused
    /// one when none is allowed.
    pub(crate) async fn allowed(&self, host: &str) -> Result<Vec<IpAddr>, ResolveError> {
        let found = self.lookup(host).await.map_err(ResolveError::Lookup)?;
        let mut refused: Option<Blocked> = None;
        let allowed: Vec<IpAddr> = found
            .into_iter()
            .filter(|ip| match self.policy.check(*ip) {
                Ok(()) => true,
                Err(blocked) => {
                    refused.get_or_insert(blocked);
                    false
                }
            })
            .collect();
        match refused {
            Some(blocked) if allowed.is_empty() => {
                Err(ResolveError::Blocked(Blocked { host: Some(host.to_string()), ..blocked }))
            }
            Some(blocked) => {
                tracing::debug!(host, refused = %blocked, "some addresses of a webhook target are refused");
                Ok(allowed)
            }
            None => Ok(allowed),
        }
    }
}

#[derive(Debug)]
pub(crate) enum ResolveError {
    Lookup(std::io::Error),
    Blocked(Blocked),
}

impl ResolveError {
    fn boxed(self) -> Box<dyn std::error::Error + Send + Sync> {
        match self {
            ResolveError::Lookup(err) => Box::new(err),
            ResolveError::Blocked(blocked) => Box::new(blocked),
        }
    }
}

impl Resolve for EgressResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let resolver = self.clone();
        Box::pin(async move {
            let allowed = resolver.allowed(name.as_str()).await.map_err(ResolveError::boxed)?;
            // Port 0: the client puts the URL's port in.
            let addrs: Addrs = Box::new(allowed.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}

/// The egress refusal somewhere in an error's chain of causes (the client wraps the resolver's
/// error in its own).
pub fn blocked_in<'e>(err: &'e (dyn std::error::Error + 'static)) -> Option<&'e Blocked> {
    let mut current = Some(err);
    while let Some(e) = current {
        if let Some(blocked) = e.downcast_ref::<Blocked>() {
            return Some(blocked);
        }
        current = e.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use portcullis_domain::egress::parse_network;

    fn resolver(policy: EgressPolicy, hosts: &[(&str, &str)]) -> EgressResolver {
        let hosts: Vec<(String, IpAddr)> =
            hosts.iter().map(|(n, ip)| (n.to_string(), ip.parse().unwrap())).collect();
        EgressResolver::new(Arc::new(policy), &hosts)
    }

    #[tokio::test]
    async fn names_resolving_to_refused_addresses_are_refused_after_resolution() {
        let strict = resolver(
            EgressPolicy::public_only(),
            &[("hook.test", "127.0.0.1"), ("Meta.Test", "169.254.169.254")],
        );
        let err = strict.allowed("hook.test").await.unwrap_err();
        let ResolveError::Blocked(blocked) = err else { panic!("{err:?}") };
        assert_eq!(
            blocked.to_string(),
            "blocked by egress policy: 127.0.0.1 (from hook.test) is loopback"
        );
        let err = strict.allowed("meta.test").await.unwrap_err();
        assert!(matches!(err, ResolveError::Blocked(ref b) if b.reason == "link-local"), "{err:?}");
        // The system resolver's answer for localhost is judged the same way.
        let err = strict.allowed("localhost").await.unwrap_err();
        assert!(matches!(err, ResolveError::Blocked(ref b) if b.reason == "loopback"), "{err:?}");
    }

    #[tokio::test]
    async fn a_mixed_answer_keeps_only_the_allowed_addresses() {
        let strict = resolver(
            EgressPolicy::public_only(),
            &[("rebind.test", "10.0.0.1"), ("rebind.test", "93.184.215.14")],
        );
        assert_eq!(strict.allowed("rebind.test").await.unwrap(), vec![ip("93.184.215.14")]);
    }

    #[tokio::test]
    async fn the_allow_list_and_allow_private_let_addresses_through() {
        let hosts = [("hook.test", "127.0.0.1"), ("lan.test", "10.0.0.7")];
        let listed =
            resolver(EgressPolicy::allowing([parse_network("127.0.0.0/8").unwrap()]), &hosts);
        assert_eq!(listed.allowed("hook.test").await.unwrap(), vec![ip("127.0.0.1")]);
        assert!(listed.allowed("lan.test").await.is_err());
        let open = resolver(EgressPolicy { allow_private: true, allowed_networks: vec![] }, &hosts);
        assert_eq!(open.allowed("lan.test").await.unwrap(), vec![ip("10.0.0.7")]);
    }

    #[test]
    fn the_refusal_is_found_through_wrapping_errors() {
        #[derive(Debug)]
        struct Wrapper(Box<dyn std::error::Error + Send + Sync>);
        impl std::fmt::Display for Wrapper {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("client error (Connect)")
            }
        }
        impl std::error::Error for Wrapper {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&*self.0)
            }
        }
        let blocked = EgressPolicy::public_only().check(ip("10.1.1.1")).unwrap_err();
        let wrapped = Wrapper(Box::new(Wrapper(Box::new(blocked.clone()))));
        assert_eq!(blocked_in(&wrapped), Some(&blocked));
        let other = Wrapper(Box::new(std::io::Error::other("refused")));
        assert_eq!(blocked_in(&other), None);
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }
}
