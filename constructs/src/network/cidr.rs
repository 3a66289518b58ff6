//! IPv4 CIDR blocks, parsed and carved in Rust so that the template shows literal subnet CIDRs a
//! reviewer can read (`10.0.16.0/20`), instead of `Fn::Cidr` expressions resolved at deploy time.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

/// An IPv4 network: a base address with no host bits set, and a prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ipv4Cidr {
    base: u32,
    prefix: u8,
}

impl Ipv4Cidr {
    /// The prefix length (`16` for `10.0.0.0/16`).
    pub fn prefix(self) -> u8 {
        self.prefix
    }

    /// How many addresses the block holds.
    pub fn size(self) -> u64 {
        1u64 << (32 - u32::from(self.prefix))
    }

    /// Whether `other` lies entirely inside this block.
    pub fn contains(self, other: Ipv4Cidr) -> bool {
        let start = u64::from(self.base);
        let other_start = u64::from(other.base);
        other_start >= start && other_start + other.size() <= start + self.size()
    }
}

impl FromStr for Ipv4Cidr {
    type Err = String;

    /// Parses `a.b.c.d/n`. The error says what is wrong and, for a block with host bits set,
    /// which network address was probably meant.
    fn from_str(s: &str) -> Result<Self, String> {
        let (addr, prefix) = s
            .split_once('/')
            .ok_or_else(|| format!("{s:?} is not a CIDR block: write it as a.b.c.d/n"))?;
        let addr = Ipv4Addr::from_str(addr)
            .map_err(|_| format!("{s:?} is not a CIDR block: {addr:?} is not an IPv4 address"))?;
        let prefix: u8 = prefix.parse().ok().filter(|p| *p <= 32).ok_or_else(|| {
            format!("{s:?} is not a CIDR block: the prefix length must be 0 to 32")
        })?;
        let base = u32::from(addr);
        let mask = if prefix == 0 {
            0
        } else {
            u32::MAX << (32 - prefix)
        };
        if base & !mask != 0 {
            let network = Ipv4Cidr {
                base: base & mask,
                prefix,
            };
            return Err(format!(
                "{s:?} has host bits set: use the network address {network}"
            ));
        }
        Ok(Ipv4Cidr { base, prefix })
    }
}

impl fmt::Display for Ipv4Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", Ipv4Addr::from(self.base), self.prefix)
    }
}

/// Carves one block per requested prefix length out of `network`, returned in request order.
///
/// Blocks are laid out largest first, each right after the previous one: every block is then
/// aligned to its own size with no gap, so the request fits exactly when the sizes add up to at
/// most the network's size. Returns `None` when they do not.
pub fn carve(network: Ipv4Cidr, prefixes: &[u8]) -> Option<Vec<Ipv4Cidr>> {
    if prefixes.iter().any(|p| *p < network.prefix || *p > 32) {
        return None;
    }
    let mut order: Vec<usize> = (0..prefixes.len()).collect();
    // Stable: equal sizes keep their request order, so public subnets stay in zone order.
    order.sort_by_key(|i| prefixes[*i]);
    let mut out = vec![network; prefixes.len()];
    let mut next = u64::from(network.base);
    let end = next + network.size();
    for i in order {
        let block = Ipv4Cidr {
            base: u32::try_from(next).ok()?,
            prefix: prefixes[i],
        };
        next += block.size();
        if next > end {
            return None;
        }
        out[i] = block;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidr(s: &str) -> Ipv4Cidr {
        s.parse().expect("valid CIDR")
    }

    #[test]
    fn parses_and_prints_network_blocks() {
        assert_eq!(cidr("10.0.0.0/16").to_string(), "10.0.0.0/16");
        assert_eq!(cidr("10.0.0.0/16").size(), 65536);
        assert_eq!(cidr("0.0.0.0/0").size(), 1 << 32);
        assert_eq!(cidr("192.168.4.0/22").prefix(), 22);
    }

    #[test]
    fn rejects_malformed_blocks_saying_why() {
        let err = |s: &str| s.parse::<Ipv4Cidr>().expect_err(s);
        assert!(err("10.0.0.0").contains("a.b.c.d/n"));
        assert!(err("10.0.0/16").contains("not an IPv4 address"));
        assert!(err("10.0.0.256/16").contains("not an IPv4 address"));
        assert!(err("10.0.0.0/33").contains("0 to 32"));
        assert!(err("10.0.0.0/x").contains("0 to 32"));
        assert_eq!(
            err("10.0.1.0/16"),
            "\"10.0.1.0/16\" has host bits set: use the network address 10.0.0.0/16"
        );
    }

    #[test]
    fn carves_largest_first_without_gaps_and_returns_request_order() {
        // GIVEN a /16 and three public /24 plus three private /20
        let blocks = carve(cidr("10.0.0.0/16"), &[24, 24, 24, 20, 20, 20]).expect("fits");
        // THEN the /20s come first, the /24s right after, each aligned, in request order
        let shown: Vec<String> = blocks.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "10.0.48.0/24",
                "10.0.49.0/24",
                "10.0.50.0/24",
                "10.0.0.0/20",
                "10.0.16.0/20",
                "10.0.32.0/20"
            ]
        );
        for b in &blocks {
            assert!(cidr("10.0.0.0/16").contains(*b));
        }
    }

    #[test]
    fn carving_fails_exactly_when_the_sizes_do_not_add_up() {
        // 6 × /24 = 1536 addresses do not fit in a /24 (256) nor in a /22 (1024), do in a /21
        assert_eq!(carve(cidr("10.0.0.0/24"), &[24; 6]), None);
        assert_eq!(carve(cidr("10.0.0.0/22"), &[24; 6]), None);
        assert!(carve(cidr("10.0.0.0/21"), &[24; 6]).is_some());
        // a full fit: 2 × /25 + 4 × /27 = 256 + 128 = 384 > 256 fails; 2 × /26 + 4 × /27 = 256 fits
        assert_eq!(carve(cidr("10.0.0.0/24"), &[25, 25, 27, 27, 27, 27]), None);
        let tight = carve(cidr("10.0.0.0/24"), &[27, 27, 27, 27, 26, 26]).expect("fits");
        assert_eq!(tight[3].to_string(), "10.0.0.224/27");
        // a block larger than the network never fits
        assert_eq!(carve(cidr("10.0.0.0/24"), &[23]), None);
    }
}
