"""The scudo benchmark: see docs/benchmarks.md. Run through bench/run, which sets up the venv."""
import argparse, json, os, resource, shutil, statistics, subprocess, sys, time
from pathlib import Path

import duckdb
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ROOT / "queries"
END = "2025-12-31"
# The queries behind the dashboard (its floor), whether scudo reads them kept or runs them.
DASHBOARD = ["base.main_currency", "health.distribution", "dashboard.kpis", "dashboard.alerts", "segments.summary"]
HEALTH = {"at_risk_days": 45, "dormant_days": 90, "lost_days": 180, "new_days": 30, "vip_min_revenue": 5000, "at_risk_gap_factor": 1.2}


def run(cmd, **kw):
    """Runs a command; returns (seconds, peak RSS in MB, stdout)."""
    t = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, capture_output=True, text=True, **kw)
    secs = time.perf_counter() - t
    # 1: ran fine and a condition holds (alerts listed, rows rejected): README, "Exit codes".
    if p.returncode not in (0, 1):
        sys.exit(f"failed: {' '.join(cmd)}\n{p.stderr}")
    rss_kb = int(p.stderr.strip().splitlines()[-1])
    return secs, rss_kb / 1024, p.stdout


def median_ms(cmd, runs):
    times, rss = [], 0.0
    for _ in range(runs):
        s, m, _ = run(cmd)
        times.append(s)
        rss = max(rss, m)
    return statistics.median(times) * 1000, rss


def macros(con, sqls=None):
    """Registers the SQL library's table macros in DuckDB, dependencies first, as scudo does: with
    `sqls`, only the macros those queries use (directly or through other macros)."""
    import re
    defs = {}
    for p in QUERIES.rglob("*.sql"):
        text = p.read_text()
        m = re.search(r"CREATE OR REPLACE TEMP MACRO (\w+)", text)
        if m:
            defs[m.group(1)] = text
    uses = lambda text: {n for n in defs if re.search(rf"\b{n}\s*\(", text.split("AS TABLE", 1)[-1])}
    wanted = set(defs) if sqls is None else set().union(*(uses(q) for q in sqls))
    while True:
        more = wanted | set().union(*(uses(defs[n]) for n in wanted)) if wanted else wanted
        if more == wanted:
            break
        wanted = more
    done = set()
    while wanted - done:
        ready = [n for n in wanted - done if uses(defs[n]) - {n} <= done]
        if not ready:
            raise SystemExit(f"macros do not bind: {sorted(wanted - done)}")
        for n in sorted(ready):
            con.execute(defs[n])
            done.add(n)


def floor_ms(db, query_ids, params, runs):
    """The same SQL files run by DuckDB itself, in this process. Returns (cold, warm) medians in ms:
    cold opens the database afresh each run (connect, register the macros, run, close), as every
    scudo command does; warm reuses one connection whose buffers already hold the data."""
    sqls = [(QUERIES / (q.replace(".", "/") + ".sql")).read_text() for q in query_ids]

    def run_all(con):
        for sql in sqls:
            used = {k: v for k, v in params.items() if f"${k}" in sql}
            con.execute(sql, used).fetchall()

    cold = []
    for _ in range(runs):
        t = time.perf_counter()
        con = duckdb.connect(str(db), read_only=True)
        macros(con, sqls)
        run_all(con)
        con.close()
        cold.append(time.perf_counter() - t)
    con = duckdb.connect(str(db), read_only=True)
    macros(con)
    run_all(con)
    warm = []
    for _ in range(runs):
        t = time.perf_counter()
        run_all(con)
        warm.append(time.perf_counter() - t)
    con.close()
    return statistics.median(cold) * 1000, statistics.median(warm) * 1000


def checks(scudo, ws, runs):
    """`scudo check` as a process (it exits 0-2 by what the data shows; 3 would be a bug here) and
    the same check files run by DuckDB itself, cold: (scudo ms, floor ms, statuses)."""
    times, doc = [], None
    for _ in range(runs):
        t = time.perf_counter()
        p = subprocess.run([scudo, "-w", str(ws), "check", "--as-of", END, "--format", "json", "-q"], capture_output=True, text=True)
        times.append(time.perf_counter() - t)
        if p.returncode not in (0, 1, 2):
            sys.exit(f"scudo check exited {p.returncode}\n{p.stderr}")
        doc = json.loads(p.stdout)
    files = sorted((QUERIES / "checks").glob("*.sql"))
    params = {"as_of": END, "currency": "USD", "now": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()), **HEALTH}
    floor = []
    for _ in range(runs):
        t = time.perf_counter()
        con = duckdb.connect(str(ws / "scudo.duckdb"), read_only=True)
        con.execute("CREATE TEMP TABLE check_freshness AS SELECT * FROM (VALUES ('*', 36.0, 72.0)) t(name, warn_after_hours, error_after_hours)")
        sqls = [f.read_text() for f in files]
        macros(con, sqls)
        for sql in sqls:
            con.execute(sql, {k: v for k, v in params.items() if f"${k}" in sql}).fetchall()
        con.close()
        floor.append(time.perf_counter() - t)
    statuses = {c["name"]: c["status"] for c in doc["checks"]}
    return statistics.median(times) * 1000, statistics.median(floor) * 1000, statuses


def lifetimes_pipeline(db):
    """What users pick instead: lifetimes (BG/NBD, Gamma-Gamma, CLV) and a pandas RFM."""
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    from lifetimes.utils import summary_data_from_transaction_data

    con = duckdb.connect(str(db), read_only=True)
    tx = con.execute(
        # The shop's calendar days, as scudo's models count them (queries/models/summary.sql):
        # an import sets the workspace's time zone from the exports' offsets.
        "SELECT customer_id, CAST(local_at AS DATE) AS date, net_total::DOUBLE AS value FROM orders "
        "WHERE status IN ('completed', 'partially_refunded')"
    ).df()
    con.close()
    t = time.perf_counter()
    # Daily data in weeks: the statistic scudo uses (lifetimes' freq='W' would count purchase weeks).
    s = summary_data_from_transaction_data(tx, "customer_id", "date", monetary_value_col="value", observation_period_end=END, freq="D")
    s["recency"] /= 7.0
    s["T"] /= 7.0
    bg = BetaGeoFitter()
    bg.fit(s["frequency"], s["recency"], s["T"])
    returning = s[(s["frequency"] > 0) & (s["monetary_value"] > 0)]
    gg = GammaGammaFitter()
    gg.fit(returning["frequency"], returning["monetary_value"])
    clv = gg.customer_lifetime_value(bg, s["frequency"], s["recency"], s["T"], s["monetary_value"], time=12, freq="W", discount_rate=0.01)
    fit_score = time.perf_counter() - t
    t = time.perf_counter()
    last = tx.groupby("customer_id").agg(last=("date", "max"), orders=("date", "count"), revenue=("value", "sum"))
    last["recency"] = (pd.Timestamp(END) - pd.to_datetime(last["last"])).dt.days
    for col, asc in [("recency", False), ("orders", True), ("revenue", True)]:
        last[col + "_score"] = pd.qcut(last[col].rank(method="first", ascending=asc), 5, labels=False) + 1
    rfm = time.perf_counter() - t
    return {
        "fit_score_seconds": fit_score,
        "rfm_seconds": rfm,
        "customers": len(s),
        "clv_sum": float(clv.sum()),
        "bgnbd": {k: float(v) for k, v in bg.params_.items()},
        "gamma_gamma": {k: float(v) for k, v in gg.params_.items()},
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


# The columns scudo keeps from each generated export, with the types it gives them (money as
# DECIMAL(18,2), times with their UTC offset); every other column is read as text and dropped.
KEPT = {
    "shopify_customers.csv": ("orders_floor_customers", "%Y-%m-%d %H:%M:%S", {
        "Customer ID": "VARCHAR", "First Name": "VARCHAR", "Last Name": "VARCHAR", "Email": "VARCHAR",
        "Accepts Email Marketing": "VARCHAR", "Default Address Company": "VARCHAR", "Default Address City": "VARCHAR",
        "Default Address Province Code": "VARCHAR", "Default Address Country Code": "VARCHAR",
        "Default Address Phone": "VARCHAR", "Phone": "VARCHAR", "Total Spent": "DECIMAL(18,2)",
        "Total Orders": "BIGINT", "Tags": "VARCHAR",
    }),
    "shopify_orders.csv": ("orders_floor_orders", "%Y-%m-%d %H:%M:%S %z", {
        "Name": "VARCHAR", "Id": "VARCHAR", "Email": "VARCHAR", "Financial Status": "VARCHAR",
        "Accepts Marketing": "VARCHAR", "Currency": "VARCHAR", "Subtotal": "DECIMAL(18,2)",
        "Shipping": "DECIMAL(18,2)", "Taxes": "DECIMAL(18,2)", "Duties": "DECIMAL(18,2)", "Total": "DECIMAL(18,2)",
        "Discount Code": "VARCHAR", "Discount Amount": "DECIMAL(18,2)", "Created at": "TIMESTAMPTZ",
        "Cancelled at": "TIMESTAMPTZ", "Refunded Amount": "DECIMAL(18,2)", "Lineitem quantity": "BIGINT",
        "Lineitem name": "VARCHAR", "Lineitem price": "DECIMAL(18,2)", "Lineitem sku": "VARCHAR",
        "Lineitem requires shipping": "BOOLEAN", "Lineitem discount": "DECIMAL(18,2)", "Vendor": "VARCHAR",
        "Source": "VARCHAR", "Payment Method": "VARCHAR", "Phone": "VARCHAR", "Billing Phone": "VARCHAR",
        "Shipping Phone": "VARCHAR", "Billing Name": "VARCHAR", "Shipping Name": "VARCHAR",
        "Billing Company": "VARCHAR", "Billing City": "VARCHAR", "Shipping City": "VARCHAR",
        "Billing Province": "VARCHAR", "Shipping Province": "VARCHAR", "Billing Country": "VARCHAR",
        "Shipping Country": "VARCHAR",
    }),
    "stripe_payments.csv": ("orders_floor_payments", "%Y-%m-%d %H:%M:%S", {
        "id": "VARCHAR", "Created date (UTC)": "TIMESTAMP", "Amount": "DECIMAL(18,2)",
        "Amount Refunded": "DECIMAL(18,2)", "Currency": "VARCHAR", "Status": "VARCHAR", "Captured": "BOOLEAN",
        "Customer ID": "VARCHAR", "Customer Email": "VARCHAR",
    }),
}


def import_floor_job(shop, db):
    """DuckDB alone: read_csv of each generated export, with explicit types, into a table of the
    columns scudo keeps, in a new database file (committed and checkpointed)."""
    Path(db).unlink(missing_ok=True)
    con = duckdb.connect(str(db))
    for name, (table, fmt, kept) in KEPT.items():
        path = Path(shop) / name
        with open(path, newline="") as f:
            header = next(__import__("csv").reader(f))
        # Times with an offset are parsed by strptime: read_csv's timestampformat is for TIMESTAMP.
        columns = {c: "VARCHAR" if kept.get(c) == "TIMESTAMPTZ" else kept.get(c, "VARCHAR") for c in header}
        spec = "{" + ", ".join(f"'{c}': '{t}'" for c, t in columns.items()) + "}"
        select = ", ".join(
            f'strptime("{c}", \'{fmt}\') AS "{c}"' if t == "TIMESTAMPTZ" else f'"{c}"' for c, t in kept.items()
        )
        con.execute(
            f"CREATE TABLE {table} AS SELECT {select} FROM read_csv('{path}', header = true, columns = {spec}, "
            f"timestampformat = '{fmt}', auto_detect = false, delim = ',', quote = '\"', escape = '\"')"
        )
    con.execute("CHECKPOINT")
    con.close()


def import_floor(d):
    """(seconds, peak MB) of import_floor_job in its own process, as the import is measured."""
    db = d / "floor.duckdb"
    s, m, _ = run([sys.executable, __file__, "--floor", str(d / "shop"), str(db)])
    db.unlink(missing_ok=True)
    Path(str(db) + ".wal").unlink(missing_ok=True)
    return s, m


def bench(scudo, n, runs, work):
    d = work / str(n)
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    r = {"customers": n}
    r["generate_s"], _, _ = run([scudo, "generate", "--customers", str(n), "--seed", "1", "--out", str(d / "shop"), "-q"])
    truth = json.loads((d / "shop" / "truth.json").read_text())
    r["orders"] = truth["purchases"] + truth["cancelled_orders"]
    imports = []
    for i in range(runs if n <= 100_000 else 1):
        ws = d / f"ws{i}"
        run([scudo, "init", str(ws), "-q"])
        # The shop's date pinned to the data's end, as an owner reads a shop whose exports end
        # there: imports and scoring keep the dashboard for it (docs/data-model.md).
        toml = ws / "scudo.toml"
        toml.write_text(toml.read_text().replace("[workspace]\n", f'[workspace]\nas_of = "{END}"\n', 1))
        s, m, _ = run([scudo, "-w", str(ws), "ingest", "-q", str(d / "shop")])
        imports.append((s, m))
    ws = d / "ws0"
    r["import_s"] = statistics.median(s for s, _ in imports)
    r["import_peak_mb"] = max(m for _, m in imports)
    r["import_floor_s"], r["import_floor_peak_mb"] = import_floor(d)
    base = [scudo, "-w", str(ws)]
    tail = ["--as-of", END, "--format", "json"]
    cmds = {
        "dashboard": (["dashboard"], DASHBOARD),
        "dashboard --recompute": (["dashboard", "--recompute"], DASHBOARD),
        "kpis": (["kpis"], ["kpi.summary"]),
        "health": (["health"], ["health.distribution"]),
        "segments": (["segments"], ["segments.performance"]),
        "alerts": (["alerts"], ["alerts.all"]),
        "cohorts": (["cohorts"], ["cohorts.monthly"]),
    }
    params = {"as_of": END, "currency": "USD", "period_days": 30, "limit": 25, **HEALTH}
    r["commands"] = {}
    peak = 0.0
    for name, (args, queries) in cmds.items():
        ms, m = median_ms(base + args + tail, runs)
        peak = max(peak, m)
        cold, warm = floor_ms(ws / "scudo.duckdb", queries, params, runs)
        r["commands"][name] = {"ms": ms, "floor_ms": cold, "warm_floor_ms": warm, "ratio": ms / cold, "peak_mb": m}
    # The floor of every row above: a process that opens the workspace and runs `select 1`.
    r["open_ms"], r["open_peak_mb"] = median_ms(base + ["query", "run", "--sql", "select 1", "--format", "json"], runs)
    searches = ["customer4242", "smith", "jonson", "olivia lee", "customer99@example.com", "+1555000", "garcia", "mia", "patel", "cust-00012"]
    per = [median_ms(base + ["customers", "search", q, "--format", "json"], 1) for q in searches]
    r["search_ms"] = statistics.median(ms for ms, _ in per)
    r["search_max_ms"] = max(ms for ms, _ in per)
    r["search_peak_mb"] = max(m for _, m in per)
    # The query alone, in DuckDB with a warm connection: what a long-running process (scudo serve) pays.
    r["search_query_ms"] = statistics.median(
        floor_ms(ws / "scudo.duckdb", ["customers.search"], {"q": q, "limit": 10}, 3)[1] for q in searches
    )
    ids = [f"cust-{i:06d}" for i in range(1, n, max(1, n // 10))][:10]
    per = [median_ms(base + ["customer", i] + tail, 1) for i in ids]
    r["customer360_ms"] = statistics.median(ms for ms, _ in per)
    r["customer360_peak_mb"] = max(m for _, m in per)
    s, m, out = run(base + ["models", "fit", "--until", END, "--unit", "week", "--model", "bgnbd", "--format", "json"])
    fit = json.loads(out)["models"]["bgnbd"]
    s2, m2, out2 = run(base + ["models", "fit", "--until", END, "--unit", "week", "--model", "gamma-gamma", "--format", "json"])
    gg = json.loads(out2)["models"]["gamma-gamma"]
    r["fit_s"] = s + s2
    r["fit_peak_mb"] = max(m, m2)
    s3, m4, out3 = run(base + ["models", "fit", "--until", END, "--unit", "week", "--model", "pareto-nbd", "--format", "json"])
    r["fit_pareto_s"] = s3
    r["fit_pareto_peak_mb"] = m4
    peak = max(peak, m4)
    s, m3, _ = run(base + ["score", "--as-of", END])
    r["score_s"] = s
    r["score_peak_mb"] = m3
    # After scoring: the 360 reads RFM from the run (it scored the current data on this date).
    per = [median_ms(base + ["customer", i] + tail, 1) for i in ids]
    r["customer360_scored_ms"] = statistics.median(ms for ms, _ in per)
    r["dashboard_scored_ms"], _ = median_ms(base + ["dashboard"] + tail, runs)
    peak = max(peak, m, m2, m3)
    r["help_ms"], _ = median_ms([scudo, "--help"], max(runs, 5))
    r["check_ms"], r["check_floor_ms"], r["check_statuses"] = checks(scudo, ws, runs)
    r["query_peak_mb"] = peak
    lt = lifetimes_pipeline(ws / "scudo.duckdb")
    r["lifetimes"] = lt
    r["scudo_bgnbd"] = {k: fit[k] for k in ("r", "alpha", "a", "b")}
    r["scudo_gamma_gamma"] = {k: gg[k] for k in ("p", "q", "gamma")}
    lt_params = {**lt["bgnbd"], **{"p": lt["gamma_gamma"]["p"], "q": lt["gamma_gamma"]["q"], "gamma": lt["gamma_gamma"]["v"]}}
    ours = {**r["scudo_bgnbd"], **r["scudo_gamma_gamma"]}
    r["max_param_diff_pct"] = max(abs(ours[k] - lt_params[k]) / abs(lt_params[k]) * 100 for k in ours)
    r["lifetimes_vs_scudo"] = lt["fit_score_seconds"] / r["score_s"]
    r.update(small_import(scudo, ws, d, n, runs))
    return r


def small_import(scudo, ws, d, n, runs):
    """A day of new orders into the full, scored workspace, then the next day's: n/100 order lines
    each (10,000 at a million customers) of known customers, under new order numbers, into a
    fresh copy of the workspace per run. The first small import after the large one pays DuckDB's
    one-time compaction of `orders` at its checkpoint (docs/benchmarks.md, "Round five"); the
    second shows every later day."""
    import csv
    src = d / "shop" / "shopify_orders.csv"
    k = max(100, n // 100)
    days = [d / "day_orders.csv", d / "day2_orders.csv"]
    with open(src, newline="") as f, open(days[0], "w", newline="") as one, open(days[1], "w", newline="") as two:
        rd, w1, w2 = csv.reader(f), csv.writer(one), csv.writer(two)
        header = next(rd)
        name, oid = header.index("Name"), header.index("Id")
        w1.writerow(header)
        w2.writerow(header)
        for rows, row in enumerate(rd):
            if rows >= 2 * k:
                break
            first = rows < k
            row[name] = ("#D" if first else "#E") + row[name].lstrip("#")
            if row[oid]:
                row[oid] = ("9" if first else "8") + row[oid]
            (w1 if first else w2).writerow(row)
    times, peak = ([], []), 0.0
    for i in range(runs):
        copy = d / f"ws_day{i}"
        shutil.rmtree(copy, ignore_errors=True)
        shutil.copytree(ws, copy)
        subprocess.run(["sync"], check=True)
        for j, day in enumerate(days):
            s, m, _ = run([scudo, "-w", str(copy), "ingest", "-q", str(day)])
            times[j].append(s)
            peak = max(peak, m)
        shutil.rmtree(copy)
    return {
        "small_import_rows": k,
        "small_import_s": statistics.median(times[0]),
        "small_import_runs_s": times[0],
        "small_import2_s": statistics.median(times[1]),
        "small_import2_runs_s": times[1],
        "small_import_peak_mb": peak,
    }


def markdown(results):
    rows = [
        ("customers / orders", lambda r: f"{r['customers']:,} / {r['orders']:,}"),
        ("generate", lambda r: f"{r['generate_s']:.1f} s"),
        ("import (peak memory)", lambda r: f"{r['import_s']:.1f} s ({r['import_peak_mb']:.0f} MB)"),
        ("import floor: DuckDB read_csv of the kept columns (peak); import / floor", lambda r: f"{r.get('import_floor_s', 0):.1f} s ({r.get('import_floor_peak_mb', 0):.0f} MB); {r['import_s'] / r['import_floor_s']:.1f}×" if r.get("import_floor_s") else "–"),
        ("one day of new orders into a copy of the full, scored workspace: median (runs; peak)", lambda r: f"{r['small_import_rows']:,} rows: {r['small_import_s']:.2f} s (runs {', '.join(f'{x:.2f}' for x in r['small_import_runs_s'])}; {r['small_import_peak_mb']:.0f} MB)"),
        ("the next day's orders into the same copy: median (runs)", lambda r: f"{r['small_import_rows']:,} rows: {r['small_import2_s']:.2f} s (runs {', '.join(f'{x:.2f}' for x in r['small_import2_runs_s'])})" if "small_import2_s" in r else "–"),
        ("opening the workspace: `select 1` as a process (peak)", lambda r: f"{r['open_ms']:.0f} ms ({r['open_peak_mb']:.0f} MB)"),
    ]
    for name in ["dashboard", "dashboard --recompute", "kpis", "health", "segments", "alerts", "cohorts"]:
        rows.append((f"{name}: scudo / DuckDB cold (warm), peak", lambda r, n=name: f"{r['commands'][n]['ms']:.0f} / {r['commands'][n]['floor_ms']:.0f} ({r['commands'][n].get('warm_floor_ms', 0):.0f}) ms: {r['commands'][n]['ratio']:.2f}×, {r['commands'][n]['peak_mb']:.0f} MB"))
    rows += [
        ("customers search, per query (slowest), peak", lambda r: f"{r['search_ms']:.0f} ms ({r.get('search_max_ms', 0):.0f} ms), {r['search_peak_mb']:.0f} MB"),
        ("search query alone, warm DuckDB", lambda r: f"{r.get('search_query_ms', 0):.1f} ms"),
        ("Customer 360, per customer (peak)", lambda r: f"{r['customer360_ms']:.0f} ms ({r['customer360_peak_mb']:.0f} MB)"),
        ("after scoring: Customer 360 (RFM from the run) / dashboard", lambda r: f"{r.get('customer360_scored_ms', 0):.0f} ms / {r.get('dashboard_scored_ms', 0):.0f} ms"),
        ("models fit (BG/NBD + Gamma-Gamma) (peak)", lambda r: f"{r['fit_s']:.2f} s ({r['fit_peak_mb']:.0f} MB)"),
        ("models fit Pareto/NBD (peak)", lambda r: f"{r.get('fit_pareto_s', 0):.2f} s ({r['fit_pareto_peak_mb']:.0f} MB)"),
        ("score every customer, fit included (peak)", lambda r: f"{r['score_s']:.2f} s ({r['score_peak_mb']:.0f} MB)"),
        ("lifetimes: summary + BG/NBD + GG + CLV", lambda r: f"{r['lifetimes']['fit_score_seconds']:.2f} s ({r['lifetimes_vs_scudo']:.1f}× scudo score)"),
        ("pandas RFM", lambda r: f"{r['lifetimes']['rfm_seconds']:.2f} s"),
        ("parameters: largest difference vs lifetimes", lambda r: f"{r['max_param_diff_pct']:.2f}%"),
        ("peak memory, queries and models", lambda r: f"{r['query_peak_mb']:.0f} MB"),
        ("`scudo check`, all built-in checks / DuckDB cold", lambda r: f"{r.get('check_ms', 0):.0f} / {r.get('check_floor_ms', 0):.0f} ms"),
        ("`scudo --help`", lambda r: f"{r['help_ms']:.0f} ms"),
    ]
    head = "| step | " + " | ".join(f"{r['customers']:,}" for r in results) + " |\n"
    head += "|---|" + "---|" * len(results) + "\n"
    return head + "".join(f"| {label} | " + " | ".join(f(r) for r in results) + " |\n" for label, f in rows)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--floor":
        import_floor_job(sys.argv[2], sys.argv[3])
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--scudo", required=True)
    ap.add_argument("--sizes", default="10000,100000")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--work", default=str(Path.home() / ".cache/scudo/bench"))
    ap.add_argument("--out", default=str(ROOT / "bench/results"))
    a = ap.parse_args()
    results = []
    for n in [int(x) for x in a.sizes.split(",")]:
        print(f"== {n:,} customers", file=sys.stderr)
        results.append(bench(a.scudo, n, a.runs, Path(a.work)))
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    md = markdown(results)
    (out / "results.md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
