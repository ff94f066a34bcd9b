"""Run scudo's analytics on Spark, over `scudo export parquet`'s tables.

    scudo export parquet EXPORT
    scudo sql --dialect spark --all --out EXPORT/sql
    spark-submit examples/spark/job.py --parquet EXPORT --out RESULTS

Registers every table of EXPORT/manifest.json as a view under its own name (checking its row
count), runs every query of EXPORT/sql/queries.json (or --sql DIR, a local folder) and writes each
result as Parquet to RESULTS/<query id>/, with RESULTS/results.json: rows and seconds per query,
and the queries scudo skipped with the reason. models.summary's per-customer statistics are also
grouped by (x, t_x, T) into RESULTS/models.grouped/ (all the BG/NBD and Pareto/NBD fits need),
and joined with the churn features into RESULTS/models.customers/; then

    scudo score --from-parquet RESULTS --out SCORES

fits the models and scores every customer with scudo's own formulas (no workspace needed).
EXPORT and RESULTS may be URIs Spark reads and writes (s3a://…); the report is then written to
the working folder. Exit status 1 when a query failed or a table's row count is not the
manifest's. Several exports run in one session: --parquet A --out RA --parquet B --out RB.

Plain `python job.py …` works too (local mode, loopback only), which is how scudo's tests run it.
Only pyspark is needed: no pandas, no numpy.
"""

import argparse
import json
import os
import sys
import time


def session(app):
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(app)
    if not os.environ.get("PYSPARK_GATEWAY_PORT"):
        # Started as a plain Python program, not by spark-submit (which sets the master and the
        # rest): local mode, bound to loopback only.
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        builder = (
            builder.master(os.environ.get("SCUDO_SPARK_MASTER", "local[2]"))
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", os.environ.get("SCUDO_SPARK_PARTITIONS", "2"))
            # Small data on one machine (tests, trials): compiling Java for every stage and
            # re-planning after each shuffle cost more than they save; measured on the
            # 2,000-customer shop, 8 dashboard queries took 49 s without them against 66 s with.
            .config("spark.sql.codegen.wholeStage", os.environ.get("SCUDO_SPARK_CODEGEN", "false"))
            .config("spark.sql.adaptive.enabled", os.environ.get("SCUDO_SPARK_ADAPTIVE", "false"))
            # Months of orders are listed by the driver, not by a Spark job per table.
            .config("spark.sql.sources.parallelPartitionDiscovery.threshold", "100000")
        )
    # scudo's timestamps are the shop's local wall-clock time (TIMESTAMP_NTZ): no zone shifts.
    builder = builder.config("spark.sql.session.timeZone", "UTC").config(
        "spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS"
    )
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def join(base, *parts):
    """A path under `base`, local or a URI (s3a://bucket/export)."""
    return "/".join([base.rstrip("/"), *parts])


# DuckDB's types as Spark DDL; a table with another type has its schema read from its files.
SPARK_TYPES = {
    "BIGINT": "BIGINT",
    "INTEGER": "INT",
    "SMALLINT": "SMALLINT",
    "BOOLEAN": "BOOLEAN",
    "DATE": "DATE",
    "DOUBLE": "DOUBLE",
    "VARCHAR": "STRING",
    "TIMESTAMP": "TIMESTAMP_NTZ",
}


def spark_type(duck):
    if duck.endswith("[]"):
        inner = spark_type(duck[:-2])
        return inner and f"ARRAY<{inner}>"
    if duck.startswith("DECIMAL("):
        return duck
    return SPARK_TYPES.get(duck)


def schema_of(table):
    """The table's schema as Spark DDL from the manifest (no inference job per table), or None."""
    columns = [(c["name"], spark_type(c["type"])) for c in table["columns"]]
    if not columns or any(t is None for _, t in columns):
        return None
    return ", ".join(f"`{name}` {t}" for name, t in columns)


def register(spark, export):
    """Every table of the manifest as a temporary view; returns {name: rows}."""
    # Read through Spark, so that EXPORT may be any path Spark reads (s3a://, abfss://, hdfs://).
    text = spark.read.text(join(export, "manifest.json"), wholetext=True).first()[0]
    manifest = json.loads(text)
    for table in manifest["tables"]:
        reader = spark.read
        schema = schema_of(table)
        if schema:
            reader = reader.schema(schema)
        df = reader.parquet(join(export, table["path"]))
        if table.get("partitioned_by"):
            # The partition column is the folder name, not one of the table's columns.
            df = df.drop(table["partitioned_by"]["column"])
        df.createOrReplaceTempView(table["name"])
    # Every table's rows, counted in one job (Parquet counts come from the files' footers).
    union = " UNION ALL ".join(f"SELECT '{t['name']}' AS t, count(*) AS n FROM {t['name']}" for t in manifest["tables"])
    counts = {r["t"]: r["n"] for r in spark.sql(union).collect()}
    problems = [
        f"{t['name']}: {counts[t['name']]} rows read, the manifest says {t['rows']}"
        for t in manifest["tables"]
        if counts[t["name"]] != t["rows"]
    ]
    return manifest, counts, problems


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--parquet", required=True, action="append", help="the folder `scudo export parquet` wrote")
    ap.add_argument(
        "--sql", action="append", help="the folder `scudo sql --dialect spark --all --out` wrote (default: PARQUET/sql)"
    )
    ap.add_argument("--out", required=True, action="append", help="where the results go (one Parquet folder per query)")
    ap.add_argument("--only", action="append", help="run only this query id (repeatable)")
    args = ap.parse_args()
    if len(args.out) != len(args.parquet) or (args.sql and len(args.sql) != len(args.parquet)):
        ap.error("give one --out (and --sql, if any) per --parquet")

    started = time.time()
    spark = session("scudo")
    session_seconds = time.time() - started
    status = 0
    # Several exports may be run in one session (--parquet A --out RA --parquet B --out RB).
    for k, export in enumerate(args.parquet):
        sql_dir = args.sql[k] if args.sql else os.path.join(export, "sql")
        status |= run(spark, k, export, sql_dir, args.out[k], args.only, session_seconds, started)
    spark.stop()
    return status


def run(spark, k, export, sql_dir, out, only, session_seconds, started):
    """Registers one export's tables, runs its queries; 1 when anything failed."""
    t = time.time()
    manifest, counts, problems = register(spark, export)
    register_seconds = time.time() - t

    with open(os.path.join(sql_dir, "queries.json")) as f:
        queries = json.load(f)
    results, failed = [], 0
    for q in queries["queries"]:
        if only and q["id"] not in only:
            continue
        with open(os.path.join(sql_dir, q["file"])) as f:
            text = f.read()
        t = time.time()
        entry = {"id": q["id"], "params": q.get("params", {})}
        try:
            df = spark.sql(text).persist()
            df.write.mode("overwrite").parquet(join(out, q["id"]))
            entry["rows"] = df.count()
            df.unpersist()
        except Exception as e:  # noqa: BLE001 - every failure is reported, the job goes on
            failed += 1
            entry["error"] = str(e).strip().splitlines()[0][:500]
        entry["seconds"] = round(time.time() - t, 3)
        results.append(entry)
        status = entry.get("error") or f"{entry['rows']} rows"
        print(f"{q['id']}: {status} ({entry['seconds']} s)", file=sys.stderr)

    # The model path at scale (`scudo score --from-parquet OUT`, docs/scale-out.md): the
    # per-customer statistics (models.summary, computed above) grouped by (x, t_x, T), all BG/NBD
    # and Pareto/NBD need (times are whole days in model units, so there are at most a few million
    # groups whatever the customers); and each customer's statistics with their churn features
    # (models.features) in one table, which scudo streams through its scoring formulas.
    grouped_rows = None
    ran = {r["id"] for r in results if "error" not in r}
    if "models.summary" in ran:
        t = time.time()
        summary = spark.read.parquet(join(out, "models.summary"))
        grouped = summary.groupBy("x", "t_x", "T").count().withColumnRenamed("count", "customers")
        grouped.write.mode("overwrite").parquet(join(out, "models.grouped"))
        grouped_rows = spark.read.parquet(join(out, "models.grouped")).count()
        if "models.features" in ran:
            features = spark.read.parquet(join(out, "models.features"))
            customers = summary.join(features, on="customer_id", how="left")
            customers.write.mode("overwrite").parquet(join(out, "models.customers"))
        print(f"models.grouped, models.customers: {grouped_rows} groups ({time.time() - t:.1f} s)", file=sys.stderr)

    report = {
        "spark_version": spark.version,
        # The export's settings (currency, time zone, health and [models]), for scudo score --from-parquet.
        "settings": manifest.get("settings", {}),
        "model_groups": grouped_rows,
        "session_seconds": round(session_seconds, 3),
        "register_seconds": round(register_seconds, 3),
        "total_seconds": round(time.time() - started, 3),
        "tables": counts,
        "table_problems": problems,
        "queries": results,
        "skipped": queries.get("skipped", []),
    }
    # The report is a local file: OUT/results.json, or ./results-N.json when OUT is a URI.
    local = "://" not in out
    report_path = os.path.join(out, "results.json") if local else f"results-{k}.json"
    if local:
        os.makedirs(out, exist_ok=True)
    with open(report_path, "w") as f:
        json.dump(report, f, indent=2)
    for p in problems:
        print(f"table {p}", file=sys.stderr)
    for s in queries.get("skipped", []):
        print(f"skipped by scudo: {s['id']}: {s['reason']}", file=sys.stderr)
    print(
        f"{export}: {len(results) - failed} queries ran, {failed} failed, {len(queries.get('skipped', []))} skipped "
        f"(session {session_seconds:.1f} s, tables {register_seconds:.1f} s, total {time.time() - started:.1f} s)",
        file=sys.stderr,
    )
    return 1 if failed or problems else 0


if __name__ == "__main__":
    sys.exit(main())
