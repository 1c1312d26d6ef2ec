"""What the benchmark ads are made of: Kenyan classifieds vocabulary, prices and names.

Keyed by the demo tree's category names (apps/categories/demo.py). A leaf this file does not
know falls back to its root's profile, and a root it does not know to GENERIC, so the generator
keeps working when staff (or a later demo tree) add categories.

Prices are KES: (low, typical, high); the generator draws them log-triangular between low and
high around typical, then rounds them the way sellers do (27,999 / 1,350,000).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Profile:
    weight: float  # relative share of all ads
    price: tuple[int, int, int]  # KES low, typical, high
    nouns: tuple[str, ...]  # what is sold, as a title starts
    goods: bool | None = None  # has a condition (new / used / refurbished); None: as its root
    new_share: float | None = None  # of goods with a condition, how many are new; None: root's
    per: str = ""  # price unit said in descriptions ("per month")


def p(weight: float, low: int, typical: int, high: int, *nouns: str,
      goods: bool | None = None, new_share: float | None = None, per: str = "") -> Profile:
    return Profile(weight, (low, typical, high), nouns, goods, new_share, per)


GENERIC = p(1.0, 200, 5_000, 200_000, "Item for sale", "Bidhaa safi", goods=True,
            new_share=0.4)

ROOTS: dict[str, Profile] = {
    "Vehicles": p(1.0, 5_000, 900_000, 12_000_000, "Vehicle", new_share=0.2),
    "Property": p(1.0, 8_000, 45_000, 60_000_000, "Property", goods=False),
    "Mobile Phones & Tablets": p(1.0, 500, 15_000, 200_000, "Phone accessory", new_share=0.6),
    "Electronics": p(1.0, 1_000, 15_000, 300_000, "Electronics", new_share=0.45),
    "Home, Furniture & Garden": p(1.0, 300, 12_000, 250_000, "Home item", new_share=0.55),
    "Fashion": p(1.0, 300, 2_500, 60_000, "Fashion item", new_share=0.7),
    "Jobs": p(1.0, 12_000, 35_000, 400_000, "Job vacancy", goods=False, per="per month"),
    "Services": p(1.0, 500, 5_000, 150_000, "Service", goods=False),
    "Animals & Pets": p(1.0, 300, 8_000, 150_000, "Pet", goods=False),
    "Babies & Kids": p(1.0, 300, 3_500, 60_000, "Kids item", new_share=0.6),
    "Health & Beauty": p(1.0, 200, 2_000, 40_000, "Beauty product", new_share=0.9),
    "Repair & Construction": p(1.0, 300, 8_000, 600_000, "Building material", new_share=0.8),
    "Agriculture & Food": p(1.0, 100, 3_000, 3_000_000, "Farm produce", goods=False),
    "Commercial Equipment": p(1.0, 5_000, 60_000, 3_000_000, "Equipment", new_share=0.5),
}

# Shares loosely follow big Kenyan classifieds sites: phones, cars, rentals and home lead.
LEAVES: dict[str, Profile] = {
    # Vehicles
    "Cars": p(8.0, 250_000, 1_200_000, 15_000_000, "Car"),
    "Motorcycles & Scooters": p(2.0, 45_000, 120_000, 1_200_000, "Motorbike", new_share=0.3),
    "Vehicle Parts & Accessories": p(
        2.5, 500, 6_000, 250_000, "Car battery", "Alloy rims 17 inch", "Side mirror",
        "Headlights", "Shock absorbers", "Brake pads", "Car radio Android", "Front bumper",
        "Gearbox", "Engine 1NZ", "Tyres 195/65R15", "Seat covers", "Dashcam", "Radiator",
        "Alternator", "Taillights", "Car mats", new_share=0.5),
    "Buses & Microbuses": p(0.4, 600_000, 2_800_000, 9_000_000, "Toyota Hiace", "Nissan Caravan",
                            "Isuzu NQR bus", "Mitsubishi Rosa", "Toyota Coaster",
                            "Scania bus 67 seater", new_share=0.1),
    "Trucks & Trailers": p(0.6, 900_000, 3_500_000, 16_000_000, "Isuzu FRR", "Isuzu NPR",
                           "Mitsubishi Canter", "Mercedes Actros", "Scania R420", "Fuso Fighter",
                           "Toyota Dyna", "Volvo FH", "Skeleton trailer", "Tipper truck",
                           new_share=0.1),
    "Heavy Equipment": p(0.3, 1_500_000, 6_000_000, 30_000_000, "Caterpillar excavator",
                         "JCB backhoe loader", "Komatsu bulldozer", "Road roller", "Forklift",
                         "Concrete mixer truck", "Motor grader", new_share=0.15),
    "Watercraft & Boats": p(0.2, 80_000, 900_000, 12_000_000, "Fibreglass boat", "Jet ski",
                            "Fishing boat", "Speedboat", "Yamaha outboard engine 40HP",
                            new_share=0.25),
    # Property
    "Apartments for Rent": p(4.0, 8_000, 35_000, 400_000, "apartment", goods=False,
                             per="per month"),
    "Houses for Rent": p(2.0, 12_000, 60_000, 600_000, "house", "bungalow", "maisonette",
                         "townhouse", goods=False, per="per month"),
    "Bedsitters & Studios for Rent": p(2.0, 4_000, 9_000, 30_000, "Bedsitter", "Studio apartment",
                                       "Single room", "Bedsitter with balcony", goods=False,
                                       per="per month"),
    "Apartments for Sale": p(1.2, 2_500_000, 9_500_000, 80_000_000, "apartment", goods=False),
    "Houses for Sale": p(1.2, 3_500_000, 18_000_000, 180_000_000, "house", "bungalow",
                         "maisonette", "villa", goods=False),
    "Land & Plots for Sale": p(2.0, 250_000, 2_500_000, 150_000_000, "50x100 plot",
                               "1/8 acre plot", "1/4 acre plot", "1 acre", "5 acres",
                               "Prime plot", "Commercial plot", goods=False),
    "Land & Plots for Rent": p(0.3, 5_000, 40_000, 600_000, "Land for lease", "Acre for lease",
                               "Yard for rent", "Plot for lease", goods=False, per="per month"),
    "Offices for Rent": p(0.4, 15_000, 80_000, 1_500_000, "Office space", "Furnished office",
                          "Open plan office", goods=False, per="per month"),
    "Shops for Rent": p(0.4, 8_000, 35_000, 500_000, "Shop", "Stall", "Retail space",
                        "Kiosk", goods=False, per="per month"),
    "Warehouses for Rent": p(0.2, 40_000, 250_000, 3_000_000, "Warehouse", "Godown",
                             "Go-down with loading bay", goods=False, per="per month"),
    "Commercial Property for Sale": p(0.2, 5_000_000, 45_000_000, 900_000_000,
                                      "Commercial building", "Block of flats", "Hotel",
                                      "Petrol station", goods=False),
    "Short Let": p(0.5, 2_500, 7_500, 60_000, "Airbnb studio", "Furnished 1 bedroom",
                   "Holiday cottage", "Beach villa", goods=False, per="per night"),
    "Event Centres & Venues": p(0.1, 10_000, 80_000, 800_000, "Garden wedding venue",
                                "Conference hall", "Event grounds", goods=False, per="per day"),
    # Mobile phones & tablets
    "Mobile Phones": p(11.0, 2_500, 18_000, 260_000, "Phone", new_share=0.55),
    "Tablets": p(1.5, 6_000, 25_000, 220_000, "Tablet", new_share=0.5),
    "Accessories": p(2.5, 150, 1_500, 40_000, "Phone charger", "Power bank 20000mAh",
                     "Earphones", "Screen protector", "Phone case", "Bluetooth earbuds",
                     "Type-C cable", "Oraimo power bank", "Car phone holder", "Selfie stick",
                     new_share=0.9),
    "Smart Watches & Trackers": p(1.0, 1_500, 9_000, 90_000, "Apple Watch Series 7",
                                  "Samsung Galaxy Watch 5", "Fitbit Charge 5",
                                  "Huawei Watch GT 3", "Amazfit Bip", "Xiaomi Mi Band 7",
                                  "Oraimo Watch", "Apple Watch SE", new_share=0.6),
    # Electronics
    "Laptops": p(4.0, 12_000, 45_000, 380_000, "Laptop", new_share=0.3),
    "Desktop Computers": p(1.0, 9_000, 35_000, 300_000, "HP ProDesk 600 G3",
                           "Dell OptiPlex 7050", "Lenovo ThinkCentre M720", "iMac 2019",
                           "Gaming PC Ryzen 5", "HP EliteDesk 800 G2", "Dell OptiPlex 3020",
                           new_share=0.25),
    "Computer Monitors": p(0.6, 4_000, 14_000, 120_000, "Dell 24 inch monitor",
                           "HP 22 inch monitor", "Samsung curved monitor 27 inch",
                           "LG UltraWide 29 inch", "Lenovo 19 inch monitor", new_share=0.4),
    "Computer Accessories": p(1.0, 300, 2_500, 45_000, "Wireless keyboard and mouse",
                              "External hard disk 1TB", "Flash disk 64GB", "RAM 8GB DDR4",
                              "SSD 512GB", "UPS 650VA", "Laptop charger", "Webcam 1080p",
                              "Laptop bag", new_share=0.75),
    "Printers & Scanners": p(0.6, 6_000, 28_000, 250_000, "HP LaserJet Pro M404",
                             "Epson L3250", "Canon Pixma G2411", "Kyocera Ecosys M2040",
                             "HP Smart Tank 515", "Brother DCP-T420W", new_share=0.5),
    "Televisions": p(3.0, 8_000, 38_000, 450_000, "TV", new_share=0.6),
    "Audio & Music Equipment": p(1.0, 1_500, 12_000, 250_000, "JBL Charge 5 speaker",
                                 "Sony subwoofer", "Yamaha keyboard PSR", "Acoustic guitar",
                                 "Yamaha mixer 12 channel", "Shure SM58 microphone",
                                 "Amplifier", "Vitron woofer", new_share=0.5),
    "Headphones": p(0.7, 500, 4_500, 70_000, "Sony WH-1000XM4", "AirPods Pro",
                    "JBL Tune 510BT", "Oraimo FreePods", "Beats Studio 3", "Samsung Buds 2",
                    new_share=0.65),
    "Home Theatre Systems": p(0.5, 7_000, 25_000, 180_000, "LG home theatre", "Samsung soundbar",
                              "Sony 5.1 home theatre", "Vitron home theatre", "Ailipu woofer",
                              new_share=0.55),
    "Cameras & Photography": p(0.7, 4_000, 45_000, 600_000, "Canon EOS 2000D", "Nikon D3500",
                               "Sony A7 III", "GoPro Hero 10", "DJI Mini 3 drone",
                               "CCTV camera kit 4 channel", "Canon 70D", "Camera tripod",
                               new_share=0.35),
    "Video Games & Consoles": p(1.0, 1_500, 38_000, 120_000, "PS5", "PS4 Slim", "PS4 Pro",
                               "Xbox Series X", "Xbox One S", "Nintendo Switch",
                               "FIFA 24 PS5 CD", "PS4 controller", new_share=0.35),
    "Networking Products": p(0.4, 1_000, 5_000, 80_000, "TP-Link router", "Huawei 4G router",
                             "Network switch 24 port", "Mikrotik router", "Ubiquiti access point",
                             "Cat6 cable box", new_share=0.6),
    # Home, furniture & garden
    "Sofas & Armchairs": p(1.8, 12_000, 55_000, 350_000, "5 seater L-shaped sofa",
                           "7 seater sofa set", "Chesterfield sofa", "Recliner", "Sofa bed",
                           "Accent chair", new_share=0.7),
    "Beds & Mattresses": p(1.5, 5_000, 25_000, 200_000, "6x6 bed", "5x6 bed",
                           "Mattress 6x6 Comfy", "Bunk bed", "4x6 bed", "Orthopaedic mattress",
                           new_share=0.7),
    "Tables & Chairs": p(1.0, 1_500, 18_000, 200_000, "6 seater dining table", "Office chair",
                         "Coffee table", "Plastic chairs", "Study table", "Bar stools",
                         new_share=0.6),
    "Wardrobes & Storage": p(0.8, 4_000, 18_000, 150_000, "3 door wardrobe", "Shoe rack",
                             "Chest of drawers", "TV stand", "Kitchen cabinet", "Bookshelf",
                             new_share=0.65),
    "Kitchen Appliances": p(1.2, 1_200, 5_500, 90_000, "Blender", "Microwave",
                            "Electric kettle", "Air fryer", "Toaster", "Juicer",
                            "Ramtons water dispenser", new_share=0.7),
    "Refrigerators & Freezers": p(0.9, 15_000, 40_000, 300_000, "LG fridge 260L",
                                  "Hisense deep freezer", "Ramtons fridge", "Samsung side by side",
                                  "Mika chest freezer", "Bruhm fridge", new_share=0.5),
    "Washing Machines": p(0.6, 18_000, 42_000, 200_000, "LG 8kg front load",
                          "Samsung 7kg top load", "Von Hotpoint twin tub", "Hisense 6kg",
                          new_share=0.5),
    "Cookers & Ovens": p(0.7, 6_000, 28_000, 250_000, "Ramtons 4 burner cooker",
                         "Mika gas cooker", "Von standing cooker", "Electric oven",
                         "Table top gas cooker", new_share=0.6),
    "Kitchen & Dining": p(0.8, 250, 2_500, 40_000, "Cookware set", "Dinner set", "Cutlery set",
                          "Thermos flask", "Sufuria set", "Pressure cooker", new_share=0.85),
    "Home Accessories": p(0.9, 300, 3_000, 45_000, "Curtains", "Carpet 5x8", "Duvet",
                          "Wall clock", "Wall mirror", "Bedsheets", "Throw pillows",
                          new_share=0.85),
    "Garden Supplies": p(0.4, 300, 4_000, 120_000, "Garden hose 30m", "Lawn mower",
                         "Flower pots", "Water tank 5000L", "Sprinkler", "Garden chairs",
                         new_share=0.7),
    "Lighting": p(0.4, 200, 2_000, 60_000, "Chandelier", "LED bulbs", "Solar lamp",
                  "Floor lamp", "Wall lights", "Security lights", new_share=0.85),
    # Fashion
    "Women's Clothing": p(2.8, 300, 1_800, 25_000, "Dress", "Kitenge dress", "Jeans", "Blouse",
                          "Jumpsuit", "Leather jacket", "Maxi dress", "Two piece set",
                          new_share=0.75),
    "Men's Clothing": p(2.2, 300, 2_000, 30_000, "Suit", "Shirts", "Jeans", "Hoodie",
                        "Kaunda suit", "T-shirts", "Chinos", "Khaki trousers", new_share=0.75),
    "Shoes": p(2.2, 500, 3_500, 35_000, "Nike Air Force 1", "Adidas Superstar",
               "Timberland boots", "Clarks shoes", "Official shoes", "Sneakers", "Sandals",
               "Jordan 4", "Vans Old Skool", new_share=0.6),
    "Bags": p(0.9, 400, 2_500, 60_000, "Handbag", "Backpack", "Laptop bag", "Travel bag",
              "Leather bag", "Clutch bag", new_share=0.75),
    "Watches": p(0.7, 800, 5_000, 700_000, "Casio watch", "Seiko 5", "Fossil watch",
                 "Michael Kors watch", "Curren watch", "Naviforce watch", new_share=0.7),
    "Jewellery": p(0.6, 300, 2_500, 400_000, "Gold chain", "Earrings", "Bracelet",
                   "Silver ring", "Necklace", "Anklet", new_share=0.85),
    "Clothing Accessories": p(0.5, 200, 800, 10_000, "Belt", "Cap", "Scarf", "Tie",
                              "Sunglasses", "Bucket hat", new_share=0.9),
    # Jobs (price = monthly pay)
    "Accounting & Finance Jobs": p(0.3, 20_000, 55_000, 350_000, "Accountant",
                                   "Accounts assistant", "Bookkeeper", "Finance officer",
                                   goods=False, per="per month"),
    "Driver Jobs": p(0.5, 12_000, 28_000, 80_000, "Driver", "Uber driver", "Lorry driver",
                     "Personal driver", "Boda boda rider", goods=False, per="per month"),
    "Sales & Marketing Jobs": p(0.5, 12_000, 25_000, 150_000, "Sales executive",
                                "Marketing assistant", "Field sales rep", "Telesales agent",
                                goods=False, per="per month"),
    "IT & Software Jobs": p(0.25, 30_000, 90_000, 450_000, "Software developer", "IT support",
                            "Web designer", "Data analyst", goods=False, per="per month"),
    "Hospitality & Hotel Jobs": p(0.3, 12_000, 22_000, 90_000, "Waiter", "Chef", "Cook",
                                  "Receptionist", "Housekeeper", "Barista", goods=False,
                                  per="per month"),
    "Healthcare Jobs": p(0.2, 25_000, 60_000, 300_000, "Nurse", "Clinical officer",
                         "Pharmacist", "Caregiver", "Lab technician", goods=False,
                         per="per month"),
    "Teaching Jobs": p(0.2, 12_000, 30_000, 120_000, "Tutor", "Teacher", "ECD teacher",
                       "Maths tutor", goods=False, per="per month"),
    "Construction & Skilled Trade Jobs": p(0.25, 12_000, 25_000, 90_000, "Mason", "Electrician",
                                           "Plumber", "Welder", "Fundi", "Carpenter",
                                           goods=False, per="per month"),
    "Domestic & Cleaning Jobs": p(0.35, 8_000, 14_000, 35_000, "House help", "Nanny", "Cleaner",
                                  "Gardener", "Watchman", goods=False, per="per month"),
    "Other Jobs": p(0.25, 10_000, 18_000, 100_000, "Security guard", "Shop attendant",
                    "Cashier", "Storekeeper", goods=False, per="per month"),
    # Services
    "Building & Trades Services": p(0.6, 1_000, 15_000, 500_000, "Masonry", "Painting",
                                    "Tiling", "Roofing", "Borehole drilling", goods=False),
    "Car Services": p(0.4, 500, 4_000, 60_000, "Car wash", "Mobile mechanic", "Panel beating",
                      "Car hire", "Towing", goods=False),
    "Cleaning Services": p(0.4, 800, 4_000, 60_000, "House cleaning", "Carpet cleaning",
                           "Fumigation", "Sofa cleaning", goods=False),
    "Computer & IT Services": p(0.4, 500, 5_000, 150_000, "Laptop repair", "Website design",
                                "CCTV installation", "Phone repair", "Software installation",
                                goods=False),
    "Event Services": p(0.4, 2_000, 20_000, 400_000, "Tents and chairs", "DJ services",
                        "Catering", "MC services", "Wedding decor", goods=False),
    "Logistics & Moving Services": p(0.4, 1_000, 8_000, 150_000, "House movers", "Courier",
                                     "Lorry for hire", "Parcel delivery", goods=False),
    "Photography & Video Services": p(0.3, 2_000, 15_000, 250_000, "Wedding photography",
                                      "Videography", "Drone shoot", "Photo booth",
                                      goods=False),
    "Tutoring & Classes": p(0.3, 500, 6_000, 80_000, "Driving school", "Piano lessons",
                            "Home tuition", "Swimming lessons", "French lessons",
                            goods=False),
    "Health & Beauty Services": p(0.4, 300, 2_000, 30_000, "Braiding", "Massage",
                                  "Nail technician", "Makeup artist", "Barber", goods=False),
    "Printing Services": p(0.3, 200, 3_000, 100_000, "Banner printing", "T-shirt printing",
                           "Business cards", "Branding", goods=False),
    # Animals & pets
    "Dogs & Puppies": p(1.0, 3_000, 20_000, 180_000, "puppies", goods=False),
    "Cats & Kittens": p(0.4, 1_500, 6_000, 60_000, "kitten", goods=False),
    "Birds": p(0.5, 300, 3_000, 90_000, "African Grey parrot", "Lovebirds", "Pigeons",
               "Budgies", "Ducks", goods=False),
    "Fish": p(0.3, 100, 1_500, 60_000, "Goldfish", "Koi fish", "Aquarium tank",
              "Tilapia fingerlings", "Catfish fingerlings", goods=False),
    "Pet Accessories": p(0.4, 200, 2_500, 40_000, "Dog cage", "Dog food 15kg", "Cat litter",
                         "Dog collar", "Fish tank filter", goods=True, new_share=0.8),
    # Babies & kids
    "Children's Clothing": p(1.0, 200, 1_200, 10_000, "Baby clothes set", "School uniform",
                             "Kids shoes", "Baby romper", "Kids dress", new_share=0.8),
    "Toys": p(0.9, 200, 2_500, 60_000, "Lego set", "Kids bicycle", "Remote control car",
              "Teddy bear", "Kids ride-on car", "Building blocks", new_share=0.7),
    "Prams & Strollers": p(0.4, 3_000, 12_000, 90_000, "Chicco stroller", "3 in 1 pram",
                           "Baby stroller", "Twin stroller", new_share=0.5),
    "Car Seats": p(0.3, 2_500, 9_000, 45_000, "Baby car seat", "Booster seat",
                  "Chicco car seat", new_share=0.5),
    "Baby Carriers": p(0.2, 1_000, 3_500, 20_000, "Baby carrier", "Ergo baby carrier",
                       "Baby wrap", new_share=0.6),
    "Children's Furniture": p(0.3, 2_000, 9_000, 60_000, "Baby cot", "High chair",
                              "Kids study table", "Toddler bed", new_share=0.6),
    "Maternity & Pregnancy": p(0.2, 300, 2_500, 30_000, "Maternity dress", "Breast pump",
                               "Maternity pillow", "Nursing bra", new_share=0.8),
    # Health & beauty
    "Skin Care": p(0.8, 200, 1_800, 15_000, "Nivea lotion", "CeraVe cleanser",
                   "The Ordinary serum", "Sunscreen SPF 50", "Shea butter", "Face cream"),
    "Hair Beauty": p(0.9, 300, 4_000, 80_000, "Human hair wig", "Brazilian hair",
                     "Weave", "Hair dryer", "Hair clipper", "Bone straight wig"),
    "Makeup": p(0.5, 200, 1_500, 25_000, "Foundation", "Lipstick set", "Makeup kit",
                "Eyeshadow palette", "Makeup brushes"),
    "Fragrances": p(0.7, 500, 5_500, 45_000, "Dior Sauvage", "Chanel No. 5", "Versace Eros",
                    "Hugo Boss", "Oud perfume", "Body mist"),
    "Bath & Body": p(0.3, 150, 800, 8_000, "Bathing soap", "Body scrub", "Shower gel",
                     "Body butter"),
    "Vitamins & Supplements": p(0.3, 500, 3_000, 25_000, "Vitamin C", "Omega 3",
                                "Whey protein", "Multivitamins", "Collagen"),
    "Medical Supplies & Equipment": p(0.3, 500, 8_000, 400_000, "Blood pressure monitor",
                                      "Wheelchair", "Glucometer", "Oxygen concentrator",
                                      "Crutches", new_share=0.7),
    # Repair & construction
    "Cement & Concrete": p(0.5, 650, 8_000, 450_000, "Bamburi cement 50kg", "Simba cement",
                           "Ballast", "Quarry dust", "River sand", "Concrete blocks"),
    "Roofing": p(0.5, 500, 9_000, 600_000, "Mabati box profile", "Iron sheets gauge 30",
                 "Roofing tiles", "Gutters", "Decra roofing"),
    "Timber": p(0.4, 300, 6_000, 300_000, "Cypress timber 2x4", "Blue gum poles", "Plywood",
                "MDF board", "Mahogany timber"),
    "Steel & Iron Sheets": p(0.4, 700, 12_000, 500_000, "Y12 steel bars", "BRC mesh",
                             "Square tubes", "Steel gate", "Angle lines"),
    "Hand Tools": p(0.4, 300, 2_500, 40_000, "Hammer", "Spanner set", "Wheelbarrow",
                    "Tool box", "Spirit level"),
    "Power Tools": p(0.5, 2_500, 12_000, 250_000, "Bosch drill", "Angle grinder",
                     "Generator 3kVA", "Welding machine", "Air compressor", new_share=0.6),
    "Electrical Equipment": p(0.4, 200, 3_000, 150_000, "Cables 2.5mm", "Sockets",
                              "Circuit breakers", "Meter box", "Stabilizer"),
    "Plumbing & Water Supply": p(0.4, 300, 6_000, 250_000, "Water tank 10000L Roto",
                                 "PPR pipes", "Water pump", "Taps", "Toilet set"),
    "Doors & Windows": p(0.4, 3_000, 22_000, 300_000, "Steel door", "Mahogany door",
                         "Aluminium windows", "Glass sliding door", "Security door"),
    "Solar Energy": p(0.6, 1_500, 25_000, 800_000, "Solar panel 300W", "Solar inverter 5kVA",
                      "Lithium battery 200Ah", "Solar water heater", "Solar street light"),
    # Agriculture & food
    "Cattle": p(0.5, 25_000, 90_000, 400_000, "Friesian dairy cow", "Ayrshire heifer",
                "Boran bull", "Jersey cow", "In-calf heifer"),
    "Goats & Sheep": p(0.4, 4_000, 12_000, 60_000, "Galla goats", "Dorper sheep",
                       "Toggenburg dairy goat", "Saanen goat", "Mbuzi ya nyama"),
    "Poultry": p(0.6, 100, 1_200, 300_000, "Kienyeji chicken", "Kuroiler chicks",
                 "Broilers", "Layers", "Improved kienyeji", "Kuku wa kienyeji"),
    "Farm Machinery & Equipment": p(0.4, 5_000, 120_000, 6_000_000, "Massey Ferguson 375",
                                    "John Deere tractor", "Honda water pump", "Chaff cutter",
                                    "Milking machine", "Egg incubator 528", goods=True,
                                    new_share=0.4),
    "Feeds, Supplements & Seeds": p(0.4, 100, 2_800, 60_000, "Dairy meal 70kg",
                                    "Layers mash", "Hybrid maize seed", "Hay bales",
                                    "Silage", goods=False),
    "Fruits & Vegetables": p(0.5, 50, 1_500, 50_000, "Hass avocado", "Mangoes",
                             "Tomatoes crate", "Potatoes bag", "Bananas", "Sukuma wiki",
                             goods=False),
    "Meals & Drinks": p(0.3, 50, 800, 30_000, "Pilau", "Mandazi", "Birthday cake",
                        "Chapati", "Fresh juice", "Pure honey", goods=False),
    # Commercial equipment
    "Restaurant & Catering Equipment": p(0.4, 5_000, 45_000, 800_000, "Commercial fridge",
                                         "Deep fryer", "Chapati griddle", "Popcorn machine",
                                         "Display warmer"),
    "Medical Equipment": p(0.2, 10_000, 120_000, 3_000_000, "Dental chair", "Hospital bed",
                           "Ultrasound machine", "Autoclave"),
    "Printing Equipment": p(0.2, 20_000, 150_000, 2_500_000, "Large format printer",
                            "Heat press", "Embroidery machine", "Photocopier"),
    "Industrial Machinery": p(0.3, 30_000, 250_000, 4_000_000, "Posho mill",
                              "Peanut butter machine", "Block making machine",
                              "Injection moulding machine"),
    "Salon Equipment": p(0.3, 3_000, 15_000, 150_000, "Salon chair", "Hood dryer",
                         "Manicure table", "Barber chair"),
    "Stage & Event Equipment": p(0.2, 5_000, 60_000, 1_500_000, "PA system", "LED screen",
                                 "Stage lights", "Tents 100 seater"),
    "Store Equipment": p(0.2, 3_000, 25_000, 400_000, "Supermarket shelves",
                         "Supermarket trolley", "Cash register", "Display counter"),
    "Safety Equipment": p(0.2, 300, 3_000, 100_000, "Fire extinguisher", "Safety boots",
                          "Helmets", "Reflector jackets"),
}

# --- attribute vocabularies -------------------------------------------------------------------

CAR_MODELS: dict[str, tuple[str, ...]] = {
    "Toyota": ("Fielder", "Axio", "Premio", "Vitz", "Harrier", "Prado", "Land Cruiser V8",
               "Hilux", "Corolla", "Noah", "Voxy", "Probox", "Succeed", "Mark X", "Crown",
               "RAV4", "Allion", "Belta", "Passo", "Wish", "Sienta", "Camry", "Rush"),
    "Nissan": ("Note", "X-Trail", "Juke", "March", "Tiida", "Navara", "Sylphy", "Wingroad",
               "Serena", "Dualis", "AD Van", "Patrol"),
    "Mazda": ("Demio", "Axela", "Atenza", "CX-5", "CX-3", "Verisa", "BT-50"),
    "Subaru": ("Forester", "Impreza", "Outback", "Legacy", "XV", "Levorg"),
    "Mitsubishi": ("Outlander", "Pajero", "L200", "RVR", "Galant", "Canter"),
    "Honda": ("Fit", "Vezel", "CR-V", "Insight", "Stream", "Civic", "Grace"),
    "Mercedes-Benz": ("C200", "E250", "ML350", "GLE 350", "S500", "CLA 180", "A180"),
    "BMW": ("320i", "X5", "X3", "520d", "118i", "X1"),
    "Volkswagen": ("Golf", "Polo", "Passat", "Tiguan", "Touareg", "Amarok"),
    "Isuzu": ("D-Max", "MU-X", "NKR", "FRR", "Trooper"),
    "Ford": ("Ranger", "Everest", "Escape", "Focus", "Ranger Wildtrak"),
    "Land Rover": ("Discovery 4", "Defender", "Freelander 2", "Discovery Sport"),
    "Suzuki": ("Swift", "Alto", "Vitara", "Jimny", "Every", "Escudo"),
    "Hyundai": ("Tucson", "Santa Fe", "i10", "Elantra", "Creta"),
    "Kia": ("Sportage", "Sorento", "Picanto", "Rio"),
    "Lexus": ("RX 450h", "LX 570", "NX 300", "IS 250", "GX 460"),
    "Audi": ("A4", "A6", "Q5", "Q7", "A3"),
    "Peugeot": ("3008", "508", "208", "Partner"),
    "Volvo": ("XC90", "XC60", "V40", "S60"),
    "Jeep": ("Grand Cherokee", "Wrangler", "Compass"),
    "Porsche": ("Cayenne", "Macan", "Panamera"),
    "Range Rover": ("Sport", "Evoque", "Vogue", "Velar"),
    "Other": ("Chevrolet Trax", "Renault Duster", "Tata Xenon", "Foton Tunland"),
}
# How common each make is (Kenya's roads are mostly Japanese used imports).
CAR_MAKE_WEIGHTS = {
    "Toyota": 36, "Nissan": 10, "Mazda": 8, "Subaru": 7, "Mitsubishi": 4, "Honda": 5,
    "Mercedes-Benz": 5, "BMW": 3, "Volkswagen": 4, "Isuzu": 3, "Ford": 2, "Land Rover": 2,
    "Suzuki": 3, "Hyundai": 1.5, "Kia": 1, "Lexus": 2, "Audi": 2, "Peugeot": 0.7, "Volvo": 0.5,
    "Jeep": 0.4, "Porsche": 0.3, "Range Rover": 1.5, "Other": 0.8,
}
# Typical price of a ten-year-old car of the make, KES.
CAR_MAKE_PRICE = {
    "Toyota": 1_300_000, "Nissan": 900_000, "Mazda": 850_000, "Subaru": 1_100_000,
    "Mitsubishi": 1_400_000, "Honda": 900_000, "Mercedes-Benz": 2_400_000, "BMW": 2_000_000,
    "Volkswagen": 1_200_000, "Isuzu": 1_900_000, "Ford": 2_200_000, "Land Rover": 3_000_000,
    "Suzuki": 750_000, "Hyundai": 1_300_000, "Kia": 1_100_000, "Lexus": 3_800_000,
    "Audi": 2_100_000, "Peugeot": 1_200_000, "Volvo": 1_900_000, "Jeep": 2_600_000,
    "Porsche": 5_500_000, "Range Rover": 4_500_000, "Other": 1_000_000,
}
MOTORBIKE_MODELS: dict[str, tuple[str, ...]] = {
    "Bajaj": ("Boxer BM150", "Boxer X150", "Pulsar 150", "RE tuk tuk"),
    "TVS": ("Star HLX 125", "Apache RTR 160", "Raider 125"),
    "Honda": ("CB125", "XR150", "Ace 125", "CRF250"),
    "Yamaha": ("YBR 125", "Crux", "R15", "MT-07"),
    "Suzuki": ("GN125", "DR200", "Burgman"),
    "Boxer": ("BM150", "BM100"),
    "Haojue": ("HJ150", "DK150"),
    "Kawasaki": ("KLX 250", "Ninja 400"),
    "KTM": ("Duke 390", "RC 200"),
    "Other": ("Skygo 150", "Captain 150", "Lifan 150"),
}
MOTORBIKE_MAKE_WEIGHTS = {"Bajaj": 30, "TVS": 18, "Honda": 10, "Yamaha": 8, "Suzuki": 4,
                          "Boxer": 14, "Haojue": 6, "Kawasaki": 2, "KTM": 2, "Other": 6}
PHONE_MODELS: dict[str, tuple[str, ...]] = {
    "Apple": ("iPhone 11", "iPhone 12", "iPhone 12 Pro Max", "iPhone 13", "iPhone 13 Pro",
              "iPhone 14", "iPhone 14 Pro Max", "iPhone 15", "iPhone 15 Pro", "iPhone XR",
              "iPhone X", "iPhone 16 Pro Max"),
    "Samsung": ("Galaxy A14", "Galaxy A24", "Galaxy A34", "Galaxy A54", "Galaxy S21 Ultra",
                "Galaxy S22", "Galaxy S23 Ultra", "Galaxy Note 20 Ultra", "Galaxy A05s",
                "Galaxy Z Flip 5", "Galaxy S24"),
    "Tecno": ("Camon 20 Pro", "Camon 30", "Spark 10", "Spark 20 Pro", "Pova 5", "Pop 8",
              "Phantom X2"),
    "Infinix": ("Hot 30", "Hot 40 Pro", "Note 30", "Smart 8", "Zero 30", "Hot 12i"),
    "Xiaomi": ("Redmi Note 12", "Redmi Note 13 Pro", "Redmi 13C", "Poco X5 Pro", "Redmi A3",
               "Xiaomi 13T"),
    "Oppo": ("A78", "Reno 8", "A58", "A18", "Reno 10"),
    "Itel": ("A70", "S23", "P40", "A05s", "it2163"),
    "Nokia": ("G21", "C32", "105", "3310", "G42"),
    "Huawei": ("P30 Pro", "Nova 9", "Y9 Prime", "P40 Lite", "Mate 20"),
    "Realme": ("C55", "C53", "11 Pro", "Note 50"),
    "Vivo": ("Y36", "Y17s", "V27", "Y03"),
    "Google": ("Pixel 6", "Pixel 7 Pro", "Pixel 8", "Pixel 4a"),
    "OnePlus": ("Nord CE 3", "10 Pro", "11", "Nord N20"),
    "Motorola": ("Moto G84", "Moto G54", "Edge 40"),
    "Other": ("Oale X5", "Hotwav Cyber 13", "Blackview A55"),
}
PHONE_BRAND_WEIGHTS = {"Apple": 16, "Samsung": 22, "Tecno": 15, "Infinix": 12, "Xiaomi": 8,
                       "Oppo": 4, "Itel": 6, "Nokia": 3, "Huawei": 3, "Realme": 2, "Vivo": 2,
                       "Google": 2, "OnePlus": 1.5, "Motorola": 1, "Other": 1}
PHONE_BRAND_PRICE = {"Apple": 75_000, "Samsung": 30_000, "Tecno": 16_000, "Infinix": 15_000,
                     "Xiaomi": 20_000, "Oppo": 22_000, "Itel": 8_000, "Nokia": 6_000,
                     "Huawei": 25_000, "Realme": 17_000, "Vivo": 18_000, "Google": 45_000,
                     "OnePlus": 40_000, "Motorola": 22_000, "Other": 12_000}
TABLET_MODELS: dict[str, tuple[str, ...]] = {
    "Apple": ("iPad 9th Gen", "iPad Air 5", "iPad Pro 11", "iPad Mini 6", "iPad 10th Gen"),
    "Samsung": ("Galaxy Tab A8", "Galaxy Tab S7", "Galaxy Tab A7 Lite", "Galaxy Tab S9"),
    "Lenovo": ("Tab M10", "Tab P11", "Tab M8"),
    "Huawei": ("MatePad T10", "MatePad 11"),
    "Tecno": ("MegaPad 10",),
    "Amazon": ("Fire HD 10", "Fire HD 8", "Kindle Paperwhite"),
    "Microsoft": ("Surface Pro 7", "Surface Go 3", "Surface Pro 9"),
    "Other": ("Modio M30", "Atouch kids tablet", "C idea 10 inch"),
}
LAPTOP_MODELS: dict[str, tuple[str, ...]] = {
    "HP": ("EliteBook 840 G5", "EliteBook 840 G7", "ProBook 450 G8", "Pavilion 15", "Envy x360",
           "Spectre x360", "Victus 15", "250 G8"),
    "Dell": ("Latitude 5490", "Latitude 7490", "XPS 13", "Inspiron 15 3000", "Vostro 3510",
             "Precision 5520", "Latitude E7450"),
    "Lenovo": ("ThinkPad T480", "ThinkPad X1 Carbon", "IdeaPad 3", "ThinkPad X260",
               "Yoga 7", "Legion 5", "ThinkPad T14"),
    "Apple": ("MacBook Air M1", "MacBook Air M2", "MacBook Pro 2019", "MacBook Pro M1 Pro",
              "MacBook Pro M3"),
    "Asus": ("VivoBook 15", "ZenBook 14", "ROG Strix G15", "TUF Gaming F15"),
    "Acer": ("Aspire 5", "Swift 3", "Nitro 5", "TravelMate P2"),
    "Microsoft": ("Surface Laptop 3", "Surface Laptop 4", "Surface Book 2"),
    "Toshiba": ("Tecra Z40", "Portege X20W", "Satellite Pro"),
    "Samsung": ("Galaxy Book 2", "Galaxy Book 3 Pro"),
    "Other": ("Huawei MateBook D15", "MSI GF63", "Chromebook 11"),
}
PROCESSORS = ("Core i3", "Core i5", "Core i7", "Core i5 8th Gen", "Core i7 10th Gen",
              "Ryzen 5", "Ryzen 7", "Celeron", "M1", "M2", "Core i9")
TV_BRAND_WEIGHTS = {"Samsung": 18, "LG": 14, "Sony": 6, "Hisense": 16, "TCL": 14, "Vitron": 12,
                    "Skyworth": 8, "Other": 6}
TV_SIZES = ("24", "32", "40", "43", "50", "55", "65", "75", "85")
COLOURS = ("black", "white", "silver", "blue", "red", "grey", "gold", "green", "purple",
           "pearl white", "midnight black")
DOG_BREEDS = ("German Shepherd", "Rottweiler", "Pitbull", "Japanese Spitz", "Boerboel",
              "Labrador", "Husky", "Maltese", "Golden Retriever", "Doberman", "Chihuahua",
              "Bull Terrier", "Mixed breed")
CAT_BREEDS = ("Persian", "Siamese", "Local", "Maine Coon", "British Shorthair", "Ragdoll")
PLATES = ("KCA", "KCB", "KCD", "KCG", "KCK", "KCN", "KCQ", "KCS", "KCU", "KCX", "KCZ", "KDA",
          "KDB", "KDC", "KDD", "KDE", "KDG", "KDH", "KDJ", "KDK", "KDL")

# --- people -----------------------------------------------------------------------------------

FIRST_NAMES = (
    "Amani", "Baraka", "Wanjiru", "Achieng", "Kamau", "Njeri", "Mwangi", "Chebet", "Wafula",
    "Nafula", "Hassan", "Fatuma", "Mohamed", "Aisha", "Brian", "Kevin", "Mercy", "Faith",
    "Grace", "Dennis", "Collins", "Sharon", "Purity", "Joy", "Cynthia", "Emmanuel", "Victor",
    "Ian", "Esther", "Lucy", "Peter", "John", "Mary", "James", "Ann", "Joseph", "Margaret",
    "David", "Daniel", "Nancy", "Caroline", "Kelvin", "Dorcas", "Stephen", "Samuel", "Wairimu",
    "Akinyi", "Atieno", "Otieno", "Kiprono", "Jepkosgei", "Moraa", "Kerubo", "Nyambura",
    "Salim", "Zawadi", "Neema", "Imani", "Abdi", "Halima", "Musa", "Ruth", "Beatrice", "Eunice",
    "Felix", "Geoffrey", "Hillary", "Irene", "Lilian", "Maureen", "Nelson", "Patrick", "Rose",
    "Tabitha", "Winnie", "Yvonne", "Zipporah", "Gladys", "Alex", "Mike",
)
LAST_NAMES = (
    "Mwangi", "Otieno", "Kamau", "Wanjiku", "Ochieng", "Kiprop", "Njoroge", "Mutua", "Wambui",
    "Odhiambo", "Kariuki", "Chege", "Omondi", "Kimani", "Mohamed", "Hassan", "Wekesa", "Barasa",
    "Korir", "Cheruiyot", "Nyaga", "Muthoni", "Akinyi", "Atieno", "Onyango", "Maina", "Githinji",
    "Ndungu", "Mburu", "Kilonzo", "Musyoka", "Mutiso", "Langat", "Rotich", "Kiptoo", "Juma",
    "Ali", "Abdi", "Okoth", "Owino", "Wafula", "Simiyu", "Nyongesa", "Makori", "Nyamweya",
    "Kibet", "Kosgei", "Macharia", "Gitau", "Njuguna", "Waweru", "Kiplagat", "Ngugi", "Oduya",
)
SELLER_BIOS = (
    "", "", "", "Genuine seller, fast delivery.", "Dealer in quality ex-Japan vehicles.",
    "Tunauza simu original, warranty included.", "Karibu! Bei poa na mali safi.",
    "Delivery countrywide via G4S and Wells Fargo.", "Real estate agent, Nairobi and Kiambu.",
    "Furniture workshop in Gikomba, custom orders welcome.",
)

# --- words ------------------------------------------------------------------------------------

TITLE_TAILS = (
    "", "", "", "", "", " - clean", " safi sana", " bei poa", " for sale", " mint condition",
    ", very clean", " - urgent sale", " original", " with warranty", " brand new",
    " ex-UK", " quick sale", " bei nafuu", " in excellent condition", ", negotiable",
    " inauzwa", " - offer", " (delivery available)", " mpya kabisa",
)
OPENERS = (
    "{title}.", "Selling my {title}.", "Inauzwa: {title}.", "We have {title} available.",
    "{title} for sale.", "Up for grabs: {title}.", "Niko na {title} inauzwa.",
    "Clean {title}, well maintained.",
)
GOODS_LINES = (
    "Item is in excellent condition, no scratches.", "Used for a short time only.",
    "Original, not a refurbished copy.", "Comes with the original box and receipt.",
    "Haijatumika sana, iko poa kabisa.", "Mali safi, hakuna shida yoyote.",
    "Fully tested and working perfectly.", "Slight wear on the edges but works well.",
    "Bought it last year, selling because I upgraded.", "Brand new, sealed in the box.",
    "Imported from the UK.", "One year warranty from the shop.",
)
NEW_LINES = ("Brand new, sealed in the box.", "Mpya kabisa, haijafunguliwa.",
             "Comes with one year warranty.", "Original from the manufacturer.")
PROPERTY_LINES = (
    "Water available 24/7 and reliable electricity.", "Secure compound with CCTV and guard.",
    "Close to the main road, shopping centre and schools.", "Ample parking for residents.",
    "Backup generator and borehole water.", "Spacious rooms with modern finishes.",
    "Ready title deed, clean search.", "Lift, gym and swimming pool.",
    "Maji safi na umeme wa kutosha.", "Nyumba iko karibu na stage.",
    "Deposit is one month rent.", "Viewing fee applies.",
)
JOB_LINES = (
    "Send your CV and copies of certificates.", "Minimum KCSE C plain.",
    "Must be honest, hardworking and reliable.", "Accommodation provided.",
    "Immediate start for the right candidate.", "Experience of at least two years required.",
    "Valid driving licence and certificate of good conduct required.",
    "Tuma CV yako leo.", "Apply through the marketplace chat.",
)
SERVICE_LINES = (
    "We serve Nairobi and its environs.", "Affordable rates, quality work.",
    "Over 10 years of experience.", "Kazi safi, bei nafuu.", "Free quotation on site.",
    "Available weekends and public holidays.", "Fully licensed and insured team.",
)
ANIMAL_LINES = (
    "Vaccinated and dewormed.", "Healthy and well fed.", "Parents on site.",
    "Wako na afya nzuri.", "Kienyeji breed, free range.", "Pure breed with papers.",
)
CLOSERS = (
    "Price is slightly negotiable.", "Bei ya mwisho, no negotiation.", "Serious buyers only.",
    "Delivery available within Nairobi.", "Tuma message kwa maelezo zaidi.",
    "Call or chat for more details.", "Karibu sana!", "Pay on delivery.",
    "Viewing by appointment.", "No time wasters please.", "Chat with me here on the marketplace.",
    "Tunapatikana {town}.", "Located in {town}.", "Pick up from {town} or we deliver.",
    "Delivery countrywide.", "Mwenye nia tu apige simu.",
)
PLAIN_CLOSERS = (
    "Call or chat for more details.", "Karibu sana!", "Tunapatikana {town}.",
    "Located in {town}.", "Chat with me here on the marketplace.", "Serious enquiries only.",
)
NEGOTIABLE = ("Price is negotiable.", "Bei inaongea.", "Slightly negotiable.")

# Common misspellings on classifieds sites, then the generic keyboard slips in the generator.
MISSPELLINGS = {
    "negotiable": "negotiatable", "excellent": "excelent", "condition": "condtion",
    "available": "availlable", "accessories": "accesories", "Samsung": "Samsang",
    "iPhone": "Iphone", "Toyota": "Toyata", "warranty": "waranty", "original": "orignal",
    "delivery": "delivary", "apartment": "appartment", "bedroom": "bedrom",
    "furniture": "furnitures", "brand new": "brandnew", "Mercedes-Benz": "Mercedez Benz",
    "sofa": "sofer", "mattress": "matress", "Nairobi": "Nairobbi", "Subaru": "Subaro",
    "Nissan": "Nisan", "laptop": "labtop", "genuine": "genuin", "Mitsubishi": "Mitsubshi",
    "maintained": "maintaned", "immediately": "immediatly",
}
