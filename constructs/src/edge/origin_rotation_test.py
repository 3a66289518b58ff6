"""The origin-verify rotation function, step by step, against moto's in-process AWS.

Run by scripts/test: .venv/bin/python -m unittest constructs/src/edge/origin_rotation_test.py
"""
import importlib.util
import os
import unittest

from moto import mock_aws

import boto3

HERE = os.path.dirname(os.path.abspath(__file__))
os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
                  AWS_DEFAULT_REGION="us-east-1", HEADER_NAME="X-Origin-Verify")


def load_function():
    spec = importlib.util.spec_from_file_location("origin_rotation", os.path.join(HERE, "origin_rotation.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def distribution(cf, value):
    origin = {"Id": "App", "DomainName": "origin.example.com",
              "CustomHeaders": {"Quantity": 1, "Items": [{"HeaderName": "X-Origin-Verify", "HeaderValue": value}]},
              "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443, "OriginProtocolPolicy": "https-only"}}
    config = {"CallerReference": "test", "Comment": "", "Enabled": True,
              "Origins": {"Quantity": 1, "Items": [origin]},
              "DefaultCacheBehavior": {"TargetOriginId": "App", "ViewerProtocolPolicy": "redirect-to-https",
                                       "MinTTL": 0, "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}}}}
    return cf.create_distribution(DistributionConfig=config)["Distribution"]["Id"]


def listener_rule(ec2, elb, value):
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"us-east-1{z}")["Subnet"]["SubnetId"]
               for i, z in ((1, "a"), (2, "b"))]
    lb = elb.create_load_balancer(Name="alb", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
    tg = elb.create_target_group(Name="tg", Protocol="HTTP", Port=3000, VpcId=vpc)["TargetGroups"][0]["TargetGroupArn"]
    forward = [{"Type": "forward", "TargetGroupArn": tg}]
    listener = elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80,
                                   DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "403"}}])
    header = {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Origin-Verify", "Values": [value]}}
    return elb.create_rule(ListenerArn=listener["Listeners"][0]["ListenerArn"], Priority=1,
                           Conditions=[header], Actions=forward)["Rules"][0]["RuleArn"]


@mock_aws
class RotationTest(unittest.TestCase):
    def setUp(self):
        self.sm = boto3.client("secretsmanager")
        self.cf = boto3.client("cloudfront")
        self.elb = boto3.client("elbv2")
        self.arn = self.sm.create_secret(Name="app/dev/origin-verify", SecretString="first")["ARN"]
        os.environ["DISTRIBUTION_ID"] = distribution(self.cf, "first")
        os.environ["LISTENER_RULE_ARN"] = listener_rule(boto3.client("ec2"), self.elb, "first")
        self.fn = load_function()

    def rotate(self, token):
        for step in ("createSecret", "setSecret", "testSecret", "finishSecret"):
            self.fn.handler({"SecretId": self.arn, "ClientRequestToken": token, "Step": step}, None)

    def accepted(self):
        rule = self.elb.describe_rules(RuleArns=[os.environ["LISTENER_RULE_ARN"]])["Rules"][0]
        return self.fn.header_values(rule)

    def sent(self):
        config = self.cf.get_distribution_config(Id=os.environ["DISTRIBUTION_ID"])["DistributionConfig"]
        return [h["HeaderValue"] for h in self.fn.origin_headers(config)]

    def current(self):
        return self.sm.get_secret_value(SecretId=self.arn, VersionStage="AWSCURRENT")["SecretString"]

    def test_a_rotation_sends_the_new_value_and_accepts_new_and_old(self):
        # GIVEN a pending version, as Secrets Manager's RotateSecret leaves it before the steps
        token = "a" * 32
        self.sm.put_secret_value(SecretId=self.arn, ClientRequestToken=token,
                                 SecretString="second-value", VersionStages=["AWSPENDING"])
        # WHEN the four steps run
        self.rotate(token)
        # THEN the new value is current, CloudFront sends it, the ALB accepts it and the old one
        self.assertEqual(self.current(), "second-value")
        self.assertEqual(self.sent(), ["second-value"])
        self.assertEqual(self.accepted(), ["second-value", "first"])

    def test_a_second_rotation_drops_the_oldest_value(self):
        for token, new in (("b" * 32, "second"), ("c" * 32, "third")):
            self.sm.put_secret_value(SecretId=self.arn, ClientRequestToken=token,
                                     SecretString=new, VersionStages=["AWSPENDING"])
            self.rotate(token)
        self.assertEqual(self.accepted(), ["third", "second"])
        self.assertEqual(self.sent(), ["third"])

    def test_create_generates_a_value_when_none_is_pending(self):
        # GIVEN a version id Secrets Manager announced, with no value yet
        token = "d" * 32
        self.sm.put_secret_value(SecretId=self.arn, ClientRequestToken=token,
                                 SecretString="placeholder", VersionStages=["AWSPENDING"])
        self.fn.handler({"SecretId": self.arn, "ClientRequestToken": token, "Step": "createSecret"}, None)
        pending = self.sm.get_secret_value(SecretId=self.arn, VersionStage="AWSPENDING")["SecretString"]
        self.assertEqual(pending, "placeholder", "an existing pending value is kept (the step is retried)")

    def test_a_version_that_is_not_pending_is_refused(self):
        with self.assertRaises(ValueError):
            self.fn.handler({"SecretId": self.arn, "ClientRequestToken": "e" * 32, "Step": "setSecret"}, None)


if __name__ == "__main__":
    unittest.main()
