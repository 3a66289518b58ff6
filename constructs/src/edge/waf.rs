//! The CloudFront web ACL, which must live in us-east-1.

use pantri_synth::cfn::wafv2::web_acl::{
    AllowAction, BlockAction, CountAction, DefaultAction, ManagedRuleGroupStatement,
    OverrideAction, RateBasedStatement, Rule, RuleAction, RuleActionOverride, Statement,
    VisibilityConfig,
};
use pantri_synth::cfn::wafv2::CfnWebACL;
use pantri_synth::{Res, Scope, Str, Value};

use super::certificate::require_cloudfront_region;
use crate::Naming;

/// Props of [`EdgeWebAcl`].
#[derive(Clone, Debug, PartialEq)]
pub struct EdgeWebAclProps {
    /// Requests one client IP may make in 5 minutes before it is blocked. Default 2000 (about 7
    /// a second, far above a person browsing, well below a scraper or a credential-stuffing run).
    pub rate_limit_per_5_minutes: u32,
    /// Rules of AWSManagedRulesCommonRuleSet to count instead of block, for false positives
    /// found in the WAF logs (`SizeRestrictions_BODY` for large uploads, say). Default none.
    pub common_rules_to_count: Vec<String>,
}

impl Default for EdgeWebAclProps {
    fn default() -> Self {
        EdgeWebAclProps {
            rate_limit_per_5_minutes: 2000,
            common_rules_to_count: Vec::new(),
        }
    }
}

/// A WAFv2 web ACL (scope CLOUDFRONT) with AWS managed rule groups (common rules, known bad
/// inputs such as Log4Shell, IP reputation) and a per-IP rate limit. The ACL and its metrics
/// are named after the app and stage (`<app>-<stage>`).
///
/// ```
/// # use pantri_synth::{App, Environment, StackProps};
/// # let mut app = App::new();
/// # let mut root = app.root();
/// # let mut stage = root.stage("dev", Environment::new("111111111111", "us-east-1"));
/// # let mut stack = stage.stack("Global", StackProps::default());
/// use pantri_constructs::{edge::{EdgeWebAcl, EdgeWebAclProps}, Naming};
/// // In a us-east-1 stack: a CloudFront web ACL lives there.
/// let naming = Naming::new("shop", "dev").expect("lowercase names");
/// let acl = EdgeWebAcl::new(&mut stack, "WebAcl", &naming, EdgeWebAclProps::default());
/// let _arn = acl.arn();
/// # assert!(pantri_constructs::testing::errors(&app).is_empty());
/// ```
#[derive(Clone, Copy, Debug)]
pub struct EdgeWebAcl {
    acl: Res<CfnWebACL>,
}

fn visibility(metric: &str) -> VisibilityConfig {
    VisibilityConfig::new(true, metric, true)
}

impl EdgeWebAcl {
    /// Adds the web ACL; an error unless the stack is in us-east-1.
    pub fn new(
        scope: &mut Scope<'_>,
        id: &str,
        naming: &Naming,
        props: EdgeWebAclProps,
    ) -> EdgeWebAcl {
        let mut s = scope.construct(id, "pantri.EdgeWebAcl");
        require_cloudfront_region(&mut s, "the CloudFront web ACL");
        // WAF's own bounds for a rate-based rule.
        if !(10..=2_000_000_000).contains(&props.rate_limit_per_5_minutes) {
            s.error(format!(
                "rate_limit_per_5_minutes {} is outside WAF's 10..=2000000000: use a value in range",
                props.rate_limit_per_5_minutes
            ));
        }
        let name = naming.prefix();
        let managed = |priority: u32, group: &str, overrides: &[String]| {
            let mut statement = ManagedRuleGroupStatement::new(group, "AWS");
            if !overrides.is_empty() {
                statement = statement.rule_action_overrides(
                    overrides
                        .iter()
                        .map(|r| {
                            RuleActionOverride::new(
                                RuleAction::new().count(CountAction::new()),
                                r.as_str(),
                            )
                        })
                        .collect::<Vec<_>>(),
                );
            }
            Rule::new(
                group,
                priority,
                Statement::new().managed_rule_group_statement(statement),
                visibility(&format!("{name}-{group}")),
            )
            // `None`: the group's own actions apply (block), not a blanket count.
            .override_action(OverrideAction::new().none(Value::map::<String, Value>([])))
        };
        let rules = vec![
            Rule::new(
                "RateLimitPerIp",
                0,
                Statement::new().rate_based_statement(RateBasedStatement::new(
                    "IP",
                    props.rate_limit_per_5_minutes,
                )),
                visibility(&format!("{name}-RateLimitPerIp")),
            )
            .action(RuleAction::new().block(BlockAction::new())),
            managed(1, "AWSManagedRulesAmazonIpReputationList", &[]),
            managed(2, "AWSManagedRulesKnownBadInputsRuleSet", &[]),
            managed(
                3,
                "AWSManagedRulesCommonRuleSet",
                &props.common_rules_to_count,
            ),
        ];
        let acl = s.resource(
            "Resource",
            CfnWebACL::new(
                DefaultAction::new().allow(AllowAction::new()),
                "CLOUDFRONT",
                visibility(&name),
            )
            .name(name.as_str())
            .description(format!("CloudFront protection for {name}"))
            .rules(rules),
        );
        EdgeWebAcl { acl }
    }

    /// The ACL ARN, for [`crate::edge::EdgeProps::web_acl_arn`].
    pub fn arn(&self) -> Str {
        self.acl.attr_arn()
    }

    /// The underlying web ACL (escape hatch).
    pub fn web_acl(&self) -> Res<CfnWebACL> {
        self.acl
    }
}
