"""Bucket-policy statements read as IAM reads them: who outside the account may do what to the logs."""

from __future__ import annotations

from typing import Any

import pytest
from audit_trail.arns import bucket_arn, trail_arn
from audit_trail.component.policies.log_bucket import log_bucket_policy
from audit_trail.integrity.bucket_policy import outside_grants

ACCOUNT = "123456789012"
OTHER = "999999999999"
BUCKET = bucket_arn("aws", "logs")


def grants(statement: dict) -> list[tuple[str, tuple[str, ...]]]:
    policy = {"Statement": [{"Effect": "Allow", "Resource": f"{BUCKET}/*", **statement}]}
    return [(g.status, g.principals) for g in outside_grants(policy, ACCOUNT)]


OUT = f"arn:aws:iam::{OTHER}:root"
SESSION = f"arn:aws:sts::{OTHER}:assumed-role/x/y"
LOGGING = "logging.s3.amazonaws.com"
OWN_ROLES = f"arn:aws:iam::{ACCOUNT}:role/*"


def only(**condition: object) -> dict:
    return {"Condition": {"StringEquals": condition}}


@pytest.mark.parametrize(
    ("statement", "who"),
    [
        ({"Principal": {"AWS": OUT}, "Action": "s3:DeleteObject"}, OUT),
        ({"Principal": "*", "Action": "s3:PutLifecycleConfiguration"}, "*"),
        ({"Principal": {"AWS": OTHER}, "Action": "s3:*"}, OTHER),
        ({"Principal": {"AWS": [f"arn:aws:iam::{ACCOUNT}:role/ops", SESSION]}, "Action": ["S3:PUT*"]},
         SESSION),
        ({"Principal": {"AWS": "*"}, "Action": "s3:DeleteBucketPolicy"}, "*"),
        ({"Principal": {"AWS": OTHER}, "NotAction": "s3:GetObject"}, OTHER),
        ({"Principal": {"AWS": OTHER}, "Action": "*"}, OTHER),
        ({"Principal": {"AWS": OTHER}, "Action": "s3:PutBucketVersioning"}, OTHER),
        ({"NotPrincipal": {"AWS": OUT}, "Action": "s3:DeleteObjectVersion"}, "everyone but the NotPrincipal"),
        ({"Principal": {"Service": LOGGING}, "Action": "s3:PutObject"}, LOGGING),
        ({"Principal": {"Federated": "cognito-identity.amazonaws.com"}, "Action": "s3:PutObject"},
         "Federated:cognito-identity.amazonaws.com"),
        ({"Principal": {"AWS": "AROAEXAMPLEDELETED"}, "Action": "s3:DeleteObject"}, "AROAEXAMPLEDELETED"),
        ({"Principal": "*", "Action": "s3:PutObject", **only(**{"aws:PrincipalAccount": [ACCOUNT, OTHER]})},
         "*"),
    ],
    ids=[
        "other account deletes",
        "anyone expires",
        "account id, everything",
        "one outsider among own roles, wildcard case",
        "anyone drops the policy",
        "all but reading",
        "star action",
        "suspends versioning",
        "not principal",
        "another service",
        "federated",
        "deleted role id",
        "condition admits another account",
    ],
)  # fmt: skip
def test_outsiders_who_may_destroy_or_forge_fail(statement, who):
    assert grants(statement) == [("FAIL", (who,))]


@pytest.mark.parametrize(
    "statement",
    [
        {"Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/ops"}, "Action": "s3:DeleteObject"},
        {"Principal": {"AWS": ACCOUNT}, "Action": "s3:*"},
        {"Principal": "*", "Action": "s3:PutObject", **only(**{"aws:PrincipalAccount": ACCOUNT})},
        {"Principal": "*", "Action": "s3:*", "Condition": {"ArnLike": {"aws:PrincipalArn": OWN_ROLES}}},
        {"Principal": {"Service": LOGGING}, "Action": "s3:PutObject",
         **only(**{"aws:SourceAccount": ACCOUNT})},
        {"Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": ["s3:PutObject", "s3:GetBucketAcl"]},
    ],
    ids=["own role", "own account", "anyone of the account", "own roles by arn", "a service for the account",
         "cloudtrail's actions"],
)  # fmt: skip
def test_the_accounts_own_principals_and_cloudtrails_grants_pass(statement):
    assert grants(statement) == []


def test_cloudtrail_may_do_only_what_aws_documents():
    assert grants({"Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "s3:*"}) == [
        ("FAIL", ("cloudtrail.amazonaws.com",))
    ]


def test_reading_from_outside_is_a_warning():
    reader = {
        "Principal": {"AWS": f"arn:aws:iam::{OTHER}:role/auditor"},
        "Action": ["s3:GetObject", "s3:List*"],
    }
    assert grants(reader) == [("WARN", (f"arn:aws:iam::{OTHER}:role/auditor",))]
    (grant,) = outside_grants(
        {"Statement": {"Effect": "Allow", **reader}}, ACCOUNT
    )  # one statement, not a list
    assert grant.describe().startswith(
        f"arn:aws:iam::{OTHER}:role/auditor may read (s3:GetObject, s3:List*): {{"
    )


def test_the_stacks_own_policies_pass_account_and_organization_trails():
    trail = trail_arn("aws", "us-east-1", ACCOUNT, "t")
    for org in (None, "o-abcdefghij"):
        policy = log_bucket_policy(bucket_arn=BUCKET, trail_arn=trail, account=ACCOUNT, organization_id=org)
        assert outside_grants(policy, ACCOUNT) == []


def test_hostile_shapes_do_not_crash():
    policy: Any
    for policy in ({}, [], {"Statement": "x"}, {"Statement": [1, None, {"Effect": "Allow", "Principal": 5}]},
                   {"Statement": [{"Effect": "Allow", "Principal": {"AWS": [None]}, "Action": [3],
                                   "Condition": {"StringEquals": "x"}}]}):  # fmt: skip
        outside_grants(policy, ACCOUNT)
