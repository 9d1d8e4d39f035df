"""A generator of realistic CloudTrail log folders with known answers, for tests and the benchmark.

It writes the exact S3 key layout (`AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/` holding
`<account>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<unique>.json.gz`, gzip JSON `{"Records": [...]}`, plus a
signed digest chain and its public keys, see `sample_digests`) and plants an intrusion story on top of
background noise. Noise is built so it never answers a canned question (read-only,
successful, non-root, in the usual regions, no sign-ins), so the planted events ARE the answers — the known
answers are what was planted, never what a query computed.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import random
import sys
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from ..errors import UserError
from ..times import ACCEPTED_FORMS, parse_time
from .sample_digests import KEYS_FOLDER, SAMPLE_BUCKET, Delivered, write_chain, write_public_keys

ACCOUNT = "123456789012"
USUAL_REGIONS = ("us-east-1", "eu-west-1", "us-west-2")
INTRUDER_REGION = "ap-northeast-1"
INTRUDER_IP = "203.0.113.66"
INTRUDER_KEY = "AKIAEXAMPLEMALLORY01"
TARGET_GROUP = "sg-0a1b2c3d4e5f60789"
_GLOBAL = {"iam", "sts", "signin"}  # global services log in us-east-1


@dataclass
class KnownAnswers:
    """Event IDs the planted story puts behind each canned question."""

    total_events: int = 0
    log_files: int = 0
    digest_files: int = 0
    intruder: str = "mallory"
    intruder_ip: str = INTRUDER_IP
    intruder_key: str = INTRUDER_KEY
    target_group: str = TARGET_GROUP
    intruder_events: set[str] = field(default_factory=set)
    group_changes: set[str] = field(default_factory=set)
    group_reads: set[str] = field(default_factory=set)
    root_events: set[str] = field(default_factory=set)
    failed_logins: set[str] = field(default_factory=set)
    no_mfa_logins: set[str] = field(default_factory=set)
    denied: set[str] = field(default_factory=set)
    errors: set[str] = field(default_factory=set)
    unusual_region: set[str] = field(default_factory=set)
    deletions: set[str] = field(default_factory=set)
    writes: set[str] = field(default_factory=set)
    first_time: str = ""
    last_time: str = ""


def _user(name: str, key: str) -> dict[str, Any]:
    return {
        "type": "IAMUser",
        "principalId": "AIDA" + name.upper().ljust(17, "X")[:17],
        "arn": f"arn:aws:iam::{ACCOUNT}:user/{name}",
        "accountId": ACCOUNT,
        "accessKeyId": key,
        "userName": name,
    }


def _role_session(role: str, session: str, key: str) -> dict[str, Any]:
    return {
        "type": "AssumedRole",
        "principalId": f"AROAEXAMPLE{role.upper()[:8]}:{session}",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}",
        "accountId": ACCOUNT,
        "accessKeyId": key,
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": f"AROAEXAMPLE{role.upper()[:8]}",
                "arn": f"arn:aws:iam::{ACCOUNT}:role/{role}",
                "accountId": ACCOUNT,
                "userName": role,
            },
            "attributes": {"creationDate": "2026-01-01T00:00:00Z", "mfaAuthenticated": "false"},
        },
    }


ROOT = {
    "type": "Root",
    "principalId": ACCOUNT,
    "arn": f"arn:aws:iam::{ACCOUNT}:root",
    "accountId": ACCOUNT,
    "accessKeyId": "ASIAEXAMPLEROOT00001",
}
SERVICE = {"type": "AWSService", "invokedBy": "cloudtrail.amazonaws.com"}
FEDERATED = {
    "type": "FederatedUser",
    "principalId": f"{ACCOUNT}:carol-fed",
    "arn": f"arn:aws:sts::{ACCOUNT}:federated-user/carol-fed",
    "accountId": ACCOUNT,
    "accessKeyId": "ASIAEXAMPLEFEDERATE1",
    "sessionContext": {
        "sessionIssuer": {
            "type": "IAMUser",
            "principalId": "AIDACAROLXXXXXXXXXX",
            "arn": f"arn:aws:iam::{ACCOUNT}:user/carol",
            "accountId": ACCOUNT,
            "userName": "carol",
        },
        "attributes": {"creationDate": "2026-01-01T00:00:00Z", "mfaAuthenticated": "false"},
    },
}
NOISE_IDENTITIES = (
    _user("alice", "AKIAEXAMPLEALICE0001"),
    _user("bob", "AKIAEXAMPLEBOB000001"),
    _role_session("ci-deployer", "github-actions", "ASIAEXAMPLECIDEPLOY1"),
    _role_session("Admin", "alice", "ASIAEXAMPLEADMINALI1"),
    SERVICE,
    FEDERATED,
)
NOISE_CALLS: tuple[tuple[str, str, dict[str, Any] | None], ...] = (
    ("ec2", "DescribeInstances", {"instancesSet": {}, "filterSet": {}}),
    ("ec2", "DescribeSecurityGroups", {"securityGroupSet": {}}),
    ("s3", "ListBuckets", None),
    ("s3", "GetBucketAcl", {"bucketName": "app-assets", "acl": ""}),
    ("iam", "ListRoles", None),
    ("sts", "GetCallerIdentity", None),
    ("kms", "Decrypt", {"encryptionAlgorithm": "SYMMETRIC_DEFAULT"}),
    ("cloudtrail", "LookupEvents", {"maxResults": 50}),
    ("lambda", "ListFunctions20150331", None),
    ("logs", "DescribeLogGroups", None),
)
_AGENTS = (
    "aws-cli/2.17.32 Python/3.11.9 Linux/6.8 exe/x86_64.ubuntu.24 prompt/off command/ec2.describe-instances",
    "Boto3/1.44.5 md/Botocore#1.44.8 ua/2.1 os/linux#6.8 lang/python#3.11.9",
    "console.amazonaws.com",
)


def _record(
    when: datetime,
    identity: dict[str, Any],
    service: str,
    name: str,
    region: str,
    *,
    ip: str = "198.51.100.10",
    agent: str = _AGENTS[0],
    read_only: bool = True,
    request: Any = None,
    response: Any = None,
    error: tuple[str, str] | None = None,
    rng: random.Random,
) -> dict[str, Any]:
    rec: dict[str, Any] = {
        "eventVersion": "1.09",
        "userIdentity": identity,
        "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": f"{service}.amazonaws.com",
        "eventName": name,
        "awsRegion": "us-east-1" if service in _GLOBAL else region,
        "sourceIPAddress": identity.get("invokedBy", ip) if identity["type"] == "AWSService" else ip,
        "userAgent": identity.get("invokedBy", agent) if identity["type"] == "AWSService" else agent,
        "requestParameters": request,
        "responseElements": response,
        "requestID": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "eventID": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "readOnly": read_only,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
        "tlsDetails": {
            "tlsVersion": "TLSv1.3",
            "cipherSuite": "TLS_AES_128_GCM_SHA256",
            "clientProvidedHostHeader": f"{service}.{region}.amazonaws.com",
        },
    }
    if error:
        rec["errorCode"], rec["errorMessage"] = error
    return rec


def _login(
    when: datetime, identity: dict[str, Any], *, ok: bool, mfa: bool, ip: str, rng: random.Random
) -> dict[str, Any]:
    rec = _record(
        when,
        identity,
        "signin",
        "ConsoleLogin",
        "us-east-1",
        ip=ip,
        agent="Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        read_only=False,
        response={"ConsoleLogin": "Success" if ok else "Failure"},
        error=None if ok else ("Failed authentication", "Failed authentication"),
        rng=rng,
    )
    rec["eventType"] = "AwsConsoleSignIn"
    rec["additionalEventData"] = {
        "LoginTo": "https://console.aws.amazon.com/console/home",
        "MobileVersion": "No",
        "MFAUsed": "Yes" if mfa else "No",
    }
    del rec["requestID"]
    return rec


class _Story:
    """The planted incident: every record it adds is filed under the answers it belongs to."""

    def __init__(self, start: datetime, days: int, rng: random.Random) -> None:
        self.rng = rng
        self.start = start
        self.days = days
        self.records: list[dict[str, Any]] = []
        self.known = KnownAnswers()

    def at(self, day: int, hour: int, minute: int = 0) -> datetime:
        return self.start + timedelta(days=min(day, self.days - 1), hours=hour, minutes=minute)

    def add(self, rec: dict[str, Any], *tags: str) -> None:
        self.records.append(rec)
        eid = rec["eventID"]
        for tag in tags:
            getattr(self.known, tag).add(eid)
        if rec.get("errorCode"):
            self.known.errors.add(eid)
        if not rec["readOnly"]:
            self.known.writes.add(eid)
        if rec["awsRegion"] not in USUAL_REGIONS:
            self.known.unusual_region.add(eid)

    def build(self) -> None:
        rng, d = self.rng, max(1, self.days // 2)
        mallory = _user("mallory", INTRUDER_KEY)
        alice = _user("alice", "AKIAEXAMPLEALICE0001")
        ci = _role_session("ci-deployer", "github-actions", "ASIAEXAMPLECIDEPLOY1")
        grp = {"groupId": TARGET_GROUP}

        # Alice creates the security group early on; later it is read (not a change) by the CI role.
        self.add(
            _record(
                self.at(0, 9, 12), alice, "ec2", "CreateSecurityGroup", "eu-west-1",
                read_only=False, request={"groupName": "web", "groupDescription": "web tier"},
                response={"_return": True, "groupId": TARGET_GROUP}, rng=rng,
            ),
            "group_changes",
        )  # fmt: skip
        self.add(
            _record(
                self.at(0, 10), ci, "ec2", "DescribeSecurityGroups", "eu-west-1",
                request={"securityGroupIdSet": {"items": [{"groupId": TARGET_GROUP}]}}, rng=rng,
            ),
            "group_reads",
        )  # fmt: skip

        # Logins: bob fails twice then succeeds without MFA; carol signs in with MFA; root signs in with MFA.
        bob = _user("bob", "AKIAEXAMPLEBOB000001")
        for minute in (1, 2):
            self.add(_login(self.at(1, 7, minute), bob, ok=False, mfa=False, ip="192.0.2.44", rng=rng),
                     "failed_logins")  # fmt: skip
        self.add(_login(self.at(1, 7, 3), bob, ok=True, mfa=False, ip="192.0.2.44", rng=rng), "no_mfa_logins")
        self.add(_login(self.at(1, 8), _user("carol", "AKIAEXAMPLECAROL0001"), ok=True, mfa=True,
                        ip="192.0.2.45", rng=rng))  # fmt: skip
        self.add(_login(self.at(2, 6), ROOT, ok=True, mfa=True, ip="192.0.2.99", rng=rng), "root_events")
        self.add(
            _record(self.at(2, 6, 5), ROOT, "iam", "CreateAccessKey", "us-east-1", read_only=False,
                    ip="192.0.2.99", request={},
                    response={"accessKey": {"accessKeyId": "AKIAEXAMPLEROOTKEY01"}}, rng=rng),
            "root_events",
        )  # fmt: skip

        # The intrusion: mallory's leaked key, used at 3 AM from one IP, mostly in Tokyo.
        def m(hour: int, minute: int, svc: str, name: str, region: str = INTRUDER_REGION, **kw: Any) -> None:
            tags = ("intruder_events", *kw.pop("tags", ()))
            self.add(_record(self.at(d, hour, minute), mallory, svc, name, region, ip=INTRUDER_IP,
                             agent=_AGENTS[1], rng=rng, **kw), *tags)  # fmt: skip

        m(3, 0, "sts", "GetCallerIdentity")
        m(3, 1, "s3", "ListBuckets")
        m(3, 2, "ec2", "DescribeInstances")
        m(3, 4, "iam", "CreateAccessKey", read_only=False, request={"userName": "mallory"},
          response={"accessKey": {"accessKeyId": "AKIAEXAMPLEMALLORY02", "userName": "mallory"}})  # fmt: skip
        for minute in (6, 7, 8):
            m(3, minute, "ec2", "RunInstances", read_only=False,
              request={"instanceType": "p4d.24xlarge", "instancesSet": {"items": [{"imageId": "ami-0abc"}]}},
              response={"instancesSet": {"items": [{"instanceId": f"i-0mallory{minute:08d}"}]}})  # fmt: skip
        m(3, 10, "ec2", "AuthorizeSecurityGroupIngress", "eu-west-1", read_only=False,
          request={**grp, "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22}]}},
          response={"_return": True}, tags=("group_changes",))  # fmt: skip
        m(3, 12, "cloudtrail", "StopLogging", "us-east-1", read_only=False,
          request={"name": f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/audit"},
          error=("AccessDenied", "User: mallory is not authorized to perform: cloudtrail:StopLogging"),
          tags=("denied",))  # fmt: skip
        m(3, 13, "cloudtrail", "DeleteTrail", "us-east-1", read_only=False, request={"name": "audit"},
          error=("AccessDenied", "User: mallory is not authorized to perform: cloudtrail:DeleteTrail"),
          tags=("denied", "deletions"))  # fmt: skip
        m(3, 15, "s3", "DeleteBucket", "eu-west-1", read_only=False, request={"bucketName": "app-backups"},
          tags=("deletions",))  # fmt: skip
        m(3, 20, "ec2", "TerminateInstances", "eu-west-1", read_only=False,
          request={"instancesSet": {"items": [{"instanceId": "i-0prod0000000001"}]}},
          tags=("deletions",))  # fmt: skip

        # The CI role is denied in EC2 (the `Client.` form of the code) and removes a user from a group.
        self.add(
            _record(self.at(d + 1, 14), ci, "ec2", "CreateVpc", "us-east-1", read_only=False,
                    request={"cidrBlock": "10.9.0.0/16"},
                    error=("Client.UnauthorizedOperation", "You are not authorized to perform this action."),
                    rng=rng),
            "denied",
        )  # fmt: skip
        self.add(
            _record(self.at(d + 1, 15), ci, "iam", "RemoveUserFromGroup", "us-east-1", read_only=False,
                    request={"groupName": "admins", "userName": "bob"}, rng=rng),
            "deletions",
        )  # fmt: skip
        # A throttled read: an error that is neither a denial nor a change.
        self.add(
            _record(self.at(d + 1, 16), alice, "ec2", "DescribeVolumes", "us-west-2",
                    error=("Client.RequestLimitExceeded", "Request limit exceeded."), rng=rng)
        )  # fmt: skip


def _write_file(path: Path, records: list[dict[str, Any]]) -> str:
    """Write the log file; the hex SHA-256 of its uncompressed content, as a digest records it."""
    content = orjson.dumps({"Records": records})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(content, compresslevel=6, mtime=0))
    return hashlib.sha256(content).hexdigest()


def generate(
    root: Path,
    *,
    events: int = 2000,
    days: int = 3,
    start: datetime | None = None,
    regions: tuple[str, ...] = USUAL_REGIONS,
    files_per_day: int = 4,
    prefix: str = "",
    seed: int = 7,
    bucket: str = SAMPLE_BUCKET,
) -> KnownAnswers:
    """Write a trail's log folder under ROOT (mirroring `s3://BUCKET/[prefix/]`) and return its known answers.

    `events` counts the noise spread evenly over `days` x `regions` x `files_per_day` files; the planted
    story adds a few dozen more. Each file holds the events of the period before its timestamp, so a late
    event of one day can sit in the next day's folder, exactly as CloudTrail delivers. Every region then gets
    a signed digest for every hour until the last file was delivered, and ROOT/public-keys/ the key that
    verifies them (`audit-trail verify --folder ROOT --public-keys ROOT/public-keys`).
    """
    rng = random.Random(seed)
    start = start or datetime(2026, 3, 2, tzinfo=UTC)
    story = _Story(start, days, rng)
    story.build()
    account_key = f"{prefix.strip('/')}/AWSLogs/{ACCOUNT}" if prefix.strip("/") else f"AWSLogs/{ACCOUNT}"
    period = timedelta(days=1) / files_per_day
    slots = days * files_per_day
    per_file = max(1, events // (slots * len(regions)))

    # Planted records go to the file of their region covering their time.
    planted: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    for rec in story.records:
        when = datetime.strptime(rec["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        planted[(rec["awsRegion"], int((when - start) / period))].append(rec)

    known = story.known
    total = 0
    files = 0
    delivered_files: list[Delivered] = []
    all_regions = sorted(set(regions) | {r for r, _ in planted})
    templates = [
        (ident, svc, name, req)
        for ident in NOISE_IDENTITIES
        for svc, name, req in NOISE_CALLS
        if svc not in _GLOBAL
    ]
    for region in all_regions:
        for slot in range(slots):
            slot_start = start + slot * period
            records = list(planted.get((region, slot), ()))
            if region in regions:
                for _ in range(per_file):
                    ident, svc, name, req = templates[rng.randrange(len(templates))]
                    when = slot_start + timedelta(seconds=rng.randrange(int(period.total_seconds())))
                    records.append(
                        _record(when, ident, svc, name, region, ip=f"198.51.100.{rng.randrange(1, 250)}",
                                agent=_AGENTS[rng.randrange(3)], request=req, rng=rng)
                    )  # fmt: skip
            if not records:
                continue
            records.sort(key=lambda r: r["eventTime"])
            delivered = slot_start + period + timedelta(minutes=rng.randrange(1, 10))
            stamp = delivered.strftime("%Y%m%dT%H%MZ")
            unique = uuid.UUID(int=rng.getrandbits(128)).hex[:16]
            name = f"{ACCOUNT}_CloudTrail_{region}_{stamp}_{unique}.json.gz"
            key = f"{account_key}/CloudTrail/{region}/{delivered:%Y/%m/%d}/{name}"
            sha256 = _write_file(root / key, records)
            delivered_files.append(Delivered(key, region, delivered, sha256))
            files += 1
            total += len(records)
    # Digests run until the hour the last file was delivered in (a slot's file arrives minutes after it).
    end = start + timedelta(days=days, hours=1)
    known.digest_files = write_chain(
        root, account_key, ACCOUNT, all_regions, start, end, delivered_files, bucket
    )
    write_public_keys(root / KEYS_FOLDER, all_regions, start - timedelta(days=1), end + timedelta(days=1))
    known.total_events = total
    known.log_files = files
    known.first_time = start.strftime("%Y-%m-%dT%H:%M:%SZ")
    known.last_time = (start + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return known


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m audit_trail.investigate.sample_logs",
        description="Write a sample CloudTrail trail folder (S3 layout, an intrusion planted in background "
        "noise, a signed digest chain and its public keys) to try every command without AWS.",
    )
    parser.add_argument("folder", type=Path, help="Where to write it (created; mirrors the trail's bucket).")
    parser.add_argument(
        "--start",
        default="2026-03-02",
        help=f"First day (default 2026-03-02, which the README's examples use): {ACCEPTED_FORMS}.",
    )
    parser.add_argument("--days", type=int, default=3, help="How many days of logs (default 3).")
    args = parser.parse_args(argv)
    try:
        start = parse_time(args.start, "--start")
    except UserError as exc:
        parser.error(str(exc))
    if not 1 <= args.days <= 366:
        parser.error(f"--days {args.days}: give 1 to 366 days.")
    if args.folder.exists() and not args.folder.is_dir():
        parser.error(f"{args.folder} is a file: give a folder to write the sample into.")
    answers = generate(
        args.folder, days=args.days, start=start.replace(hour=0, minute=0, second=0, microsecond=0)
    )
    print(f"{answers.total_events} events in {answers.log_files} log files under {args.folder}")
    keys = args.folder / KEYS_FOLDER
    print(f"{answers.digest_files} signed digest files; their public keys are in {keys}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
