"""The framework floor of `make bench`: a constant JSON body through the whole stack (nginx,
gunicorn, every middleware), no database, no cache. Wired only when settings.BENCH_FLOOR_VIEW
is true (marketplace.settings.bench); production leaves it off, so /bench/floor/ is a 404."""

from __future__ import annotations

import json

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse

# About the size of a 20-ad listing page, so gzip and the socket cost what a real page costs.
FLOOR_BODY = json.dumps(
    {
        "count": 20,
        "next": None,
        "previous": None,
        "results": [
            {
                "id": f"00000000-0000-4000-8000-{index:012d}",
                "slug": f"toyota-axio-2016-ex-japan-{index:06d}",
                "title": "Toyota Axio 2016 ex-Japan, 84,000 km automatic",
                "price": "1450000.00",
                "currency": "KES",
                "location": {"id": 12, "slug": "nairobi-westlands", "name": "Westlands"},
                "category": {"id": 7, "slug": "cars", "name": "Cars"},
                "published_at": "2026-11-20T09:15:00Z",
                "thumbnail_url": None,
            }
            for index in range(20)
        ],
    }
).encode()


def floor(request: HttpRequest) -> HttpResponse:
    if not getattr(settings, "BENCH_FLOOR_VIEW", False):
        raise Http404
    return HttpResponse(FLOOR_BODY, content_type="application/json")
