#!/usr/bin/env python3
"""The whole model library: searchlight vs DuckDB on the same Parquet, at county scale 100.

    python3 benches/library.py          # SCALE=… (default 100) and RUNS=… (default 3) override
    MEMORY_LIMIT=4GiB python3 benches/library.py   # both engines under the same memory limit
    CLUSTER=1 python3 benches/library.py           # also on a local Ballista cluster (feature `cluster`)

A benchmark, not a test: it measures and prints; nothing asserts a time.

Steps: generate the demo county at SCALE into a scratch project (connectors and models are the
repository's), land it with `searchlight ingest`, then run the library

  * searchlight: `searchlight run` — the whole library, models concurrently as in production,
    evidence saved to the lake (run.json + one Parquet per model) and the run recorded in the
    clue ledger, best of RUNS, wall time and
    peak RSS of the process; and once more with `--jobs 1` for each model's own time. These
    runs pass `--full`: a recorded run otherwise replays models whose inputs did not change,
    which is measured separately at the end (a run after nothing changed);
  * DuckDB: one process opens views over the *same* current Parquet snapshots searchlight
    reads and runs each model's query exactly as searchlight binds it (`searchlight explain
    MODEL --sql`), fetching every row; searchlight's SQL functions are given to DuckDB as
    macros. Best of RUNS, wall time and peak RSS of the process.

Row counts of the two engines are compared per model, so a ratio is only printed for queries
that returned the same rows.

With CLUSTER=1 the binary is built with the `cluster` feature and the library also runs on a
local Ballista cluster of it (a scheduler and two executors of one task slot each on 127.0.0.1,
reading the same lake directory): best of RUNS, against the one-process run, and the clues of
both compared.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCALE = int(os.environ.get("SCALE", "100"))
RUNS = int(os.environ.get("RUNS", "3"))
AS_OF = "2025-12-31"
MEMORY_LIMIT = os.environ.get("MEMORY_LIMIT")  # e.g. 4GiB: searchlight --memory-limit, DuckDB SET memory_limit
CLUSTER = os.environ.get("CLUSTER") == "1"

# searchlight's SQL functions, for DuckDB (same rules; see src/engine/udf/mod.rs)
DUCK_MACROS = r"""
CREATE MACRO regexp_like(s, p) AS regexp_matches(s, p);
CREATE MACRO id_card_birth_date(id) AS CAST(try_strptime(substr(id, 7, 8), '%Y%m%d') AS DATE);
CREATE MACRO id_card_age(id, d) AS
    date_diff('year', id_card_birth_date(id), CAST(d AS DATE))
    - CASE WHEN strftime(CAST(d AS DATE), '%m%d') < strftime(id_card_birth_date(id), '%m%d') THEN 1 ELSE 0 END;
CREATE MACRO org_name_key(s) AS
    regexp_replace(regexp_replace(regexp_replace(replace(replace(s, '（', '('), '）', ')'), '[【〔\[{]', '(', 'g'), '[】〕\]}]', ')', 'g'), '\s|　', '', 'g');
CREATE MACRO hf_quantile(l, p, t) AS
    CASE WHEN len(l) = 0 THEN NULL
         WHEN (CASE WHEN t = 8 THEN (len(l) + 1.0 / 3) * p + 1.0 / 3 ELSE (len(l) - 1) * p + 1 END) <= 1 THEN l[1]
         WHEN (CASE WHEN t = 8 THEN (len(l) + 1.0 / 3) * p + 1.0 / 3 ELSE (len(l) - 1) * p + 1 END) >= len(l) THEN l[len(l)]
         ELSE l[CAST(floor(CASE WHEN t = 8 THEN (len(l) + 1.0 / 3) * p + 1.0 / 3 ELSE (len(l) - 1) * p + 1 END) AS BIGINT)]
              + ((CASE WHEN t = 8 THEN (len(l) + 1.0 / 3) * p + 1.0 / 3 ELSE (len(l) - 1) * p + 1 END)
                 - floor(CASE WHEN t = 8 THEN (len(l) + 1.0 / 3) * p + 1.0 / 3 ELSE (len(l) - 1) * p + 1 END))
              * (l[CAST(floor(CASE WHEN t = 8 THEN (len(l) + 1.0 / 3) * p + 1.0 / 3 ELSE (len(l) - 1) * p + 1 END) AS BIGINT) + 1]
                 - l[CAST(floor(CASE WHEN t = 8 THEN (len(l) + 1.0 / 3) * p + 1.0 / 3 ELSE (len(l) - 1) * p + 1 END) AS BIGINT)])
    END;
CREATE MACRO iqr_upper_fence(x, k, t) AS
    -- one aggregate (the sorted list), so the macro also works as a window function
    list_transform([list_sort(list(CAST(x AS DOUBLE)))],
                   lambda l: hf_quantile(l, 0.75, t) + k * (hf_quantile(l, 0.75, t) - hf_quantile(l, 0.25, t)))[1];
CREATE MACRO quantile_type7(x, p) AS quantile_cont(CAST(x AS DOUBLE), p);
"""


def sh(*args, **kw):
    return subprocess.run(args, check=True, **kw)


def release_binary(*features):
    """The release build of searchlight (with `features`), built if need be: its path."""
    sh("cargo", "build", "--release", "--quiet", *(["--features", ",".join(features)] if features else []), cwd=ROOT)
    return os.path.join(ROOT, "target", "release", "searchlight")


def county(binary, proj, scale):
    """The demo county at `scale` in `proj/fixtures/demo`, generated once (a kept WORK reuses it)."""
    county = f"{proj}/fixtures/demo"
    if not os.path.exists(f"{county}/planted.csv"):
        print(f"generating the county at scale {scale} …", flush=True)
        os.makedirs(proj, exist_ok=True)
        sh(binary, "fixtures", "generate", "--seed", "1", "--scale", str(scale), "--out", county, stdout=subprocess.DEVNULL)
    return county


def timed(cmd, stdout=subprocess.DEVNULL):
    """Wall time, peak RSS (MiB) and stdout of one child process."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.PIPE)
    out = p.stdout.read() if stdout == subprocess.PIPE else b""
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    if status != 0:
        sys.exit(f"{cmd[:3]} failed: {p.stderr.read().decode(errors='replace')}")
    return wall, usage.ru_maxrss / 1024, out


def duck_worker(views_file, queries_file):
    """Runs inside a child process: every query once, prints JSON {model: [ms, rows]}."""
    import duckdb

    t0 = time.perf_counter()
    con = duckdb.connect()
    if MEMORY_LIMIT:
        con.execute(f"SET memory_limit = '{MEMORY_LIMIT.replace('i', '')}'")
    for stmt in DUCK_MACROS.split(";\n"):
        if stmt.strip():
            con.execute(stmt)
    for name, files in json.load(open(views_file)).items():
        con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet({files!r})")
    out = {}
    for model, sql in json.load(open(queries_file)).items():
        t = time.perf_counter()
        try:
            rows = len(con.execute(sql).fetchall())
            out[model] = [(time.perf_counter() - t) * 1000, rows, None]
        except Exception as e:  # a dialect gap: reported, not hidden
            out[model] = [None, None, str(e).splitlines()[0][:160]]
    out["__total_ms"] = (time.perf_counter() - t0) * 1000
    print(json.dumps(out))


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--duck-worker":
        return duck_worker(sys.argv[2], sys.argv[3])
    try:
        import duckdb  # noqa: F401
    except ImportError:
        sh(sys.executable, "-m", "pip", "install", "--quiet", "duckdb")
    import duckdb

    binary = release_binary(*(["cluster"] if CLUSTER else []))
    work = os.environ.get("WORK") or tempfile.mkdtemp(prefix="searchlight-library-")
    keep = "WORK" in os.environ
    try:
        proj = f"{work}/project"
        county(binary, proj, SCALE)
        for d in ("connectors", "models"):
            if not os.path.exists(f"{proj}/{d}"):
                os.symlink(os.path.join(ROOT, d), f"{proj}/{d}")
        base = [binary, "--project", proj] + (["--memory-limit", MEMORY_LIMIT] if MEMORY_LIMIT else [])
        wall, rss, _ = timed(base + ["ingest"])
        print(f"ingest (or confirm unchanged): {wall:.1f} s, peak RSS {rss:,.0f} MiB")

        # the current snapshot of every dataset, for DuckDB
        lake = f"{proj}/lake"
        views = {}
        rows_total = {}
        for name in sorted(os.listdir(lake)):
            cur = f"{lake}/{name}/_current.json"
            if os.path.exists(cur):
                snap = json.load(open(cur))["snapshot"]
                files = sorted(f"{lake}/{name}/{snap}/{f}" for f in os.listdir(f"{lake}/{name}/{snap}") if f.startswith("part-"))
                views[name] = files
                rows_total[name] = json.load(open(f"{lake}/{name}/{snap}/_manifest.json")).get("rows")
        big = sorted(((r or 0, n) for n, r in rows_total.items()), reverse=True)[:4]
        print("largest datasets: " + ", ".join(f"{n} {r:,}" for r, n in big))
        ids = [l.split("|")[1].strip().strip("`") for l in sh(*base, "models", "--markdown", capture_output=True, text=True).stdout.splitlines()[2:]]
        queries = {m: sh(*base, "explain", m, "--as-of", AS_OF, "--sql", capture_output=True, text=True).stdout for m in ids}
        vf, qf = f"{work}/views.json", f"{work}/queries.json"
        json.dump(views, open(vf, "w"))
        json.dump(queries, open(qf, "w"))

        print(f"\nthe library: {len(ids)} models, best of {RUNS} (2 cores)", flush=True)
        sl_runs, sl_rss = [], 0.0
        for _ in range(RUNS):
            wall, rss, _ = timed(base + ["run", "--as-of", AS_OF, "--full"])
            sl_runs.append(wall)
            sl_rss = max(sl_rss, rss)
        _, _, out = timed(base + ["run", "--as-of", AS_OF, "--jobs", "1", "--json", "--full"], stdout=subprocess.PIPE)
        report = json.loads(out)
        sl = {m["model"]: (m["elapsed_ms"], m["rows"], m.get("error")) for m in report["models"]}
        dk_runs, dk_rss, dk = [], 0.0, None
        for _ in range(RUNS):
            wall, rss, out = timed([sys.executable, __file__, "--duck-worker", vf, qf], stdout=subprocess.PIPE)
            dk_runs.append(wall)
            dk_rss = max(dk_rss, rss)
            dk = json.loads(out)

        print(f"\n{'model':<46}{'searchlight':>12}{'DuckDB':>10}{'ratio':>8}  rows")
        same, sum_sl, sum_dk = 0, 0.0, 0.0
        for m in ids:
            s_ms, s_rows, s_err = sl[m]
            d_ms, d_rows, d_err = dk[m]
            if s_err or d_err:
                print(f"{m:<46}{'':>12}{'':>10}{'':>8}  searchlight: {s_err or 'ok'}; DuckDB: {d_err or 'ok'}")
                continue
            match = s_rows == d_rows
            same += match
            ratio = d_ms / s_ms if s_ms else float("inf")
            if match:
                sum_sl += s_ms
                sum_dk += d_ms
            print(f"{m:<46}{s_ms:>10.0f}ms{d_ms:>8.0f}ms{ratio:>8.2f}  {s_rows:,}" + ("" if match else f" ≠ DuckDB {d_rows:,}"))
        print(f"\nsame rows from both engines: {same} of {len(ids)} models")
        print(f"sum of per-model query times (models with equal rows; > 1 means searchlight is faster):")
        print(f"  searchlight {sum_sl / 1000:6.2f} s   DuckDB {sum_dk / 1000:6.2f} s   ratio {sum_dk / sum_sl:5.2f}")
        s, d = min(sl_runs), min(dk_runs)
        print("whole library, one process each (start-up, registering the snapshots, every query, all rows;")
        print("searchlight also writes each run's evidence Parquet and run.json, and records the run in its ledger):")
        print(f"  searchlight {s:6.2f} s (runs {', '.join(f'{x:.2f}' for x in sl_runs)})   peak RSS {sl_rss:,.0f} MiB")
        print(f"  DuckDB      {d:6.2f} s (runs {', '.join(f'{x:.2f}' for x in dk_runs)})   peak RSS {dk_rss:,.0f} MiB")
        print(f"  ratio DuckDB / searchlight {d / s:5.2f}")
        if MEMORY_LIMIT:
            print(f"  both under a memory limit of {MEMORY_LIMIT}")
        # nothing changed since the last recorded run: every model's result is replayed
        wall, rss, out = timed(base + ["run", "--as-of", AS_OF, "--json"], stdout=subprocess.PIPE)
        replayed = sum(1 for m in json.loads(out)["models"] if m.get("carried_from"))
        print(f"a recorded run after nothing changed: {wall:.2f} s ({wall / s:.0%} of a full run), "
              f"{replayed} of {len(ids)} models replayed, peak RSS {rss:,.0f} MiB")
        if CLUSTER:
            on_cluster(binary, base, work, s)
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


def free_port():
    import socket
    with socket.socket() as so:
        so.bind(("127.0.0.1", 0))
        return so.getsockname()[1]


def peak_rss(pid):
    """Peak RSS (MiB) of a running process, from /proc."""
    try:
        for line in open(f"/proc/{pid}/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def clue_keys(out):
    return {m["model"]: sorted((c["id"], c["evidence_key"]) for c in (m.get("clues") or [])) for m in json.loads(out)["models"]}


def on_cluster(binary, base, work, one_machine):
    """The library on a local Ballista cluster of this binary, against one process."""
    port = free_port()
    url = f"df://127.0.0.1:{port}"
    # a shuffle of as many partitions as the executors have task slots (Ballista's default is 16)
    client_url = f"{url}?partitions=2"
    logs = open(f"{work}/cluster.log", "w")
    procs = [subprocess.Popen([binary, "cluster", "scheduler", "--port", str(port)], stderr=logs)]
    try:
        time.sleep(1)
        for _ in range(2):
            procs.append(subprocess.Popen(
                [binary, "cluster", "executor", "--scheduler", url, "--port", str(free_port()),
                 "--grpc-port", str(free_port()), "--concurrency", "1"]
                + (["--memory-limit", MEMORY_LIMIT] if MEMORY_LIMIT else []), stderr=logs))
        time.sleep(3)
        runs, rss_max, out = [], 0.0, b""
        for _ in range(RUNS):
            wall, rss, out = timed(base + ["--cluster", client_url, "run", "--as-of", AS_OF, "--full", "--json"], stdout=subprocess.PIPE)
            runs.append(wall)
            rss_max = max(rss_max, rss)
        _, _, local = timed(base + ["run", "--as-of", AS_OF, "--full", "--json"], stdout=subprocess.PIPE)
        a, b = clue_keys(out), clue_keys(local)
        same = sum(1 for m in b if a.get(m) == b[m])
        c = min(runs)
        print("\nthe library on a local Ballista cluster (scheduler + 2 executors of 1 slot, same lake directory):")
        print(f"  cluster     {c:6.2f} s (runs {', '.join(f'{x:.2f}' for x in runs)})   client peak RSS {rss_max:,.0f} MiB")
        print(f"  one process {one_machine:6.2f} s   ratio one process / cluster {one_machine / c:5.2f}")
        print(f"  same clues (ids and evidence keys) as one process: {same} of {len(b)} models")
        print("  peak RSS of the scheduler and executors: " + ", ".join(f"{peak_rss(p.pid):,.0f} MiB" for p in procs))
    finally:
        for p in procs:
            p.kill()
            p.wait()


if __name__ == "__main__":
    main()
