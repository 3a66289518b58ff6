//! VPC flow logs: an encrypted log group, the role the flow-log service assumes, the flow log.

use pantri_synth::cfn::ec2::flow_log::{LogDestinationType, ResourceType, TrafficType};
use pantri_synth::cfn::ec2::{CfnFlowLog, CfnVPC};
use pantri_synth::cfn::iam::{role, CfnRole};
use pantri_synth::cfn::logs::CfnLogGroup;
use pantri_synth::fns;
use pantri_synth::{Res, Scope};

use super::SecureNetworkProps;
use crate::logs::{encrypted_log_group, LogsKey};
use crate::policy::{document, Principal, Statement};

/// The flow log of the whole VPC, its encrypted log group, and the role the flow-log service
/// assumes to write to that group and nothing else.
pub(super) fn flow_logs(
    s: &mut Scope<'_>,
    vpc: Res<CfnVPC>,
    name: &str,
    props: &SecureNetworkProps,
) -> (Res<CfnFlowLog>, Res<CfnLogGroup>, Res<CfnRole>) {
    let mut f = s.child("FlowLogs");
    let key_arn = match &props.flow_log_key_arn {
        Some(arn) => arn.clone(),
        None => LogsKey::new(&mut f, "Key", props.removal).arn(),
    };
    let group = encrypted_log_group(
        &mut f,
        "LogGroup",
        format!("/aws/vpc/flowlogs/{name}"),
        props.flow_log_retention_days,
        key_arn,
        props.removal,
    );
    let trust = document([Statement::allow()
        .principal(Principal::service("vpc-flow-logs.amazonaws.com"))
        .actions(["sts:AssumeRole"])
        // Confused-deputy guard: only flow logs of this account and region may use the role.
        .condition("StringEquals", "aws:SourceAccount", fns::aws::account_id())
        .condition(
            "ArnLike",
            "aws:SourceArn",
            fns::sub("arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:vpc-flow-log/*"),
        )]);
    let permissions = document([Statement::allow()
        .sid("WriteFlowLogs")
        .actions([
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "logs:DescribeLogStreams",
        ])
        // The group's ARN ends in `:*`, which covers its log streams and nothing else.
        .resources([group.attr_arn()])]);
    let role = f.resource(
        "Role",
        CfnRole::new(trust)
            .description(format!("VPC flow logs of {name} to their log group"))
            .policies(vec![role::Policy::new(permissions, "write-flow-logs")]),
    );
    let flow_log = f.resource(
        "FlowLog",
        CfnFlowLog::new(vpc.ref_(), ResourceType::Vpc)
            .traffic_type(TrafficType::All)
            .log_destination_type(LogDestinationType::CloudWatchLogs)
            .log_group_name(group.ref_())
            .deliver_logs_permission_arn(role.attr_arn()),
    );
    (flow_log, group, role)
}
