"""Is a source IP inside a CIDR network: one definition, as SQL both DuckDB and Trino run and as Python.

Neither engine shares an IP type with the other (DuckDB's is an extension, Trino's `IPADDRESS` has no DuckDB
counterpart), so the address text is read with functions both have: a regular expression validates it
(`regexp_extract` with `^...\\z`, RE2 in DuckDB and Java syntax in Trino agree on these patterns), then IPv4
becomes a number and IPv6 its 32 hex digits (`::` expanded, groups zero-padded), compared with the network's
first and last address. The Python side follows the same steps, so both accept exactly the same texts:
dotted IPv4 without leading zeros, IPv6 in hex groups (any case, `::` allowed; no zone, no embedded IPv4).
Anything else (`AWS Internal`, a service name, `255.090.254.5`) is in no network.
"""

from __future__ import annotations

import ipaddress
import re

_OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_V4 = rf"^{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}"
_H = "[0-9a-f]{1,4}"
_V6 = (
    rf"^((({_H}:){{7}}{_H})|(({_H}:){{1,7}}:)|(({_H}:){{1,6}}:{_H})|(({_H}:){{1,5}}(:{_H}){{1,2}})"
    rf"|(({_H}:){{1,4}}(:{_H}){{1,3}})|(({_H}:){{1,3}}(:{_H}){{1,4}})|(({_H}:){{1,2}}(:{_H}){{1,5}})"
    rf"|({_H}:(:{_H}){{1,6}})|(:((:{_H}){{1,7}}|:)))"
)
# `\z` (end of text) in SQL; Python spells it `\Z`. (`$` would also match before a final newline in Java.)
_V4_SQL, _V6_SQL = _V4 + r"\z", _V6 + r"\z"
_V4_RE, _V6_RE = re.compile(_V4 + r"\Z"), re.compile(_V6 + r"\Z")


def network(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """A CIDR network as typed (host bits may be set: `203.0.113.7/24` is 203.0.113.0/24); ValueError else."""
    return ipaddress.ip_network(text.strip(), strict=False)


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# --- SQL ---


def _whole_match_sql(text: str, pattern: str) -> str:
    # DuckDB's regexp_extract gives '' where Trino's gives NULL for no match: an empty text never matches.
    return f"(length({text}) > 0 AND regexp_extract({text}, {_sql_str(pattern)}) = {text})"


def _v4_number_sql(ip: str) -> str:
    octets = [f"try_cast(regexp_extract({ip}, {_sql_str(_V4_SQL)}, {i}) AS BIGINT)" for i in range(1, 5)]
    number = " + ".join(f"{o} * {256 ** (3 - i)}" for i, o in enumerate(octets))
    return f"CASE WHEN {_whole_match_sql(ip, _V4_SQL)} THEN {number} END"


def _v6_hex_sql(ip: str) -> str:
    lowered = f"lower({ip})"
    # `::` at either end gets a 0 beside it, so a `::` left is always between two groups: then the text has
    # one `:` per group, and the `::` stands for 8 minus that many zero groups.
    head = f"CASE WHEN {lowered} LIKE '::%' THEN '0' || {lowered} ELSE {lowered} END"
    both = f"CASE WHEN {head} LIKE '%::' THEN {head} || '0' ELSE {head} END"
    colons = f"(length({both}) - length(replace({both}, ':', '')))"
    zeros = (
        f"lpad('', CAST(greatest(0, 2 * (8 - {colons})) AS INTEGER), '0:')"  # lpad takes an INTEGER in DuckDB
    )
    full = f"CASE WHEN strpos({both}, '::') > 0 THEN replace({both}, '::', ':' || {zeros}) ELSE {both} END"
    groups = " || ".join(f"lpad(split_part({full}, ':', {i}), 4, '0')" for i in range(1, 9))
    return f"CASE WHEN {_whole_match_sql(lowered, _V6_SQL)} THEN {groups} END"


def in_network_sql(ip: str, net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> str:
    """SQL: the address in column IP lies in NET (NULL or false otherwise)."""
    if net.version == 4:
        lo, hi = int(net.network_address), int(net.broadcast_address)
        return f"({_v4_number_sql(ip)}) BETWEEN {lo} AND {hi}"
    lo_hex, hi_hex = f"{int(net.network_address):032x}", f"{int(net.broadcast_address):032x}"
    return f"({_v6_hex_sql(ip)}) BETWEEN '{lo_hex}' AND '{hi_hex}'"


# --- the same in Python ---


def _v4_number(ip: str) -> int | None:
    m = _V4_RE.match(ip)
    return None if m is None else sum(int(m[i]) << (8 * (4 - i)) for i in range(1, 5))


def _v6_hex(ip: str) -> str | None:
    text = ip.lower()
    if _V6_RE.match(text) is None:
        return None
    if text.startswith("::"):
        text = "0" + text
    if text.endswith("::"):
        text += "0"
    if "::" in text:
        text = text.replace("::", ":" + "0:" * (8 - text.count(":")), 1)
    return "".join(group.rjust(4, "0") for group in text.split(":"))


def in_network(ip: object, net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    if not isinstance(ip, str):
        return False
    if net.version == 4:
        number = _v4_number(ip)
        return number is not None and int(net.network_address) <= number <= int(net.broadcast_address)
    digits = _v6_hex(ip)
    lo, hi = f"{int(net.network_address):032x}", f"{int(net.broadcast_address):032x}"
    return digits is not None and lo <= digits <= hi
