"""Ad reads: who may see what, and querysets planned so a page costs a fixed number of queries."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.core.cache import cache
from django.db import connection, connections, router
from django.db.models import (
    BooleanField,
    Case,
    F,
    Func,
    Prefetch,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import RawSQL
from django.utils import timezone

from apps.ads.models import (
    DAILY_COUNTERS,
    LIVE_ACTIVE,
    Ad,
    AdDailyStats,
    AdImage,
    AdStatus,
    Favorite,
)
from apps.common.compiled_sql import ColumnPlan, rows_with_sql
from apps.common.pagination import Keyset, ListingPagination, page_from
from apps.payments.models import TIER_RANK, Promotion
from apps.users import selectors as user_selectors
from apps.users.models import User

# Only what an ad's `images` show (ImageOutput).
IMAGE_COLUMNS = ("id", "ad_id", "file", "thumbnail", "width", "height", "order")
IMAGES = Prefetch("images", queryset=AdImage.objects.only(*IMAGE_COLUMNS).order_by("order", "id"))

# An ad's photos as one column of its own row: [[id, file, thumbnail, width, height, order],
# ...] in their order, NULL without photos (`json`, which psycopg decodes to lists). Against a
# prefetch: one query less per page, and no AdImage instances (~100 a page, a quarter of the
# listing's CPU with the prefetch query's compilation). A select-list subquery is evaluated
# for the rows returned only (PostgreSQL postpones it past a sort under a LIMIT), by
# adimage_order_idx. An `extra` select, not an annotation: the listing's planned reads
# (apps.common.pagination.among_matches, feed_first_rows) step aside for annotated querysets.
# Rendered by apps.ads.api.render (`PHOTO_ROWS` in an ad's __dict__).
PHOTO_ROWS = "photo_rows"
_IMAGE_TABLE = AdImage._meta.db_table
_PHOTO_ROW = 'json_build_array(i."id", i."file", i."thumbnail", i."width", i."height", i."order")'
PHOTOS_SQL = (
    f'SELECT json_agg({_PHOTO_ROW} ORDER BY i."order", i."id") '  # noqa: S608
    f'FROM "{_IMAGE_TABLE}" i WHERE i."ad_id" = "{Ad._meta.db_table}"."id"'
)
PHOTOS_OF_SQL = (
    f'SELECT i."ad_id", json_agg({_PHOTO_ROW} ORDER BY i."order", i."id") '  # noqa: S608
    f'FROM "{_IMAGE_TABLE}" i WHERE i."ad_id" = ANY(%s) GROUP BY i."ad_id"'
)


def with_photos(queryset: QuerySet[Ad]) -> QuerySet[Ad]:
    """The ads' photos read as a column of their rows (PHOTO_ROWS)."""
    return queryset.extra(select={PHOTO_ROWS: PHOTOS_SQL})  # noqa: S610 (constant SQL)


# The seller's columns a listing page does not show (PublicProfileOutput): left unread, not
# parsed (two timestamps and the password hash a row) and no bigger rows to send.
OWNER_UNSHOWN = tuple(
    f"owner__{name}"
    for name in (
        "password",
        "last_login",
        "is_superuser",
        "email",
        "phone",
        "is_staff",
        "is_active",
        "is_suspended",
        "suspended_at",
    )
)


def with_owner(queryset: QuerySet[Ad]) -> QuerySet[Ad]:
    """The seller joined, with the columns an ad's `owner` shows only."""
    return queryset.select_related("owner").defer(*OWNER_UNSHOWN)


def with_relations(queryset: QuerySet[Ad]) -> QuerySet[Ad]:
    """What rendering an ad reads, for one ad or a short list: owner, category and locations
    joined (cheap for a few rows, and no tree read on a cold cache), photos prefetched. The
    public listing joins only the owner and takes the briefs from the cached trees
    (apps.ads.api.render): the joins cost 1.5 ms against 0.2 ms per page at 1M ads."""
    return queryset.select_related("category", "location", "owner__location").prefetch_related(
        IMAGES
    )


def for_render(queryset: QuerySet[Ad]) -> QuerySet[Ad]:
    """`with_relations` with the photos as a column (one query for the ads and all they show)."""
    return with_photos(queryset.select_related("category", "location", "owner__location"))


def load_relations(ads: list[Ad]) -> list[Ad]:
    """The photos of ads read without them (a keyset page's second part, a feed walk's raw
    rows, a search page): one query for those that lack them, none when all have them. The
    rows go where `with_photos` puts them: no AdImage instances."""
    missing = {ad.pk: ad for ad in ads if PHOTO_ROWS not in ad.__dict__}
    if not missing:
        return ads
    with connections[router.db_for_read(AdImage)].cursor() as cursor:
        cursor.execute(PHOTOS_OF_SQL, [list(missing)])
        for ad_id, rows in cursor.fetchall():
            setattr(missing.pop(ad_id), PHOTO_ROWS, rows)
    for ad in missing.values():
        setattr(ad, PHOTO_ROWS, None)
    return ads


# --- listing counts and keyset pages --------------------------------------------------------

# Keyset continuations per listing ORDER BY (apps.ads.filters.ORDERINGS and the default).
# Ascending `published_at` has none: its NULLs sort last, outside any range.
KEYSETS = {
    ("-promotion_tier", "-published_at", "-id"): Keyset(
        [
            ("promotion_tier", "promotion_tier", True),
            ("published_at", "published_at", True),
            ("id", "id", True),
        ],
        split_first=True,
        parse=[int, datetime.fromisoformat, UUID],
    ),
    ("-published_at", "-id"): Keyset(
        [("published_at", "published_at", True), ("id", "id", True)],
        parse=[datetime.fromisoformat, UUID],
    ),
    ("price", "id"): Keyset(
        [("price", "price", False), ("id", "id", False)], parse=[Decimal, UUID]
    ),
    ("-price", "-id"): Keyset(
        [("price", "price", True), ("id", "id", True)], parse=[Decimal, UUID]
    ),
}
CAPPED_COUNT_TTL = 60  # a filter matching more than the cap: not counted again for a minute
# Filters that leave the stored totals (categories.ad_count) exact.
PAGING_PARAMS = frozenset({"page", "page_size", "cursor", "ordering"})
# ... and with which the planner reads the feed indexes well by itself (no feed-first page).
EXACT_COUNT_PARAMS = PAGING_PARAMS | {"category"}


def filter_names(params: Any) -> set[str]:
    """The listing's filters among the query parameters: AdFilter's and `attr_<key>`. Others
    filter nothing (a client's cache-buster `_=`, tracking tags) and must not turn an exact
    count into a capped one, or make every capped count a new one to remember."""
    from apps.ads.filters import ATTRIBUTE_PREFIX, AdFilter

    # mypy cannot type it through the import cycle filters -> search backend -> selectors.
    known: dict[str, Any] = AdFilter.base_filters  # type: ignore[has-type]
    return {name for name in params if name in known or name.startswith(ATTRIBUTE_PREFIX)}


def keyset_for(queryset: QuerySet[Ad]) -> Keyset | None:
    return KEYSETS.get(tuple(str(key) for key in queryset.query.order_by))


def listing_count(
    *, queryset: QuerySet[Ad], params: Any, viewer: User | Any = None
) -> tuple[int, bool]:
    """(count, exact) for a public listing without scanning: the live-active totals the
    categories keep (`ad_count`, the category and its descendants) when nothing but the
    category is filtered and the viewer hides no seller; else a count capped at
    ListingPagination.COUNT_CAP (it reads at most that many index entries)."""
    from apps.categories.models import Category

    filters = filter_names(params) - PAGING_PARAMS
    if not hidden_owner_ids(viewer) and filters <= {"category"}:
        slug = params.get("category")
        nodes = (
            Category.objects.filter(slug=slug)
            if slug
            else Category.objects.filter(parent__isnull=True)
        )
        return int(nodes.aggregate(total=Sum("ad_count"))["total"] or 0), True
    cap = ListingPagination.COUNT_CAP
    memo = None
    if not hidden_owner_ids(viewer):  # the same for every viewer: remember a capped count
        shown = sorted((name, value) for name in filters for value in params.getlist(name))
        digest = hashlib.blake2b(repr(shown).encode(), digest_size=12).hexdigest()
        memo = f"ads:capped-count:{cap}:{digest}"
        if cache.get(memo):
            return cap, False
    found = queryset.order_by().values("pk")[: cap + 1].count()
    if found > cap and memo is not None:
        cache.set(memo, 1, timeout=CAPPED_COUNT_TTL)
    return min(found, cap), found <= cap


# Feed-first pages: a filtered listing's page read from the newest live ads in feed order (an
# index range with the filters applied on top, stopping at the page) instead of the plan the
# planner picks from its estimates. The planner multiplies the selectivities of correlated
# filters (`make` exists only in Cars; the price range fits cars) and expects a few dozen
# matches, so it collects every match through bitmaps and sorts them: 450-900 ms at 1M ads,
# against 20-50 ms for the walk (bench/results/explain-1000000.md, query b). Used only when
# the filter matches more ads than the count cap (the case the planner misjudges; with fewer
# matches the paginator sorts the matches, apps.common.pagination), and only the first
# FEED_FIRST_ROWS ads of the feed are walked (a bounded walk, then the usual plan; more rows
# make the planner sort a small table whole).
# With `?category=` in the default or a price order the walk reads the category's own feed:
# one index range per category of the subtree (ad_category_feed_idx, ad_category_price_idx)
# merged in order (a Merge Append), so the filters' density is the category's, not the whole
# site's (Vehicles priced 10k-40k: 5% of Vehicles but 0.7% of the feed, so the site-wide walk
# missed its page and the fallback plan read 4,600 rows; the category walk reads 600).
FEED_FIRST_ROWS = 2_000
FEED_CATEGORY_BRANCHES = 40  # a subtree with more categories walks the site-wide feed
DEFAULT_ORDER = ("-promotion_tier", "-published_at", "-id")
FEED_ORDERS = {
    DEFAULT_ORDER: '"promotion_tier" DESC, "published_at" DESC, "id" DESC',
    ("price", "id"): '"price" ASC, "id" ASC',
    ("-price", "-id"): '"price" DESC, "id" DESC',
    ("-published_at", "-id"): '"published_at" DESC, "id" DESC',
    ("published_at", "id"): '"published_at" ASC, "id" ASC',
}
# Orders with an index per category (category first): the walk can go category by category.
CATEGORY_FEED_ORDERS = frozenset({DEFAULT_ORDER, ("price", "id"), ("-price", "-id")})
PRICE_ORDERS = frozenset({("price", "id"), ("-price", "-id")})
# In price order a walk starting at the price bounds has nothing else to skip when these are
# all the parameters: its first offset + size rows are the page. Walking no further also keeps
# the planner on the ordered index range (given 2,000 rows of a category's price range to read,
# it collects the whole range and sorts it: 150 ms for Electronics at 10k-40k against 2 ms).
PRICE_WALK_PARAMS = PAGING_PARAMS | {"category", "min_price", "max_price"}


def feed_first_pays(params: Any) -> bool:
    """Filters beyond the category (which the planner reads well), but no text search (its
    ranking and stored tsvector are the search backend's)."""
    return "q" not in params and bool(filter_names(params) - EXACT_COUNT_PARAMS)


def filtered_category_ids(queryset: QuerySet[Ad]) -> list[int] | None:
    """The ids of `category_id IN (...)` among the queryset's filters (AdFilter's `category`:
    the category and its descendants), None without one."""
    for child in queryset.query.where.children:
        target = getattr(getattr(child, "lhs", None), "target", None)
        rhs: Any = getattr(child, "rhs", None)
        if (
            getattr(child, "lookup_name", None) == "in"
            and getattr(target, "attname", None) == "category_id"
            and isinstance(rhs, list | tuple | set)
        ):
            return sorted(int(pk) for pk in rhs)
    return None


# Feed branches compiled once per shape (order, price bounds given, rows, one category or
# the whole site): the SQL, its parameters with the price bounds' and the category's places.
# (`rows` is in the key and in price order can be any page end up to FEED_FIRST_ROWS: capped
# like pagination's page shapes.)
_WALKS: dict[tuple[Any, ...], tuple[str, list[Any], dict[str, int]]] = {}
_WALKS_MAX = 256
_WALK_MARKS = {"price__gte": "-987654321.0123", "price__lte": "-987654322.0123"}
_WALK_CATEGORY_MARK = -987_654_321


def _walk_query(
    order_by: tuple[str, ...], bounds: dict[str, Any], rows: int, category_id: int | None
) -> tuple[str, list[Any]]:
    feed = Ad.objects.filter(LIVE_ACTIVE)
    if bounds:
        feed = feed.filter(**bounds)
    if category_id is not None:
        feed = feed.filter(category_id=category_id)
    sql, values = feed.order_by(*order_by)[:rows].query.sql_with_params()
    return sql, list(values)


def _walk_branch(
    order_by: tuple[str, ...], bounds: dict[str, Any], rows: int, category_id: int | None
) -> tuple[str, list[Any]]:
    """The SQL of one walk: compiled by Django the first time for its shape, then the same
    SQL with this call's values in their places (~0.05 ms against ~0.4 ms a compilation). The
    places are those of marks compiled in; a shape is kept only when the marks' SQL is the
    call's and putting the call's values in gives Django's own parameters."""
    key = (order_by, tuple(bounds), rows, category_id is not None)
    price = Ad._meta.get_field("price")

    def fill(template: list[Any], places: dict[str, int]) -> list[Any]:
        values = list(template)
        for name, raw in bounds.items():
            values[places[name]] = price.get_db_prep_value(raw, connection, prepared=False)
        if category_id is not None:
            values[places["category"]] = category_id
        return values

    known = _WALKS.get(key)
    if known is not None:
        return known[0], fill(known[1], known[2])
    sql, values = _walk_query(order_by, bounds, rows, category_id)
    marks = {name: _WALK_MARKS[name] for name in bounds}
    marked_sql, marked = _walk_query(
        order_by, marks, rows, None if category_id is None else _WALK_CATEGORY_MARK
    )
    wanted = {
        name: price.get_db_prep_value(mark, connection, prepared=False)
        for name, mark in marks.items()
    }
    if category_id is not None:
        wanted["category"] = _WALK_CATEGORY_MARK
    places = {
        name: [at for at, value in enumerate(marked) if value == mark]
        for name, mark in wanted.items()
    }
    if marked_sql == sql and all(len(found) == 1 for found in places.values()):
        single = {name: found[0] for name, found in places.items()}
        if fill(marked, single) == values:
            if len(_WALKS) >= _WALKS_MAX:
                _WALKS.clear()
            _WALKS[key] = (sql, marked, single)
    return sql, values


def feed_walk(
    order_by: tuple[str, ...],
    params: Any,
    rows: int = FEED_FIRST_ROWS,
    category_ids: list[int] | None = None,
) -> tuple[str, list[Any]]:
    """SQL of the first `rows` live ads in `order_by`: of the categories `category_ids`, one
    index range per category merged (UNION ALL of ordered branches of at most `rows` each: a
    Merge Append, whose first `rows` are those of the categories), when the order has a
    per-category index; else of the whole site. In price order each range starts at the
    price bounds. Each branch is the same SQL with its own category (`_walk_branch`)."""
    bounds: dict[str, Any] = {}
    if order_by[0] in ("price", "-price") and params is not None:
        given = {"price__gte": params.get("min_price"), "price__lte": params.get("max_price")}
        bounds = {key: value for key, value in given.items() if value}
    ids = category_ids
    if not ids or order_by not in CATEGORY_FEED_ORDERS or len(ids) > FEED_CATEGORY_BRANCHES:
        return _walk_branch(order_by, bounds, rows, None)
    compiled = [_walk_branch(order_by, bounds, rows, pk) for pk in ids]
    if len(compiled) == 1:
        return compiled[0]
    # Django's union() renames the columns (col1, ...): joined here, keeping the names.
    merged = " UNION ALL ".join(f"({branch})" for branch, _ in compiled)
    merged += f" ORDER BY {FEED_ORDERS[order_by]} LIMIT %s"
    return merged, [value for _, values in compiled for value in values] + [rows]


def feed_first_rows(
    queryset: QuerySet[Ad], offset: int, size: int, expected: int | None, *, params: Any = None
) -> list[Ad] | None:
    """The page from the first FEED_FIRST_ROWS ads of the feed; None when the queryset is not
    a plain filtered listing in an indexed order, or when that walk did not hold the whole
    page (`expected`: how many rows the page must have, when known). One statement: the
    queryset itself (its select_related owner, extra columns, WHERE, ORDER BY) read from the
    walk's rows (`pagination.page_from`), compiled once per shape."""
    query = queryset.query
    order_by = tuple(str(key) for key in query.order_by)
    if (
        order_by not in FEED_ORDERS
        or sum(1 for count in query.alias_refcount.values() if count) != 1  # joins
        or query.annotation_select
        or offset + size > FEED_FIRST_ROWS
        or not query.where
    ):
        return None
    walk = FEED_FIRST_ROWS
    if (
        order_by in PRICE_ORDERS
        and params is not None
        and filter_names(params) <= PRICE_WALK_PARAMS
    ):
        walk = offset + size
    feed_sql, feed_params = feed_walk(order_by, params, walk, filtered_category_ids(queryset))
    rows = page_from(queryset, feed_sql, feed_params, offset, size)
    if len(rows) < size and len(rows) != expected:
        return None
    return rows


def hidden_owner_ids(viewer: User | Any) -> set[UUID]:
    """Sellers on either side of a block with the viewer; read once per request (kept on the
    request's user object)."""
    if viewer is None or not viewer.is_authenticated:
        return set()
    hidden: set[UUID] | None = getattr(viewer, "_hidden_owner_ids", None)
    if hidden is None:
        hidden = user_selectors.blocked_user_ids(user=viewer)
        setattr(viewer, "_hidden_owner_ids", hidden)  # noqa: B010
    return hidden


def public_ads(*, viewer: User | Any = None) -> QuerySet[Ad]:
    """Active ads anyone may see; a signed-in viewer never sees ads across a block."""
    queryset = Ad.objects.filter(LIVE_ACTIVE)
    if viewer is not None and viewer.is_authenticated:
        hidden_owners = hidden_owner_ids(viewer)
        if hidden_owners:
            queryset = queryset.exclude(owner_id__in=hidden_owners)
    return queryset


def default_order(queryset: QuerySet[Ad]) -> QuerySet[Ad]:
    return queryset.order_by("-promotion_tier", "-published_at", "-id")


def ads_of_owner(*, owner: User, status: str | None = None) -> QuerySet[Ad]:
    queryset = Ad.objects.filter(owner=owner, deleted_at__isnull=True)
    if status:
        queryset = queryset.filter(status=status)
    return for_render(queryset).order_by("-created_at", "-id")


_COMPILED: dict[tuple[str, str], tuple[str, ColumnPlan]] = {}


def rows_compiled_once(name: str, queryset: QuerySet[Ad], params: tuple[Any, ...]) -> list[Ad]:
    """`list(queryset)`, its SQL compiled by Django the first time for `name` and then reused
    with this call's `params` (an ad's detail with its four joins and photos: ~1 ms of CPU a
    compilation, half the uncached detail's). The caller builds the queryset the same way on
    every call, with `params` its only parameters, in their order: checked the first time
    (else nothing is kept). Rows come from Django's model iterable (select_related, extra)."""
    key = (name, queryset.db)
    known = _COMPILED.get(key)
    if known is not None:
        return rows_with_sql(queryset, known[0], params, known[1])
    compiler = queryset.query.get_compiler(using=queryset.db)
    sql, values = compiler.as_sql()
    plan = ColumnPlan.of(compiler)
    if tuple(values) == params:
        _COMPILED[key] = (sql, plan)
    return rows_with_sql(queryset, sql, values, plan)


def public_ads_with_ids(ids: list[UUID], *, columns: tuple[str, ...]) -> list[Ad]:
    """The active ads among `ids`, in that order, with their owners (`owner__` columns) and
    only `columns`: a search page's ads. One statement, `id = ANY(array)` (the same SQL for
    any number of ids), compiled once per column list (`rows_compiled_once`: compiling it was
    ~1 ms of CPU a page)."""
    if not ids:
        return []
    ids = list(ids)
    # Constant SQL; the ids travel as the array parameter.
    with_ids = RawSQL('"ads_ad"."id" = ANY(%s::uuid[])', [ids], output_field=BooleanField())
    queryset = public_ads().filter(with_ids).select_related("owner").only(*columns)
    rows = rows_compiled_once(
        "public_ads_with_ids:" + ",".join(columns), queryset, (AdStatus.ACTIVE, ids)
    )
    by_id = {ad.pk: ad for ad in rows}
    return [by_id[ad_id] for ad_id in ids if ad_id in by_id]


def get_visible_ad(*, slug: str, viewer: User | Any = None, relations: bool = True) -> Ad | None:
    """An ad by slug as the viewer may see it: active for all, any status for its owner.
    `relations=False` reads the bare row (no category, owner or images)."""
    queryset = Ad.objects.filter(slug=slug, deleted_at__isnull=True)
    if relations:
        # What .first() reads, compiled once (`rows_compiled_once`).
        found = for_render(queryset)
        found = (found if found.ordered else found.order_by("pk"))[:1]
        rows = rows_compiled_once("visible_ad", found, (slug,))
        ad = rows[0] if rows else None
    else:
        ad = queryset.first()
    if ad is None:
        return None
    is_owner = viewer is not None and viewer.is_authenticated and ad.owner_id == viewer.pk
    if is_owner:
        return ad
    if ad.status != AdStatus.ACTIVE:
        return None
    if viewer is not None and viewer.is_authenticated and ad.owner_id in (hidden_owner_ids(viewer)):
        return None
    return ad


def get_public_ad_by_id(*, ad_id: Any, viewer: User | Any = None) -> Ad | None:
    try:
        pk = ad_id if isinstance(ad_id, UUID) else UUID(str(ad_id))
    except ValueError:
        return None
    return public_ads(viewer=viewer).filter(pk=pk).first()


def favorited_ids(*, user: User | Any, ad_ids: list[UUID]) -> set[UUID]:
    if user is None or not user.is_authenticated or not ad_ids:
        return set()
    return set(Favorite.objects.filter(user=user, ad_id__in=ad_ids).values_list("ad_id", flat=True))


def favorites_of(*, user: User) -> QuerySet[Favorite]:
    """The user's favourites whose ad is public to them: active, and not across a block."""
    queryset = Favorite.objects.filter(
        user=user, ad__status=AdStatus.ACTIVE, ad__deleted_at__isnull=True
    )
    hidden_owners = hidden_owner_ids(user)
    if hidden_owners:
        queryset = queryset.exclude(ad__owner_id__in=hidden_owners)
    # The ad comes with the favourite (select_related); the page's photos are read by
    # load_relations (one query, as rows: no AdImage instances).
    return queryset.select_related("ad__owner").order_by("-created_at", "-id")


def similar_ads(*, ad: Ad, viewer: User | Any = None, limit: int = 12) -> list[Ad]:
    """One query: same category first, then sibling categories; within each, ads in the same
    price band (half to one and a half times the price) before others, nearby ones (same
    region) before far ones, then the closest price, then the newest."""
    from apps.categories import selectors as category_selectors
    from apps.locations import selectors as location_selectors

    base = public_ads(viewer=viewer).exclude(pk=ad.pk)
    tree, _ = category_selectors.load_tree()
    node = tree.nodes.get(ad.category_id)
    parent_id = node["parent"] if node is not None else ad.category.parent_id
    scope = (
        base.filter(category__parent_id=parent_id)
        if parent_id is not None
        else base.filter(category_id=ad.category_id)
    )
    nearby = location_selectors.nearby_ids(location_id=ad.location_id)
    low, high = ad.price / 2, ad.price * 3 / 2
    ranked = scope.annotate(
        other_category=Case(When(category_id=ad.category_id, then=Value(0)), default=Value(1)),
        outside_band=Case(When(price__gte=low, price__lte=high, then=Value(0)), default=Value(1)),
        far=Case(When(location_id__in=nearby or [0], then=Value(0)), default=Value(1)),
        price_gap=Func(F("price") - Value(ad.price), function="ABS"),
    ).order_by("other_category", "outside_band", "far", "price_gap", "-published_at")
    return list(for_render(ranked)[:limit])


# --- the seller's analytics -------------------------------------------------------------------

DAYS_BEFORE_PROMOTION = 7
Counters = dict[str, int]


def utc_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def promoted_days(promotions: list[Promotion], *, until: date) -> dict[date, str]:
    """{UTC day: highest tier promoting the ad during any part of it}, up to `until`."""
    tiers: dict[date, str] = {}
    for promotion in promotions:
        if promotion.ends_at <= promotion.starts_at:  # refunded before it began
            continue
        day = utc_day(promotion.starts_at)
        last = min(utc_day(promotion.ends_at - timedelta(microseconds=1)), until)
        while day <= last:
            current = tiers.get(day)
            if current is None or TIER_RANK[promotion.tier] > TIER_RANK[current]:
                tiers[day] = promotion.tier
            day += timedelta(days=1)
    return tiers


def average(days: list[date], counters: Callable[[date], Counters]) -> dict[str, Any] | None:
    if not days:
        return None
    sums = dict.fromkeys(DAILY_COUNTERS, 0)
    for day in days:
        for name, value in counters(day).items():
            sums[name] += value
    return {
        "days": len(days),
        **{name: round(total / len(days), 2) for name, total in sums.items()},
    }


def ad_stats(*, ad: Ad, days: int, now: datetime | None = None) -> dict[str, Any]:
    """Per-day counters of the last `days` UTC days (today included, oldest first), the
    ad's promotions, and average counters per day before and while promoted. Two queries
    (promotions, then the daily rows), whatever `days` and the number of promotions.

    - before_promotion: the up to 7 whole UTC days before the day the first promotion started,
      since the day the ad was created; null without a promotion or such a day.
    - during_promotion: the whole UTC days (today, still running, is left out) on which any
      promotion covered some time; null when there is none yet.
    """
    now = now or timezone.now()
    today = utc_day(now)
    window = [today - timedelta(days=back) for back in range(days - 1, -1, -1)]
    promotions = list(Promotion.objects.filter(ad_id=ad.pk).order_by("starts_at", "id"))
    tier_by_day = promoted_days(promotions, until=today)
    before: list[date] = []
    if promotions:
        first = utc_day(promotions[0].starts_at)
        since = max(first - timedelta(days=DAYS_BEFORE_PROMOTION), utc_day(ad.created_at))
        before = [since + timedelta(days=n) for n in range((first - since).days)]
    during = sorted(day for day in tier_by_day if day < today)
    rows = {
        row["date"]: row
        for row in AdDailyStats.objects.filter(
            ad_id=ad.pk,
            date__gte=min([window[0], *before, *during]),
            date__lte=today,
        ).values("date", *DAILY_COUNTERS)
    }

    def counters(day: date) -> Counters:
        row = rows.get(day)
        return {name: row[name] if row else 0 for name in DAILY_COUNTERS}

    series = [{"date": day, **counters(day), "promoted": tier_by_day.get(day)} for day in window]
    return {
        "ad": ad.pk,
        "totals": {name: sum(item[name] for item in series) for name in DAILY_COUNTERS},
        "days": series,
        "promotions": promotions,
        "before_promotion": average(before, counters),
        "during_promotion": average(during, counters),
    }
