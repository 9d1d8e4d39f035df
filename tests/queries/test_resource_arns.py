"""A resource ARN finds what CloudTrail records for its resource: the pure parser and terms, then each
service's ARN against real records (Stratus Red Team's and TrailDiscover's, tests/data) and, for services
those lack, records shaped as the AWS documentation shows them."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from audit_trail.investigate.events import flatten
from audit_trail.queries import resource_arns as ra
from audit_trail.queries.filters import Resource
from support.logs import real_records, stratus_records


def test_parse_splits_six_parts_in_any_partition() -> None:
    arn = ra.parse("arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:fn:prod")
    assert arn == ra.Arn(
        "arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:fn:prod",
        "aws-us-gov",
        "lambda",
        "us-gov-west-1",
        "123456789012",
        "function:fn:prod",
    )
    assert ra.parse("arn:aws-cn:s3:::bucket").resource == "bucket"  # type: ignore[union-attr]
    for not_an_arn in ("sg-0123", "app-backups", "arn:aws:s3", "arn::s3:::b", "arn:aws:s3:::", "https://x/y"):
        assert ra.parse(not_an_arn) is None, not_an_arn


def test_quoted_is_the_json_string_the_events_view_holds() -> None:
    for value in ("plain", 'a"b', "back\\slash", "tab\tnew\nline\x01", "é€😀", "a/b", "\u2028"):
        assert ra.quoted(value) == orjson.dumps(value).decode()


def _terms(arn: str) -> tuple[ra.Term, ...]:
    parsed = ra.parse(arn)
    assert parsed is not None
    return ra.search_terms(parsed)


def test_terms_name_the_resource_as_calls_record_it() -> None:
    sg = "arn:aws:ec2:eu-west-1:123456789012:security-group/sg-0a1b2c3d4e5f60789"
    assert _terms(sg) == ((sg + '"',), (sg + "\\",), ('"sg-0a1b2c3d4e5f60789"',))
    assert ('"app-backups"',) in _terms("arn:aws:s3:::app-backups")
    assert ("arn:aws:s3:::app-backups/",) in _terms("arn:aws:s3:::app-backups")  # its objects
    assert ('"app-backups"', '"db/dump.sql"') in _terms("arn:aws:s3:::app-backups/db/dump.sql")
    assert ('"audit"',) in _terms("arn:aws:cloudtrail:us-east-1:123456789012:trail/audit")
    assert ('"Admin"',) in _terms("arn:aws:iam::123456789012:role/team/ops/Admin")  # path dropped
    assert ('"alias/prod"',) in _terms("arn:aws:kms:eu-west-1:123456789012:alias/prod")
    assert ('"1234abcd-12ab-34cd-56ef-1234567890ab"',) in _terms(
        "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    )
    assert ('"prod-db"',) in _terms("arn:aws:rds:eu-west-1:123456789012:db:prod-db")
    assert ('"orders"',) in _terms("arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-01-01")
    assert ("/123456789012/jobs" + '"',) in _terms("arn:aws:sqs:eu-west-1:123456789012:jobs")
    assert ("arn:aws:sns:eu-west-1:123456789012:alerts:",) in _terms(
        "arn:aws:sns:eu-west-1:123456789012:alerts"
    )
    assert ('"/app/db-password"',) in _terms("arn:aws:ssm:eu-west-1:123456789012:parameter/app/db-password")
    assert ('"app"',) in _terms("arn:aws:logs:eu-west-1:123456789012:log-group:app:*")
    # The account's root is not a resource name: only the ARN itself.
    assert _terms("arn:aws:iam::123456789012:root") == (
        ("arn:aws:iam::123456789012:root" + '"',),
        ("arn:aws:iam::123456789012:root\\",),
    )


def test_a_function_version_or_alias_finds_the_function() -> None:
    plain = set(_terms("arn:aws:lambda:us-east-1:123456789012:function:fn"))
    assert set(_terms("arn:aws:lambda:us-east-1:123456789012:function:fn:prod")) == plain
    assert {('"fn"',), ('"fn:',), ('"123456789012:function:fn"',)} <= plain


def test_a_secret_is_found_with_or_without_its_random_suffix() -> None:
    terms = _terms("arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbC123")
    assert {('"prod/db-AbC123"',), ('"prod/db"',)} <= set(terms)
    assert ("arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db" + '"',) in terms
    # A partial ARN (no suffix): only what names that name.
    assert ('"prod/db"',) in _terms("arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db")


# --- against real records -----------------------------------------------------------------------------------


def _rows(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [flatten(r, "x") for r in records]


@pytest.fixture(scope="module")
def stratus() -> list[dict[str, Any]]:
    return _rows(stratus_records())


def _found(rows: list[dict[str, Any]], value: str) -> set[str]:
    return {r["event_name"] for r in rows if Resource(value).test(r)}


def _one(rows: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(r for r in rows if r["event_name"] == name)


def _request(row: dict[str, Any]) -> dict[str, Any]:
    params: dict[str, Any] = row["raw"]["requestParameters"]
    return params


@pytest.mark.parametrize("partition", ["aws", "aws-cn", "aws-us-gov"])
def test_arns_of_real_stratus_resources_find_their_calls(stratus, partition: str) -> None:
    def arn(
        service: str, row: dict[str, Any], resource: str, region: bool = True, account: bool = True
    ) -> str:
        where = row["aws_region"] if region else ""
        who = row["recipient_account_id"] if account else ""
        return f"arn:{partition}:{service}:{where}:{who}:{resource}"

    trail = _request(_one(stratus, "DeleteTrail"))["name"]
    assert _found(stratus, arn("cloudtrail", _one(stratus, "DeleteTrail"), f"trail/{trail}")) == {
        "DeleteTrail"
    }
    stopped = _one(stratus, "StopLogging")
    assert "StopLogging" in _found(stratus, arn("cloudtrail", stopped, f"trail/{_request(stopped)['name']}"))
    selectors = _one(stratus, "PutEventSelectors")
    assert "PutEventSelectors" in _found(
        stratus, arn("cloudtrail", selectors, f"trail/{_request(selectors)['trailName']}")
    )
    opened = _one(stratus, "AuthorizeSecurityGroupIngress")
    group = arn("ec2", opened, f"security-group/{_request(opened)['groupId']}")
    assert _found(stratus, group) == {"AuthorizeSecurityGroupIngress"}
    shared = _one(stratus, "ModifySnapshotAttribute")
    snapshot = arn("ec2", shared, f"snapshot/{_request(shared)['snapshotId']}", account=False)
    assert _found(stratus, snapshot) == {"ModifySnapshotAttribute"}
    image = _one(stratus, "ModifyImageAttribute")
    assert "ModifyImageAttribute" in _found(stratus, arn("ec2", image, f"image/{_request(image)['imageId']}"))
    instance = _one(stratus, "ModifyInstanceAttribute")
    found = _found(stratus, arn("ec2", instance, f"instance/{_request(instance)['instanceId']}"))
    assert {"ModifyInstanceAttribute", "StartInstances", "StopInstances"} <= found
    rds = _one(stratus, "ModifyDBSnapshotAttribute")
    db_snapshot = arn("rds", rds, f"snapshot:{_request(rds)['dBSnapshotIdentifier']}")
    assert "ModifyDBSnapshotAttribute" in _found(stratus, db_snapshot)
    user = _one(stratus, "CreateUser")
    user_arn = arn("iam", user, f"user/{_request(user)['userName']}", region=False)
    assert {"CreateUser", "AttachUserPolicy"} <= _found(stratus, user_arn)
    role = _one(stratus, "AttachRolePolicy")
    role_arn = arn("iam", role, f"role/some/path/{_request(role)['roleName']}", region=False)
    assert "AttachRolePolicy" in _found(stratus, role_arn)


def test_real_secret_and_function_arns(stratus) -> None:
    """The real records name a secret by its full ARN (random suffix included) and a function by its name, by
    its ARN, and as `relativeId.functionName`."""
    read = _one(stratus, "GetSecretValue")
    secret_arn = _request(read)["secretId"]
    assert secret_arn.startswith("arn:aws:secretsmanager:") and "GetSecretValue" in _found(
        stratus, secret_arn
    )
    backdoor = _one(stratus, "AddPermission20150331v2")
    name = _request(backdoor)["functionName"]
    function = f"arn:aws:lambda:{backdoor['aws_region']}:{backdoor['recipient_account_id']}:function:{name}"
    assert "AddPermission20150331v2" in _found(stratus, function)
    assert "AddPermission20150331v2" in _found(stratus, function + ":prod")  # an alias of it
    overwritten = _one(stratus, "UpdateFunctionCode20150331v2")
    full = _request(overwritten)["functionName"]
    assert full.startswith("arn:aws:lambda:") and "UpdateFunctionCode20150331v2" in _found(stratus, full)


def test_real_ssm_parameters_are_named_with_their_leading_slash(stratus) -> None:
    got = _one(stratus, "GetParameters")
    first = _request(got)["names"][0]
    assert first.startswith("/")
    arn = f"arn:aws:ssm:{got['aws_region']}:{got['recipient_account_id']}:parameter{first}"
    assert "GetParameters" in _found(stratus, arn)


def test_a_bucket_arn_finds_the_bucket_not_a_bucket_sharing_its_prefix() -> None:
    """TrailDiscover names a bucket `TrailDiscoverBucket` and another `TrailDiscoverBucketName`: the bare name
    (a substring) finds both, the bucket's ARN only the first."""
    rows = _rows(real_records())
    by_name = {r["resource"] for r in rows if Resource("TrailDiscoverBucket").test(r)}
    by_arn = {r["resource"] for r in rows if Resource("arn:aws:s3:::TrailDiscoverBucket").test(r)}
    assert by_name == {"TrailDiscoverBucket", "TrailDiscoverBucketName"}
    assert by_arn == {"TrailDiscoverBucket"}


# --- services without real records: as the AWS documentation shows their events -----------------------------


def _call(name: str, params: dict[str, Any], response: Any = None, resources: Any = None) -> dict[str, Any]:
    record = {
        "eventTime": "2026-03-03T03:00:00Z",
        "eventSource": "x.amazonaws.com",
        "eventName": name,
        "requestParameters": params,
        "responseElements": response,
        "resources": resources,
    }
    return flatten(record, "x")


SQS_URL = "https://sqs.us-east-2.amazonaws.com/123456789012/"
TOPIC = "arn:aws:sns:us-east-1:123456789012:alerts"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
DOCUMENTED = [
    # SQS ("Logging Amazon SQS API calls using AWS CloudTrail"): queue calls record queueUrl, any host form.
    ("arn:aws:sqs:us-east-2:123456789012:MyQueue", _call("DeleteQueue", {"queueUrl": SQS_URL + "MyQueue"})),
    (
        "arn:aws-cn:sqs:cn-north-1:123456789012:MyQueue",
        _call("PurgeQueue", {"queueUrl": "https://sqs.cn-north-1.amazonaws.com.cn/123456789012/MyQueue"}),
    ),
    ("arn:aws:sqs:us-east-2:123456789012:MyQueue", _call("CreateQueue", {"queueName": "MyQueue"})),
    # SNS: topicArn; a subscription is the topic ARN and an id.
    (TOPIC, _call("DeleteTopic", {"topicArn": TOPIC})),
    (TOPIC, _call("Unsubscribe", {"subscriptionArn": TOPIC + ":0b4c1f2a-5e0d-4b3c-9f1e-3c2d1b0a9e8f"})),
    # KMS: keyId is the key id, its ARN or an alias.
    (f"arn:aws:kms:us-east-1:123456789012:key/{KEY_ID}", _call("ScheduleKeyDeletion", {"keyId": KEY_ID})),
    ("arn:aws:kms:us-east-1:123456789012:alias/prod", _call("DeleteAlias", {"aliasName": "alias/prod"})),
    # DynamoDB: tableName.
    ("arn:aws:dynamodb:us-east-1:123456789012:table/orders", _call("DeleteTable", {"tableName": "orders"})),
    # S3 data events: bucketName and key apart, the object ARN in resources.
    (
        "arn:aws:s3:::app-backups/db/dump.sql",
        _call("DeleteObject", {"bucketName": "app-backups", "key": "db/dump.sql"}),
    ),
    (
        "arn:aws:s3:::app-backups",
        _call("PutObject", {"key": "x"}, resources=[{"ARN": "arn:aws:s3:::app-backups/x"}]),
    ),
    # Logs: logGroupName.
    ("arn:aws:logs:us-east-1:123456789012:log-group:app:*", _call("DeleteLogGroup", {"logGroupName": "app"})),
]


@pytest.mark.parametrize(("arn", "row"), DOCUMENTED, ids=[f"{a} {r['event_name']}" for a, r in DOCUMENTED])
def test_documented_calls_are_found_by_their_resource_arn(arn: str, row: dict[str, Any]) -> None:
    assert Resource(arn).test(row)


NOT_THE_RESOURCE = [
    ("arn:aws:s3:::app-backups", _call("DeleteBucket", {"bucketName": "app-backups-old"})),
    ("arn:aws:iam::123456789012:role/Admin", _call("DeleteRole", {"roleName": "AdminReadOnly"})),
    (
        "arn:aws:lambda:us-east-1:123456789012:function:fn",
        _call("DeleteFunction", {"functionName": "fn-dev"}),
    ),
    ("arn:aws:sqs:us-east-2:123456789012:jobs", _call("DeleteQueue", {"queueUrl": SQS_URL + "jobs-dlq"})),
    (
        "arn:aws:s3:::app-backups/db/dump.sql",
        _call("DeleteObject", {"bucketName": "app-backups", "key": "db/other.sql"}),
    ),
]


@pytest.mark.parametrize(("arn", "row"), NOT_THE_RESOURCE, ids=[a for a, _ in NOT_THE_RESOURCE])
def test_a_resource_sharing_a_prefix_is_not_the_resource(arn: str, row: dict[str, Any]) -> None:
    assert not Resource(arn).test(row)
