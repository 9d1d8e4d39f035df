"""The Athena engine: table schema and projection, one SQL per question shared with DuckDB (checked by running
the Athena SQL itself over an emulated Glue table), the boto3 start/poll/fetch flow against moto, and the
component's `athena` option under mocks."""

from __future__ import annotations

import gzip
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
import duckdb
import orjson
import pytest
import requests
import typer
from audit_trail.cli.app import app
from audit_trail.component.resources.athena import glue_name, table_parameters
from audit_trail.errors import CannotRunError, UserError
from audit_trail.investigate import athena
from audit_trail.investigate.ask import AthenaTarget, Engine, ask
from audit_trail.investigate.local import answer, run_sql
from audit_trail.investigate.sources import list_log_files
from audit_trail.queries import athena as athena_sql
from audit_trail.queries import filters as f
from audit_trail.queries import glue_table
from audit_trail.queries import questions as q
from audit_trail.queries.events_view import RESOURCES_AS_RECORDED
from audit_trail.regions import regions_of
from audit_trail.window import Window
from support.graph import of_type, one
from support.logs import real_records, write_generated, write_real_folder
from support.pulumi_cli import fake_pulumi
from typer.testing import CliRunner


def cli_questions() -> set[str]:
    """The canned questions the CLI offers: its investigation commands that answer one fixed question."""
    commands = typer.main.get_command(app).commands  # type: ignore[attr-defined]
    investigate = {name for name, command in commands.items() if command.rich_help_panel == "Investigate"}
    return investigate - {"query", "fetch", "hunt"}


QUESTIONS = {
    "who-changed": lambda known: q.who_changed(known),
    "activity": lambda known: q.activity(known),
    "root-usage": lambda _: q.root_usage(),
    "failed-logins": lambda _: q.failed_logins(),
    "denied": lambda _: q.denied(),
    "unusual-regions": lambda _: q.unusual_regions(),
    "deletions": lambda _: q.deletions(),
    "query": lambda _: q.events(),
}


# --- schema and projection ------------------------------------------------------------------------------


def test_every_field_of_real_records_has_a_column() -> None:
    columns = {name for name, _ in glue_table.TABLE_COLUMNS}
    fields = {key.lower() for rec in real_records() for key in rec}
    # managementEvent is not in the schema AWS documents for the CloudTrail table.
    assert fields - columns == {"managementevent"}


def test_projection_template_is_the_trails_key_layout(tmp_path: Path) -> None:
    write_generated(tmp_path, events=100, days=1, prefix="audit")
    params = table_parameters("logs", "audit", "aws", "123456789012", None)
    assert params["projection.enabled"] == "true"
    assert (params["projection.date.type"], params["projection.date.format"]) == ("date", "yyyy/MM/dd")
    assert params["projection.account.values"] == "123456789012"
    assert set(params["projection.region.values"].split(",")) == set(regions_of("aws"))
    for log in list_log_files(str(tmp_path)):
        assert log.day and log.region
        folder = params["storage.location.template"].replace("${account}", "123456789012")
        folder = folder.replace("${region}", log.region).replace("${date}", log.day.strftime("%Y/%m/%d"))
        key = Path(log.location).relative_to(tmp_path).as_posix()
        assert f"s3://logs/{key}".startswith(folder + "/")


def test_projection_adds_the_stacks_extra_regions() -> None:
    params = table_parameters("logs", "", "aws", "123456789012", None, ["eu-west-9"])
    assert set(params["projection.region.values"].split(",")) == {*regions_of("aws"), "eu-west-9"}


def test_organization_trail_table_reads_under_the_org_id() -> None:
    params = table_parameters("logs", "", "aws-us-gov", "123456789012", "o-abcdefghij")
    template = "s3://logs/AWSLogs/o-abcdefghij/${account}/CloudTrail/${region}/${date}"
    assert params["storage.location.template"] == template
    assert params["projection.region.values"] == "us-gov-east-1,us-gov-west-1"


def test_partition_predicates_follow_the_window() -> None:
    window = Window(
        since=datetime(2026, 3, 2, 10, tzinfo=UTC),
        until=datetime(2026, 3, 4, tzinfo=UTC),
        regions=frozenset({"eu-west-1", "us-east-1"}),
        accounts=frozenset({"123456789012"}),
    )
    assert athena_sql.partition_where(window) == (
        "\"date\" >= '2026/03/02' AND \"date\" <= '2026/03/05' AND region IN ('eu-west-1', 'us-east-1') "
        "AND account IN ('123456789012')"
    )
    assert athena_sql.partition_where(Window()) == "true"


def test_named_queries_are_the_shared_questions_with_parameters() -> None:
    named = athena_sql.named_queries()
    assert set(named) == cli_questions()
    for name in ("root-usage", "failed-logins", "denied", "deletions"):
        shared = QUESTIONS[name](None).sql()
        assert named[name][1].endswith(shared)
        assert "?" not in named[name][1]
    for name in ("who-changed", "activity"):
        assert named[name][1].count("?") == 1, name
    assert all("\"date\" >= date_format(current_date - interval '30' day" in sql for _, sql in named.values())


def test_the_saved_queries_take_an_actor_in_any_case_and_a_resource_as_text(generated) -> None:
    """What the Athena console sends for `?` is plain text: the saved queries match it as the CLI matches a
    plain value (their 30-day predicate set aside here: the generated trail is older)."""
    root, known, con = generated
    named = athena_sql.named_queries()
    recent = (
        f"\"date\" >= date_format(current_date - interval '{athena_sql.NAMED_QUERY_DAYS}' day, '%Y/%m/%d')"
    )
    for name, value, question in (
        ("activity", "MALLORY", q.activity("mallory")),
        ("who-changed", known.target_group, q.who_changed(known.target_group)),
    ):
        sql = _trino_to_duckdb(named[name][1].replace(recent, "true"))
        cursor = con.execute(sql, [value])
        columns = [d[0] for d in cursor.description]
        rows = [dict(zip(columns, r, strict=True)) for r in cursor.fetchall()]
        expected = answer(str(root), question, Window()).rows
        assert len(rows) == len(expected) > 0, name
        assert [r.get("event_id") or r.get("action") for r in rows] == [
            r.get("event_id") or r.get("action") for r in expected
        ]


def test_glue_names() -> None:
    assert glue_name("Audit-Trail.prod") == "audit_trail_prod"


# --- both engines answer identically: the Athena SQL run over an emulated Glue table ------------------------


def _duck_type(hive: str) -> str:
    hive = hive.strip()
    if hive.startswith("struct<"):
        return "STRUCT(" + ", ".join(f'"{n}" {_duck_type(t)}' for n, t in _fields(hive[7:-1])) + ")"
    if hive.startswith("array<"):
        return _duck_type(hive[6:-1]) + "[]"
    if hive.startswith("map<"):
        key, value = _split(hive[4:-1])
        return f"MAP({_duck_type(key)}, {_duck_type(value)})"
    return "VARCHAR"


def _split(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += {"<": 1, ">": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    return [*parts, text[start:]]


def _fields(body: str) -> list[tuple[str, str]]:
    return [tuple(part.split(":", 1)) for part in _split(body)]  # type: ignore[misc]


def _glue_value(value: Any, hive: str) -> Any:
    """What the JSON SerDe hands Athena: struct fields by lower-case name, nested JSON in strings as text."""
    if value is None:
        return None
    if hive.startswith("struct<"):
        lowered = {k.lower(): v for k, v in value.items()} if isinstance(value, dict) else {}
        return {n: _glue_value(lowered.get(n), t) for n, t in _fields(hive[7:-1])}
    if hive.startswith("array<"):
        return [_glue_value(v, hive[6:-1]) for v in value] if isinstance(value, list) else None
    if hive.startswith("map<"):
        return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else None
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else orjson.dumps(value).decode()


TRINO_MACROS = (
    "SET TimeZone = 'UTC'",
    "CREATE MACRO from_iso8601_timestamp(s) AS CAST(s AS TIMESTAMPTZ)",
    "CREATE MACRO json_extract_scalar(j, p) AS "
    "CASE WHEN json_type(j, p) IN ('OBJECT', 'ARRAY') THEN NULL ELSE json_extract_string(j, p) END",
    "CREATE MACRO array_join(l, sep) AS array_to_string(l, sep)",
)


def _trino_to_duckdb(sql: str) -> str:
    """The spellings DuckDB lacks, rewritten; everything else runs as Athena would run it."""
    sql = sql.replace("element_at(", "list_extract(")
    resources = RESOURCES_AS_RECORDED.replace("transform(", "list_transform(").replace("r -> ", "lambda r: ")
    resources = resources.replace("ARRAY[", "[")
    return sql.replace(
        f"json_format(CAST({RESOURCES_AS_RECORDED} AS JSON))", f"CAST(to_json({resources}) AS VARCHAR)"
    )


def _emulated_athena(root: Path, tmp_path: Path) -> Any:
    """A DuckDB table shaped like the Glue table, holding the records of ROOT with their partition values."""
    lines = []
    for log in list_log_files(str(root)):
        for rec in orjson.loads(gzip.decompress(Path(log.location).read_bytes()))["Records"]:
            lowered = {k.lower(): v for k, v in rec.items()}
            row = {name: _glue_value(lowered.get(name), hive) for name, hive in glue_table.TABLE_COLUMNS}
            assert log.day
            row.update(account=log.account, region=log.region, date=log.day.strftime("%Y/%m/%d"))
            row["$path"] = log.location
            lines.append(orjson.dumps(row))
    path = tmp_path / "glue.jsonl"
    path.write_bytes(b"\n".join(lines))
    con = duckdb.connect()
    for statement in TRINO_MACROS:
        con.execute(statement)
    columns = [(n, _duck_type(t)) for n, t in glue_table.TABLE_COLUMNS]
    columns += [("account", "VARCHAR"), ("region", "VARCHAR"), ("date", "VARCHAR"), ("$path", "VARCHAR")]
    spec = ", ".join(f"'{n}': '{t}'" for n, t in columns)
    con.execute(f"CREATE TABLE cloudtrail_logs AS SELECT * FROM read_json('{path}', columns={{{spec}}})")
    return con


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any, Any]:
    root = tmp_path_factory.mktemp("gen")
    known = write_generated(root, events=600, days=3)
    return root, known, _emulated_athena(root, tmp_path_factory.mktemp("glue"))


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    root = tmp_path_factory.mktemp("real")
    write_real_folder(root)
    return root, _emulated_athena(root, tmp_path_factory.mktemp("glue-real"))


def _both(root: Path, con: Any, question: q.Question, window: Window) -> tuple[list[Any], list[Any]]:
    local = answer(str(root), question, window).rows
    _, emulated = run_sql(con, _trino_to_duckdb(athena_sql.question_sql(question, window)))
    return local, emulated


@pytest.mark.parametrize("name", QUESTIONS)
def test_both_engines_answer_the_generated_trail_identically(generated, name: str) -> None:
    root, known, con = generated
    value = known.target_group if name == "who-changed" else known.intruder
    local, emulated = _both(root, con, QUESTIONS[name](value), Window())
    assert local == emulated and local


@pytest.mark.parametrize("name", QUESTIONS)
def test_both_engines_answer_real_records_identically(real, name: str) -> None:
    root, con = real
    value = "TrailDiscoverBucket" if name == "who-changed" else "TrailDiscover"
    local, emulated = _both(root, con, QUESTIONS[name](value), Window())
    assert local == emulated


ASKING = [
    f.Actor("AWSReservedSSO_AdministratorAccess_1b74cd717d47002b"),
    f.Actor("adanalvarez"),
    f.Actor("arn:aws:iam::111111111111:role/AWSReservedSSO_*"),
    f.Not(f.Actor("TrailDiscover")),
    f.AnyOf((f.Action("s3:Put*"), f.Action("iam:*"))),
    f.Resource("arn:aws:s3:::TrailDiscoverBucket"),
    f.SourceIp("0.0.0.0/8"),
    f.Not(f.SourceIp("2001:db8::/32")),
    f.user_agent("*AWS-CLI/2.*"),
    f.event_id("10E1548F-893E-46F6-852A-25A9F8CF93E1"),
]


@pytest.mark.parametrize("flt", ASKING, ids=lambda x: repr(x)[:80])
def test_both_engines_match_actors_resources_and_addresses_alike(real, flt: f.Filter) -> None:
    root, con = real
    local, emulated = _both(root, con, q.events().with_filters(flt), Window())
    assert local == emulated and local


def test_both_engines_agree_within_a_window(generated) -> None:
    root, _, con = generated
    window = Window(since=datetime(2026, 3, 3, 3, tzinfo=UTC), until=datetime(2026, 3, 3, 4, tzinfo=UTC))
    local, emulated = _both(root, con, q.events(), window)
    assert local == emulated and 0 < len(local) < 100


def test_raw_sql_runs_over_the_same_events_view(generated) -> None:
    root, _, con = generated
    sql = "SELECT actor, count(*) AS n FROM events GROUP BY actor ORDER BY n DESC, actor"
    local = answer(str(root), None, Window(), sql=sql).rows
    _, emulated = run_sql(con, _trino_to_duckdb(athena_sql.raw_sql(sql, Window())))
    assert local == emulated
    with_cte = "WITH x AS (SELECT * FROM events WHERE error_code IS NOT NULL) SELECT count(*) AS n FROM x"
    _, counted = run_sql(con, _trino_to_duckdb(athena_sql.raw_sql(with_cte, Window())))
    assert counted == answer(str(root), None, Window(), sql=with_cte).rows


def test_raw_sql_json_paths_into_resources_agree(real) -> None:
    """`resources` carries the record's key names on both engines, so a JSON path finds the same values
    (the text itself may differ in key order: see the README)."""
    root, con = real
    sql = (
        "SELECT event_id, {f}(resources, '$[0].ARN') AS arn, {f}(resources, '$[0].type') AS type "
        "FROM events WHERE resources IS NOT NULL ORDER BY event_id"
    )
    # Each engine's own JSON function: DuckDB's json_extract_string, Trino's json_extract_scalar.
    local = answer(str(root), None, Window(), sql=sql.format(f="json_extract_string")).rows
    athena_text = athena_sql.raw_sql(sql.format(f="json_extract_scalar"), Window())
    _, emulated = run_sql(con, _trino_to_duckdb(athena_text))
    assert local == emulated
    assert any(row["arn"] for row in local)


# --- boto3 flow against moto ----------------------------------------------------------------------------


def _seed_results(endpoint: str, columns: list[tuple[str, str]], rows: list[list[str | None]]) -> None:
    header = {"Data": [{"VarCharValue": name} for name, _ in columns]}
    data = [{"Data": [{} if v is None else {"VarCharValue": v} for v in row]} for row in rows]
    info = [
        {"Name": n, "Label": n, "Type": t, "CatalogName": "hive", "SchemaName": "", "TableName": ""}
        for n, t in columns
    ]
    body: dict[str, Any] = {
        "region": "us-east-1",
        "results": [{"rows": [header, *data], "column_info": info}],
    }
    requests.post(f"{endpoint}/moto-api/static/athena/query-results", json=body, timeout=10)


def test_athena_flow_starts_polls_and_types_the_results(aws: str) -> None:
    client = boto3.client("athena")
    client.create_work_group(
        Name="audit-trail", Configuration={"ResultConfiguration": {"OutputLocation": "s3://r/"}}
    )
    _seed_results(
        aws,
        [("event_time", "timestamp"), ("actor", "varchar"), ("events", "bigint"), ("error_code", "varchar")],
        [["2026-03-03 03:00:00.000", "mallory", "12", None]],
    )
    window = Window(since=datetime(2026, 3, 3, tzinfo=UTC))
    result = ask(
        q.activity("mallory"), source=None, window=window, engine=Engine.athena, target=AthenaTarget()
    )
    assert result.columns == ["event_time", "actor", "events", "error_code"]
    assert result.rows == [
        {"event_time": "2026-03-03T03:00:00Z", "actor": "mallory", "events": 12, "error_code": None}
    ]
    (qid,) = client.list_query_executions(WorkGroup="audit-trail")["QueryExecutionIds"]
    sent = client.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
    assert sent["QueryExecutionContext"]["Database"] == "audit_trail"
    assert sent["Query"] == athena_sql.question_sql(q.activity("mallory"), window)


class _FailingAthena:
    def start_query_execution(self, **kwargs: Any) -> dict[str, str]:
        return {"QueryExecutionId": "q-1"}

    def get_query_execution(self, QueryExecutionId: str) -> dict[str, Any]:
        status = {"State": "FAILED", "StateChangeReason": "TABLE_NOT_FOUND: cloudtrail_logs"}
        return {"QueryExecution": {"Status": status}}


def test_a_failed_athena_query_is_reported_with_its_reason() -> None:
    with pytest.raises(CannotRunError, match=r"Athena query q-1 failed: TABLE_NOT_FOUND"):
        athena.run_query("SELECT 1", client=_FailingAthena())


# --- the component's option, under mocks ----------------------------------------------------------------


def test_athena_option_creates_the_table_workgroup_results_bucket_and_queries(preview_stack) -> None:
    plan = preview_stack("dev", "audit-trail:athena=true")
    assert plan.error is None, plan.error
    component = one(plan, "audit-trail:index:AuditTrail")
    table = one(plan, "aws:glue/catalogTable:CatalogTable")["inputs"]
    logs_bucket = plan.outputs["bucketName"]
    assert table["name"] == "cloudtrail_logs" and table["databaseName"] == "audit_trail_dev"
    assert table["parameters"]["storage.location.template"] == (
        f"s3://{logs_bucket}/AWSLogs/${{account}}/CloudTrail/${{region}}/${{date}}"
    )
    assert [k["name"] for k in table["partitionKeys"]] == ["account", "region", "date"]
    assert table["storageDescriptor"]["serDeInfo"]["serializationLibrary"] == glue_table.SERDE
    workgroup = one(plan, "aws:athena/workgroup:Workgroup")["inputs"]
    config = workgroup["configuration"]
    assert workgroup["name"] == "audit-trail-dev" and config["enforceWorkgroupConfiguration"] is True
    assert config["resultConfiguration"]["encryptionConfiguration"] == {"encryptionOption": "SSE_S3"}
    assert re.fullmatch(
        r"s3://audit-trail-athena-results-\w+/results/", config["resultConfiguration"]["outputLocation"]
    )
    lifecycles = of_type(plan, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
    lifecycle = next(r for r in lifecycles if r["name"] == "audit-trail-athena-results-lifecycle")
    assert lifecycle["inputs"]["rules"][0]["expiration"] == {"days": 7}
    named = of_type(plan, "aws:athena/namedQuery:NamedQuery")
    assert sorted(r["inputs"]["name"] for r in named) == sorted(f"audit-trail {n}" for n in cli_questions())
    athena_types = ("aws:glue/", "aws:athena/")
    children = [
        r for r in plan.resources if r["type"].startswith(athena_types) or "athena-results" in r["name"]
    ]
    assert len(children) == 1 + 1 + 1 + len(named) + 6
    assert all(r["parent"] == component["urn"] for r in children)


def test_athena_names_are_unique_to_the_stack_overridable_and_exported(preview_stack) -> None:
    """Glue database and workgroup names are unique per account and region: dev and prod there must differ."""

    def names(stack: str, *extra: str) -> tuple[str, str, dict[str, Any]]:
        plan = preview_stack(stack, "audit-trail:athena=true", "aws:region=eu-west-1", *extra)
        assert plan.error is None, plan.error
        database = one(plan, "aws:glue/catalogDatabase:CatalogDatabase")["inputs"]["name"]
        return database, one(plan, "aws:athena/workgroup:Workgroup")["inputs"]["name"], plan.outputs

    dev, prod = names("dev"), names("prod")
    assert dev[:2] == ("audit_trail_dev", "audit-trail-dev")
    assert prod[:2] == ("audit_trail_prod", "audit-trail-prod")
    assert (
        prod[2]["athenaDatabase"] == "audit_trail_prod" and prod[2]["athenaWorkgroup"] == "audit-trail-prod"
    )
    assert prod[2]["athenaTable"] == "cloudtrail_logs"
    kept = names("prod", "audit-trail:athenaDatabase=audit_trail", "audit-trail:athenaWorkgroup=audit-trail")
    assert kept[:2] == ("audit_trail", "audit-trail")
    # Without Athena the stack exports none of them.
    assert not any(k.startswith("athena") for k in preview_stack("dev").outputs)


@pytest.mark.parametrize(
    ("options", "key", "fragment"),
    [
        (["audit-trail:athenaDatabase=audit_trail"], "athenaDatabase", "only with `athena: true`"),
        (
            ["audit-trail:athena=true", "audit-trail:athenaDatabase=Audit-Trail"],
            "athenaDatabase",
            "lower-case",
        ),
        (["audit-trail:athena=true", "audit-trail:athenaWorkgroup=audit trail"], "athenaWorkgroup", "1-128"),
    ],
)
def test_bad_athena_names_are_refused(preview_stack, options: list[str], key: str, fragment: str) -> None:
    plan = preview_stack("dev", *options)
    assert [p.key for p in plan.error.problems] == [key]
    assert fragment in plan.error.problems[0].message


def test_engine_athena_reads_the_names_from_the_stack_outputs(
    aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outputs = {"bucketName": "b", "athenaDatabase": "audit_trail_prod", "athenaTable": "cloudtrail_logs",
               "athenaWorkgroup": "audit-trail-prod"}  # fmt: skip
    calls = fake_pulumi(tmp_path, monkeypatch, outputs)
    athena_client = boto3.client("athena")
    athena_client.create_work_group(
        Name="audit-trail-prod", Configuration={"ResultConfiguration": {"OutputLocation": "s3://r/"}}
    )
    _seed_results(aws, [("event_time", "timestamp")], [["2026-03-03 03:13:00.000"]])
    result = CliRunner().invoke(app, ["denied", "--engine", "athena", "--stack", "prod", "-f", "json"])
    assert result.exit_code == 0, result.output
    assert "stack output --json --stack prod" in calls.read_text()
    (qid,) = athena_client.list_query_executions(WorkGroup="audit-trail-prod")["QueryExecutionIds"]
    execution = athena_client.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
    assert execution["QueryExecutionContext"]["Database"] == "audit_trail_prod"


@pytest.mark.parametrize(
    ("outputs", "args", "message"),
    [
        ({}, [], "name the deployed stack (--stack dev"),
        ({"bucketName": "b"}, ["--stack", "dev"], "the stack has no athenaDatabase output"),
    ],
)
def test_engine_athena_without_names_says_where_to_find_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, outputs: dict[str, str], args: list[str], message: str
) -> None:
    fake_pulumi(tmp_path, monkeypatch, outputs)
    result = CliRunner().invoke(app, ["denied", "--engine", "athena", *args])
    assert result.exit_code == 2
    assert message in result.output


def test_athena_flags_without_engine_athena_are_refused() -> None:
    result = CliRunner().invoke(app, ["denied", "./logs", "--stack", "dev"])
    assert result.exit_code == 2 and "only for --engine athena" in result.output


def test_query_engine_athena_needs_no_source_and_refuses_one() -> None:
    with pytest.raises(UserError, match="--engine athena reads the Glue table"):
        ask(q.denied(), source="./logs", window=Window(), engine=Engine.athena)


def test_no_placeholder_sentinel_leaks_into_the_saved_queries() -> None:
    assert not any("\x00" in sql or "'?'" in sql for _, sql in athena_sql.named_queries().values())


def test_cli_sends_the_questions_sql_to_the_workgroup_and_database(aws: str) -> None:
    athena_client = boto3.client("athena")
    athena_client.create_work_group(
        Name="audit-trail", Configuration={"ResultConfiguration": {"OutputLocation": "s3://r/"}}
    )
    _seed_results(aws, [("event_time", "timestamp")], [["2026-03-03 03:13:00.000"]])
    since = "2026-03-01T00:00Z"
    result = CliRunner().invoke(
        app,
        [
            "denied",
            "--engine",
            "athena",
            "--database",
            glue_table.DEFAULT_DATABASE,
            "--workgroup",
            "audit-trail",
            "--since",
            since,
            "-f",
            "json",
        ],
    )
    assert result.exit_code == 0, result.output
    (qid,) = athena_client.list_query_executions(WorkGroup="audit-trail")["QueryExecutionIds"]
    execution = athena_client.get_query_execution(QueryExecutionId=qid)["QueryExecution"]
    window = Window(since=datetime(2026, 3, 1, tzinfo=UTC))
    assert execution["Query"] == athena_sql.question_sql(q.denied(), window)
    assert execution["QueryExecutionContext"]["Database"] == glue_table.DEFAULT_DATABASE
    assert json.loads(result.stdout) == [{"event_time": "2026-03-03T03:13:00Z"}]
