#!/usr/bin/env python3
"""Writes the bundled demo shop's exports (Shopify customers, orders and products).

The numbers reproduce the demo of the reference plan at the pinned as-of date 2024-10-01:
10 customers, 57 orders, 13 segments (customer tags), about $28K revenue, VIP 1 ($8,500),
Active 3 (average $3,133), At-Risk 2 (average $1,575: Lisa Thompson and Mike Johnson),
Robert Wilson inactive for 90 days. Run it to regenerate; the output is deterministic.
"""
import csv
import datetime as dt
import random
from zoneinfo import ZoneInfo

TZ = ZoneInfo("America/New_York")
rng = random.Random(20241001)

ORDER_HEADER = "Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,Currency,Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem compare at price,Lineitem sku,Lineitem requires shipping,Lineitem taxable,Lineitem fulfillment status,Billing Name,Billing Street,Billing Address1,Billing Address2,Billing Company,Billing City,Billing Zip,Billing Province,Billing Country,Billing Phone,Shipping Name,Shipping Street,Shipping Address1,Shipping Address2,Shipping Company,Shipping City,Shipping Zip,Shipping Province,Shipping Country,Shipping Phone,Notes,Note Attributes,Cancelled at,Payment Method,Payment Reference,Refunded Amount,Vendor,Outstanding Balance,Employee,Location,Device ID,Id,Tags,Risk Level,Source,Lineitem discount,Tax 1 Name,Tax 1 Value,Tax 2 Name,Tax 2 Value,Tax 3 Name,Tax 3 Value,Tax 4 Name,Tax 4 Value,Tax 5 Name,Tax 5 Value,Phone,Receipt Number,Duties,Billing Province Name,Shipping Province Name,Payment ID,Payment Terms Name,Next Payment Due At,Payment References".split(",")
CUSTOMER_HEADER = "Customer ID,First Name,Last Name,Email,Accepts Email Marketing,Default Address Company,Default Address Address1,Default Address Address2,Default Address City,Default Address Province Code,Default Address Country Code,Default Address Zip,Default Address Phone,Phone,Accepts SMS Marketing,Total Spent,Total Orders,Note,Tax Exempt,Tags,Accepts WhatsApp Marketing".split(",")
PRODUCT_HEADER = "Handle,Title,Body (HTML),Vendor,Product Category,Type,Tags,Published,Option1 Name,Option1 Value,Variant SKU,Variant Grams,Variant Inventory Tracker,Variant Inventory Qty,Variant Inventory Policy,Variant Fulfillment Service,Variant Price,Variant Compare At Price,Variant Requires Shipping,Variant Taxable,Variant Barcode,Image Src,Image Position,Image Alt Text,Gift Card,SEO Title,SEO Description,Variant Weight Unit,Cost per item,Status".split(",")

PRODUCTS = {
    "Home": [("HOM-CANDLE", "Soy Candle", 25), ("HOM-THROW", "Wool Throw Blanket", 90), ("HOM-VASE", "Ceramic Vase", 45), ("HOM-LAMP", "Brass Table Lamp", 120), ("HOM-MUG", "Stoneware Mug Set", 35)],
    "Electronics": [("ELE-SPEAKER", "Bluetooth Speaker", 150), ("ELE-CHARGER", "Wireless Charger", 40), ("ELE-HEADPH", "Noise-Cancelling Headphones", 280)],
    "Fashion": [("FAS-SCARF", "Silk Scarf", 60), ("FAS-TOTE", "Leather Tote", 180), ("FAS-SWEATER", "Merino Sweater", 110)],
    "Office": [("OFF-DESK", "Standing Desk Converter", 420), ("OFF-CHAIR", "Ergonomic Chair", 650), ("OFF-NOTE", "Notebook Set", 22)],
    "Beauty": [("BEA-SERUM", "Vitamin C Serum", 48), ("BEA-CREAM", "Night Cream", 64)],
}

# (id, first, last, email, phone, company, city, province, zip, accepts, tags,
#  revenue, order count, first order, last order, categories, discount share, pos share)
CUSTOMERS = [
    ("7405010000101", "Sarah", "Chen", "sarah.chen@example.com", "+12125550101", "", "New York", "NY", "10001", "yes", ["VIP_HIGH_VALUE"], 8500, 10, "2023-01-15", "2024-09-20", ["Office", "Electronics", "Home"], 0.1, 0.2),
    ("7405010000102", "David", "Park", "david.park@parkdesign.example.com", "+16175550102", "Park Design Studio", "Boston", "MA", "02108", "yes", ["BUSINESS_PROF"], 4800, 7, "2023-05-02", "2024-09-10", ["Office", "Electronics"], 0.0, 0.0),
    ("7405010000103", "Emma", "Rodriguez", "emma.rodriguez@example.com", "+13055550103", "", "Miami", "FL", "33101", "yes", ["TECH_ENTHUSIAST", "NEWSLETTER", "MOBILE_FIRST"], 2600, 6, "2023-08-10", "2024-09-25", ["Electronics", "Beauty"], 0.2, 0.0),
    ("7405010000104", "James", "Miller", "james.miller@example.com", "+13125550104", "", "Chicago", "IL", "60601", "no", ["LOYAL_REGULAR", "GIFT_BUYER"], 2000, 5, "2023-11-05", "2024-08-30", ["Fashion", "Home"], 0.2, 0.2),
    ("7405010000105", "Olivia", "Brown", "olivia.brown@example.com", "+15035550105", "", "Portland", "OR", "97201", "yes", ["NEW_SIGNUP", "HOME_DECOR", "NEWSLETTER"], 350, 1, "2024-09-18", "2024-09-18", ["Home"], 0.0, 0.0),
    ("7405010000106", "Lisa", "Thompson", "lisa.thompson@example.com", "+14155550106", "", "San Francisco", "CA", "94102", "yes", ["PRICE_SENSITIVE", "FASHION_FOCUSED", "MOBILE_FIRST"], 1950, 6, "2023-12-01", "2024-07-28", ["Fashion", "Beauty"], 0.7, 0.0),
    ("7405010000107", "Mike", "Johnson", "mike.johnson@example.com", "+12065550107", "", "Seattle", "WA", "98101", "yes", ["LOYAL_REGULAR", "PRICE_SENSITIVE", "HOME_DECOR"], 1200, 12, "2023-03-08", "2024-08-05", ["Home"], 0.67, 0.17),
    ("7405010000108", "Robert", "Wilson", "robert.wilson@example.com", "+17135550108", "", "Houston", "TX", "77001", "no", ["WIN_BACK_TARGET"], 2900, 4, "2023-04-20", "2024-07-03", ["Office", "Home"], 0.0, 0.0),
    ("7405010000109", "Anna", "Kowalski", "anna.kowalski@example.com", "+13035550109", "", "Denver", "CO", "80202", "yes", ["LAPSED", "GIFT_BUYER"], 2100, 3, "2023-02-14", "2024-02-10", ["Fashion", "Beauty"], 0.0, 0.0),
    ("7405010000110", "Tom", "Becker", "tom.becker@example.com", "+16125550110", "", "Minneapolis", "MN", "55401", "yes", ["LAPSED", "NEWSLETTER"], 1650, 3, "2023-01-28", "2023-12-01", ["Electronics", "Home"], 0.0, 0.0),
]

def cents(x):
    return f"{x / 100:.2f}"

def split_total(total_cents, n):
    """n order totals summing exactly to total_cents, varied but never tiny."""
    if n == 1:
        return [total_cents]
    weights = [rng.uniform(0.7, 1.3) for _ in range(n)]
    parts = [int(total_cents * w / sum(weights)) for w in weights]
    parts[-1] += total_cents - sum(parts)
    return parts

def dates(first, last, n):
    a = dt.date.fromisoformat(first)
    b = dt.date.fromisoformat(last)
    if n == 1:
        return [a]
    span = (b - a).days
    return [a + dt.timedelta(days=round(i * span / (n - 1))) for i in range(n)]

orders = []  # rows
number = 1001
order_id = 5801000000001
for c in CUSTOMERS:
    (cid, first, last, email, phone, company, city, prov, zipc, accepts, tags, revenue, n, d0, d1, cats, disc_share, pos_share) = c
    totals = [revenue * 100 // n] * n if first == "Mike" else split_total(revenue * 100, n)
    refund_on = 2 if first == "Emma" else None  # one partial refund: net stays at the planned revenue
    ods = dates(d0, d1, n)
    discounted = set(rng.sample(range(n), round(n * disc_share)))
    pos = set(rng.sample(range(n), round(n * pos_share)))
    for i, (day, net) in enumerate(zip(ods, totals)):
        refund = 5000 if i == refund_on else 0
        total = net + refund
        pretax = round(total / 1.08)
        tax = total - pretax
        if i in discounted:
            gross = round(pretax / 0.9)
            discount = gross - pretax
            code = "SAVE10"
        else:
            gross, discount, code = pretax, 0, ""
        # Line items: the customer's categories, mostly the first one; the last line takes the rest.
        lines = []
        remaining = gross
        while True:
            cat = cats[0] if (rng.random() < 0.75 or len(cats) == 1) else rng.choice(cats[1:])
            sku, title, price = rng.choice(PRODUCTS[cat])
            if remaining - price * 100 < 1500 or len(lines) == 2:
                lines.append((sku, title, 1, remaining))
                break
            lines.append((sku, title, 1, price * 100))
            remaining -= price * 100
        hour = 10 + rng.randrange(9)
        created = dt.datetime(day.year, day.month, day.day, hour, rng.randrange(60), rng.randrange(60), tzinfo=TZ)
        stamp = created.strftime("%Y-%m-%d %H:%M:%S %z")
        fulfilled = (created + dt.timedelta(days=2)).strftime("%Y-%m-%d %H:%M:%S %z")
        source = "pos" if i in pos else "web"
        name = f"#{number}"
        for j, (sku, title, qty, price) in enumerate(lines):
            row = dict.fromkeys(ORDER_HEADER, "")
            row.update({"Name": name, "Email": email, "Created at": stamp, "Lineitem quantity": str(qty),
                        "Lineitem name": title, "Lineitem price": cents(price), "Lineitem sku": sku,
                        "Lineitem requires shipping": "true", "Lineitem taxable": "true",
                        "Lineitem fulfillment status": "fulfilled", "Vendor": "Scudo Home & Co",
                        "Lineitem discount": "0.00"})
            if j == 0:
                row.update({"Financial Status": "partially_refunded" if refund else "paid", "Paid at": stamp,
                            "Fulfillment Status": "fulfilled", "Fulfilled at": fulfilled, "Accepts Marketing": accepts,
                            "Currency": "USD", "Subtotal": cents(gross - discount), "Shipping": "0.00",
                            "Taxes": cents(tax), "Total": cents(total), "Discount Code": code,
                            "Discount Amount": cents(discount), "Shipping Method": "Standard" if source == "web" else "",
                            "Billing Name": f"{first} {last}", "Billing Address1": f"{100 + number % 900} Market Street",
                            "Billing Company": company, "Billing City": city, "Billing Zip": f"'{zipc}",
                            "Billing Province": prov, "Billing Country": "US", "Billing Phone": phone,
                            "Shipping Name": f"{first} {last}", "Shipping Address1": f"{100 + number % 900} Market Street",
                            "Shipping City": city, "Shipping Zip": f"'{zipc}", "Shipping Province": prov,
                            "Shipping Country": "US", "Payment Method": "Shopify Payments" if source == "web" else "Cash",
                            "Refunded Amount": cents(refund), "Outstanding Balance": "0.00", "Id": str(order_id),
                            "Risk Level": "Low", "Source": source, "Tax 1 Name": "Sales Tax 8%", "Tax 1 Value": cents(tax),
                            "Phone": phone, "Billing Province Name": prov, "Shipping Province Name": prov})
            orders.append((created, number, j, row))
        number += 1
        order_id += 1

# Exports list the newest orders first, as Shopify does.
orders.sort(key=lambda o: (-o[0].timestamp(), o[1], o[2]))
with open("shopify_orders.csv", "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=ORDER_HEADER, lineterminator="\n")
    w.writeheader()
    for *_, row in orders:
        w.writerow(row)

with open("shopify_customers.csv", "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=CUSTOMER_HEADER, lineterminator="\n")
    w.writeheader()
    for c in CUSTOMERS:
        (cid, first, last, email, phone, company, city, prov, zipc, accepts, tags, revenue, n, *_rest) = c
        w.writerow({"Customer ID": f"'{cid}", "First Name": first, "Last Name": last, "Email": email,
                    "Accepts Email Marketing": accepts, "Default Address Company": company,
                    "Default Address Address1": "Market Street", "Default Address City": city,
                    "Default Address Province Code": prov, "Default Address Country Code": "US",
                    "Default Address Zip": f"'{zipc}", "Default Address Phone": f"'{phone}", "Phone": f"'{phone}",
                    "Accepts SMS Marketing": "no", "Total Spent": f"{revenue}.00", "Total Orders": str(n),
                    "Note": "", "Tax Exempt": "no", "Tags": ", ".join(tags), "Accepts WhatsApp Marketing": "no"})

with open("shopify_products.csv", "w", newline="") as f:
    w = csv.DictWriter(f, fieldnames=PRODUCT_HEADER, lineterminator="\n")
    w.writeheader()
    for cat, items in PRODUCTS.items():
        for sku, title, price in items:
            handle = title.lower().replace(" ", "-")
            w.writerow({"Handle": handle, "Title": title, "Body (HTML)": f"<p>{title}</p>", "Vendor": "Scudo Home & Co",
                        "Product Category": f"Home & Garden > {cat}" if cat == "Home" else cat, "Type": cat,
                        "Published": "true", "Option1 Name": "Title", "Option1 Value": "Default Title",
                        "Variant SKU": sku, "Variant Grams": "500", "Variant Inventory Tracker": "shopify",
                        "Variant Inventory Qty": "25", "Variant Inventory Policy": "deny",
                        "Variant Fulfillment Service": "manual", "Variant Price": f"{price}.00",
                        "Variant Requires Shipping": "true", "Variant Taxable": "true", "Gift Card": "false",
                        "Variant Weight Unit": "kg", "Status": "active"})
print(f"wrote {number - 1001} orders in {len(orders)} rows")
