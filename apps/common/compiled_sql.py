"""Running a queryset with SQL compiled once per shape (apps.common.pagination.page_from,
apps.ads.selectors.rows_compiled_once): Django's model iterable, fed SQL the caller kept,
reads its rows as usual (select_related instances, extra columns, prefetches) provided its
compiler carries what the kept compilation had worked out about the columns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet


@dataclass(frozen=True)
class ColumnPlan:
    """What Django's model iterable reads from a compiler after `as_sql()`."""

    select: Any
    klass_info: Any
    annotation_col_map: Any
    col_count: int
    has_extra_select: bool

    @classmethod
    def of(cls, compiler: Any) -> ColumnPlan:
        return cls(
            compiler.select,
            compiler.klass_info,
            compiler.annotation_col_map,
            compiler.col_count,
            compiler.has_extra_select,
        )

    def install(self, compiler: Any) -> None:
        compiler.select, compiler.klass_info = self.select, self.klass_info
        compiler.annotation_col_map = self.annotation_col_map
        compiler.col_count, compiler.has_extra_select = self.col_count, self.has_extra_select


def rows_with_sql(
    queryset: QuerySet[Any], sql: str, params: Sequence[Any], plan: ColumnPlan
) -> list[Any]:
    """`list(queryset)` run with `sql` and `params` instead of what Django would compile;
    `plan`: the column plan of the compilation `sql` came from."""
    compiler = queryset.query.get_compiler(using=queryset.db)
    plan.install(compiler)
    values = tuple(params)
    compiler.as_sql = lambda *args, **kwargs: (sql, values)  # type: ignore[method-assign]
    queryset.query.get_compiler = lambda *args, **kwargs: compiler  # type: ignore[method-assign]
    return list(queryset)
