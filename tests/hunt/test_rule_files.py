"""Hostile and malformed rule files: each is listed as "cannot run" with its reason, never fatal, and loading
one costs bounded time; every other rule beside it still runs."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from audit_trail.errors import UserError
from audit_trail.hunt.rules import (
    MAX_CONDITION_CHARS,
    MAX_RULE_FILE_BYTES,
    id_clashes,
    listing_rows,
    load_rules,
)

GOOD_ID = "0b7c1f8e-1111-4222-8333-944455550000"
BASE = "title: t\nid: 0b7c1f8e-1111-4222-8333-944455550001\nlogsource: {product: aws, service: cloudtrail}\n"
DETECTION = "detection:\n  sel:\n    eventName: X\n  condition: sel\n"


def laughs(levels: int) -> str:
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, levels)]
    return (
        "\n".join(lines)
        + "\n"
        + BASE
        + f"detection:\n  sel:\n    eventName: *l{levels - 1}\n  condition: sel\n"
    )


# name -> (file content, what the reason says)
ZOO: dict[str, tuple[str | bytes, str]] = {
    "level_urgent": (BASE + "level: urgent\n" + DETECTION, "'urgent' is not a valid Sigma rule level"),
    "level_list": (BASE + "level: [high]\n" + DETECTION, "level must be a string"),
    "top_list": ("- a\n- b\n", "the file is a YAML list, not a Sigma rule"),
    "top_int": ("5\n", "the file is a YAML int"),
    "empty": ("", "holds no Sigma rule"),
    "title_list": (BASE.replace("title: t", "title: [1, 2]") + DETECTION, "title must be a string"),
    "id_mapping": (
        BASE.replace("id: 0b7c1f8e-1111-4222-8333-944455550001", "id: {a: 1}") + DETECTION,
        "AttributeError",
    ),
    "tags_int": (BASE + "tags: 5\n" + DETECTION, "tags fields must be a list"),
    "logsource_list": ("title: t\nlogsource: [aws]\n" + DETECTION, "logsource must be a valid YAML map"),
    "detection_text": (BASE + "detection: hello\n", "detection must be a valid YAML map"),
    "condition_int": (BASE + "detection:\n  sel: {eventName: X}\n  condition: 5\n", "cannot be compiled"),
    "condition_mapping": (
        BASE + "detection:\n  sel: {eventName: X}\n  condition: {a: 1}\n",
        "cannot be compiled",
    ),
    "field_int": (BASE + "detection:\n  sel: {5: X}\n  condition: sel\n", "AttributeError"),
    "value_mapping": (
        BASE + "detection:\n  sel: {eventName: {a: 1}}\n  condition: sel\n",
        "Unsupported type",
    ),
    "date_invalid": (BASE + "date: 2026-13-45\n" + DETECTION, "month must be in 1..12"),
    "huge_integer": (
        BASE + "detection:\n  sel: {eventName: " + "9" * 5000 + "}\n  condition: sel\n",
        "digits",
    ),
    "python_tag": (
        BASE + "x: !!python/object/apply:os.system [id]\n" + DETECTION,
        "could not determine a constructor",
    ),
    "not_utf8": ((BASE + "author: caf\xe9\n" + DETECTION).encode("latin-1"), "not UTF-8 text"),
    "not_yaml": ("title: [unclosed\n", "not a readable Sigma file"),
    "flow_nesting": (BASE + DETECTION + "x: " + "[" * 100_000 + "]" * 100_000 + "\n", "flow level"),
    "block_nesting": (
        BASE + DETECTION + "x:\n" + "".join(" " * i + "- \n" for i in range(1, 1200)),
        "block level",
    ),
    "billion_laughs": (laughs(9), "billion laughs"),
    "long_condition": (
        BASE + "detection:\n  sel: {eventName: X}\n  condition: " + " or ".join(["sel"] * 20_000) + "\n",
        f"at most {MAX_CONDITION_CHARS}",
    ),
    "too_large": (
        BASE + DETECTION + "#" + "x" * MAX_RULE_FILE_BYTES + "\n",
        "too large for a Sigma rule file",
    ),
    "backreference": (BASE + "detection:\n  sel: {userAgent|re: '(a)\\1'}\n  condition: sel\n", "RE2"),
    "correlation": ("title: c\ncorrelation: 5\n", "correlation rule"),
    "other_product": (BASE.replace("product: aws", "product: windows") + DETECTION, "not AWS CloudTrail"),
}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "good.yml").write_text(BASE.replace("944455550001", "944455550000") + DETECTION)
    for name, (content, _) in ZOO.items():
        path = tmp_path / f"{name}.yml"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return tmp_path


def test_every_malformed_rule_is_listed_with_its_reason_and_the_good_one_runs(folder: Path) -> None:
    start = time.perf_counter()
    loaded = load_rules([folder], include_shipped=False)
    assert time.perf_counter() - start < 5  # a 20,000-term condition alone took 5 s to parse before
    by_file = {r.path.stem: r for r in loaded}
    assert by_file["good"].runnable and by_file["good"].id == GOOD_ID
    for name, (_, reason) in ZOO.items():
        rule = by_file[name]
        assert not rule.runnable, name
        assert reason in rule.reason, (name, rule.reason)
    # the listing (--list-rules) shows them all, the runnable rule first
    rows = listing_rows(loaded)
    assert rows[0]["id"] == GOOD_ID and rows[0]["runnable"] == "yes"
    assert len(rows) == len(ZOO) + 1 and all(r["note"] for r in rows[1:])


def test_a_bad_second_document_spoils_only_itself(tmp_path: Path) -> None:
    path = tmp_path / "two.yml"
    path.write_text(
        BASE + DETECTION + "---\n- a\n---\n" + BASE.replace("0001", "0002") + "level: high\n" + DETECTION
    )
    loaded = load_rules([path], include_shipped=False)
    assert [(r.runnable, r.reason.split(",")[0]) for r in loaded] == [
        (False, "document 2 is a YAML list"),
        (True, ""),
        (True, ""),
    ]


def test_which_user_rules_count_as_broken(folder: Path) -> None:
    by_file = {r.path.stem: r for r in load_rules([folder], include_shipped=False)}
    assert by_file["level_urgent"].broken and by_file["backreference"].broken and by_file["empty"].broken
    assert by_file["correlation"].broken  # a detection the user wrote that hunt cannot run
    assert not by_file["other_product"].broken  # a Windows rule in the folder is not for CloudTrail at all
    assert not by_file["good"].broken


def test_no_shipped_rule_is_broken_or_shares_an_id() -> None:
    shipped = load_rules()
    assert all(r.runnable for r in shipped) and not id_clashes(shipped)


def test_rules_path_that_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="is not a regular file"):
        load_rules([Path("/dev/zero")], include_shipped=False)
    with pytest.raises(UserError, match="does not exist"):
        load_rules([tmp_path / "nope.yml"], include_shipped=False)


def test_a_broken_filter_cannot_quietly_disable_a_shipped_rule(tmp_path: Path) -> None:
    bucket_deleted = "39c9f26d-6e3b-4dbb-9c7a-4154b0281112"
    (tmp_path / "filter.yml").write_text(
        "title: f\nlogsource: {product: aws, service: cloudtrail}\n"
        f"filter:\n  rules: [{bucket_deleted}]\n  selection: {{eventName: X}}\n"
        "  condition: not selection and (\n"
    )
    loaded = load_rules([tmp_path])
    (shipped,) = [r for r in loaded if r.id == bucket_deleted]
    assert shipped.runnable  # it runs unfiltered: it may fire more, never less
    (broken,) = [r for r in loaded if r.placeholder]
    assert broken.broken and broken.path.name == "filter.yml"
    assert "a filter here breaks 'AWS Bucket Deleted' (shipped), which runs without it" in broken.reason
