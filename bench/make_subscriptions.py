"""100,000 subscriptions of 60,000 customers in Stripe's subscriptions export layout, for timing
`scudo mrr` (docs/benchmarks.md). Deterministic: the same file on every run."""
import datetime
import random
import sys

random.seed(7)
out = sys.stdout
out.write("id,Customer ID,Customer Email,Plan,Quantity,Currency,Interval,Amount,Status,Created (UTC),"
          "Start Date (UTC),Trial End (UTC),Canceled At (UTC),Ended At (UTC)\n")
base = datetime.datetime(2022, 1, 1)
for i in range(100_000):
    c = random.randrange(60_000)
    start = base + datetime.timedelta(minutes=random.randrange(3 * 365 * 24 * 60))
    interval = random.choice(["month", "month", "month", "year", "week"])
    ended, status = "", "active"
    if random.random() < 0.3:
        ended = (start + datetime.timedelta(days=random.randrange(20, 700))).strftime("%Y-%m-%d %H:%M")
        status = "canceled"
    trial = (start + datetime.timedelta(days=14)).strftime("%Y-%m-%d %H:%M") if random.random() < 0.2 else ""
    quantity = random.randint(1, 5)
    amount = random.choice(["9.00", "29.00", "99.00", "290.00"])
    s = start.strftime("%Y-%m-%d %H:%M")
    out.write(f"sub_{i},cus_{c},u{c}@example.com,p,{quantity},usd,{interval},{amount},{status},"
              f"{s},{s},{trial},{ended},{ended}\n")
