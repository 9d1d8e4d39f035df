"""`verify` against a bucket (moto server on 127.0.0.1): signatures from object metadata, keys from
ListPublicKeys. moto does not implement ListPublicKeys, so that call is answered by botocore's Stubber."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
import pytest
from audit_trail.cli.app import app
from audit_trail.errors import CannotRunError, UserError
from audit_trail.integrity.public_keys import CloudTrailKeys
from audit_trail.integrity.sources import open_bucket, open_source
from audit_trail.integrity.verify import Problem, verify_logs
from audit_trail.store import S3Store
from botocore.stub import Stubber  # type: ignore[import-untyped]
from support.digest_factory import BUCKET, Obj, Signer, build_chain, new_signer, write_s3
from support.pulumi_cli import fake_pulumi
from typer.testing import CliRunner

START = datetime(2026, 11, 20, 22, 0, tzinfo=UTC)
SINCE, UNTIL = START, datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
LATER = UNTIL + timedelta(days=1)
PREFIX = "prod"
WIDE = {"COLUMNS": "400"}  # error messages unwrapped, whatever the temporary path


@pytest.fixture(scope="module")
def signer() -> Signer:
    return new_signer()


@pytest.fixture
def bucket(aws: str, signer: Signer) -> tuple[Any, list[Obj], list[Obj]]:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    digests, logs = build_chain(signer, START, 4, prefix=PREFIX)
    write_s3(s3, BUCKET, digests + logs)
    return s3, digests, logs


class _Session:
    """Hands out one stubbed CloudTrail client and records the regions asked for."""

    def __init__(self, client: Any) -> None:
        self.cloudtrail = client
        self.regions: list[str] = []

    def client(self, service: str, region_name: str) -> Any:
        assert service == "cloudtrail"
        self.regions.append(region_name)
        return self.cloudtrail


def stubbed_keys(signer: Signer, start: datetime, end: datetime) -> tuple[CloudTrailKeys, _Session, Stubber]:
    client = boto3.client("cloudtrail", region_name="us-east-1")
    stub = Stubber(client)
    stub.add_response(
        "list_public_keys",
        {
            "PublicKeyList": [
                {
                    "Value": signer.public_der,
                    "ValidityStartTime": datetime(2026, 1, 1, tzinfo=UTC),
                    "ValidityEndTime": datetime(2027, 1, 1, tzinfo=UTC),
                    "Fingerprint": signer.fingerprint,
                }
            ]
        },
        {"StartTime": start, "EndTime": end},
    )
    stub.activate()
    session = _Session(client)
    return CloudTrailKeys(session), session, stub


def test_clean_bucket_passes_with_keys_from_list_public_keys(bucket, signer):
    s3, _, logs = bucket
    keys, session, stub = stubbed_keys(signer, START, datetime(2026, 11, 21, 2, 0, tzinfo=UTC))
    report = verify_logs(S3Store(BUCKET, s3), keys, SINCE, UNTIL, prefix=PREFIX, now=LATER)
    stub.assert_no_pending_responses()
    assert session.regions == ["us-east-1"]  # the digests' region: keys are per region
    assert report.ok, report.findings
    (region,) = report.regions
    assert (region.digests_valid, region.log_files_valid) == (4, len(logs))
    assert report.source == f"s3://{BUCKET}/{PREFIX}"


def test_tampering_in_the_bucket_is_found(bucket, signer):
    s3, digests, logs = bucket
    s3.put_object(Bucket=BUCKET, Key=logs[0].key, Body=logs[1].body)  # another file's content
    s3.delete_object(Bucket=BUCKET, Key=logs[3].key)
    s3.delete_object(Bucket=BUCKET, Key=digests[2].key)
    # The signature lives in the object's metadata: replace it.
    forged = dict(digests[1].metadata, signature="00" * 256)
    s3.put_object(Bucket=BUCKET, Key=digests[1].key, Body=digests[1].body, Metadata=forged)
    s3.put_object(Bucket=BUCKET, Key=logs[0].key.replace("h0n0", "planted"), Body=logs[0].body)
    keys, _, _ = stubbed_keys(signer, START, datetime(2026, 11, 21, 2, 0, tzinfo=UTC))
    report = verify_logs(S3Store(BUCKET, s3), keys, SINCE, UNTIL, prefix=PREFIX, now=LATER)
    found = {(f.problem, f.key) for f in report.findings}
    # logs[2] and logs[3] were listed by the forged digest 1, logs[4] and logs[5] by the deleted digest 2:
    # none of them is proven (logs[3], deleted too, is simply gone).
    assert found == {
        (Problem.LOG_MODIFIED, logs[0].key),
        (Problem.BAD_SIGNATURE, digests[1].key),
        (Problem.DIGEST_MISSING, digests[2].key),
        (Problem.UNEXPECTED, logs[0].key.replace("h0n0", "planted")),
        *((Problem.UNDIGESTED, log.key) for log in (logs[2], logs[4], logs[5])),
    }
    assert not report.ok


def test_cli_verify_bucket_json_and_exit_code(bucket, signer, tmp_path: Path):
    s3, _, logs = bucket
    keys = tmp_path / "keys-us-east-1.json"
    keys.write_text(json.dumps(signer.list_public_keys_json()))
    args = ["verify", "--bucket", BUCKET, "--prefix", PREFIX, "--public-keys", str(keys)]
    args += ["--since", "2026-11-20T22:00Z", "--until", "2026-11-21T02:00Z", "-f", "json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["ok"] is True and document["regions"][0]["log_files_valid"] == len(logs)
    s3.delete_object(Bucket=BUCKET, Key=logs[-1].key)
    result = CliRunner().invoke(app, args[:-2])
    assert result.exit_code == 1
    assert "FAIL - log deleted: 1." in result.output
    result = CliRunner().invoke(app, [*args[:-2], "-f", "csv"])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "result,problem,account,region,key,detail",
        f'FAIL,log deleted,111122223333,us-east-1,{logs[-1].key},"listed in a valid digest, not found"',
    ]


def test_bad_sources_name_the_flag(aws, tmp_path):
    s3 = boto3.client("s3")
    with pytest.raises(
        CannotRunError, match=r"s3://no-such-bucket does not exist \(asked in region us-east-1\)"
    ):
        open_bucket("no-such-bucket", s3)
    with pytest.raises(UserError, match="--folder and --bucket: name exactly one"):
        open_source(folder=tmp_path, stack=None, bucket="b", prefix="", client=s3)
    with pytest.raises(UserError, match="no source: name exactly one"):
        open_source(folder=None, stack=None, bucket=None, prefix="", client=s3)


def test_cli_bad_input_exits_2_naming_it(tmp_path):
    result = CliRunner().invoke(
        app, env=WIDE, args=["verify", "--folder", str(tmp_path), "--since", "someday"]
    )
    assert result.exit_code == 2 and "--since 'someday': not a time" in result.output
    result = CliRunner().invoke(app, env=WIDE, args=["verify", "--folder", str(tmp_path)])
    assert result.exit_code == 2 and "--folder needs --public-keys" in result.output
    keys = tmp_path / "keys-us-east-1.json"
    keys.write_text('{"PublicKeyList": []}')
    result = CliRunner().invoke(
        app, env=WIDE, args=["verify", "--folder", str(tmp_path / "gone"), "--public-keys", str(keys)]
    )
    assert result.exit_code == 2 and "no such folder" in result.output
    result = CliRunner().invoke(
        app,
        env=WIDE,
        args=["verify", "--folder", str(tmp_path), "--public-keys", str(keys), "--account", "12"],
    )
    assert result.exit_code == 2 and "--account '12': an AWS account id is 12 digits" in result.output


def test_stack_outputs_name_bucket_prefix_and_account(bucket, monkeypatch, tmp_path):
    s3, _, _ = bucket
    outputs = {
        "bucketName": BUCKET,
        "s3KeyPrefix": PREFIX,
        "trailArn": "arn:aws:cloudtrail:eu-west-1:111122223333:trail/prod-trail",
        "logsLocation": f"s3://{BUCKET}/{PREFIX}/AWSLogs/111122223333/",
    }
    fake_pulumi(tmp_path, monkeypatch, outputs)
    source = open_source(folder=None, stack="prod", bucket=None, prefix="", client=s3)
    assert (source.store.bucket, source.prefix, source.accounts) == (
        BUCKET,
        PREFIX,
        frozenset({"111122223333"}),
    )


def test_list_public_keys_denied_cannot_run(signer):
    client = boto3.client("cloudtrail", region_name="eu-west-1")
    stub = Stubber(client)
    stub.add_client_error("list_public_keys", "AccessDeniedException", "not allowed")
    stub.activate()
    with pytest.raises(
        CannotRunError, match=r"ListPublicKeys for .* in eu-west-1 failed - access denied.*--public-k"
    ):
        CloudTrailKeys(_Session(client))("eu-west-1", START, UNTIL)


def test_fetched_folder_verifies_offline(bucket, signer, tmp_path):
    """`fetch` saves each digest's signature beside it; the folder then verifies with saved public keys."""
    from audit_trail.integrity.public_keys import saved_keys
    from audit_trail.investigate.fetch import fetch
    from audit_trail.store import FolderStore
    from audit_trail.window import Window

    s3, digests, logs = bucket
    report = fetch(BUCKET, PREFIX, tmp_path / "evidence", Window(SINCE, UNTIL), client=s3)
    assert report.failed == []
    (tmp_path / "keys-us-east-1.json").write_text(json.dumps(signer.list_public_keys_json()))
    keys = saved_keys([str(tmp_path / "keys-us-east-1.json")], "--public-keys")
    offline = verify_logs(FolderStore(tmp_path / "evidence"), keys, SINCE, UNTIL, prefix=PREFIX, now=LATER)
    assert offline.ok, offline.findings
    assert (offline.regions[0].digests_valid, offline.regions[0].log_files_valid) == (len(digests), len(logs))
    # The folder `fetch --prefix prod` wrote holds prod/AWSLogs/...: verify finds the prefix by itself.
    keys_file = str(tmp_path / "keys-us-east-1.json")
    args = ["verify", "--folder", str(tmp_path / "evidence"), "--public-keys", keys_file, "-f", "json"]
    result = CliRunner().invoke(app, [*args, "--since", "2026-11-20T22:00Z", "--until", "2026-11-21T02:00Z"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["source"] == str(tmp_path / "evidence")
