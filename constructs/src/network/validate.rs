//! Checks of the props, each problem reported at the construct's path, and the subnet CIDRs.

use pantri_synth::Scope;

use super::cidr::{self, Ipv4Cidr};
use super::SecureNetworkProps;

/// Retention periods CloudWatch Logs accepts, in days.
const RETENTION_DAYS: [u32; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

/// The items without repeats, in first-seen order.
pub(super) fn distinct<T: Clone + PartialEq>(items: &[T]) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for item in items {
        if !out.contains(item) {
            out.push(item.clone());
        }
    }
    out
}

/// Subnet CIDRs, in zone order.
pub(super) struct SubnetCidrs {
    pub(super) public: Vec<Ipv4Cidr>,
    pub(super) private: Vec<Ipv4Cidr>,
}

/// Reports every problem of the props at the construct's path; returns the subnet CIDRs when
/// they can be carved.
pub(super) fn validate(
    s: &mut Scope<'_>,
    azs: &[String],
    props: &SecureNetworkProps,
) -> Option<SubnetCidrs> {
    let mut problems = Vec::new();

    if azs.len() < 2 {
        problems.push(format!(
            "{} availability zones given: name at least 2 (an ALB needs two zones), for example \
             [\"{r}a\", \"{r}b\"]",
            azs.len(),
            r = s.env().map_or("eu-west-1", |e| e.region.as_str()),
        ));
    }
    let region = s.env().map(|e| e.region.clone());
    for (i, az) in azs.iter().enumerate() {
        if azs[..i].contains(az) {
            problems.push(format!(
                "availability zone {az:?} is listed twice: each zone once, one subnet pair each"
            ));
            continue;
        }
        if let Some(region) = &region {
            let letter = az.strip_prefix(region.as_str());
            let ok = matches!(letter, Some(l) if l.len() == 1
                && l.chars().all(|c| c.is_ascii_lowercase()));
            if !ok {
                problems.push(format!(
                    "availability zone {az:?} is not a zone of the stack's region {region}: use \
                     {region} and a zone letter, for example \"{region}a\""
                ));
            }
        }
    }

    let mut services = Vec::new();
    for e in &props.interface_endpoints {
        if services.contains(e) {
            problems.push(format!(
                "interface endpoint {} is listed twice: list each once",
                e.service()
            ));
        }
        services.push(*e);
    }

    if !RETENTION_DAYS.contains(&props.flow_log_retention_days) {
        problems.push(format!(
            "flow_log_retention_days {} is not a CloudWatch Logs retention: use one of {:?}",
            props.flow_log_retention_days, RETENTION_DAYS
        ));
    }

    let cidrs = match props.cidr.parse::<Ipv4Cidr>() {
        Err(e) => {
            problems.push(format!("cidr {e}"));
            None
        }
        Ok(vpc) if !(16..=28).contains(&vpc.prefix()) => {
            problems.push(format!(
                "cidr {vpc} is outside what a VPC accepts: use a prefix from /16 to /28"
            ));
            None
        }
        Ok(vpc) => carve_subnets(vpc, azs, props, &mut problems),
    };

    let ok = problems.is_empty();
    for p in problems {
        s.error(p);
    }
    cidrs.filter(|_| ok)
}

fn carve_subnets(
    vpc: Ipv4Cidr,
    azs: &[String],
    props: &SecureNetworkProps,
    problems: &mut Vec<String>,
) -> Option<SubnetCidrs> {
    let n = distinct(azs).len();
    let (public, private) = (props.public_subnet_mask, props.private_subnet_mask);
    let mut masks_ok = true;
    for (what, mask) in [
        ("public_subnet_mask", public),
        ("private_subnet_mask", private),
    ] {
        // EC2 subnets are /16 to /28, and inside the VPC.
        if mask < vpc.prefix().max(16) || mask > 28 {
            problems.push(format!(
                "{what} /{mask} does not fit a subnet of the VPC {vpc}: use /{} to /28",
                vpc.prefix().max(16)
            ));
            masks_ok = false;
        }
    }
    if !masks_ok || n == 0 {
        return None;
    }
    let mut prefixes = vec![public; n];
    prefixes.extend(std::iter::repeat_n(private, n));
    match cidr::carve(vpc, &prefixes) {
        Some(blocks) => Some(SubnetCidrs {
            public: blocks[..n].to_vec(),
            private: blocks[n..].to_vec(),
        }),
        None => {
            let needed = n as u64 * ((1u64 << (32 - public)) + (1u64 << (32 - private)));
            problems.push(format!(
                "cidr {vpc} is too small for {n} public /{public} and {n} private /{private} \
                 subnets ({needed} addresses, it holds {}): use a larger VPC CIDR (10.0.0.0/16) \
                 or longer subnet masks",
                vpc.size()
            ));
            None
        }
    }
}
