"""The contract's pages: {count, next, previous, results}; page_size default 20, capped at 100."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from django.db import connections
from django.db.models import BooleanField, QuerySet
from django.db.models.expressions import RawSQL
from django.db.models.sql.datastructures import BaseTable
from django.db.models.sql.where import WhereNode
from rest_framework import pagination
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from apps.common.compiled_sql import ColumnPlan, rows_with_sql


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_page_size(self, request: Any) -> int:
        raw = request.query_params.get(self.page_size_query_param)
        try:
            size = int(raw) if raw is not None else self.page_size
        except ValueError:
            return self.page_size
        if size <= 0:
            return self.page_size
        return min(size, self.max_page_size)


# --- listings that stay fast at any depth --------------------------------------------------


class Keyset:
    """A seek ("keyset") continuation for one ORDER BY: the last row's sort values, opaque to
    clients as `cursor`, select the rows after it with an index range instead of an OFFSET.

    `columns`: the ORDER BY as (model attribute, SQL column, descending); the last one must be
    unique (the primary key). `split_first`: for an ORDER BY whose first key has few values
    (promotion tiers), the continuation is read within the cursor's first key, then from the
    lower values, so each part is one range of the index (a row comparison over all three
    columns is estimated from its first column alone and misplanned, bench/results/explain)."""

    def __init__(
        self,
        columns: list[tuple[str, str, bool]],
        *,
        split_first: bool = False,
        parse: list[Any] | None = None,
    ) -> None:
        self.columns = columns
        self.split_first = split_first
        self.parse = parse or [str] * len(columns)

    def encode(self, row: Any) -> str | None:
        values = [getattr(row, attr) for attr, _, _ in self.columns]
        if any(value is None for value in values):
            return None  # a NULL sort key has no range: the next page goes by number
        plain = [
            value.isoformat() if hasattr(value, "isoformat") else str(value) for value in values
        ]
        raw = json.dumps(plain, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    def decode(self, token: str) -> list[Any]:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            plain = json.loads(raw)
            if not isinstance(plain, list) or len(plain) != len(self.columns):
                raise ValueError(token)
            return [parse(value) for parse, value in zip(self.parse, plain, strict=True)]
        except (ValueError, TypeError, ArithmeticError) as exc:
            raise NotFound("Invalid cursor.") from exc

    def _after(
        self, queryset: QuerySet[Any], columns: list[tuple[str, str, bool]], values: list[Any]
    ) -> QuerySet[Any]:
        descending = columns[0][2]
        if any(column[2] != descending for column in columns):
            raise ValueError("mixed directions")
        sql_columns = ", ".join(
            f'"{queryset.model._meta.db_table}"."{column}"' for _, column, _ in columns
        )
        marks = ", ".join(["%s"] * len(columns))
        # Column names from the code, values as parameters.
        sql = f"({sql_columns}) {'<' if descending else '>'} ({marks})"
        condition = RawSQL(sql, values, output_field=BooleanField())  # noqa: S611
        return queryset.filter(condition)

    def page(self, queryset: QuerySet[Any], token: str, size: int) -> list[Any]:
        values = self.decode(token)
        if not self.split_first:
            return list(self._after(queryset, self.columns, values)[:size])
        first_attr, _, first_desc = self.columns[0]
        rows = list(
            self._after(queryset.filter(**{first_attr: values[0]}), self.columns[1:], values[1:])[
                :size
            ]
        )
        if len(rows) < size:
            lookup = "lt" if first_desc else "gt"
            rest = queryset.filter(**{f"{first_attr}__{lookup}": values[0]})
            rows += list(rest[: size - len(rows)])
        return rows


def among_matches(queryset: QuerySet[Any], bound: int) -> QuerySet[Any]:
    """The same rows, order, joins and prefetches, read as `pk IN (SELECT pk ... WHERE <the
    filters> LIMIT bound)`: for a filter known to match at most `bound` rows. The subquery's
    LIMIT keeps the planner from pulling it up, so it collects the matches (by whatever index
    suits the filters) and sorts them, instead of walking an index in the listing's order on
    the hope of meeting matches early: a price range that fits none of a category's ads made
    that walk read all 790k live ads (5-9 s at 1M ads) against 0.1 ms for the matches.
    The queryset as given when it is not a plain filtered model query."""
    query = queryset.query
    if query.combinator or query.distinct or query.annotation_select or not query.where:
        return queryset
    keys = queryset.order_by().values("pk")[:bound]
    fenced = queryset.model._base_manager.using(queryset.db).filter(pk__in=keys)
    fenced.query.select_related = query.select_related
    fenced.query.deferred_loading = query.deferred_loading
    fenced.query.extra, fenced.query.extra_select_mask = query.extra, query.extra_select_mask
    fenced = fenced.order_by(*query.order_by)
    prefetches = getattr(queryset, "_prefetch_related_lookups", ())
    if prefetches:
        fenced = fenced.prefetch_related(*prefetches)
    return fenced


class DerivedTable(BaseTable):
    """`FROM (<sql>) "<alias>"`: a query's base table read from a subquery that returns the
    model's columns, so the query's own select (joins, extra columns), WHERE, ORDER BY and
    LIMIT apply to the subquery's rows (`read_from`)."""

    def __init__(self, table_name: str, alias: str | None, sql: str, params: Sequence[Any]) -> None:
        super().__init__(table_name, alias)
        self.sql, self.params = sql, tuple(params)

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        return f"({self.sql}) {connection.ops.quote_name(self.table_alias)}", list(self.params)

    def relabeled_clone(self, change_map: dict[str | None, str]) -> DerivedTable:
        alias = change_map.get(self.table_alias, self.table_alias)
        return self.__class__(self.table_name, alias, self.sql, self.params)

    @property
    def identity(self) -> tuple[Any, ...]:
        return self.__class__, self.table_name, self.table_alias, self.sql, self.params


def read_from(queryset: QuerySet[Any], sql: str, params: Sequence[Any]) -> QuerySet[Any]:
    """The queryset with its model's table replaced by the rows of `sql` (its columns)."""
    out = queryset.all()
    query = out.query
    alias = query.get_initial_alias()
    query.alias_map[alias] = DerivedTable(query.get_meta().db_table, alias, sql, params)
    return out


@dataclass(frozen=True)
class _PageSQL:
    """A page query compiled once per shape (`page_from`): its SQL around the subquery, the
    WHERE and the LIMIT, and what Django's model iterable reads from its compiler."""

    before: str  # SELECT ... FROM (
    after: str  # ) "alias" JOINs
    order: str  # ORDER BY ...
    plan: ColumnPlan

    def sql(self, derived: str, where: str, connection: Any, offset: int, size: int) -> str:
        parts = [f"{self.before}{derived}{self.after}"]
        if where:
            parts.append(f"WHERE {where}")
        parts.append(f"ORDER BY {self.order}")
        limits = connection.ops.limit_offset_sql(offset, offset + size)
        if limits:
            parts.append(limits)
        return " ".join(parts)


_PAGE_SQL: dict[tuple[Any, ...], _PageSQL] = {}
_PAGE_SQL_MAX = 256
_DERIVED_MARK = "/*derived rows*/"


def _page_shape_key(queryset: QuerySet[Any]) -> tuple[Any, ...] | None:
    """What the page query's SQL depends on besides its WHERE, subquery and limits; None for
    a query this cache does not take (aggregates, annotations, DISTINCT, unions, joins)."""
    query = queryset.query
    if (
        query.combinator
        or query.distinct
        or query.annotation_select
        or query.select
        or query.values_select
        or query.group_by is not None
        or not query.order_by
        or sum(1 for count in query.alias_refcount.values() if count) != 1
    ):
        return None
    return (
        queryset.db,
        query.model,
        tuple(str(key) for key in query.order_by),
        query.standard_ordering,
        repr(query.select_related),
        repr(query.extra),
        repr(query.extra_select_mask),
        repr(query.deferred_loading),
        query.default_cols,
    )


def _page_shape(queryset: QuerySet[Any]) -> _PageSQL | None:
    """The queryset's page query compiled around a subquery mark, without WHERE or limits."""
    shape = read_from(queryset, _DERIVED_MARK, ())
    query = shape.query
    query.where = WhereNode()
    query.clear_limits()
    compiler = query.get_compiler(using=shape.db)
    sql, params = compiler.as_sql()
    head, found, order = sql.rpartition(" ORDER BY ")
    before, mark, after = head.partition(f"({_DERIVED_MARK})")
    if params or not found or not mark or _DERIVED_MARK in after:
        return None
    return _PageSQL(
        before=f"{before}(",
        after=f"){after}",
        order=order,
        plan=ColumnPlan.of(compiler),
    )


def page_from(
    queryset: QuerySet[Any], sql: str, params: Sequence[Any], offset: int, size: int
) -> list[Any]:
    """`list(read_from(queryset, sql, params)[offset:offset + size])`, with the SQL Django
    compiles for it built from a copy compiled once per shape of queryset (its select,
    select_related joins and ORDER BY: ~1 ms of CPU a page, for a listing's 40 columns): only
    the WHERE is compiled per call. A shape is kept only when the first page built that way
    is the very SQL and parameters Django compiles for it. Rows come from Django's own model
    iterable (select_related owners, extra columns, prefetches)."""
    key = _page_shape_key(queryset)
    known = _PAGE_SQL.get(key) if key is not None else None
    connection = connections[queryset.db]
    where_sql, where_params = "", []
    query = queryset.query
    if key is not None and query.where:
        where_sql, where_params = query.get_compiler(using=queryset.db).compile(query.where)
    if known is None:
        page = read_from(queryset, sql, params)[offset : offset + size]
        shape = _page_shape(queryset) if key is not None else None
        if shape is not None:
            expected = page.query.get_compiler(using=page.db).as_sql()
            built = shape.sql(sql, where_sql, connection, offset, size)
            if (built, [*params, *where_params]) == (expected[0], list(expected[1])):
                if len(_PAGE_SQL) >= _PAGE_SQL_MAX:
                    _PAGE_SQL.clear()
                _PAGE_SQL[cast(tuple[Any, ...], key)] = shape
        return list(page)
    text = known.sql(sql, where_sql, connection, offset, size)
    return rows_with_sql(queryset.all(), text, (*params, *where_params), known.plan)


class ListingPagination(PageNumberPagination):
    """The contract's page-number pages ({count, next, previous, results}, `?page=`,
    `?page_size=`) for listings over a large table:

    - `count` is given by the caller (stored totals, or a count capped at COUNT_CAP); a capped
      count adds `"count_exact": false` (an addition, absent when exact); page numbers stop at
      the capped count, `next` links (cursors) go on while pages are full.
    - `next` links carry a `cursor` (an addition: the last row's sort keys) along with the page
      number, so a client following `next` reads every page as an index range: page 500 costs
      what page 1 costs. `?page=N` alone still works (an OFFSET) and `previous` links use it.
    """

    COUNT_CAP = 1_000
    # Rows the matches' subquery may return when the count said at most COUNT_CAP: room for
    # ads published since the count (or a stored total a little behind).
    FEW_BOUND = 2_000

    def paginate(
        self,
        queryset: QuerySet[Any],
        request: Any,
        *,
        count: int,
        exact: bool,
        keyset: Keyset | None,
        first_rows: Callable[[QuerySet[Any], int, int, int | None], list[Any] | None] | None = None,
    ) -> list[Any]:
        """The page's rows. `first_rows(queryset, offset, size, expected)` may answer a
        numbered page a cheaper way (None: it could not)."""
        self.request = request
        self.size = self.get_page_size(request)
        self.count, self.exact = count, exact
        raw = request.query_params.get(self.page_query_param, "1")
        try:
            self.number = int(raw)
        except ValueError:
            raise NotFound("Invalid page.") from None
        self.num_pages = max(1, -(-count // self.size))
        token = request.query_params.get("cursor") if keyset is not None else None
        # Past a capped count only `next` links (cursors) go on; page numbers stop at the cap.
        if self.number < 1 or (self.number > self.num_pages and not (token and not exact)):
            raise NotFound("Invalid page.")
        rows: list[Any] | None = None
        if exact and count <= self.COUNT_CAP:
            queryset = among_matches(queryset, max(self.FEW_BOUND, 2 * self.COUNT_CAP))
        if token and keyset is not None:
            rows = keyset.page(queryset, token, self.size)
        else:
            start = (self.number - 1) * self.size
            if first_rows is not None:
                expected = max(0, min(self.size, count - start)) if exact else None
                rows = first_rows(queryset, start, self.size, expected)
            if rows is None:
                rows = list(queryset[start : start + self.size])
        self.next_cursor = keyset.encode(rows[-1]) if keyset is not None and rows else None
        self.more = (
            self.number < self.num_pages
            if exact
            else len(rows) == self.size
            and (self.next_cursor is not None or self.number < self.num_pages)
        )
        return rows

    def _absolute_uri(self) -> str:
        return str(cast(Any, self.request).build_absolute_uri())

    def get_next_link(self) -> str | None:
        if not self.more:
            return None
        url = self._absolute_uri()
        url = replace_query_param(url, self.page_query_param, self.number + 1)
        if self.next_cursor:
            return replace_query_param(url, "cursor", self.next_cursor)
        return remove_query_param(url, "cursor")

    def get_previous_link(self) -> str | None:
        if self.number <= 1:
            return None
        url = remove_query_param(self._absolute_uri(), "cursor")
        if self.number == 2:
            return remove_query_param(url, self.page_query_param)
        return replace_query_param(url, self.page_query_param, self.number - 1)

    def get_paginated_response_schema(self, schema: Any) -> dict[str, Any]:
        out = super().get_paginated_response_schema(schema)
        out["properties"]["count_exact"] = {
            "type": "boolean",
            "example": False,
            "description": (
                "Addition to API.md, present only when false: `count` is capped (at 1,000, "
                "for listings filtered beyond the category): more ads match. Page numbers go "
                "up to the cap; `next` links go on past it."
            ),
        }
        return out

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            *super().get_schema_operation_parameters(view),
            {
                "name": "cursor",
                "required": False,
                "in": "query",
                "schema": {"type": "string"},
                "description": (
                    "Addition to API.md: an opaque continuation that `next` links carry, so "
                    "following `next` reads each page as an index range (page 500 as fast as page "
                    "1). Use the links as given; a malformed cursor answers 404."
                ),
            },
        ]

    def get_paginated_response(self, data: Any) -> Response:
        body = {
            "count": self.count,
            "next": self.get_next_link(),
            "previous": self.get_previous_link(),
            "results": data,
        }
        if not self.exact:
            body = {"count": self.count, "count_exact": False, **body}
        return Response(body)
