"""Realistic Kenyan classifieds texts with no contact details, to measure how often the
automatic-moderation rules hold a clean ad by mistake.

The texts are full of the numbers real ads carry: years, mileages, prices written every way
sellers write them, storage and RAM sizes, model numbers, plot and room sizes, dates and
hours, salaries, dimensions. Vocabulary comes from bench/catalogue.py (the benchmark's
vocabulary) when it is importable, else from the small lists below; the generator itself is
here because the catalogue has no function that writes titles or descriptions.
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

try:
    catalogue: Any = importlib.import_module("bench.catalogue")
except ImportError:  # pragma: no cover - the benchmark package is optional
    catalogue = None


def vocabulary(name: str, default: Any) -> Any:
    value = getattr(catalogue, name, None) if catalogue is not None else None
    return value or default


CAR_MODELS: dict[str, tuple[str, ...]] = vocabulary("CAR_MODELS", {
    "Toyota": ("Fielder", "Axio", "Premio", "Vitz", "Harrier", "Prado", "Probox", "Noah"),
    "Nissan": ("Note", "X-Trail", "Juke", "Tiida", "Navara"),
    "Mazda": ("Demio", "Axela", "CX-5", "Atenza"),
    "Subaru": ("Forester", "Impreza", "Outback", "Legacy"),
    "Mercedes-Benz": ("C200", "E250", "ML350"),
})
PHONE_MODELS: dict[str, tuple[str, ...]] = vocabulary("PHONE_MODELS", {
    "Apple": ("iPhone 11", "iPhone 12 Pro Max", "iPhone 13", "iPhone 14 Pro", "iPhone XR"),
    "Samsung": ("Galaxy A14", "Galaxy A54", "Galaxy S21 Ultra", "Galaxy S23 Ultra"),
    "Tecno": ("Camon 20 Pro", "Spark 10", "Pova 5"),
    "Infinix": ("Hot 30", "Note 30", "Smart 8"),
    "Xiaomi": ("Redmi Note 12", "Redmi 13C", "Poco X5 Pro"),
})
LAPTOP_MODELS: dict[str, tuple[str, ...]] = vocabulary("LAPTOP_MODELS", {
    "HP": ("EliteBook 840 G5", "ProBook 450 G8", "Pavilion 15", "250 G8"),
    "Dell": ("Latitude 5490", "XPS 13", "Inspiron 15 3000"),
    "Lenovo": ("ThinkPad T480", "IdeaPad 3", "ThinkPad X1 Carbon"),
    "Apple": ("MacBook Air M1", "MacBook Pro 2019"),
})
PROCESSORS: tuple[str, ...] = vocabulary("PROCESSORS", (
    "Core i3", "Core i5", "Core i7", "Core i5 8th Gen", "Ryzen 5", "Celeron"))
COLOURS: tuple[str, ...] = vocabulary("COLOURS", ("black", "white", "silver", "blue", "grey"))
PLATES: tuple[str, ...] = vocabulary("PLATES", ("KCA", "KCB", "KCD", "KDA", "KDB", "KDG"))
TITLE_TAILS: tuple[str, ...] = vocabulary("TITLE_TAILS", (
    "", "", " - clean", " bei poa", " for sale", " quick sale", ", negotiable"))
OPENERS: tuple[str, ...] = vocabulary("OPENERS", (
    "{title}.", "Selling my {title}.", "Inauzwa: {title}.", "{title} for sale."))
GOODS_LINES: tuple[str, ...] = vocabulary("GOODS_LINES", (
    "Item is in excellent condition, no scratches.", "Used for a short time only.",
    "Comes with the original box and receipt.", "Mali safi, hakuna shida yoyote."))
PROPERTY_LINES: tuple[str, ...] = vocabulary("PROPERTY_LINES", (
    "Water available 24/7 and reliable electricity.", "Secure compound with CCTV and guard.",
    "Close to the main road, shopping centre and schools.", "Deposit is one month rent."))
JOB_LINES: tuple[str, ...] = vocabulary("JOB_LINES", (
    "Send your CV and copies of certificates.", "Minimum KCSE C plain.",
    "Must be honest, hardworking and reliable."))
CLOSERS: tuple[str, ...] = vocabulary("CLOSERS", (
    "Price is slightly negotiable.", "Serious buyers only.", "Call or chat for more details.",
    "Located in {town}.", "Delivery countrywide."))
TOWNS = ("Westlands", "Kilimani", "Kasarani", "Ruaka", "Rongai", "Thika", "Kitengela",
         "Nyali", "Nakuru", "Kisumu", "Eldoret", "Syokimau", "Embakasi", "Juja", "Ngong")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
          "September", "October", "November", "December")


@dataclass(frozen=True)
class Text:
    kind: str
    title: str
    description: str


def kes(rng: random.Random, amount: int) -> str:
    """A price the way Kenyan sellers write it."""
    style = rng.randrange(9)
    if style == 0:
        return f"KES {amount:,}"
    if style == 1:
        return f"Ksh {amount:,}/="
    if style == 2:
        return f"Ksh.{amount}"
    if style == 3:
        return f"{amount:,} bob"
    if style == 4 and amount >= 1_000_000:
        return f"Ksh {amount / 1_000_000:.2f}M".replace(".00M", "M")
    if style == 5 and amount >= 1_000:
        return f"{amount // 1000}k"
    if style == 6:
        return f"KSh {amount:,}.00"
    if style == 7:
        return f"Kshs. {amount:,}"
    return f"{amount:,}"


def a_date(rng: random.Random) -> date:
    return date(2024, 1, 1) + timedelta(days=rng.randrange(700))


def written_date(rng: random.Random) -> str:
    day = a_date(rng)
    style = rng.randrange(5)
    if style == 0:
        return day.strftime("%d/%m/%Y")
    if style == 1:
        return day.strftime("%d.%m.%Y")
    if style == 2:
        return f"{day.day} {MONTHS[day.month - 1]} {day.year}"
    if style == 3:
        return day.strftime("%Y-%m-%d")
    return f"{day.day}/{day.month}/{day.strftime('%y')}"


def hours(rng: random.Random) -> str:
    return rng.choice(("8am - 5pm", "8:00am to 5:00pm", "0800hrs - 1700hrs", "9am-6pm",
                       "7.30am - 6.30pm", "10am", "2pm", "from 9am", "10:00 - 16:00"))


def sentences(rng: random.Random, pool: tuple[str, ...], low: int, high: int) -> list[str]:
    return rng.sample(pool, k=min(len(pool), rng.randint(low, high)))


def finish(rng: random.Random, kind: str, title: str, body: list[str]) -> Text:
    opener = rng.choice(OPENERS).format(title=title)
    closers = [c.format(town=rng.choice(TOWNS)) for c in rng.sample(CLOSERS, k=rng.randint(1, 2))]
    parts = [opener, *body, *closers]
    if rng.random() < 0.3:
        cut = rng.randint(1, len(parts) - 1)
        description = " ".join(parts[:cut]) + "\n\n" + " ".join(parts[cut:])
    else:
        description = " ".join(parts)
    return Text(kind, title[:120], description[:5000])


def phone(rng: random.Random) -> Text:
    brand = rng.choice(sorted(PHONE_MODELS))
    model = rng.choice(PHONE_MODELS[brand])
    storage, ram = rng.choice((32, 64, 128, 128, 256, 512)), rng.choice((2, 3, 4, 6, 8, 12))
    head = model if model.startswith("i") else f"{brand} {model}"
    title = f"{head} {storage}GB" + rng.choice(TITLE_TAILS)
    body = [
        rng.choice((f"{storage}GB storage, {ram}GB RAM.", f"{ram}/{storage}GB.",
                    f"ROM {storage}GB RAM {ram}GB, dual SIM.")),
        rng.choice((f"Battery health {rng.randint(78, 100)}%.",
                    f"Battery {rng.choice((4000, 5000, 5000, 6000))}mAh, lasts a full day.",
                    f"Screen {rng.choice(('6.1', '6.5', '6.7', '6.8'))} inch, no cracks.")),
        rng.choice((f"Bought in {MONTHS[rng.randrange(12)]} {rng.randint(2021, 2025)}.",
                    f"Bought on {written_date(rng)}, receipt available.",
                    f"{rng.randint(1, 11)} months warranty left.")),
        f"Price {kes(rng, rng.randrange(6, 180) * 500)}.",
        *sentences(rng, GOODS_LINES, 0, 2),
    ]
    if rng.random() < 0.15:
        body.append(f"Model number A{rng.randint(1000, 3200)}, IMEI on the box.")
    return finish(rng, "phone", title, body)


def car(rng: random.Random) -> Text:
    make = rng.choice(sorted(CAR_MODELS))
    model = rng.choice(CAR_MODELS[make])
    year = rng.randint(2006, 2024)
    km = rng.randrange(8, 260) * 1000 + rng.choice((0, 0, 0, rng.randrange(1000)))
    plate = f"{rng.choice(PLATES)} {rng.randint(100, 999)}{rng.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')}"
    title = f"{make} {model} {year}" + rng.choice(("", f" {plate}", " ex-Japan", " locally used",
                                                  f", {km:,} km", f" {rng.choice(COLOURS)}"))
    body = [
        rng.choice((f"Year {year}. Mileage {km:,} km.", f"Mileage: {km}km.",
                    f"Done {km // 1000}k km only.", f"{km:,}kms, {year} model.")),
        rng.choice((f"Engine {rng.choice((990, 1300, 1490, 1500, 1800, 1990, 2000, 2490, 2700))}cc,"
                    f" {rng.choice(('automatic', 'manual'))}.",
                    f"{rng.choice(('1.3', '1.5', '1.8', '2.0', '2.5'))}L petrol engine.",
                    f"Fuel consumption {rng.randint(9, 18)} km/l.")),
        rng.choice((f"Reg {plate}.", "Logbook ready, duty paid.", f"First registered {year + 1}.",
                    f"Last service at {max(km - rng.randrange(1, 9) * 1000, 1000):,} km on "
                    f"{written_date(rng)}.")),
        rng.choice((f"Asking {kes(rng, rng.randrange(40, 900) * 10_000)}.",
                    f"Price {kes(rng, rng.randrange(40, 900) * 10_000)} negotiable.",
                    f"Deposit {kes(rng, rng.randrange(10, 90) * 10_000)}, balance in "
                    f"{rng.choice((6, 12, 18, 24))} months.")),
    ]
    if rng.random() < 0.2:
        body.append(f"Tyres {rng.choice(('195/65R15', '215/60R17', '185/70R14'))} done "
                    f"{rng.randint(2, 9)},000 km ago.")
    if rng.random() < 0.1:
        body.append(f"0-100 in {rng.randint(6, 13)}.{rng.randint(0, 9)} seconds.")
    return finish(rng, "car", title, body)


def rental(rng: random.Random) -> Text:
    rooms = rng.choice((1, 1, 2, 2, 3, 4))
    town = rng.choice(TOWNS)
    rent = rng.randrange(8, 150) * 1000
    title = rng.choice((f"{rooms} bedroom apartment to let in {town}",
                        f"Spacious {rooms}BR house for rent, {town}",
                        f"{rooms} bedroom maisonette {town} - {kes(rng, rent)} pm"))
    body = [
        f"Rent {kes(rng, rent)} per month, deposit {rng.choice((1, 2))} month(s).",
        rng.choice((f"Service charge {kes(rng, rng.randrange(2, 15) * 500)}.",
                    f"Water {kes(rng, rng.randrange(3, 12) * 100)} per month.",
                    f"{rng.randint(60, 240)} sqm, {rng.randint(1, 14)}th floor.")),
        rng.choice((f"Block {rng.choice('ABCDEF')}, house no. {rng.randint(1, 60)}.",
                    f"{rng.randint(1, 3)} parking slots, lift to all {rng.randint(5, 16)} "
                    "floors.", f"Available from {written_date(rng)}.",
                    f"Viewing on {written_date(rng)} {hours(rng)}.")),
        *sentences(rng, PROPERTY_LINES, 1, 3),
    ]
    return finish(rng, "rental", title, body)


def land(rng: random.Random) -> Text:
    town = rng.choice(TOWNS)
    size = rng.choice(("50x100", "40x80", "100x100", "1/8 acre", "1/4 acre", "0.5 acre",
                       "1 acre", "2.5 acres"))
    title = f"{size} plot for sale in {town}" + rng.choice(("", " with ready title", ", prime"))
    body = [
        rng.choice((f"Price {kes(rng, rng.randrange(25, 600) * 10_000)}.",
                    f"Cash price {kes(rng, rng.randrange(25, 600) * 10_000)}, installments "
                    f"{kes(rng, rng.randrange(30, 700) * 10_000)}.")),
        rng.choice((f"LR No. {rng.randint(100, 30000)}/{rng.randint(1, 9999)}.",
                    f"{rng.randint(1, 5)} km from the tarmac, {rng.randint(200, 900)}m "
                    "from the school.", f"Approx {rng.randint(400, 4047)} square metres.",
                    f"Site visit every Saturday {hours(rng)}.")),
        *sentences(rng, PROPERTY_LINES, 1, 2),
    ]
    return finish(rng, "land", title, body)


def laptop(rng: random.Random) -> Text:
    brand = rng.choice(sorted(LAPTOP_MODELS))
    model = rng.choice(LAPTOP_MODELS[brand])
    cpu = rng.choice(PROCESSORS)
    ram, ssd = rng.choice((4, 8, 8, 16, 32)), rng.choice((128, 256, 256, 512, 1000))
    title = rng.choice((f"{brand} {model} {cpu} {ram}GB {ssd}GB SSD",
                        f"{model} {cpu} {ram}GB {ssd}SSD",
                        f"{brand} {model} {ram}/{ssd}"))
    body = [
        rng.choice((f"{cpu}, {ram}GB RAM, {ssd}GB SSD, {rng.choice(('14', '15.6', '13.3'))}\" "
                    "screen.", f"{ram}GB DDR4, {ssd}GB NVMe, Windows 11 Pro.",
                    f"Battery lasts {rng.randint(3, 9)} hrs.")),
        f"Price {kes(rng, rng.randrange(12, 300) * 500)}.",
        *sentences(rng, GOODS_LINES, 1, 2),
    ]
    return finish(rng, "laptop", title, body)


def television(rng: random.Random) -> Text:
    brand = rng.choice(("Samsung", "LG", "Hisense", "TCL", "Vitron", "Sony", "Skyworth"))
    size = rng.choice((32, 40, 43, 50, 55, 65, 75))
    title = f"{brand} {size} inch {rng.choice(('', '4K ', 'UHD '))}smart TV"
    body = [
        rng.choice((f"Model {brand[:2].upper()}{size}A{rng.randint(4, 9)}K "
                    f"({rng.randint(2019, 2025)}).",
                    f"{rng.randint(2, 4)} HDMI, {rng.randint(1, 3)} USB, {rng.randint(2019, 2025)} "
                    "model.", f"Wall mount included, {rng.randint(1, 3)} year warranty.")),
        f"Going for {kes(rng, rng.randrange(16, 300) * 1000)}.",
        *sentences(rng, GOODS_LINES, 1, 2),
    ]
    return finish(rng, "tv", title, body)


def furniture(rng: random.Random) -> Text:
    item = rng.choice(("6x6 bed with mattress", "5x6 bed", "7 seater sofa set",
                       "5 seater L-shaped sofa", "6 seater dining table", "3 door wardrobe",
                       "Office chair"))
    title = item + rng.choice(TITLE_TAILS)
    body = [
        rng.choice((f"Dimensions {rng.randint(120, 240)} x {rng.randint(60, 200)} x "
                    f"{rng.randint(30, 110)} cm.", "3+2+1+1 seater, mahogany frame.",
                    f"Made to order in {rng.randint(7, 21)} days.")),
        rng.choice((f"Price {kes(rng, rng.randrange(8, 180) * 1000)}.",
                    f"{kes(rng, rng.randrange(8, 180) * 1000)} each, 2 for "
                    f"{kes(rng, rng.randrange(16, 300) * 1000)}.")),
        *sentences(rng, GOODS_LINES, 0, 2),
    ]
    return finish(rng, "furniture", title, body)


def fashion(rng: random.Random) -> Text:
    item = rng.choice(("Kitenge dress", "Official shoes", "Nike Air Force 1", "Men's suit",
                       "Jeans", "Handbag", "Ladies' sandals"))
    size = rng.choice(("8", "10", "12", "14", "40", "41", "42", "43", "44", "M", "XL"))
    title = f"{item} size {size}"
    body = [
        rng.choice(("Sizes 8, 10, 12, 14 and 16 available.", "Sizes 38 to 45 in stock.",
                    f"Sizes {rng.randint(36, 40)}-{rng.randint(41, 46)}.")),
        rng.choice((f"{kes(rng, rng.randrange(3, 60) * 100)} each, 3 for "
                    f"{kes(rng, rng.randrange(8, 150) * 100)}.",
                    f"Price {kes(rng, rng.randrange(3, 120) * 100)}.")),
        *sentences(rng, GOODS_LINES, 0, 1),
    ]
    return finish(rng, "fashion", title, body)


def job(rng: random.Random) -> Text:
    role = rng.choice(("Shop attendant", "Driver", "House help", "Sales executive",
                       "Accountant", "Cook", "Security guard"))
    title = rng.choice((f"{role} needed in {rng.choice(TOWNS)}", f"Hiring: {role}",
                        f"Vacancy: {role} ({rng.randint(1, 5)} positions)"))
    low = rng.randrange(10, 60) * 1000
    body = [
        rng.choice((f"Salary {kes(rng, low)} - {kes(rng, low + 5000)} per month.",
                    f"Pay {kes(rng, low)} monthly plus commission.")),
        f"Working hours {hours(rng)}, Monday to Saturday.",
        rng.choice((f"Age {rng.randint(20, 28)}-{rng.randint(30, 45)} years.",
                    f"Apply before {written_date(rng)}.",
                    f"Interviews on {written_date(rng)} at {hours(rng)}.",
                    f"At least {rng.randint(1, 5)} years experience.")),
        *sentences(rng, JOB_LINES, 1, 2),
    ]
    return finish(rng, "job", title, body)


KINDS: tuple[tuple[Callable[[random.Random], Text], int], ...] = (
    (phone, 24), (car, 18), (rental, 14), (land, 8), (laptop, 10), (television, 7),
    (furniture, 8), (fashion, 6), (job, 5),
)


def clean_ads(count: int, seed: int = 2025) -> list[Text]:
    rng = random.Random(seed)
    makers = [maker for maker, weight in KINDS for _ in range(weight)]
    return [rng.choice(makers)(rng) for _ in range(count)]


def fleet(rng: random.Random, size: int) -> list[Text]:
    """A dealer's near-identical ads: one model, the same template, different numbers."""
    make = rng.choice(sorted(CAR_MODELS))
    model = rng.choice(CAR_MODELS[make])
    texts = []
    for _ in range(size):
        year, km = rng.randint(2010, 2020), rng.randrange(30, 200) * 1000
        colour = rng.choice(COLOURS)
        texts.append(Text("fleet", f"{make} {model} {year} {colour}",
                          f"{make} {model}, {year}, {km:,} km, {colour}. Duty paid, logbook "
                          f"ready. Price {kes(rng, rng.randrange(60, 300) * 10_000)}. Trade-in "
                          "accepted."))
    return texts
