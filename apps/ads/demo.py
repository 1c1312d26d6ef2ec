"""Demo ads for the local profile: a few sellers' active ads across the catalogue (idempotent)."""

from __future__ import annotations

import io
import random
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from PIL import Image, ImageDraw

from apps.ads import services
from apps.ads.models import Ad, AdStatus
from apps.ads.status import Actor
from apps.categories.models import Category
from apps.locations.models import Location
from apps.users.models import User

# (seller index, category, title, price, condition, negotiable, location slug, attributes)
DEMO_ADS: list[tuple[int, str, str, str, str | None, bool, str, dict[str, Any]]] = [
    (0, "Cars", "Toyota Fielder 2015 silver, low mileage", "1350000", "used", True, "westlands",
     {"make": "Toyota", "model": "Fielder", "year": 2015, "mileage": 84000,
      "transmission": "automatic", "fuel": "petrol"}),
    (1, "Cars", "Mazda Demio 2014 hatchback, clean interior", "720000", "used", True,
     "kisumu-kisumu",
     {"make": "Mazda", "model": "Demio", "year": 2014, "mileage": 102000,
      "transmission": "automatic", "fuel": "petrol"}),
    (2, "Cars", "Subaru Forester 2016 XT turbo", "2150000", "used", False, "eldoret",
     {"make": "Subaru", "model": "Forester", "year": 2016, "mileage": 91000,
      "transmission": "automatic", "fuel": "petrol"}),
    (3, "Cars", "Nissan Note e-Power 2018 hybrid", "1180000", "used", True, "nyali",
     {"make": "Nissan", "model": "Note", "year": 2018, "mileage": 56000,
      "transmission": "automatic", "fuel": "hybrid"}),
    (0, "Cars", "Toyota Land Cruiser Prado 2012 diesel", "4200000", "used", True, "karen",
     {"make": "Toyota", "model": "Prado", "year": 2012, "mileage": 160000,
      "transmission": "automatic", "fuel": "diesel"}),
    (1, "Mobile Phones", "Samsung Galaxy A54 5G 128GB", "38500", "new", False, "kisumu-kisumu",
     {"brand": "Samsung", "model": "Galaxy A54", "storage": 128, "ram": 8, "dual_sim": True}),
    (2, "Mobile Phones", "iPhone 13 128GB midnight, battery 89%", "72000", "used", True,
     "eldoret", {"brand": "Apple", "model": "iPhone 13", "storage": 128, "ram": 4}),
    (3, "Mobile Phones", "Tecno Camon 20 Pro 256GB", "27999", "new", False, "nyali",
     {"brand": "Tecno", "model": "Camon 20 Pro", "storage": 256, "ram": 8, "dual_sim": True}),
    (0, "Mobile Phones", "Infinix Hot 30 simu mpya 128GB", "16500", "new", True, "cbd",
     {"brand": "Infinix", "model": "Hot 30", "storage": 128, "ram": 8, "dual_sim": True}),
    (1, "Laptops", "HP EliteBook 840 G5 Core i5 8GB 256SSD", "36000", "refurbished", True,
     "kisumu-kisumu", {"brand": "HP", "processor": "Core i5", "ram": 8, "storage": 256}),
    (2, "Laptops", "MacBook Air M1 2020 8GB 256GB", "89000", "used", False, "eldoret",
     {"brand": "Apple", "processor": "M1", "ram": 8, "storage": 256}),
    (3, "Televisions", "Hisense 55 inch 4K smart TV", "47000", "new", False, "nyali",
     {"brand": "Hisense", "screen_size": "55", "smart_tv": True}),
    (0, "Apartments for Rent", "2 bedroom apartment Kilimani with parking", "65000", None, True,
     "kilimani", {"bedrooms": 2, "bathrooms": 2, "furnished": False, "parking": True}),
    (1, "Houses for Rent", "3 bedroom bungalow Milimani, Kisumu", "55000", None, True,
     "kisumu-kisumu", {"bedrooms": 3, "bathrooms": 2, "furnished": False, "parking": True}),
    (3, "Apartments for Sale", "Sea view 3 bedroom apartment Nyali", "14500000", None, True,
     "nyali", {"bedrooms": 3, "bathrooms": 3, "furnished": True, "parking": True}),
    (2, "Motorcycles & Scooters", "Boxer BM150 2021 pikipiki safi", "98000", "used", True,
     "eldoret", {"make": "Boxer", "year": 2021, "mileage": 23000, "engine_capacity": 150}),
]
COLOURS = [(46, 125, 50), (21, 101, 192), (198, 40, 40), (106, 27, 154), (239, 108, 0),
           (0, 131, 143)]
DESCRIPTION = (
    "{title}. Well kept and ready for viewing. Serious buyers only; price {negotiable}. "
    "Located in {location}. Chat with me here on the marketplace."
)


def demo_photo(title: str, index: int) -> SimpleUploadedFile:
    image = Image.new("RGB", (960, 720), COLOURS[index % len(COLOURS)])
    draw = ImageDraw.Draw(image)
    # A few shapes drawn from the title: each demo ad gets its own photo (one shared layout
    # would be held by the photo_duplicate rule as the same photo posted by every seller).
    shapes = random.Random(title)  # noqa: S311 - a picture, not a secret
    for _ in range(6):
        x, y = shapes.randrange(0, 760), shapes.randrange(0, 400)
        draw.ellipse((x, y, x + shapes.randrange(80, 320), y + shapes.randrange(80, 240)),
                     fill=tuple(shapes.randrange(256) for _ in range(3)))
    draw.rectangle((40, 560, 920, 680), fill=(255, 255, 255))
    draw.text((60, 600), title[:60], fill=(20, 20, 20))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return SimpleUploadedFile("demo.jpg", buffer.getvalue(), content_type="image/jpeg")


def seed_ads(sellers: list[User]) -> int:
    created = 0
    categories = {c.name: c for c in Category.objects.filter(children__isnull=True)}
    for index, (seller, category, title, price, condition, negotiable, place, attrs) in (
        enumerate(DEMO_ADS)
    ):
        owner = sellers[seller]
        if category not in categories or Ad.objects.filter(owner=owner, title=title).exists():
            continue
        location = Location.objects.filter(slug=place).first()
        with transaction.atomic():
            ad = services.create_ad(
                owner=owner, draft=True, title=title, category=categories[category],
                location=location, price=Decimal(price), currency="KES", negotiable=negotiable,
                condition=condition, attributes=attrs,
                description=DESCRIPTION.format(
                    title=title, negotiable="negotiable" if negotiable else "fixed",
                    location=location.name if location else "Kenya"),
            )
            image = services.add_image(ad=ad, upload=demo_photo(title, index), by=owner)
            services.make_thumbnail(image_id=image.pk)
            services.change_ad_status(ad_id=ad.pk, to=AdStatus.PENDING, actor=Actor.OWNER,
                                      by=owner)
            services.change_ad_status(ad_id=ad.pk, to=AdStatus.ACTIVE, actor=Actor.SYSTEM,
                                      note="demo data")
        created += 1
    return created
