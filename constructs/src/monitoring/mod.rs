//! Monitoring of the Pantri service: Datadog monitors, a Datadog dashboard, the account-wide
//! Datadog AWS integration, and CloudWatch alarms as a complement that works without Datadog.
//!
//! Every construct here watches one [`Workload`]: the names Datadog and CloudWatch know the
//! service by. Names that other stacks create (cluster, load balancer, target group, CloudFront
//! distribution) are [`Str`] expressions, so they may be attributes or imports; queries and texts
//! that embed them are rendered with [`render`], which substitutes literal names at synth time and
//! leaves the others to `Fn::Sub` at deploy time.
//!
//! How the metrics are scoped, and why two ways:
//! - APM and agent metrics (`trace.web.request*`, logs) carry the unified service tags
//!   `env:<env>` and `service:<service>` (DD_ENV / DD_SERVICE set on the task), so queries on
//!   them filter on exactly those two tags.
//! - AWS integration metrics (`aws.applicationelb.*`, `aws.ecs.service.*`, `aws.cloudfront.*`)
//!   carry the CloudWatch dimensions as tags (`loadbalancer`, `targetgroup`, `clustername`,
//!   `servicename`, `distributionid`) and only carry `env`/`service` when the AWS resources are
//!   tagged so. Filtering them on `env` would make a monitor silently see no data where a tag is
//!   missing, so they filter on the resource's own identity, which names one stage's resource.

pub mod alarms;
pub mod datadog_dashboard;
pub mod datadog_integration;
pub mod datadog_monitors;

pub use alarms::{AlarmsToDatadog, ServiceAlarms, ServiceAlarmsProps};
pub use datadog_dashboard::{DatadogDashboard, DatadogDashboardProps};
pub use datadog_integration::{DatadogIntegration, DatadogIntegrationProps};
pub use datadog_monitors::{DatadogMonitors, DatadogMonitorsProps, MonitorThresholds};

use pantri_synth::{fns, Scope, Str};

use crate::Naming;

/// The service being watched, by the names Datadog and CloudWatch know it: the required input
/// of [`ServiceAlarms`], [`DatadogMonitors`] and [`DatadogDashboard`]. Every field is given (there
/// is no `Default`: the names are the service's own).
///
/// ```
/// use pantri_constructs::{monitoring::Workload, Naming};
/// let workload = Workload {
///     naming: Naming::new("orders", "dev").expect("lowercase names"),
///     env: "dev".into(),
///     service: "orders-api".into(),
///     team: "payments".into(),
///     cluster_name: "orders-dev".into(),
///     service_name: "orders-api".into(),
///     alb_full_name: "app/orders-dev/0123456789abcdef".into(),
///     target_group_full_name: "targetgroup/orders-dev/0123456789abcdef".into(),
///     distribution_id: None,
///     desired_count: 2,
/// };
/// assert_eq!(workload.prefix(), "orders-dev");
/// ```
///
/// The names made in another stack (the service's, the load balancer's) are usually its
/// attributes, such as [`crate::service::WebService::load_balancer_full_name`].
#[derive(Clone, Debug, PartialEq)]
pub struct Workload {
    /// The app and stage (`orders`, `dev`): the prefix of every alarm, monitor and topic name,
    /// and the `app:` and `stage:` tags.
    pub naming: Naming,
    /// The Datadog `env` tag (DD_ENV of the task).
    pub env: String,
    /// The Datadog `service` tag (DD_SERVICE of the task).
    pub service: String,
    /// The team that owns the alerts, as a `team:` tag (`platform`).
    pub team: String,
    /// The ECS cluster name.
    pub cluster_name: Str,
    /// The ECS service name.
    pub service_name: Str,
    /// The load balancer's `LoadBalancerFullName` (`app/pantri-prod/50dc6c495c0c9188`).
    pub alb_full_name: Str,
    /// The target group's `TargetGroupFullName` (`targetgroup/pantri-prod/73e2d6bc24d8a067`).
    pub target_group_full_name: Str,
    /// The CloudFront distribution id, when the service sits behind one.
    pub distribution_id: Option<Str>,
    /// How many tasks the service runs at least (its desired count, the autoscaling floor).
    /// Fewer running tasks than this is an alert.
    pub desired_count: u32,
}

impl Workload {
    /// `<app>-<stage>`: the prefix of every name humans look for.
    pub fn prefix(&self) -> String {
        self.naming.prefix()
    }

    /// The application log group, by the naming convention of the service construct.
    pub fn log_group_name(&self) -> String {
        format!("/aws/ecs/{}", self.prefix())
    }

    /// The Datadog tags every monitor and the dashboard carry.
    pub fn tags(&self) -> Vec<String> {
        vec![
            format!("env:{}", self.env),
            format!("service:{}", self.service),
            format!("team:{}", self.team),
            format!("app:{}", self.naming.app()),
            format!("stage:{}", self.naming.stage()),
            "managed-by:pantri".to_owned(),
        ]
    }

    /// The tag filter of APM and agent metrics: `env:<env>,service:<service>`.
    pub fn apm_scope(&self) -> String {
        format!("env:{},service:{}", self.env, self.service)
    }

    /// The variables [`render`] substitutes: `${Cluster}`, `${EcsService}`, `${Alb}`,
    /// `${TargetGroup}` and, with a distribution, `${Distribution}`.
    pub fn vars(&self) -> Vec<(&'static str, Str)> {
        let mut v = vec![
            ("Cluster", self.cluster_name.clone()),
            ("EcsService", self.service_name.clone()),
            ("Alb", self.alb_full_name.clone()),
            ("TargetGroup", self.target_group_full_name.clone()),
        ];
        if let Some(d) = &self.distribution_id {
            v.push(("Distribution", d.clone()));
        }
        v
    }

    /// Records an error at `scope` for every unusable field; returns whether all were usable.
    pub fn validate(&self, scope: &mut Scope<'_>) -> bool {
        let mut ok = true;
        // The naming's parts are tag values already (checked when it was made).
        for (field, value) in [
            ("env", &self.env),
            ("service", &self.service),
            ("team", &self.team),
        ] {
            if !is_tag_value(value) {
                scope.error(format!(
                    "{field} {value:?} is not a Datadog tag value: use lowercase letters, digits, \
                     '-', '_' or '.', starting with a letter"
                ));
                ok = false;
            }
        }
        for (field, value, prefix, what) in [
            ("cluster_name", &self.cluster_name, "", "the cluster's name"),
            (
                "service_name",
                &self.service_name,
                "",
                "the ECS service's name",
            ),
            (
                "alb_full_name",
                &self.alb_full_name,
                "app/",
                "the load balancer's LoadBalancerFullName attribute",
            ),
            (
                "target_group_full_name",
                &self.target_group_full_name,
                "targetgroup/",
                "the target group's TargetGroupFullName attribute",
            ),
        ] {
            if let Some(lit) = value.as_literal() {
                if lit.is_empty() || !lit.starts_with(prefix) {
                    scope.error(format!(
                        "{field} {lit:?} is not usable: pass {what}{}",
                        if prefix.is_empty() {
                            String::new()
                        } else {
                            format!(" (it starts with {prefix:?})")
                        }
                    ));
                    ok = false;
                }
            }
        }
        if let Some(lit) = self.distribution_id.as_ref().and_then(Str::as_literal) {
            if lit.is_empty() {
                scope.error(
                    "distribution_id is empty: pass the distribution's Id, or None without CloudFront",
                );
                ok = false;
            }
        }
        if self.desired_count == 0 {
            scope.error(
                "desired_count 0 would make the running-tasks alert meaningless: \
                 give the service's desired count (at least 1)",
            );
            ok = false;
        }
        ok
    }
}

fn is_tag_value(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c))
}

/// Checks Datadog notification handles (`@slack-pantri-alerts`); records an error for each bad
/// one and for an empty list (a monitor that notifies no one is an alert nobody sees).
pub(crate) fn validate_handles(scope: &mut Scope<'_>, notify: &[String]) -> bool {
    let mut ok = true;
    if notify.is_empty() {
        scope.error(
            "notify is empty: give at least one Datadog handle, such as @slack-pantri-alerts",
        );
        ok = false;
    }
    for h in notify {
        if !h.starts_with('@') || h.len() < 2 || h.chars().any(char::is_whitespace) {
            scope.error(format!(
                "notify handle {h:?} is not a Datadog handle: write it as @slack-channel, \
                 @pagerduty-service or @team-name"
            ));
            ok = false;
        }
    }
    ok
}

/// Renders a text that names `${Var}`s: literal values are substituted now; the template stays
/// an `Fn::Sub` only for values known at deploy time (and for pseudo parameters such as
/// `${AWS::Region}`), with exactly the variables it uses.
pub fn render(template: &str, vars: &[(&str, Str)]) -> Str {
    let mut text = template.to_owned();
    let mut deferred = Vec::new();
    for (name, value) in vars {
        let placeholder = format!("${{{name}}}");
        if !text.contains(&placeholder) {
            continue;
        }
        match value.as_literal() {
            Some(lit) => text = text.replace(&placeholder, lit),
            None => deferred.push((name.to_string(), value.clone())),
        }
    }
    if deferred.is_empty() && !text.contains("${") {
        Str::from(text)
    } else {
        fns::sub_with(&text, deferred)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pantri_synth::{ToValue, Value};

    #[test]
    fn render_substitutes_literals_and_defers_expressions() {
        let vars = [("A", Str::from("x")), ("B", fns::import_value("B"))];
        assert_eq!(render("${A}-y", &vars), Str::from("x-y"));
        let Value::Intrinsic(i) = render("${A}-${B}", &vars).to_value() else {
            panic!("expected Fn::Sub")
        };
        let pantri_synth::Intrinsic::Sub(text, v) = *i else {
            panic!("expected Fn::Sub")
        };
        assert_eq!(text, "x-${B}");
        assert_eq!(v.keys().collect::<Vec<_>>(), ["B"]);
        // Pseudo parameters keep the template an Fn::Sub, with no variables.
        assert!(render("${AWS::Region}", &vars).as_literal().is_none());
    }

    #[test]
    fn tag_values_are_lowercase_and_start_with_a_letter() {
        assert!(is_tag_value("prod"));
        assert!(is_tag_value("pantri-web_2.0"));
        assert!(!is_tag_value("Prod"));
        assert!(!is_tag_value("1prod"));
        assert!(!is_tag_value(""));
        assert!(!is_tag_value("a b"));
    }
}
