#!/usr/bin/env python3
"""Landing a department's database table: searchlight's `[database]` connector against the way
it is done without one — `COPY … TO STDOUT` into a CSV file, then searchlight ingesting the file.

    python3 benches/database.py                 # ROWS=… (default 10 000 000) overrides
    SEARCHLIGHT_BIN=path/to/searchlight python3 benches/database.py   # a binary already built

A benchmark, not a test: it measures and prints; nothing asserts a time.

It starts a PostgreSQL 15 on 127.0.0.1 (`.ci/databases.sh`, as CI does), fills a table of ROWS
treasury payments (text, a date, a numeric amount, a timestamptz), builds searchlight with the
`database` feature (release), and times, best of RUNS (default 2):

  * live: `searchlight ingest --force` of a `[database]` connector reading the table;
  * peer: `psql -c "\\copy (SELECT * FROM t) TO 'file.csv' CSV HEADER"`, then `searchlight ingest
    --force` of a CSV connector over that file (the same columns and mappings).

Rows per second and peak RSS of each, and the ratio (peer time / live time; above 1 the live
connector is faster). Both land the same rows; the row counts are compared.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROWS = int(os.environ.get("ROWS", "10000000"))
RUNS = int(os.environ.get("RUNS", "2"))

COLUMNS = """
[columns]
payment_id = { from = "zfpzh" }
unit_name  = { from = "dwmc" }
pay_date   = { from = "zfrq" }
amount     = { from = "je" }
payee_name = { from = "skr" }
purpose    = { from = "yt" }
"""


def sh(cmd, env=None, **kw):
    return subprocess.run(cmd, shell=True, check=True, env=env, **kw)


def timed(argv, env):
    """Wall time and the peak RSS (MiB) of a child process (GNU time)."""
    start = time.time()
    p = subprocess.run(["/usr/bin/time", "-f", "RSS_KIB=%M", *argv], env=env, capture_output=True, text=True)
    wall = time.time() - start
    if p.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed:\n{p.stdout}\n{p.stderr}")
    rss = [int(l.split("=")[1]) for l in p.stderr.splitlines() if l.startswith("RSS_KIB=")][-1]
    return wall, rss / 1024, p.stdout


def main():
    env = dict(os.environ)
    exe = os.environ.get("SEARCHLIGHT_BIN")  # a binary built with --features database, or …
    if not exe:
        print("building searchlight (release, --features database) …", flush=True)
        sh("cargo build --release --quiet --features database", cwd=ROOT)
        exe = os.path.join(ROOT, "target", "release", "searchlight")
    # a PostgreSQL of its own, as CI starts one
    out = subprocess.run(
        ["bash", "-c", f"set -e; source {ROOT}/.ci/databases.sh >/dev/null; env | grep SEARCHLIGHT_TEST_; echo PGDIR=$DB_DIR"],
        capture_output=True, text=True, check=True)
    for line in out.stdout.splitlines():
        k, _, v = line.partition("=")
        env[k] = v
    host, port = env["SEARCHLIGHT_TEST_POSTGRES"].split(":")
    env["PGPASSWORD"] = env["SEARCHLIGHT_TEST_DB_PASSWORD"]
    psql = f"psql -q -h {host} -p {port} -U searchlight -d postgres"
    try:
        print(f"filling a table of {ROWS:,} rows …", flush=True)
        t = time.time()
        sh(f"""{psql} -c "DROP TABLE IF EXISTS bench_zf; CREATE TABLE bench_zf AS SELECT 'P' || g AS zfpzh,
            (ARRAY['县教育局','县卫生健康委员会','县水利局','城关镇人民政府'])[1 + g % 4] AS dwmc,
            DATE '2024-01-01' + (g % 700) AS zfrq, round((g % 1000003) * 0.37, 2)::numeric(18,2) AS je,
            '收款人' || (g % 50000) AS skr, '办公用品采购及维修' AS yt,
            TIMESTAMPTZ '2024-01-01 00:00:00+08' + g * INTERVAL '1 second' AS update_time
            FROM generate_series(1, {ROWS}) g" """, env=env)
        print(f"  {time.time() - t:.1f}s", flush=True)
        with tempfile.TemporaryDirectory() as work:
            proj = os.path.join(work, "p")
            os.makedirs(os.path.join(proj, "connectors"))
            with open(os.path.join(proj, "searchlight.toml"), "w") as f:
                f.write("[library]\nbundled = false\n")
            live = f"""name = "treasury_payments"
[database]
kind = "postgres"
host = "{host}"
port = {port}
database = "postgres"
user_env = "SEARCHLIGHT_TEST_DB_USER"
password_env = "SEARCHLIGHT_TEST_DB_PASSWORD"
table = "bench_zf"
tls = "disable"
{COLUMNS}"""
            csv_path = os.path.join(work, "zf.csv")
            peer = f"""name = "treasury_payments"
location = "{csv_path}"
[format]
type = "csv"
encoding = "utf-8"
{COLUMNS}"""
            ingest = [exe, "--project", proj, "ingest", "--force", "--as-of", "2025-12-31"]
            results = {}
            for name in ["live", "peer"]:
                best = None
                for _ in range(RUNS):
                    with open(os.path.join(proj, "connectors", "treasury_payments.toml"), "w") as f:
                        f.write(live if name == "live" else peer)
                    if name == "live":
                        wall, rss, out = timed(ingest, env)
                        run = (wall, rss, 0.0, wall)
                    else:
                        t = time.time()
                        sh(f"""{psql} -c "\\copy (SELECT * FROM bench_zf) TO '{csv_path}' CSV HEADER" """, env=env)
                        copy = time.time() - t
                        wall, rss, out = timed(ingest, env)
                        run = (copy + wall, rss, copy, wall)
                    if best is None or run[0] < best[0]:
                        best = run
                rows = subprocess.run([exe, "--project", proj, "sql", "--json", "select count(*) AS n from treasury_payments"],
                                      capture_output=True, text=True, env=env).stdout
                results[name] = best + (json.loads(rows)[0]["n"],)
            lw, lrss, _, _, lrows = results["live"]
            pw, prss, copy, ing, prows = results["peer"]
            print(f"\n{ROWS:,} rows, best of {RUNS}")
            print(f"  live [database]      {lw:7.1f}s  {ROWS / lw:12,.0f} rows/s  peak RSS {lrss:6.0f} MiB")
            print(f"  COPY + file ingest   {pw:7.1f}s  {ROWS / pw:12,.0f} rows/s  (COPY {copy:.1f}s + ingest {ing:.1f}s, ingest peak RSS {prss:.0f} MiB)")
            print(f"  ratio (peer / live)  {pw / lw:7.2f}")
            print(f"  rows landed: live {lrows:,}, peer {prows:,}" + ("" if lrows == prows == ROWS else "  ← DIFFERENT"))
    finally:
        sh(f"{psql} -c 'DROP TABLE IF EXISTS bench_zf'", env=env)
        pgdir = env.get("PGDIR", "")
        if pgdir:
            subprocess.run(["runuser", "-u", "postgres", "--", "/usr/lib/postgresql/15/bin/pg_ctl", "-D",
                            f"{pgdir}/pg/data", "-m", "fast", "stop"], capture_output=True)
            subprocess.run(["pkill", "-f", f"{pgdir}/my/data"], capture_output=True)


if __name__ == "__main__":
    main()
