"""The demo category tree: a Jiji-like Kenyan classifieds catalogue with attribute schemas.

Idempotent: a category is created only when its parent has no child of that name, and existing
ones are left as staff may have edited them. Ads go in leaves, so `Cars` and `Mobile Phones`
stay leaves (their schemas are the demo's posting forms); the third level is real where it
exists on such sites (Property, Electronics, Home, Repair & Construction, Agriculture...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from apps.categories import services
from apps.categories.models import Category


def text(key: str, label: str, **extra: Any) -> dict[str, Any]:
    return {"key": key, "label": label, "type": "text", **extra}


def integer(key: str, label: str, **extra: Any) -> dict[str, Any]:
    return {"key": key, "label": label, "type": "int", **extra}


def decimal(key: str, label: str, **extra: Any) -> dict[str, Any]:
    return {"key": key, "label": label, "type": "decimal", **extra}


def boolean(key: str, label: str, **extra: Any) -> dict[str, Any]:
    return {"key": key, "label": label, "type": "bool", **extra}


def choice(key: str, label: str, choices: list[str], **extra: Any) -> dict[str, Any]:
    return {"key": key, "label": label, "type": "choice", "choices": choices, **extra}


F = {"filterable": True}
RF = {"required": True, "filterable": True}

CAR_MAKES = [
    "Toyota", "Nissan", "Mazda", "Subaru", "Mitsubishi", "Honda", "Mercedes-Benz", "BMW",
    "Volkswagen", "Isuzu", "Ford", "Land Rover", "Suzuki", "Hyundai", "Kia", "Lexus", "Audi",
    "Peugeot", "Volvo", "Jeep", "Porsche", "Range Rover", "Other",
]
CARS = [
    choice("make", "Make", CAR_MAKES, **RF),
    text("model", "Model"),
    integer("year", "Year of manufacture", min=1950, max=2030, **RF),
    integer("mileage", "Mileage", unit="km", min=0, **F),
    choice("transmission", "Transmission", ["automatic", "manual"], **F),
    choice("fuel", "Fuel", ["petrol", "diesel", "hybrid", "electric"], **F),
]
MOTORCYCLES = [
    choice("make", "Make", ["Bajaj", "TVS", "Honda", "Yamaha", "Suzuki", "Boxer", "Haojue",
                            "Kawasaki", "KTM", "Other"], **RF),
    integer("year", "Year of manufacture", min=1950, max=2030, **F),
    integer("mileage", "Mileage", unit="km", min=0, **F),
    integer("engine_capacity", "Engine capacity", unit="cc", min=50, max=3000, **F),
]
PHONE_BRANDS = ["Apple", "Samsung", "Tecno", "Infinix", "Xiaomi", "Oppo", "Itel", "Nokia",
                "Huawei", "Realme", "Vivo", "Google", "OnePlus", "Motorola", "Other"]
MOBILE_PHONES = [
    choice("brand", "Brand", PHONE_BRANDS, **RF),
    text("model", "Model"),
    integer("storage", "Internal storage", unit="GB", min=1, max=2048, **F),
    integer("ram", "RAM", unit="GB", min=1, max=64, **F),
    decimal("screen_size", "Screen size", unit="inches", min=1, max=12, **F),
    boolean("dual_sim", "Dual SIM", **F),
    text("color", "Colour"),
]
TABLETS = [
    choice("brand", "Brand", ["Apple", "Samsung", "Lenovo", "Huawei", "Tecno", "Amazon",
                              "Microsoft", "Other"], **RF),
    text("model", "Model"),
    integer("storage", "Internal storage", unit="GB", min=1, max=2048, **F),
    integer("ram", "RAM", unit="GB", min=1, max=64, **F),
    decimal("screen_size", "Screen size", unit="inches", min=5, max=20, **F),
    boolean("cellular", "SIM / cellular", **F),
]
PROPERTY = [decimal("size", "Size", unit="sqm", min=0, **F)]
HOUSING = [
    integer("bedrooms", "Bedrooms", min=0, max=50, **RF),
    integer("bathrooms", "Bathrooms", min=0, max=50, **F),
    boolean("furnished", "Furnished", **F),
    boolean("parking", "Parking", **F),
]
LAND = [choice("title_deed", "Title deed", ["freehold", "leasehold", "allotment letter",
                                           "none"], **F)]
LAPTOPS = [
    choice("brand", "Brand", ["HP", "Dell", "Lenovo", "Apple", "Asus", "Acer", "Microsoft",
                              "Toshiba", "Samsung", "Other"], **RF),
    text("processor", "Processor"),
    integer("ram", "RAM", unit="GB", min=1, max=256, **F),
    integer("storage", "Storage", unit="GB", min=1, max=16384, **F),
    decimal("screen_size", "Screen size", unit="inches", min=7, max=21, **F),
]
TELEVISIONS = [
    choice("brand", "Brand", ["Samsung", "LG", "Sony", "Hisense", "TCL", "Vitron", "Skyworth",
                              "Other"], **RF),
    decimal("screen_size", "Screen size", unit="inches", min=10, max=120, **F),
    boolean("smart_tv", "Smart TV", **F),
]
CLOTHING = [choice("clothing_size", "Size", ["XS", "S", "M", "L", "XL", "XXL", "XXXL"], **F)]
SHOES = [integer("shoe_size", "Size (EU)", min=15, max=50, **F)]
JOBS = [
    choice("job_type", "Job type", ["full-time", "part-time", "contract", "internship",
                                    "temporary"], **RF),
    integer("experience_years", "Experience", unit="years", min=0, max=50, **F),
    boolean("remote", "Remote", **F),
]
PETS = [text("breed", "Breed"), integer("age_months", "Age", unit="months", min=0, max=360, **F)]


@dataclass
class Node:
    name: str
    icon: str = ""
    attributes: list[dict[str, Any]] = field(default_factory=list)
    children: list[Node] = field(default_factory=list)


def n(name: str, *children: Node, icon: str = "", attributes: list[dict[str, Any]] | None = None
      ) -> Node:
    return Node(name=name, icon=icon, attributes=attributes or [], children=list(children))


TREE: list[Node] = [
    n("Vehicles",
      n("Cars", icon="car", attributes=CARS),
      n("Motorcycles & Scooters", icon="motorcycle", attributes=MOTORCYCLES),
      n("Vehicle Parts & Accessories", icon="car-parts"),
      n("Buses & Microbuses"), n("Trucks & Trailers"), n("Heavy Equipment"),
      n("Watercraft & Boats"),
      icon="vehicles"),
    n("Property",
      n("Houses & Apartments for Rent",
        n("Apartments for Rent"), n("Houses for Rent"), n("Bedsitters & Studios for Rent"),
        attributes=HOUSING),
      n("Houses & Apartments for Sale",
        n("Apartments for Sale"), n("Houses for Sale"), attributes=HOUSING),
      n("Land & Plots for Sale", attributes=LAND),
      n("Land & Plots for Rent"),
      n("Commercial Property for Rent", n("Offices for Rent"), n("Shops for Rent"),
        n("Warehouses for Rent")),
      n("Commercial Property for Sale"),
      n("Short Let"),
      n("Event Centres & Venues"),
      icon="property", attributes=PROPERTY),
    n("Mobile Phones & Tablets",
      n("Mobile Phones", icon="smartphone", attributes=MOBILE_PHONES),
      n("Tablets", icon="tablet", attributes=TABLETS),
      n("Accessories"),
      n("Smart Watches & Trackers"),
      icon="phone"),
    n("Electronics",
      n("Computers", n("Laptops", icon="laptop", attributes=LAPTOPS), n("Desktop Computers"),
        n("Computer Monitors"), n("Computer Accessories"), n("Printers & Scanners")),
      n("TV & Audio", n("Televisions", attributes=TELEVISIONS), n("Audio & Music Equipment"),
        n("Headphones"), n("Home Theatre Systems")),
      n("Cameras & Photography"),
      n("Video Games & Consoles"),
      n("Networking Products"),
      icon="electronics"),
    n("Home, Furniture & Garden",
      n("Furniture", n("Sofas & Armchairs"), n("Beds & Mattresses"), n("Tables & Chairs"),
        n("Wardrobes & Storage")),
      n("Home Appliances", n("Kitchen Appliances"), n("Refrigerators & Freezers"),
        n("Washing Machines"), n("Cookers & Ovens")),
      n("Kitchen & Dining"), n("Home Accessories"), n("Garden Supplies"), n("Lighting"),
      icon="home"),
    n("Fashion",
      n("Women's Clothing", attributes=CLOTHING), n("Men's Clothing", attributes=CLOTHING),
      n("Shoes", attributes=SHOES), n("Bags"), n("Watches"), n("Jewellery"),
      n("Clothing Accessories"),
      icon="fashion"),
    n("Jobs",
      n("Accounting & Finance Jobs"), n("Driver Jobs"), n("Sales & Marketing Jobs"),
      n("IT & Software Jobs"), n("Hospitality & Hotel Jobs"), n("Healthcare Jobs"),
      n("Teaching Jobs"), n("Construction & Skilled Trade Jobs"), n("Domestic & Cleaning Jobs"),
      n("Other Jobs"),
      icon="jobs", attributes=JOBS),
    n("Services",
      n("Building & Trades Services"), n("Car Services"), n("Cleaning Services"),
      n("Computer & IT Services"), n("Event Services"), n("Logistics & Moving Services"),
      n("Photography & Video Services"), n("Tutoring & Classes"), n("Health & Beauty Services"),
      n("Printing Services"),
      icon="services"),
    n("Animals & Pets",
      n("Dogs & Puppies", attributes=PETS), n("Cats & Kittens", attributes=PETS), n("Birds"),
      n("Fish"), n("Pet Accessories"),
      icon="pets"),
    n("Babies & Kids",
      n("Children's Clothing"), n("Toys"), n("Baby Gear & Equipment", n("Prams & Strollers"),
                                             n("Car Seats"), n("Baby Carriers")),
      n("Children's Furniture"), n("Maternity & Pregnancy"),
      icon="baby"),
    n("Health & Beauty",
      n("Skin Care"), n("Hair Beauty"), n("Makeup"), n("Fragrances"), n("Bath & Body"),
      n("Vitamins & Supplements"), n("Medical Supplies & Equipment"),
      icon="beauty"),
    n("Repair & Construction",
      n("Building Materials", n("Cement & Concrete"), n("Roofing"), n("Timber"),
        n("Steel & Iron Sheets")),
      n("Tools", n("Hand Tools"), n("Power Tools")),
      n("Electrical Equipment"), n("Plumbing & Water Supply"), n("Doors & Windows"),
      n("Solar Energy"),
      icon="construction"),
    n("Agriculture & Food",
      n("Livestock & Poultry", n("Cattle"), n("Goats & Sheep"), n("Poultry")),
      n("Farm Machinery & Equipment"), n("Feeds, Supplements & Seeds"),
      n("Fruits & Vegetables"), n("Meals & Drinks"),
      icon="agriculture"),
    n("Commercial Equipment",
      n("Restaurant & Catering Equipment"), n("Medical Equipment"), n("Printing Equipment"),
      n("Industrial Machinery"), n("Salon Equipment"), n("Stage & Event Equipment"),
      n("Store Equipment"), n("Safety Equipment"),
      icon="commercial"),
]


@transaction.atomic
def seed_categories() -> int:
    """Create what is missing of the demo tree; returns how many categories were created."""
    existing: dict[tuple[int | None, str], int] = {
        (parent_id, name): category_id
        for category_id, parent_id, name in Category.objects.values_list("id", "parent_id", "name")
    }
    parents = {category.pk: category for category in Category.objects.all()}
    created = 0

    def plant(nodes: list[Node], parent: Category | None) -> None:
        nonlocal created
        for index, node in enumerate(nodes):
            key = (parent.pk if parent else None, node.name)
            category_id = existing.get(key)
            if category_id is None:
                category = services.create_category(
                    actor=None, name=node.name, parent=parent, order=index, icon=node.icon,
                    attributes=node.attributes)
                created += 1
            else:
                category = parents[category_id]
            plant(node.children, category)

    plant(TREE, None)
    return created
