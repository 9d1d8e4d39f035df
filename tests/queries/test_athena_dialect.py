"""Every SQL string the toolkit sends to Athena, and every named query the component saves, parses as
Athena (Trino) SQL and uses only Trino functions and syntax.

The parity tests in tests/investigate/test_athena.py run the Athena SQL on DuckDB, which accepts a superset
of Trino: they cannot catch a Trino syntax error or a DuckDB-only function. This test parses each statement
with sqlglot's `athena` and `trino` dialects and walks it: a function Trino does not have (DuckDB's
`list_extract`, `strftime`, `regexp_matches`, ...) or DuckDB-only syntax (`::` casts, `SELECT * EXCLUDE`,
`QUALIFY`, `ILIKE`, `->>`) fails it. It proves the text is Trino SQL; it does not prove Athena's answers (see
the README, "At scale: Athena").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlglot
from audit_trail.queries import athena as athena_sql
from audit_trail.queries import filters as f
from audit_trail.queries import questions as q
from audit_trail.window import Window
from sqlglot import exp
from sqlglot.tokens import TokenType

# Trino built-ins the SQL may call (Trino documentation, "Functions and operators"); one outside this list
# must be checked against Trino's documentation before it is added.
TRINO_FUNCTIONS = frozenset(
    {
        "ARRAY_AGG", "ARRAY_DISTINCT", "ARRAY_JOIN", "ARRAY_SORT", "CARDINALITY", "CAST", "CHR", "COALESCE",
        "COUNT", "COUNT_IF", "CURRENT_DATE", "DATE_FORMAT", "ELEMENT_AT", "FROM_ISO8601_TIMESTAMP", "IF",
        "JSON_EXTRACT_SCALAR", "JSON_FORMAT", "LOWER", "MAP", "MAX", "MIN", "NULLIF", "REGEXP_EXTRACT",
        "ROW_NUMBER", "SPLIT", "SPLIT_PART", "STRPOS", "SUM", "TRANSFORM",
    }
)  # fmt: skip
# DuckDB functions a port from the local engine could bring along; Trino has none of them.
DUCKDB_ONLY = frozenset(
    {
        "LIST_EXTRACT", "LIST_TRANSFORM", "LIST_VALUE", "LIST_AGGREGATE", "ARRAY_TO_STRING", "STRFTIME",
        "STRPTIME", "REGEXP_MATCHES", "TO_JSON", "JSON_EXTRACT_STRING", "STRING_SPLIT", "STRUCT_PACK",
        "EPOCH_MS", "LEN", "STRING_AGG", "LIST",
    }
)  # fmt: skip
WINDOW = Window(
    since=datetime(2026, 3, 2, 10, tzinfo=UTC),
    until=datetime(2026, 3, 4, tzinfo=UTC),
    regions=frozenset({"eu-west-1", "us-east-1"}),
    accounts=frozenset({"123456789012"}),
)
QUESTIONS = (
    q.events(),
    q.events(limit=50),
    q.who_changed("sg-0123456789abcdef0"),
    q.activity("arn:aws:iam::123456789012:user/mallory"),
    q.root_usage(),
    q.failed_logins(),
    q.denied(),
    q.deletions(),
    q.unusual_regions(),
    q.unusual_regions(expected=("eu-west-1",)),
)
ROW_FILTERS = (
    f.Actor("mallory"),
    f.Action("iam:Create*"),
    f.Action("DeleteBucket"),
    f.Resource("prod/backups"),
    f.SourceIp("203.0.113.7"),
    f.Regions(("eu-west-1",)),
    f.Errors(),
    f.WriteOnly(),
)


def sent_to_athena() -> Iterator[tuple[str, str]]:
    """(what, SQL) for every statement `--engine athena` sends and every named query the component saves."""
    for question in QUESTIONS:
        for window in (Window(), WINDOW):
            yield f"{question.name} {window != Window()}", athena_sql.question_sql(question, window)
        yield (
            f"{question.name} +filters",
            athena_sql.question_sql(question.with_filters(*ROW_FILTERS), WINDOW),
        )
    for raw in ("SELECT * FROM events", "WITH x AS (SELECT * FROM events) SELECT count(*) AS n FROM x"):
        yield f"raw {raw[:20]}", athena_sql.raw_sql(raw, WINDOW, ROW_FILTERS)
        yield f"raw {raw[:20]} unfiltered", athena_sql.raw_sql(raw, Window())
    for name, (_, sql) in athena_sql.named_queries().items():
        yield f"named {name}", sql


def trino_problems(sql: str) -> list[str]:
    """Why SQL is not Athena/Trino SQL (empty when it is)."""
    problems = []
    parsed = {dialect: sqlglot.parse(sql, read=dialect) for dialect in ("athena", "trino")}
    for dialect, statements in parsed.items():
        if len(statements) != 1:
            problems.append(f"{dialect}: {len(statements)} statements")
    tokens = sqlglot.tokenize(sql, read="trino")
    if any(t.token_type is TokenType.DCOLON for t in tokens):
        problems.append("`::` cast (DuckDB/PostgreSQL; Trino has CAST(x AS t))")
    if any(t.token_type in (TokenType.ARROW, TokenType.DARROW) and t.text in ("->>", "->") for t in tokens):
        lambdas = len(re.findall(r"\b\w+\s*->\s", sql))
        arrows = sum(t.text in ("->>", "->") for t in tokens)
        if arrows != lambdas:
            problems.append("`->`/`->>` JSON operator (DuckDB; Trino has json_extract_scalar)")
    # the one statement as Athena parses it (parsing is most of this check's time: once per dialect)
    tree = parsed["athena"][0] if len(parsed["athena"]) == 1 else sqlglot.parse_one(sql, read="athena")
    assert tree is not None, sql
    for node in tree.walk():
        if isinstance(node, exp.Star) and any(
            node.args.get(k) for k in ("except_", "replace", "rename", "ilike")
        ):
            problems.append("SELECT * EXCLUDE/REPLACE (DuckDB)")
        if isinstance(node, exp.Qualify):
            problems.append("QUALIFY (DuckDB)")
        if isinstance(node, exp.ILike):
            problems.append("ILIKE (DuckDB; Trino has lower(x) LIKE)")
        if not isinstance(node, exp.Func):
            continue
        called = re.match(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(", node.sql(dialect="trino"))
        if called is None:
            continue  # an operator or CASE, not a call
        name = called.group(1).upper()
        if name in DUCKDB_ONLY:
            problems.append(f"{name}() is a DuckDB function")
        elif name not in TRINO_FUNCTIONS:
            problems.append(f"{name}() is not in the checked Trino functions")
    return problems


@pytest.mark.parametrize(("what", "sql"), list(sent_to_athena()), ids=[w for w, _ in sent_to_athena()])
def test_every_statement_sent_to_athena_is_trino_sql(what: str, sql: str) -> None:
    assert trino_problems(sql) == [], what


@pytest.mark.parametrize(
    ("sql", "problem"),
    [
        ("SELECT list_extract(split(a, '/'), -1) FROM t", "LIST_EXTRACT() is a DuckDB function"),
        ("SELECT strftime(event_time, '%Y') FROM t", "STRFTIME() is a DuckDB function"),
        ("SELECT CAST(to_json(resources) AS VARCHAR) FROM t", "TO_JSON() is a DuckDB function"),
        ("SELECT a::INTEGER FROM t", "`::` cast"),
        ("SELECT * EXCLUDE (raw) FROM t", "SELECT * EXCLUDE/REPLACE"),
        ("SELECT a FROM t WHERE a ILIKE 'x%'", "ILIKE"),
        ("SELECT raw->>'$.eventName' FROM t", "`->`/`->>` JSON operator"),
        ("SELECT levenshtein_distance(a, b) FROM t", "LEVENSHTEIN_DISTANCE() is not in the checked Trino"),
    ],
)
def test_the_check_rejects_duckdb_only_sql(sql: str, problem: str) -> None:
    assert any(p.startswith(problem) for p in trino_problems(sql)), trino_problems(sql)


def test_the_lambda_arrow_of_transform_is_trino_not_a_json_operator() -> None:
    assert trino_problems("SELECT transform(xs, x -> lower(x)) FROM t") == []
