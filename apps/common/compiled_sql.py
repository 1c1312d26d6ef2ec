"""Running a queryset with SQL compiled once per shape (apps.common.pagination.page_from,
apps.ads.selectors.rows_compiled_once): Django's model iterable, fed SQL the caller kept,
reads its rows as usual (select_related instances, extra columns, prefetches) provided its
compiler carries what the kept compilation had worked out about the columns."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
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
    # The row converters of these columns (Django works them out again on every run: ~0.3 ms
    # for an ad's detail, 72 columns), filled by the first run.
    converters: list[Any] = field(default_factory=list, compare=False)

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
        compiler.get_converters = self._converters_of(compiler)

    def _converters_of(self, compiler: Any) -> Any:
        """compiler.get_converters, kept for the plan's own columns (what the model iterable
        asks for); any other list of expressions is worked out as usual."""
        columns = [column for column, *_ in self.select[: self.col_count]]
        work_out = compiler.get_converters

        def get_converters(expressions: list[Any]) -> Any:
            if len(expressions) != len(columns) or any(
                mine is not theirs for mine, theirs in zip(expressions, columns, strict=True)
            ):
                return work_out(expressions)
            if not self.converters:
                self.converters.append(work_out(expressions))
            return self.converters[0]

        return get_converters


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
