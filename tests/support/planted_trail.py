"""A generated trail (`sample_logs`) with the facts an audit report must show planted in it, and its digest
chain signed again to match, as CloudTrail would have delivered it:

- logging stopped for 3 hours (StopLogging just before, StartLogging just after; no log files and no digests
  in between, then a starting digest: the chain restarts);
- two consecutive digests of eu-west-1 deleted (their hours' log files are then in no digest);
- one log file of us-west-2 modified after delivery;
- an IAM user created (its name is hostile markup), a failed sign-in whose user agent is
  `<script>alert(1)</script>`, and the sample's own root usage and sign-in without MFA.
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from audit_trail.investigate.sample_digests import KEYS_FOLDER, Delivered, write_chain, write_public_keys
from audit_trail.investigate.sample_logs import ACCOUNT, KnownAnswers, generate

START = datetime(2026, 3, 2, tzinfo=UTC)
DAYS = 2
SINCE, UNTIL = START, START + timedelta(days=DAYS)
CHAIN_END = UNTIL + timedelta(hours=1)
HOUR = timedelta(hours=1)
GAP_START = START + timedelta(days=1, hours=10)
GAP_END = GAP_START + 3 * HOUR
DELETED_REGION = "eu-west-1"
DELETED_HOURS = (START + timedelta(hours=20), START + timedelta(hours=21))
"""The starts of the two hours whose digests are deleted."""
MODIFIED_REGION = "us-west-2"
MODIFIED_HOUR = START + timedelta(days=1, hours=5)
HOSTILE_AGENT = "<script>alert(1)</script>"
HOSTILE_USER = "<img src=x onerror=alert(2)>"
TRAIL_ARN = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/audit"
ACCOUNT_KEY = f"AWSLogs/{ACCOUNT}"


@dataclass
class Planted:
    root: Path
    known: KnownAnswers
    deleted_digests: list[str]
    modified_log: str
    stop_logging: str
    start_logging: str
    created_user: str
    hostile_sign_in: str
    flow_logs_deleted: str

    @property
    def keys(self) -> Path:
        return self.root / KEYS_FOLDER


def _admin() -> dict[str, Any]:
    return {
        "type": "AssumedRole",
        "principalId": "AROAEXAMPLEADMIN:alice",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/alice",
        "accountId": ACCOUNT,
        "accessKeyId": "ASIAEXAMPLEADMINALI1",
        "sessionContext": {
            "sessionIssuer": {
                "type": "Role",
                "principalId": "AROAEXAMPLEADMIN",
                "arn": f"arn:aws:iam::{ACCOUNT}:role/Admin",
                "accountId": ACCOUNT,
                "userName": "Admin",
            }
        },
    }


def _event(
    when: datetime, service: str, name: str, identity: dict[str, Any], **fields: Any
) -> dict[str, Any]:
    event_id = str(uuid.uuid5(uuid.NAMESPACE_OID, f"{when.isoformat()}{name}"))
    record = {
        "eventVersion": "1.09",
        "userIdentity": identity,
        "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": f"{service}.amazonaws.com",
        "eventName": name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "198.51.100.7",
        "userAgent": "aws-cli/2.17.32",
        "requestParameters": None,
        "responseElements": None,
        "eventID": event_id,
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
    }
    record.update(fields)
    return record


def _planted_records() -> list[dict[str, Any]]:
    alice = {
        "type": "IAMUser",
        "principalId": "AIDAALICEXXXXXXXXXXX",
        "arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
        "accountId": ACCOUNT,
        "accessKeyId": "AKIAEXAMPLEALICE0001",
        "userName": "alice",
    }
    eve = {**alice, "arn": f"arn:aws:iam::{ACCOUNT}:user/eve", "userName": "eve", "principalId": "AIDAEVE"}
    return [
        _event(GAP_START - timedelta(minutes=2), "cloudtrail", "StopLogging", _admin(),
               requestParameters={"name": TRAIL_ARN}),
        _event(GAP_END + timedelta(minutes=3), "cloudtrail", "StartLogging", _admin(),
               requestParameters={"name": TRAIL_ARN}),
        _event(START + timedelta(hours=15), "iam", "CreateUser", alice,
               requestParameters={"userName": HOSTILE_USER},
               responseElements={"user": {"userName": HOSTILE_USER, "userId": "AIDAPLANTED"}}),
        _event(START + timedelta(days=1, hours=16, minutes=30), "signin", "ConsoleLogin", eve,
               userAgent=HOSTILE_AGENT, eventType="AwsConsoleSignIn", errorCode="Failed authentication",
               errorMessage="Failed authentication", responseElements={"ConsoleLogin": "Failure"},
               additionalEventData={"MFAUsed": "No"}),
        # a high-level Sigma rule's event (AWS VPC Flow Logs Deleted)
        _event(START + timedelta(days=1, hours=15, minutes=30), "ec2", "DeleteFlowLogs", alice,
               requestParameters={"DeleteFlowLogsRequest": {"FlowLogId": {"content": "fl-0abc", "tag": 1}}}),
    ]  # fmt: skip


def _read_records(root: Path) -> list[dict[str, Any]]:
    records = []
    for path in sorted((root / ACCOUNT_KEY / "CloudTrail").rglob("*.json.gz")):
        records += orjson.loads(gzip.decompress(path.read_bytes()))["Records"]
    return records


def _write_logs(root: Path, records: list[dict[str, Any]]) -> list[Delivered]:
    """One file per region and hour, delivered in its hour's last minute (so its hour's digest lists it)."""
    by_file: dict[tuple[str, datetime], list[dict[str, Any]]] = defaultdict(list)
    for rec in records:
        when = datetime.strptime(rec["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        by_file[(rec["awsRegion"], when.replace(minute=0, second=0))].append(rec)
    delivered = []
    for (region, hour), recs in sorted(by_file.items()):
        at = hour + timedelta(minutes=59)
        content = orjson.dumps({"Records": sorted(recs, key=lambda r: r["eventTime"])})
        unique = hashlib.sha256(content).hexdigest()[:16]
        name = f"{ACCOUNT}_CloudTrail_{region}_{at:%Y%m%dT%H%MZ}_{unique}.json.gz"
        key = f"{ACCOUNT_KEY}/CloudTrail/{region}/{at:%Y/%m/%d}/{name}"
        (root / key).parent.mkdir(parents=True, exist_ok=True)
        (root / key).write_bytes(gzip.compress(content, mtime=0))
        delivered.append(Delivered(key, region, at, hashlib.sha256(content).hexdigest()))
    return delivered


def _digest_key(region: str, end: datetime) -> str:
    name = f"{ACCOUNT}_CloudTrail-Digest_{region}_audit_us-east-1_{end:%Y%m%dT%H%M%SZ}.json.gz"
    return f"{ACCOUNT_KEY}/CloudTrail-Digest/{region}/{end:%Y/%m/%d}/{name}"


def plant(root: Path) -> Planted:
    known = generate(root, events=720, days=DAYS, start=START, files_per_day=24)
    planted = _planted_records()
    records = [
        r for r in _read_records(root) if not GAP_START <= datetime.fromisoformat(r["eventTime"]) < GAP_END
    ] + planted
    for folder in ("CloudTrail", "CloudTrail-Digest"):
        shutil.rmtree(root / ACCOUNT_KEY / folder)
    delivered = _write_logs(root, records)
    regions = sorted({d.region for d in delivered})
    # Logging off from GAP_START to GAP_END: the first chain ends, a starting digest begins the next.
    write_chain(
        root, ACCOUNT_KEY, ACCOUNT, regions, START, GAP_START, [d for d in delivered if d.at < GAP_START]
    )
    write_chain(
        root, ACCOUNT_KEY, ACCOUNT, regions, GAP_END, CHAIN_END, [d for d in delivered if d.at >= GAP_END]
    )
    write_public_keys(root / KEYS_FOLDER, regions, START - timedelta(days=1), CHAIN_END + timedelta(days=1))

    deleted = [_digest_key(DELETED_REGION, hour + HOUR) for hour in DELETED_HOURS]
    for key in deleted:
        (root / key).unlink()
        (root / f"{key}.meta.json").unlink()
    (modified,) = [d.key for d in delivered if d.region == MODIFIED_REGION and d.at - MODIFIED_HOUR < HOUR
                   and d.at >= MODIFIED_HOUR]  # fmt: skip
    content = gzip.decompress((root / modified).read_bytes()).replace(b"198.51.100.", b"198.51.199.", 1)
    (root / modified).write_bytes(gzip.compress(content, mtime=0))
    return Planted(root, known, deleted, modified, *(r["eventID"] for r in planted))
