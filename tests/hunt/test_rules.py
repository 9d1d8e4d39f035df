"""Every shipped SigmaHQ CloudTrail rule: records written from its intent fire it, near misses don't."""

from __future__ import annotations

import copy
import itertools
from pathlib import Path
from typing import Any

import pytest
from audit_trail.hunt.evaluate import RuleMatcher
from audit_trail.hunt.rules import HuntRule, load_rules

ACCOUNT = "111122223333"
_ids = itertools.count(1)


def user_identity(name: str = "alice", key: str = "AKIAEXAMPLEALICE0001") -> dict[str, Any]:
    return {
        "type": "IAMUser",
        "principalId": f"AIDAEXAMPLE{name.upper()}",
        "arn": f"arn:aws:iam::{ACCOUNT}:user/{name}",
        "accountId": ACCOUNT,
        "accessKeyId": key,
        "userName": name,
    }


def event(source: str, name: str, changes: dict[str, Any] | None = None, **top: Any) -> dict[str, Any]:
    """A successful API call by IAM user alice; `changes` sets dotted paths (value DROP removes the key)."""
    record: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": user_identity(),
        "eventTime": "2026-11-20T10:00:00Z",
        "eventSource": f"{source}.amazonaws.com" if "." not in source else source,
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.7",
        "userAgent": "aws-cli/2.15.0 Python/3.11.6",
        "requestParameters": None,
        "responseElements": None,
        "requestID": f"req-{next(_ids)}",
        "eventID": f"evt-{next(_ids)}",
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
    }
    record.update(top)
    return changed(record, changes or {})


DROP = object()


def changed(record: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(record)
    for path, value in changes.items():
        *parents, last = path.split(".")
        node = out
        for part in parents:
            if not isinstance(node.get(part), dict):
                node[part] = {}
            node = node[part]
        if value is DROP:
            node.pop(last, None)
        else:
            node[last] = value
    return out


ASSUMED = {
    "userIdentity.type": "AssumedRole",
    "userIdentity.arn": "arn:aws:sts::111122223333:assumed-role/Deploy/ci",
    "userIdentity.sessionContext.sessionIssuer.type": "Role",
}
CREDS_URI = "$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"
VERSIONING = "requestParameters.VersioningConfiguration.Status"
S3_BROWSER = "S3 Browser 11.5.7 https://s3browser.com"
POLICY = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],'
    '"Resource":["arn:aws:s3:::%s/*"]}]}'
)

# rule id -> (records that must fire it, near misses that must not)
CASES: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]] = {
    # Bedrock guardrails: exact names, any case.
    "59b70e4d-dd17-44a9-b740-acf07ae3eb6a": (
        [event("bedrock", "DeleteGuardrail"), event("bedrock", "deleteguardrail")],
        [event("bedrock", "DeleteGuardrailPolicy"), event("bedrock-agent", "DeleteGuardrail")],
    ),
    "1c722651-254a-4b04-a9f4-99b62a2d0a1f": (
        [event("bedrock", "UpdateGuardrail")],
        [event("bedrock", "GetGuardrail")],
    ),
    # Bucket deleted: success means errorCode absent or null.
    "39c9f26d-6e3b-4dbb-9c7a-4154b0281112": (
        [event("s3", "DeleteBucket"), event("s3", "DeleteBucket", errorCode=None)],
        [event("s3", "DeleteBucket", errorCode="AccessDenied"), event("s3", "DeleteBucketPolicy")],
    ),
    "6393e346-1977-46ef-8987-ad414a145fad": (
        [event("signin", "ConsoleLogin", errorMessage="Failed authentication")],
        [event("signin", "ConsoleLogin", {"responseElements.ConsoleLogin": "Success"})],
    ),
    "77caf516-34e5-4df9-b4db-20744fea0a60": (
        [
            event(
                "signin",
                "ConsoleLogin",
                {"additionalEventData.MFAUsed": "No", "responseElements.ConsoleLogin": "Success"},
            )
        ],
        [
            event(
                "signin",
                "ConsoleLogin",
                {"additionalEventData.MFAUsed": "Yes", "responseElements.ConsoleLogin": "Success"},
            ),
            event("signin", "ConsoleLogin", {"responseElements.ConsoleLogin": "Success"}),  # no MFAUsed
        ],
    ),
    "4db60cc0-36fb-42b7-9b58-a5b53019fb74": (
        [event("cloudtrail", "StopLogging"), event("cloudtrail", "DeleteTrail")],
        [event("cloudtrail", "StartLogging")],
    ),
    # GuardDuty: `enable: 'false'` matches CloudTrail's JSON false.
    "d2656e78-c069-4571-8220-9e0ab5913f19": (
        [
            event("guardduty", "UpdateDetector", {"requestParameters.enable": False}),
            event("guardduty", "DeleteDetector"),
        ],
        [
            event("guardduty", "UpdateDetector", {"requestParameters.enable": True}),
            event("guardduty", "DeleteDetector", errorCode="AccessDenied"),
        ],
    ),
    # IMDS: the regex is case-sensitive; calls from AWS itself are filtered out.
    "352a918a-34d8-4882-8470-44830c507aa3": (
        [
            event(
                "ec2",
                "DescribeInstances",
                {
                    "userIdentity.type": "AssumedRole",
                    "userIdentity.arn": "arn:aws:sts::111122223333:assumed-role/aws:ec2-instance/i-0abc",
                },
                sourceIPAddress="198.51.100.9",
            )
        ],
        [
            event(
                "ec2",
                "DescribeInstances",
                {"userIdentity.arn": "arn:aws:sts::111122223333:assumed-role/aws:ec2-instance/i-0abc"},
                sourceIPAddress="AWS Internal",
            ),
            event(
                "ec2",
                "DescribeInstances",
                {"userIdentity.arn": "arn:aws:sts::111122223333:assumed-role/AWS:ec2-instance/i-0abc"},
            ),
        ],
    ),
    "e1f7febb-7b94-4234-b5c6-00fb8500f5dd": (
        [event("ec2", "CreateNetworkAclEntry")],
        [event("ec2", "DeleteNetworkAclEntry")],
    ),
    "c803b2ce-c4a2-4836-beae-b112010390b1": (
        [event("ec2", "CreateRoute")],
        [event("ec2", "CreateRouteTable")],
    ),
    # TruffleHog: an exact user agent, not a substring.
    "a840e606-7c8c-4684-9bc1-eb6b6155127f": (
        [event("sts", "GetCallerIdentity", userAgent="trufflehog")],
        [event("sts", "GetCallerIdentity", userAgent="TruffleHog/3.63"), event("s3", "ListBuckets")],
    ),
    "a5ffb6ea-c784-4e01-b30a-deb6e58ca2ab": (
        [event("account", "EnableRegion")],
        [event("account", "DisableRegion")],
    ),
    "6fb77778-040f-4015-9440-572aa9b6b580": (
        [event("ec2", "AuthorizeSecurityGroupIngress"), event("ec2", "revokesecuritygroupegress")],
        [event("ec2", "DescribeSecurityGroups")],
    ),
    "7a4409fc-f8ca-45f6-8006-127d779eaad9": (
        [event("elasticloadbalancing", "SetSecurityGroups")],
        [event("ec2", "SetSecurityGroups")],
    ),
    "14f3f1c8-02d5-43a2-a191-91ffb52d3015": (
        [event("rds", "CreateDBSecurityGroup")],
        [event("ec2", "CreateSecurityGroup")],
    ),
    "38e7f511-3f74-41d4-836e-f57dfa18eead": (
        [event("ssm", "SendCommand", errorCode=None)],
        [event("ssm", "SendCommand", errorCode="InvalidInstanceId")],
    ),
    "e386b9b5-af12-450e-afff-761730fb8a98": (
        [event("ec2", "DeleteFlowLogs")],
        [event("ec2", "DeleteFlowLogs", errorCode="Client.UnauthorizedOperation")],
    ),
    "07330162-dba1-4746-8121-a9647d49d297": (
        [event("config", "StopConfigurationRecorder")],
        [event("config", "StartConfigurationRecorder")],
    ),
    # GetSigninToken: the console's own Jersey client is filtered out (contains).
    "f8103686-e3e8-46f3-be72-65f7fcb4aa53": (
        [event("signin", "GetSigninToken", userAgent="python-requests/2.31.0")],
        [event("signin", "GetSigninToken", userAgent="Jersey/${project.version} (HttpUrlConnection 1.8.0)")],
    ),
    "20f754db-d025-4a8f-9d74-e0037e999a9a": (
        [event("ses", "DeleteIdentity")],
        [event("ses", "DeleteIdentityPolicy")],
    ),
    # SAML provider deletion tests a `status` field CloudTrail records do not have (the listing notes it).
    "ccd6a6c8-bb4e-4a91-9d2a-07e632819374": (
        [event("iam", "DeleteSAMLProvider", status="Success")],
        [event("iam", "DeleteSAMLProvider")],
    ),
    # Versioning: `requestParameters|contains` looks inside the object.
    "a136ac98-b2bc-4189-a14d-f0d0388e57a7": (
        [
            event(
                "s3", "PutBucketVersioning", {"requestParameters.VersioningConfiguration.Status": "Suspended"}
            )
        ],
        [event("s3", "PutBucketVersioning", {"requestParameters.VersioningConfiguration.Status": "Enabled"})],
    ),
    "16124c2d-e40b-4fcc-8f2c-5ab7870a2223": (
        [event("ec2", "DisableEbsEncryptionByDefault")],
        [event("ec2", "EnableEbsEncryptionByDefault")],
    ),
    "92f84194-8d9a-4ee0-8699-c30bfac59780": (
        [event("ec2", "ImportKeyPair")],
        [event("ec2", "CreateKeyPair")],
    ),
    "1ab3c5ed-5baf-417b-bb6b-78ca33f6c3df": (
        [event("ec2", "ModifyInstanceAttribute", {"requestParameters.attribute": "userData"})],
        [event("ec2", "ModifyInstanceAttribute", {"requestParameters.attribute": "instanceType"})],
    ),
    # VM export: fires on exports that did not fail (any error text filters it out).
    "54b9a76a-3c71-4673-b4b3-2edb4566ea7b": (
        [event("ec2", "CreateInstanceExportTask", {"responseElements.exportTask.state": "active"})],
        [
            event("ec2", "CreateInstanceExportTask", errorCode="Client.UnauthorizedOperation"),
            event("ec2", "CreateInstanceExportTask", {"responseElements.exportTask.state": "Failure"}),
        ],
    ),
    # ECS: the command sits in a list inside a list.
    "b94bf91e-c2bf-4047-9c43-c6810f43baad": (
        [
            event(
                "ecs",
                "RegisterTaskDefinition",
                {
                    "requestParameters.containerDefinitions": [
                        {"name": "web", "command": ["nginx"]},
                        {
                            "name": "x",
                            "command": [
                                "sh",
                                "-c",
                                "curl 169.254.170.2$AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                            ],
                        },
                    ]
                },
            )
        ],
        [
            event(
                "ecs",
                "RegisterTaskDefinition",
                {"requestParameters.containerDefinitions": [{"name": "web", "command": ["nginx"]}]},
            )
        ],
    ),
    "25cb1ba1-8a19-4a23-a198-d252664c8cef": (
        [event("elasticfilesystem", "DeleteFileSystem")],
        [event("elasticfilesystem", "CreateFileSystem")],
    ),
    "6a7ba45c-63d8-473e-9736-2eaabff79964": (
        [event("elasticfilesystem", "DeleteMountTarget")],
        [event("elasticfilesystem", "DeleteFileSystem")],
    ),
    "33d50d03-20ec-4b74-a74e-1e65a38af1c0": (
        [event("eks", "DeleteCluster")],
        [event("eks", "DescribeCluster")],
    ),
    "4ae68615-866f-4304-b24b-ba048dfa5ca7": (
        [event("elasticache", "CreateCacheSecurityGroup")],
        [event("elasticache", "DeleteCacheSecurityGroup")],
    ),
    "7c797da2-9cf2-4523-ba64-33b06339f0cc": (
        [event("elasticache", "RevokeCacheSecurityGroupIngress")],
        [event("elasticache", "CreateCacheSecurityGroup")],
    ),
    # Bucket enumeration by anything but a role session.
    "f305fd62-beca-47da-ad95-7690a0620084": (
        [event("s3", "ListBuckets")],
        [event("s3", "ListBuckets", {"userIdentity.type": "assumedrole"})],
    ),
    "6e61ee20-ce00-4f8d-8aee-bedd8216f7e3": (
        [event("guardduty", "CreateIPSet")],
        [event("guardduty", "CreateThreatIntelSet")],
    ),
    # Backdoor keys: the rule's filter value is a literal string, so every CreateAccessKey fires.
    "0a5177f4-6ca9-44c2-aacf-d3f3d8b6e4d2": (
        [event("iam", "CreateAccessKey", {"responseElements.accessKey.userName": "bob"})],
        [
            event("iam", "UpdateAccessKey"),
            event(
                "iam",
                "CreateAccessKey",
                {"userIdentity.arn": "arn:aws:iam::1:user/RESPONSEELEMENTS.ACCESSKEY.USERNAME"},
            ),
        ],
    ),
    "db014773-b1d3-46bd-ba26-133337c0ffee": (
        [event("iam", "CreateLoginProfile", userAgent=S3_BROWSER)],
        [event("iam", "CreateLoginProfile"), event("iam", "DeleteLoginProfile", userAgent=S3_BROWSER)],
    ),
    # S3 Browser's policy template: the quoted strings are inside the policyDocument JSON string.
    "db014773-7375-4f4e-b83b-133337c0ffee": (
        [
            event(
                "iam",
                "PutUserPolicy",
                {"requestParameters.policyDocument": POLICY % "<YOUR-BUCKET-NAME>"},
                userAgent=S3_BROWSER,
            )
        ],
        [
            event(
                "iam",
                "PutUserPolicy",
                {"requestParameters.policyDocument": POLICY % "corp-data"},
                userAgent=S3_BROWSER,
            )
        ],
    ),
    "db014773-d9d9-4792-91e5-133337c0ffee": (
        [event("iam", "CreateUser", userAgent="s3 browser 10.9")],
        [event("iam", "CreateUser")],
    ),
    "1279262f-1464-422f-ac0d-5b545320c526": (
        [event("kms", "ImportKeyMaterial")],
        [event("kms", "GetParametersForImport")],
    ),
    "ec541962-c05a-4420-b9ea-84de072d18f4": (
        [event("lambda", "CreateFunctionUrlConfig")],
        [event("lambda", "GetFunctionUrlConfig")],
    ),
    # Lambda layers: prefix on the versioned event name; `layers|contains: '*'` needs a value, not [].
    "97fbabf8-8e1b-47a2-b7d5-a418d2b95e3d": (
        [
            event(
                "lambda",
                "UpdateFunctionConfiguration20150331v2",
                {"requestParameters.layers": ["arn:aws:lambda:us-east-1:111122223333:layer:x:1"]},
            )
        ],
        [
            event("lambda", "UpdateFunctionConfiguration20150331v2", {"requestParameters.functionName": "f"}),
            event("lambda", "UpdateFunctionConfiguration20150331v2", {"requestParameters.layers": []}),
        ],
    ),
    "4990c2e3-f4b8-45e3-bc3c-30b14ff0ed26": (
        [event("glue", "CreateDevEndpoint")],
        [event("glue", "GetDevEndpoint")],
    ),
    "8a63cdd4-6207-414a-85bc-7e032bd3c1a2": (
        [
            event(
                "rds",
                "ModifyDBInstance",
                {"responseElements.pendingModifiedValues.masterUserPassword": "****"},
            )
        ],
        [
            event(
                "rds",
                "ModifyDBInstance",
                {
                    "requestParameters.masterUserPassword": "****",
                    "responseElements.pendingModifiedValues": {},
                },
            )
        ],
    ),
    "457cc9ac-d8e6-4d1d-8c0e-251d0f11a74c": (
        [event("rds", "DeleteDBCluster")],
        [event("rds", "DeleteDBInstance")],
    ),
    "c3f265c7-ff03-4056-8ab2-d486227b4599": (
        [event("rds", "RestoreDBInstanceFromDBSnapshot", {"responseElements.publiclyAccessible": True})],
        [event("rds", "RestoreDBInstanceFromDBSnapshot", {"responseElements.publiclyAccessible": False})],
    ),
    "8ad1600d-e9dc-4251-b0ee-a65268f29add": (
        [event("s3", "ListBuckets", {"userIdentity.type": "Root"})],
        [event("s3", "ListBuckets", {"userIdentity.type": "Root"}, eventType="AwsServiceEvent")],
    ),
    "3940b5f1-3f46-44aa-b746-ebe615b879e0": (
        [event("route53", "DisableDomainTransferLock")],
        [event("route53", "EnableDomainTransferLock")],
    ),
    "b056de1a-6e6e-4e40-a67e-97c9808cf41b": (
        [event("route53", "TransferDomainToAnotherAwsAccount")],
        [event("route53", "AcceptDomainTransferFromAnotherAwsAccount")],
    ),
    "78b3756a-7804-4ef7-8555-7b9024a02e2d": (
        [event("s3", "PutBucketLogging"), event("s3", "RestoreObject")],
        [event("s3", "GetBucketLogging")],
    ),
    "a607e1fe-74bf-4440-a3ec-b059b9103157": (
        [event("securityhub", "BatchUpdateFindings")],
        [event("securityhub", "GetFindings")],
    ),
    "abae8fec-57bd-4f87-aff6-6e3db989843d": (
        [event("ec2", "ModifySnapshotAttribute")],
        [event("ec2", "ResetSnapshotAttribute")],
    ),
    "d3adb3ef-b7e7-4003-9092-1924c797db35": (
        [
            event("sso-directory", "DisableExternalIdPConfigurationForDirectory"),
            event("sso", "AssociateDirectory"),
        ],
        [event("sso", "ListDirectoryAssociations"), event("sso-oidc", "AssociateDirectory")],
    ),
    # AssumeRole misuse: any role session whose issuer is a role; a missing sessionContext does not match.
    "905d389b-b853-46d0-9d3d-dea0d3a3cd49": (
        [event("s3", "ListBuckets", ASSUMED)],
        [event("s3", "ListBuckets", {**ASSUMED, "userIdentity.sessionContext": DROP})],
    ),
    "9b1b8e9b-0a5d-4af1-9d2f-4c4b6e7c2c9d": (
        [
            event(
                "sts", "GetCallerIdentity", userAgent="TruffleHog/3.63 (+https://github.com/trufflesecurity)"
            )
        ],
        [event("sts", "GetCallerIdentity")],
    ),
    "b45ab1d2-712f-4f01-a751-df3826969807": (
        [event("sts", "GetSessionToken")],
        [event("sts", "GetSessionToken", {"userIdentity.type": "Root"})],
    ),
    "f43f5d2f-3f2a-4cc8-b1af-81fde7dbaf0e": (
        [event("sts", "AssumeRoleWithSAML"), event("iam", "UpdateSAMLProvider")],
        [event("sts", "AssumeRoleWithWebIdentity"), event("iam", "AssumeRoleWithSAML")],
    ),
    # Login profile changed by someone else: `fieldref` compares the two fields (case-insensitively).
    "055fb148-60f8-462d-ad16-26926ce050f1": (
        [event("iam", "UpdateLoginProfile", {"requestParameters.userName": "bob"})],
        [
            event(
                "iam",
                "UpdateLoginProfile",
                {
                    "userIdentity.arn": "arn:aws:iam::1:user/Bob",
                    "requestParameters.userName": "ARN:AWS:IAM::1:USER/BOB",
                },
            ),
            event("iam", "GetLoginProfile", {"requestParameters.userName": "bob"}),
        ],
    ),
}


@pytest.fixture(scope="module")
def shipped() -> dict[str, HuntRule]:
    return {rule.id: rule for rule in load_rules()}


def test_every_shipped_rule_runs_and_has_cases(shipped: dict[str, HuntRule]) -> None:
    runnable = [r for r in shipped.values() if r.runnable]
    assert (len(shipped), len(runnable)) == (57, 57)
    assert set(CASES) == set(shipped)
    assert all(r.author for r in shipped.values())  # DRL 1.1: every hit credits the author


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_fires_on_intent_and_not_on_near_misses(shipped: dict[str, HuntRule], rule_id: str) -> None:
    compiled = shipped[rule_id].compiled
    assert compiled is not None
    fires, misses = CASES[rule_id]
    assert [compiled.predicate(r) for r in fires] == [True] * len(fires)
    assert [compiled.predicate(r) for r in misses] == [False] * len(misses)


def test_the_index_visits_every_rule_that_could_fire(shipped: dict[str, HuntRule]) -> None:
    """The matcher's shortcut must agree with testing every rule on every record."""
    rules = [r for r in shipped.values() if r.compiled is not None]
    matcher = RuleMatcher([r.compiled for r in rules if r.compiled is not None])
    records = [rec for fires, misses in CASES.values() for rec in fires + misses]
    for record in records:
        brute = [i for i, r in enumerate(rules) if r.compiled is not None and r.compiled.predicate(record)]
        assert matcher.matches(record) == brute


def test_listing_notes_a_rule_that_tests_a_field_cloudtrail_lacks(shipped: dict[str, HuntRule]) -> None:
    assert shipped["ccd6a6c8-bb4e-4a91-9d2a-07e632819374"].notes == [
        "field 'status' is not in CloudTrail records"
    ]
    assert sum(bool(r.notes) for r in shipped.values()) == 1


def test_shipped_rules_keep_their_licence_notice() -> None:
    folder = Path(next(iter(load_rules())).path).parent
    assert "Detection Rule License (DRL) 1.1" in (folder / "LICENSE.Detection.Rules.md").read_text()
    assert "author" in (folder / "SOURCE.md").read_text()
