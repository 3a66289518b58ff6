//! Every way a template grants or exposes access is read, and its broadening found: one
//! table-driven case per policy kind and exposure, plus the forms that mean the same.

mod support;

use pantri_synth::diff::{self, SchemaSpecs};
use serde_json::{json, Value};
use support::{input, res, tpl};

fn trust() -> Value {
    json!({"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"Service": "ecs-tasks.amazonaws.com"}}]})
}

fn role(extra: Value) -> Value {
    let mut props = json!({"AssumeRolePolicyDocument": trust()});
    if let (Some(p), Some(e)) = (props.as_object_mut(), extra.as_object()) {
        p.extend(e.clone());
    }
    res("AWS::IAM::Role", props)
}

fn doc(effect: &str, action: &str, principal: Option<Value>) -> Value {
    let mut s = json!({"Effect": effect, "Action": action, "Resource": "*"});
    if let Some(p) = principal {
        s["Principal"] = p;
    }
    json!({"Version": "2012-10-17", "Statement": [s]})
}

fn admin_arn() -> Value {
    json!({"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::aws:policy/AdministratorAccess"]]})
}

fn sg(egress: Option<Value>) -> Value {
    let mut p = json!({"GroupDescription": "web", "VpcId": "vpc-1"});
    if let Some(e) = egress {
        p["SecurityGroupEgress"] = e;
    }
    res("AWS::EC2::SecurityGroup", p)
}

fn placeholder() -> Value {
    json!([{"CidrIp": "255.255.255.255/32", "Description": "Disallow all traffic",
            "FromPort": 252, "IpProtocol": "icmp", "ToPort": 86}])
}

/// (case, old resources, new resources, the broadening reason expected (`None`: no broadening)).
type Case = (&'static str, Value, Value, Option<&'static str>);

fn cases() -> Vec<Case> {
    let everyone = Some(json!({"AWS": "*"}));
    vec![
        (
            "AdministratorAccess through ManagedPolicyArns",
            json!({"R": role(json!({}))}),
            json!({"R": role(json!({"ManagedPolicyArns": [admin_arn()]}))}),
            Some("managed policy AdministratorAccess: ADMIN-LIKE"),
        ),
        (
            "a managed policy detached",
            json!({"R": role(json!({"ManagedPolicyArns": [admin_arn()]}))}),
            json!({"R": role(json!({}))}),
            None,
        ),
        (
            "a customer managed policy on a group",
            json!({"G": res("AWS::IAM::Group", json!({}))}),
            json!({"G": res("AWS::IAM::Group", json!({"ManagedPolicyArns": ["arn:aws:iam::1:policy/Ops"]}))}),
            Some("managed policy (its statements live outside this template)"),
        ),
        (
            "AWS::IAM::Policy attached to a user",
            json!({}),
            json!({"P": res("AWS::IAM::Policy", json!({"PolicyName": "p", "Users": [{"Ref": "U"}],
                "PolicyDocument": doc("Allow", "s3:*", None)}))}),
            Some("adds Allow s3:*"),
        ),
        (
            "a Deny removed from an AWS::IAM::ManagedPolicy",
            json!({"P": res("AWS::IAM::ManagedPolicy", json!({"PolicyDocument": doc("Deny", "iam:*", None)}))}),
            json!({"P": res("AWS::IAM::ManagedPolicy", json!({"PolicyDocument": {"Statement": []}}))}),
            Some("removes Deny iam:*"),
        ),
        (
            "inline policy of a user",
            json!({"U": res("AWS::IAM::User", json!({}))}),
            json!({"U": res("AWS::IAM::User", json!({"Policies": [{"PolicyName": "p", "PolicyDocument": doc("Allow", "ec2:*", None)}]}))}),
            Some("adds Allow ec2:*"),
        ),
        (
            "ECR repository policy as a JSON string",
            json!({"Repo": res("AWS::ECR::Repository", json!({}))}),
            json!({"Repo": res("AWS::ECR::Repository", json!({"RepositoryPolicyText":
                doc("Allow", "ecr:BatchGetImage", everyone.clone()).to_string()}))}),
            Some("adds Allow ecr:BatchGetImage"),
        ),
        (
            "VPC endpoint policy",
            json!({"E": res("AWS::EC2::VPCEndpoint", json!({"ServiceName": "s3"}))}),
            json!({"E": res("AWS::EC2::VPCEndpoint", json!({"ServiceName": "s3", "PolicyDocument": doc("Allow", "s3:*", everyone.clone())}))}),
            Some("adds Allow s3:*"),
        ),
        (
            "log group resource policy",
            json!({"L": res("AWS::Logs::LogGroup", json!({}))}),
            json!({"L": res("AWS::Logs::LogGroup", json!({"ResourcePolicyDocument": doc("Allow", "logs:PutLogEvents", Some(json!({"Service": "delivery.logs.amazonaws.com"})))}))}),
            Some("adds Allow logs:PutLogEvents"),
        ),
        (
            "AWS::Logs::ResourcePolicy",
            json!({}),
            json!({"P": res("AWS::Logs::ResourcePolicy", json!({"PolicyName": "p",
                "PolicyDocument": doc("Allow", "logs:*", everyone.clone()).to_string()}))}),
            Some("adds Allow logs:*"),
        ),
        (
            "Secrets Manager resource policy",
            json!({}),
            json!({"P": res("AWS::SecretsManager::ResourcePolicy", json!({"SecretId": {"Ref": "S"},
                "ResourcePolicy": doc("Allow", "secretsmanager:GetSecretValue", everyone.clone())}))}),
            Some("adds Allow secretsmanager:GetSecretValue"),
        ),
        (
            "S3 bucket policy",
            json!({}),
            json!({"P": res("AWS::S3::BucketPolicy", json!({"Bucket": {"Ref": "B"},
                "PolicyDocument": doc("Allow", "s3:GetObject", everyone.clone())}))}),
            Some("adds Allow s3:GetObject"),
        ),
        (
            "SQS queue policy",
            json!({}),
            json!({"P": res("AWS::SQS::QueuePolicy", json!({"Queues": [{"Ref": "Q"}],
                "PolicyDocument": doc("Allow", "sqs:SendMessage", everyone.clone())}))}),
            Some("adds Allow sqs:SendMessage"),
        ),
        (
            "SNS topic policy",
            json!({}),
            json!({"P": res("AWS::SNS::TopicPolicy", json!({"Topics": [{"Ref": "T"}],
                "PolicyDocument": doc("Allow", "sns:Publish", everyone.clone())}))}),
            Some("adds Allow sns:Publish"),
        ),
        (
            "KMS key policy",
            json!({"K": res("AWS::KMS::Key", json!({"KeyPolicy": {"Statement": []}}))}),
            json!({"K": res("AWS::KMS::Key", json!({"KeyPolicy": doc("Allow", "kms:Decrypt", everyone.clone())}))}),
            Some("adds Allow kms:Decrypt"),
        ),
        (
            "Lambda permission",
            json!({}),
            json!({"P": res("AWS::Lambda::Permission", json!({"Action": "lambda:InvokeFunction",
                "FunctionName": {"Ref": "F"}, "Principal": "*"}))}),
            Some("adds Allow lambda:InvokeFunction"),
        ),
        (
            "any other type: a policy document found by its shape",
            json!({"D": res("AWS::OpenSearchService::Domain", json!({}))}),
            json!({"D": res("AWS::OpenSearchService::Domain", json!({"AccessPolicies": doc("Allow", "es:*", everyone.clone())}))}),
            Some("adds Allow es:*"),
        ),
        (
            "a policy pantri cannot read",
            json!({"R": role(json!({}))}),
            json!({"R": role(json!({"Policies": [{"PolicyName": "p",
                "PolicyDocument": {"Fn::If": ["Prod", doc("Allow", "a:b", None), doc("Allow", "*", None)]}}]}))}),
            Some("adds Unknown (a policy pantri cannot read"),
        ),
        (
            "the CDK's disallow-all egress placeholder removed",
            json!({"G": sg(Some(placeholder()))}),
            json!({"G": sg(None)}),
            Some("opens all all egress to 0.0.0.0/0"),
        ),
        (
            "the placeholder added (allow-all egress goes away)",
            json!({"G": sg(None)}),
            json!({"G": sg(Some(placeholder()))}),
            None,
        ),
        (
            "permissions boundary removed",
            json!({"R": role(json!({"PermissionsBoundary": "arn:aws:iam::1:policy/B"}))}),
            json!({"R": role(json!({}))}),
            Some("permissions boundary arn:aws:iam::1:policy/B removed"),
        ),
        (
            "permissions boundary set",
            json!({"R": role(json!({}))}),
            json!({"R": role(json!({"PermissionsBoundary": "arn:aws:iam::1:policy/B"}))}),
            None,
        ),
        (
            "a new IAM user",
            json!({}),
            json!({"U": res("AWS::IAM::User", json!({}))}),
            Some("new IAM user"),
        ),
        (
            "a new access key",
            json!({}),
            json!({"K": res("AWS::IAM::AccessKey", json!({"UserName": "u"}))}),
            Some("an active access key"),
        ),
        (
            "a public access block turned off",
            json!({"B": res("AWS::S3::Bucket", json!({"PublicAccessBlockConfiguration": {"BlockPublicPolicy": true, "BlockPublicAcls": true}}))}),
            json!({"B": res("AWS::S3::Bucket", json!({"PublicAccessBlockConfiguration": {"BlockPublicPolicy": false, "BlockPublicAcls": true}}))}),
            Some("public access block BlockPublicPolicy turned off"),
        ),
        (
            "a web ACL association removed",
            json!({"A": res("AWS::WAFv2::WebACLAssociation", json!({"ResourceArn": "alb", "WebACLArn": "acl"}))}),
            json!({}),
            Some("web ACL association removed"),
        ),
        (
            "a distribution loses its web ACL",
            json!({"D": res("AWS::CloudFront::Distribution", json!({"DistributionConfig": {"Enabled": true, "WebACLId": "acl"}}))}),
            json!({"D": res("AWS::CloudFront::Distribution", json!({"DistributionConfig": {"Enabled": true}}))}),
            Some("web ACL acl removed"),
        ),
        (
            "the listener rule that checks the origin header changes",
            json!({"R": res("AWS::ElasticLoadBalancingV2::ListenerRule", json!({"Priority": 1,
                "Conditions": [{"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Origin-Verify", "Values": ["s"]}}],
                "Actions": [{"Type": "forward", "TargetGroupArn": "tg"}]}))}),
            json!({"R": res("AWS::ElasticLoadBalancingV2::ListenerRule", json!({"Priority": 1,
                "Conditions": [{"Field": "path-pattern", "Values": ["/*"]}],
                "Actions": [{"Type": "forward", "TargetGroupArn": "tg"}]}))}),
            Some("listener rule changes"),
        ),
        (
            "the listener's default action changes",
            json!({"L": res("AWS::ElasticLoadBalancingV2::Listener", json!({"Port": 443,
                "DefaultActions": [{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "403"}}]}))}),
            json!({"L": res("AWS::ElasticLoadBalancingV2::Listener", json!({"Port": 443,
                "DefaultActions": [{"Type": "forward", "TargetGroupArn": "tg"}]}))}),
            Some("listener default action changes"),
        ),
        (
            "Cognito MFA weakened",
            json!({"P": res("AWS::Cognito::UserPool", json!({"MfaConfiguration": "ON"}))}),
            json!({"P": res("AWS::Cognito::UserPool", json!({"MfaConfiguration": "OPTIONAL"}))}),
            Some("MFA ON → OPTIONAL"),
        ),
        (
            "Cognito MFA strengthened",
            json!({"P": res("AWS::Cognito::UserPool", json!({"MfaConfiguration": "OFF"}))}),
            json!({"P": res("AWS::Cognito::UserPool", json!({"MfaConfiguration": "ON"}))}),
            None,
        ),
    ]
}

#[test]
fn every_kind_of_grant_is_read() {
    for (name, old, new, want) in cases() {
        let (old, new) = (tpl(old), tpl(new));
        let d = diff::diff_stack(&input(&old, &new), &SchemaSpecs);
        let why: Vec<String> = d.broadening().into_iter().map(|(_, w)| w).collect();
        match want {
            Some(w) => assert!(
                why.iter().any(|x| x.contains(w)),
                "case {name}: want {w:?} in {why:?}"
            ),
            None => assert!(why.is_empty(), "case {name}: no broadening, got {why:?}"),
        }
        assert!(d.has_security_changes(), "case {name}: shows in the tables");
    }
}

#[test]
fn principal_and_condition_forms_compare_by_meaning() {
    let policy = |principal: Value, condition: Value| {
        tpl(
            json!({"P": res("AWS::S3::BucketPolicy", json!({"Bucket": "b", "PolicyDocument": {"Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Principal": principal, "Condition": condition}]}}))}),
        )
    };
    let pairs = [
        (
            "\"*\" and {\"AWS\": \"*\"}",
            policy(json!("*"), json!({})),
            policy(json!({"AWS": "*"}), json!({})),
        ),
        (
            "condition key order, a value as string or list",
            policy(
                json!("*"),
                json!({"StringEquals": {"aws:SourceAccount": "1", "aws:SourceVpc": "v"}, "Bool": {"aws:SecureTransport": "true"}}),
            ),
            policy(
                json!({"AWS": ["*"]}),
                json!({"Bool": {"aws:SecureTransport": ["true"]}, "StringEquals": {"aws:SourceVpc": ["v"], "aws:SourceAccount": "1"}}),
            ),
        ),
    ];
    for (name, a, b) in pairs {
        let d = diff::diff_stack(&input(&a, &b), &SchemaSpecs);
        assert!(d.iam.is_empty(), "case {name}: {:?}", d.iam);
    }
}
