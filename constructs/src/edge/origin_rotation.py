"""Rotates the origin-verify secret: CloudFront sends the new value, the ALB accepts new and old."""
import os

import boto3

HEADER = os.environ["HEADER_NAME"]
DISTRIBUTION = os.environ["DISTRIBUTION_ID"]
RULE = os.environ["LISTENER_RULE_ARN"]
sm = boto3.client("secretsmanager")
cf = boto3.client("cloudfront")
elb = boto3.client("elbv2")


def handler(event, _context):
    arn, token, step = event["SecretId"], event["ClientRequestToken"], event["Step"]
    stages = sm.describe_secret(SecretId=arn)["VersionIdsToStages"]
    if token not in stages:
        raise ValueError(f"secret {arn} has no version {token}")
    if "AWSCURRENT" in stages[token]:
        return
    if "AWSPENDING" not in stages[token]:
        raise ValueError(f"version {token} of {arn} is not pending")
    STEPS[step](arn, token, stages)


def value(arn, stage, token=None):
    extra = {"VersionId": token} if token else {}
    return sm.get_secret_value(SecretId=arn, VersionStage=stage, **extra)["SecretString"]


def create(arn, token, _stages):
    try:
        value(arn, "AWSPENDING", token)
    except sm.exceptions.ResourceNotFoundException:
        new = sm.get_random_password(PasswordLength=48, ExcludePunctuation=True)
        sm.put_secret_value(SecretId=arn, ClientRequestToken=token,
                            SecretString=new["RandomPassword"], VersionStages=["AWSPENDING"])


def header_values(rule):
    for c in rule["Conditions"]:
        config = c.get("HttpHeaderConfig") or {}
        if c["Field"] == "http-header" and config.get("HttpHeaderName", "").lower() == HEADER.lower():
            return config["Values"]
    raise ValueError(f"rule {RULE} has no {HEADER} condition")


def origin_headers(config):
    found = [h for o in config["Origins"]["Items"]
             for h in o.get("CustomHeaders", {}).get("Items", [])
             if h["HeaderName"].lower() == HEADER.lower()]
    if not found:
        raise ValueError(f"no origin of distribution {DISTRIBUTION} sends {HEADER}")
    return found


def set_(arn, token, _stages):
    pending, current = value(arn, "AWSPENDING", token), value(arn, "AWSCURRENT")
    # First the ALB accepts both values, then CloudFront sends the new one: no request is
    # refused while edge locations take the new configuration.
    rule = elb.describe_rules(RuleArns=[RULE])["Rules"][0]
    conditions = []
    for c in rule["Conditions"]:
        c = {k: v for k, v in c.items() if k != "Values" or not any(k.endswith("Config") for k in c)}
        if c["Field"] == "http-header" and c["HttpHeaderConfig"]["HttpHeaderName"].lower() == HEADER.lower():
            c["HttpHeaderConfig"]["Values"] = [pending, current]
        conditions.append(c)
    elb.modify_rule(RuleArn=RULE, Conditions=conditions)
    got = cf.get_distribution_config(Id=DISTRIBUTION)
    for h in origin_headers(got["DistributionConfig"]):
        h["HeaderValue"] = pending
    cf.update_distribution(Id=DISTRIBUTION, IfMatch=got["ETag"], DistributionConfig=got["DistributionConfig"])


def test(arn, token, _stages):
    pending = value(arn, "AWSPENDING", token)
    if pending not in header_values(elb.describe_rules(RuleArns=[RULE])["Rules"][0]):
        raise ValueError(f"rule {RULE} does not accept the new value")
    config = cf.get_distribution_config(Id=DISTRIBUTION)["DistributionConfig"]
    if any(h["HeaderValue"] != pending for h in origin_headers(config)):
        raise ValueError(f"distribution {DISTRIBUTION} does not send the new value")


def finish(arn, token, stages):
    current = next(v for v, s in stages.items() if "AWSCURRENT" in s)
    sm.update_secret_version_stage(SecretId=arn, VersionStage="AWSCURRENT",
                                   MoveToVersionId=token, RemoveFromVersionId=current)


STEPS = {"createSecret": create, "setSecret": set_, "testSecret": test, "finishSecret": finish}
