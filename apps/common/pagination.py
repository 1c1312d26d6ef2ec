"""The contract's pages: {count, next, previous, results}; page_size default 20, capped at 100."""

from __future__ import annotations

from typing import Any

from rest_framework import pagination


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
