#!/usr/bin/env python3
"""Ingest throughput: searchlight vs DuckDB on a ≈1 GB GBK CSV made by the demo-county generator.

    python3 benches/ingest.py                # ≈1 GB (scale 1000); SCALE=… and RUNS=… override

A benchmark, not a test: it measures and prints; nothing asserts a time.

DuckDB (Python wheel) has no GBK decoder without downloading its `encodings` extension, which
this machine cannot, so DuckDB reads a UTF-8 copy of the same file. searchlight is timed on both
the GBK original and the UTF-8 copy; the transcoding time is printed so a GBK-to-Parquet total
for DuckDB can be read off too.
"""
import codecs
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCALE = int(os.environ.get("SCALE", "1000"))
RUNS = int(os.environ.get("RUNS", "3"))


def sh(*args, **kw):
    return subprocess.run(args, check=True, **kw)


def timed(cmd, env=None):
    """Wall time and peak RSS (MiB) of one child process."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    if status != 0:
        sys.exit(f"{cmd[0]} failed: {p.stderr.read().decode(errors='replace')}")
    return wall, usage.ru_maxrss / 1024


def best(label, make_cmd, setup=None):
    walls, peak = [], 0.0
    for _ in range(RUNS):
        if setup:
            setup()
        wall, rss = timed(make_cmd())
        walls.append(wall)
        peak = max(peak, rss)
    w = min(walls)
    print(f"  {label:<40} best {w:6.2f} s   runs {', '.join(f'{x:.2f}' for x in walls)}   peak RSS {peak:,.0f} MiB")
    return w


def main():
    try:
        import duckdb  # noqa: F401
    except ImportError:
        sh(sys.executable, "-m", "pip", "install", "--quiet", "duckdb")
    import duckdb

    sh("cargo", "build", "--release", "--quiet", cwd=ROOT)
    binary = os.path.join(ROOT, "target", "release", "searchlight")
    work = tempfile.mkdtemp(prefix="searchlight-bench-")
    try:
        print(f"generating the county at scale {SCALE} (treasury payments only) …")
        sh(binary, "fixtures", "generate", "--seed", "1", "--scale", str(SCALE), "--only", "treasury_payments", "--out", f"{work}/county", stdout=subprocess.DEVNULL)
        gbk = f"{work}/county/finance/国库集中支付明细.csv"
        utf8 = f"{work}/utf8.csv"
        size = os.path.getsize(gbk)
        t = time.perf_counter()
        dec = codecs.getincrementaldecoder("gb18030")()  # blocks end anywhere
        with open(gbk, "rb") as src, open(utf8, "wb") as dst:
            while block := src.read(64 << 20):
                dst.write(dec.decode(block).encode("utf-8"))
            dst.write(dec.decode(b"", final=True).encode("utf-8"))
        transcode = time.perf_counter() - t
        rows = sum(1 for _ in open(utf8, "rb")) - 1
        print(f"file: {size / 1e6:.0f} MB GBK ({os.path.getsize(utf8) / 1e6:.0f} MB as UTF-8), {rows:,} rows; GBK→UTF-8 transcode in Python {transcode:.2f} s")

        projects = {}
        for name, path, enc in [("gbk", gbk, "gbk"), ("utf8", utf8, "utf-8")]:
            proj = f"{work}/project-{name}"
            os.makedirs(f"{proj}/connectors")
            spec = open(os.path.join(ROOT, "connectors", "treasury_payments.toml"), encoding="utf-8").read()
            spec = re.sub(r'(?m)^location\s*=.*$', f'location = "{path}"', spec)
            spec = re.sub(r'(?m)^encoding\s*=.*$', f'encoding = "{enc}"', spec)
            open(f"{proj}/connectors/treasury_payments.toml", "w", encoding="utf-8").write(spec)
            projects[name] = proj

        for f in (gbk, utf8):  # warm the page cache for everyone alike
            with open(f, "rb") as h:
                while h.read(64 << 20):
                    pass

        print(f"\ningest → Parquet, best of {RUNS} (2 cores):")
        lake = f"{work}/lake"
        clean = lambda: shutil.rmtree(lake, ignore_errors=True)
        sl_gbk = best("searchlight ingest, GBK CSV", lambda: [binary, "--project", projects["gbk"], "--lake", lake, "ingest", "--force"], clean)
        sl_utf8 = best("searchlight ingest, UTF-8 CSV", lambda: [binary, "--project", projects["utf8"], "--lake", lake, "ingest", "--force"], clean)
        out = f"{work}/duck.parquet"
        script = f"import duckdb; duckdb.connect().execute(\"COPY (SELECT * FROM read_csv('{utf8}', header=true)) TO '{out}' (FORMAT parquet)\")"
        duck = best("DuckDB read_csv → Parquet, UTF-8 CSV", lambda: [sys.executable, "-c", script])

        mb = size / 1e6
        print(f"\nthroughput (MB of the GBK file per second):")
        print(f"  searchlight GBK    {mb / sl_gbk:8.1f} MB/s")
        print(f"  searchlight UTF-8  {mb / sl_utf8:8.1f} MB/s")
        print(f"  DuckDB UTF-8       {mb / duck:8.1f} MB/s   (+ transcode: {mb / (duck + transcode):.1f} MB/s)")
        print(f"\nratios (> 1 means searchlight is faster):")
        print(f"  DuckDB(UTF-8) / searchlight(GBK)    {duck / sl_gbk:5.2f}")
        print(f"  DuckDB(UTF-8) / searchlight(UTF-8)  {duck / sl_utf8:5.2f}")
        print(f"  (transcode + DuckDB) / searchlight(GBK)  {(duck + transcode) / sl_gbk:5.2f}")
        m = subprocess.run([binary, "--project", projects["gbk"], "--lake", lake, "lake", "treasury_payments", "--json"], capture_output=True, text=True).stdout
        parts = m.count('"file": "part-')
        print(f"lake: {parts} Parquet parts; DuckDB file {os.path.getsize(out) / 1e6:.0f} MB; searchlight parts {sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(lake) for f in fs if f.startswith('part-')) / 1e6:.0f} MB")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
