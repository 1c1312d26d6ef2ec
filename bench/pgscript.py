"""Captured SQL -> pgbench scripts (the database floor of `make bench`).

A view's SQL is captured with CaptureQueriesContext on one request (bench/harness_django.py):
psycopg 3 binds on the client, so every captured statement carries its literal parameters and
pgbench can replay it as is. A read runs in autocommit like the view; a write (the view ran in
a transaction) becomes BEGIN ... COMMIT. Rows a write creates with a fixed key (uuids first
seen in an INSERT: the new ad's id, an outbox key; and the given literals, like the new ad's
slug) would collide when replayed, so those become pgbench variables filled by
one `\\gset` query per transaction (a round trip the view does not make: the floor is, if
anything, pessimistic).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

TRANSACTION_CONTROL = re.compile(
    r"^\s*(SAVEPOINT|RELEASE\s+SAVEPOINT|ROLLBACK\s+TO\s+SAVEPOINT|BEGIN|COMMIT|ROLLBACK)\b",
    re.IGNORECASE,
)
# A data-modifying WITH counts too (posting writes the ad, its audit and outbox rows in one).
WRITE = re.compile(
    r"^\s*(INSERT|UPDATE|DELETE)\b"
    r'|^\s*WITH\b.*\b(INSERT\s+INTO|UPDATE\s+"?\w+"?\s+SET|DELETE\s+FROM)\b',
    re.IGNORECASE | re.DOTALL,
)
VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
INSERT = re.compile(r"^\s*INSERT\b|^\s*WITH\b.*\bINSERT\s+INTO\b", re.IGNORECASE | re.DOTALL)
UUID_LITERAL = re.compile(
    r"'([0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12})'"
)


def _uuid_key(literal: str) -> str:
    return literal.replace("-", "").lower()


# In a data-modifying WITH, the rows' own values: from VALUES to the next clause or statement.
_VALUES_PART = re.compile(
    r"\bVALUES\b(.*?)(?=\bINSERT\b|\bON\s+CONFLICT\b|\bRETURNING\b|\bSELECT\b|$)",
    re.IGNORECASE | re.DOTALL,
)


def new_uuids(statements: Sequence[str]) -> list[str]:
    """Uuids the request created: first seen in an INSERT (a key read before, like the user's
    or the conversation's id, shows up in an earlier SELECT). In a data-modifying WITH only
    those of its VALUES lists count: a key such a statement reads or selects into the new rows
    (the message's ad, say) is not new just because no earlier statement named it."""
    seen: set[str] = set()
    fresh: list[str] = []
    for statement in statements:
        found = [_uuid_key(value) for value in UUID_LITERAL.findall(statement)]
        if INSERT.match(statement):
            candidates = found
            if not re.match(r"^\s*INSERT\b", statement, re.IGNORECASE):
                candidates = [
                    _uuid_key(value)
                    for part in _VALUES_PART.findall(statement)
                    for value in UUID_LITERAL.findall(part)
                ]
            for key in candidates:
                if key not in seen and key not in fresh:
                    fresh.append(key)
        seen.update(found)
    return fresh


@dataclass
class Capture:
    """One request's SQL and the literals to vary per replayed transaction."""

    statements: list[str]
    fresh: Mapping[str, str] = field(default_factory=dict)  # literal -> variable name


def is_write(statements: Iterable[str]) -> bool:
    return any(WRITE.match(statement) for statement in statements)


def fresh_values_query(variables: Sequence[str]) -> str:
    """The \\gset query that gives each variable a new value: `*_id` a uuid, others a slug."""
    columns = []
    for name in variables:
        if not VARIABLE.match(name):
            raise ValueError(f"not a pgbench variable name: {name!r}")
        if name.endswith("_id"):
            columns.append(f"gen_random_uuid() AS {name}")
        else:
            columns.append(f"'bench-' || md5(random()::text || clock_timestamp()::text) AS {name}")
    return "SELECT " + ", ".join(columns) + " \\gset"


def to_pgbench(capture: Capture) -> str:
    """The pgbench script replaying the captured statements."""
    statements = [s.strip().rstrip(";") for s in capture.statements]
    statements = [s for s in statements if s and not TRANSACTION_CONTROL.match(s)]
    if not statements:
        raise ValueError("no SQL captured: nothing for pgbench to run")
    created = {key: f"new{index}_id" for index, key in enumerate(new_uuids(statements), 1)}
    literals = {
        literal: name
        for literal, name in capture.fresh.items()
        if not UUID_LITERAL.fullmatch(f"'{literal}'")
    }
    variables = list(created.values()) + list(literals.values())
    lines: list[str] = []
    if variables:
        lines.append(fresh_values_query(variables))
    write = is_write(statements)
    if write:
        lines.append("BEGIN;")

    def swap_uuid(match: re.Match[str]) -> str:
        name = created.get(_uuid_key(match.group(1)))
        return f"':{name}'" if name else match.group(0)

    for statement in statements:
        statement = UUID_LITERAL.sub(swap_uuid, statement)
        for literal, name in literals.items():
            statement = statement.replace(f"'{literal}'", f"':{name}'")
        lines.append(" ".join(statement.split()) + ";")
    if write:
        lines.append("COMMIT;")
    return "\n".join(lines) + "\n"


def write_scripts(folder: Path, captures: Sequence[Capture]) -> list[Path]:
    """One script per captured request (pgbench picks one at random per transaction)."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.sql"):
        old.unlink()
    paths = []
    for index, capture in enumerate(captures):
        path = folder / f"{index:02d}.sql"
        path.write_text(to_pgbench(capture))
        paths.append(path)
    return paths


def parse_pgbench_log(lines: Iterable[str]) -> list[float]:
    """Latencies in ms from pgbench --log lines (`client tx latency_us script epoch us`)."""
    latencies = []
    for line in lines:
        parts = line.split()
        if len(parts) >= 3 and parts[2].isdigit():
            latencies.append(int(parts[2]) / 1000)
    return latencies


def percentile(values: Sequence[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]
