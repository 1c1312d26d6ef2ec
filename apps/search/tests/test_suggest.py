"""GET /api/ads/search/suggest/ (API.md section 6), on each backend (`engine`)."""

from __future__ import annotations

import pytest

from apps.ads.models import AdStatus
from apps.search.tests.helpers import SUGGEST, make_ad, minutes_ago

pytestmark = pytest.mark.django_db


def suggestions(search, q, **params):
    response = search(url=SUGGEST, q=q, **params)
    assert response.status_code == 200
    assert set(response.json()) == {"suggestions"}
    return response.json()["suggestions"]


def test_titles_and_category_names_with_a_word_starting_with_q(search, catalog, seller):
    fielder = make_ad(owner=seller, category=catalog.cars, title="Toyota Fielder 2015",
                      attributes={"make": "Toyota"})
    make_ad(owner=seller, category=catalog.cars, title="Subaru Forester",
            attributes={"make": "Subaru"})
    make_ad(owner=seller, category=catalog.cars, title="Fieldmaster tractor",
            attributes={"make": "Mazda"}, status=AdStatus.SOLD)  # not active

    assert suggestions(search, "fie") == [
        {"text": "Toyota Fielder 2015", "type": "ad", "slug": fielder.slug}]
    assert suggestions(search, "FIELD") == suggestions(search, "fiel")
    assert suggestions(search, "ca") == [{"text": "Cars", "type": "category", "slug": "cars"}]
    assert suggestions(search, "mob") == [
        {"text": "Mobile Phones", "type": "category", "slug": "mobile-phones"}]
    assert suggestions(search, "pho") == [
        {"text": "Mobile Phones", "type": "category", "slug": "mobile-phones"}]


def test_a_word_inside_the_title_counts_and_categories_come_first(search, catalog, seller):
    make_ad(owner=seller, category=catalog.laptops, title="Lenovo ThinkPad with electric mouse")

    result = suggestions(search, "ele")

    assert [(item["type"], item["text"]) for item in result] == [
        ("category", "Electronics"), ("ad", "Lenovo ThinkPad with electric mouse")]


def test_only_word_starts_match(search, catalog, seller):
    make_ad(owner=seller, category=catalog.laptops, title="Notebook sleeve")

    assert suggestions(search, "book") == []
    assert suggestions(search, "note") != []


def test_at_most_ten_newest_and_promoted_first_each_title_once(search, catalog, seller):
    for n in range(14):
        make_ad(owner=seller, category=catalog.phones, title=f"Tecno Spark {n}",
                published_at=minutes_ago(100 - n))
    make_ad(owner=seller, category=catalog.phones, title="Tecno Spark 3",
            published_at=minutes_ago(1))  # the same title again, newest
    promoted = make_ad(owner=seller, category=catalog.phones, title="Tecno Camon promoted",
                       promotion_tier=3, published_at=minutes_ago(500))

    result = suggestions(search, "tecno")

    texts = [item["text"] for item in result]
    assert len(result) == 10
    assert texts[0] == promoted.title
    assert texts[1:4] == ["Tecno Spark 3", "Tecno Spark 13", "Tecno Spark 12"]
    assert len(set(map(str.lower, texts))) == 10


@pytest.mark.parametrize("q", ["", " ", "t", "T ", "é", "!!", "&|", "🚗", "%%"])
def test_under_two_characters_or_no_word_gives_nothing(search, catalog, seller, q):
    make_ad(owner=seller, category=catalog.phones, title="Tecno Spark")

    assert suggestions(search, q) == []


@pytest.mark.parametrize("q", ['"te', "te%", "te:*", "a" * 10_000, "te " * 300, "(te)"])
def test_any_text_is_safe(search, catalog, seller, q):
    make_ad(owner=seller, category=catalog.phones, title="Tecno Spark")

    assert isinstance(suggestions(search, q), list)


def test_multi_word_prefix(search, catalog, seller):
    ad = make_ad(owner=seller, category=catalog.cars, title="Toyota Land Cruiser V8",
                 attributes={"make": "Toyota"})
    make_ad(owner=seller, category=catalog.cars, title="Toyota Vitz",
            attributes={"make": "Toyota"})

    assert suggestions(search, "toyota land cr") == [
        {"text": ad.title, "type": "ad", "slug": ad.slug}]
    assert suggestions(search, "café") == []
