//! Every naming rule of the generated code, in one place: type name → module and struct,
//! property → field and setter, attribute → accessor, enum value → variant, keyword escapes.
//!
//! The names follow the AWS CDK (`CfnBucket`, `attr_arn`), in Rust case conventions.

/// Rust keywords (strict and reserved, 2021 edition) that cannot be used as identifiers.
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "if", "impl", "in",
    "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "Self", "static", "struct", "super", "trait", "true", "try", "type",
    "typeof", "unsafe", "unsized", "use", "virtual", "where", "while", "yield", "gen",
];

/// Type names the generated modules import; a schema definition of the same name gets a
/// `Property` suffix so that it does not shadow them.
const RESERVED_TYPE_NAMES: &[&str] = &[
    "Str",
    "Int",
    "Num",
    "Bool",
    "List",
    "Map",
    "Json",
    "Value",
    "ToValue",
    "Res",
    "Props",
    "CfnResource",
    "Option",
    "Box",
    "Vec",
    "String",
    "Some",
    "None",
    "Default",
    "Self",
];

/// Spellings of acronyms that the word splitter would otherwise cut in odd places.
const ACRONYM_FIXES: &[(&str, &str)] = &[("IPv6", "Ipv6"), ("IPv4", "Ipv4"), ("IPv", "Ipv")];

/// Escapes a Rust keyword with a trailing underscore (`type` → `type_`).
pub fn escape_keyword(ident: &str) -> String {
    if KEYWORDS.contains(&ident) {
        format!("{ident}_")
    } else {
        ident.to_owned()
    }
}

/// Splits a CloudFormation name into words: `SSESpecification` → `SSE`, `Specification`;
/// `Ipv6CidrBlock` → `Ipv6`, `Cidr`, `Block`; `CNAMEs` → `CNAMEs`. Digits stay with the word
/// before them (`S3Key` → `S3`, `Key`); any non-alphanumeric character separates words.
pub fn words(name: &str) -> Vec<String> {
    let mut name = name.to_owned();
    for (from, to) in ACRONYM_FIXES {
        name = name.replace(from, to);
    }
    let mut out = Vec::new();
    for part in name.split(|c: char| !c.is_ascii_alphanumeric()) {
        let chars: Vec<char> = part.chars().collect();
        let mut word = String::new();
        for (i, &c) in chars.iter().enumerate() {
            let prev = i.checked_sub(1).map(|j| chars[j]);
            let next = chars.get(i + 1).copied();
            let after_next = chars.get(i + 2).copied();
            let boundary = c.is_ascii_uppercase()
                && match prev {
                    Some(p) if p.is_ascii_lowercase() || p.is_ascii_digit() => true,
                    Some(p) if p.is_ascii_uppercase() => {
                        // `ABc` splits as `A|Bc`, except for a plural `s` (`ARNs`, `CNAMEs`).
                        let plural_s = next == Some('s')
                            && !after_next.is_some_and(|a| a.is_ascii_lowercase());
                        next.is_some_and(|n| n.is_ascii_lowercase()) && !plural_s
                    }
                    _ => false,
                };
            if boundary && !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            word.push(c);
        }
        if !word.is_empty() {
            out.push(word);
        }
    }
    out
}

/// snake_case of a CloudFormation name, without keyword escape.
pub fn snake(name: &str) -> String {
    let s = words(name)
        .iter()
        .map(|w| w.to_ascii_lowercase())
        .collect::<Vec<_>>()
        .join("_");
    if s.starts_with(|c: char| c.is_ascii_digit()) || s.is_empty() {
        format!("p_{s}")
    } else {
        s
    }
}

/// The field (and setter) name of a property: `VpcId` → `vpc_id`, `Type` → `type_`.
pub fn field_name(property: &str) -> String {
    escape_keyword(&snake(property))
}

/// The module of a service: `AWS::EC2::VPC` → `ec2`; every `Datadog::*` type → `datadog`.
pub fn service_module(type_name: &str) -> String {
    let mut parts = type_name.split("::");
    let vendor = parts.next().unwrap_or_default();
    let service = parts.next().unwrap_or_default();
    if vendor == "AWS" {
        service.to_ascii_lowercase()
    } else {
        vendor.to_ascii_lowercase()
    }
}

/// The last segment of a type name: `AWS::EC2::VPC` → `VPC`.
pub fn resource_name(type_name: &str) -> &str {
    type_name.rsplit("::").next().unwrap_or(type_name)
}

/// The resource struct: `Cfn` + the CDK name (`AWS::S3::Bucket` → `CfnBucket`).
pub fn resource_struct(type_name: &str) -> String {
    format!("Cfn{}", type_ident(resource_name(type_name)))
}

/// The submodule holding a resource's property types: `AWS::EC2::VPCGatewayAttachment` →
/// `vpc_gateway_attachment`.
pub fn resource_module(type_name: &str) -> String {
    escape_keyword(&snake(resource_name(type_name)))
}

/// A type name from a schema name, kept as written but made a valid identifier
/// (`VersioningConfiguration` stays; `my-thing` → `MyThing`; `Map` → `MapProperty`).
pub fn type_ident(name: &str) -> String {
    let ident: String = if name.chars().all(|c| c.is_ascii_alphanumeric()) {
        let mut cs = name.chars();
        match cs.next() {
            Some(f) => f.to_ascii_uppercase().to_string() + cs.as_str(),
            None => String::new(),
        }
    } else {
        pascal(name)
    };
    let ident = if ident.starts_with(|c: char| c.is_ascii_digit()) || ident.is_empty() {
        format!("T{ident}")
    } else {
        ident
    };
    if RESERVED_TYPE_NAMES.contains(&ident.as_str()) {
        format!("{ident}Property")
    } else {
        ident
    }
}

/// PascalCase from words, each capitalized and the rest lowercased (`AES256` → `Aes256`,
/// `aws:kms` → `AwsKms`).
pub fn pascal(name: &str) -> String {
    words(name)
        .iter()
        .map(|w| {
            let lower = w.to_ascii_lowercase();
            let mut cs = lower.chars();
            match cs.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + cs.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

/// The variant of a string enum value: `Enabled` → `Enabled`, `aws:kms` → `AwsKms`,
/// `1.1` → `V11`, `` → `Empty`.
pub fn enum_variant(value: &str) -> String {
    let p = pascal(value);
    if p.is_empty() {
        "Empty".to_owned()
    } else if p.starts_with(|c: char| c.is_ascii_digit()) {
        format!("V{p}")
    } else if p == "Self" {
        "Self_".to_owned()
    } else {
        p
    }
}

/// The accessor of a `Fn::GetAtt` attribute: `Arn` → `attr_arn`, `Endpoint.Address` →
/// `attr_endpoint_address`.
pub fn attr_method(attribute: &str) -> String {
    let parts: Vec<String> = attribute.split('.').map(snake).collect();
    format!("attr_{}", parts.join("_"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_names() {
        let cases = [
            ("VpcId", "vpc_id"),
            ("CidrBlock", "cidr_block"),
            ("SSESpecification", "sse_specification"),
            ("Ipv6CidrBlocks", "ipv6_cidr_blocks"),
            ("IPv6Address", "ipv6_address"),
            (
                "AssignIpv6AddressOnCreation",
                "assign_ipv6_address_on_creation",
            ),
            ("EnableDns64", "enable_dns64"),
            ("KMSMasterKeyID", "kms_master_key_id"),
            ("CanonicalHostedZoneID", "canonical_hosted_zone_id"),
            ("DNSName", "dns_name"),
            ("S3Key", "s3_key"),
            ("MaxTTL", "max_ttl"),
            ("CNAMEs", "cnames"),
            ("PolicyARNs", "policy_arns"),
            ("Type", "type_"),
            ("Ref", "ref_"),
            ("Match", "match_"),
            ("notify_audit", "notify_audit"),
            ("Id", "id"),
        ];
        for (cfn, rust) in cases {
            assert_eq!(field_name(cfn), rust, "field name of {cfn}");
        }
    }

    #[test]
    fn type_names() {
        let cases = [
            ("AWS::EC2::VPC", "CfnVPC", "vpc", "ec2"),
            ("AWS::S3::Bucket", "CfnBucket", "bucket", "s3"),
            (
                "AWS::ElasticLoadBalancingV2::LoadBalancer",
                "CfnLoadBalancer",
                "load_balancer",
                "elasticloadbalancingv2",
            ),
            ("AWS::EC2::EIP", "CfnEIP", "eip", "ec2"),
            (
                "AWS::EC2::VPCGatewayAttachment",
                "CfnVPCGatewayAttachment",
                "vpc_gateway_attachment",
                "ec2",
            ),
            (
                "Datadog::Monitors::Monitor",
                "CfnMonitor",
                "monitor",
                "datadog",
            ),
            (
                "Datadog::Integrations::AWSAccount",
                "CfnAWSAccount",
                "aws_account",
                "datadog",
            ),
        ];
        for (ty, st, module, service) in cases {
            assert_eq!(resource_struct(ty), st);
            assert_eq!(resource_module(ty), module);
            assert_eq!(service_module(ty), service);
        }
    }

    #[test]
    fn attributes_variants_and_idents() {
        assert_eq!(attr_method("Arn"), "attr_arn");
        assert_eq!(attr_method("Endpoint.Address"), "attr_endpoint_address");
        assert_eq!(attr_method("DNSName"), "attr_dns_name");
        assert_eq!(enum_variant("Enabled"), "Enabled");
        assert_eq!(enum_variant("aws:kms"), "AwsKms");
        assert_eq!(enum_variant("AES256"), "Aes256");
        assert_eq!(enum_variant("1.1"), "V11");
        assert_eq!(enum_variant(""), "Empty");
        assert_eq!(
            type_ident("VersioningConfiguration"),
            "VersioningConfiguration"
        );
        assert_eq!(type_ident("Map"), "MapProperty");
        assert_eq!(type_ident("my-thing"), "MyThing");
    }
}
