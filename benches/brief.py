#!/usr/bin/env python3
"""A pre-inspection brief for a unit with 10 000 clues over 20 runs, in each format.

    python3 benches/brief.py        # CLUES=… (default 10000), RUNS=… (default 20), REPEAT=… (5)
                                    # SEARCHLIGHT_BIN=… times that binary instead of a release build
                                    # KEEP=1 keeps the scratch project

A benchmark, not a test: it measures and prints; nothing asserts a time.

Steps: a scratch project with a directory of units (one township, its 20 villages and 7 peer
townships) and a payment export spread over the villages, read by two models; RUNS times the
export changes (each time 1/40 of the first run's recipients leave and as many new ones come,
the rest stay) and is landed and run with `searchlight pipeline`, so the ledger holds CLUES
clues of the township, each seen by up to RUNS runs. Then `searchlight brief <township> --format F --out …` is timed for
md, html and xlsx, best of REPEAT whole processes (start-up, lake registration, ledger reads,
the top clues' working papers, rendering and writing included).
"""
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLUES = int(os.environ.get("CLUES", "10000"))
RUNS = int(os.environ.get("RUNS", "20"))
REPEAT = int(os.environ.get("REPEAT", "5"))


def sh(*args, **kw):
    return subprocess.run(args, check=True, **kw)


def main():
    binary = os.environ.get("SEARCHLIGHT_BIN")
    if not binary:
        sh("cargo", "build", "--release", "--quiet", cwd=ROOT)
        binary = os.path.join(ROOT, "target", "release", "searchlight")
    work = tempfile.mkdtemp(prefix="searchlight-brief-")
    try:
        os.makedirs(os.path.join(work, "connectors"))
        os.makedirs(os.path.join(work, "data"))
        os.makedirs(os.path.join(work, "models", "bench"))
        with open(os.path.join(work, "searchlight.toml"), "w") as f:
            f.write("[library]\nbundled = false\n")
        with open(os.path.join(work, "connectors", "units.toml"), "w") as f:
            f.write(
                'name = "units"\nlocation = "data/units.csv"\n[format]\ntype = "csv"\n[columns]\n'
                'unit_code = { from = "单位编码" }\nname = { from = "单位名称" }\nkind = { from = "单位类型" }\n'
                'parent_code = { from = "上级单位编码" }\nregion_code = { from = "行政区划代码" }\npeople = { from = "人数" }\n'
            )
        towns = [f"T{t}" for t in range(8)]
        villages = [f"T0V{v:02d}" for v in range(20)]
        with open(os.path.join(work, "data", "units.csv"), "w") as f:
            f.write("单位编码,单位名称,单位类型,上级单位编码,行政区划代码,人数\n")
            for t, code in enumerate(towns):
                f.write(f"{code},第{t}镇,镇,,9900011{t:02d},{5000 + 100 * t}\n")
            for v, code in enumerate(villages):
                f.write(f"{code},第0镇{v}村,村,T0,9900011000{v + 1:02d},250\n")
        with open(os.path.join(work, "connectors", "pay.toml"), "w") as f:
            f.write(
                'name = "pay"\ntitle = "补贴发放"\ndomain = "bench"\ncustom = true\nlocation = "data/pay.csv"\n'
                '[format]\ntype = "csv"\n[columns]\nwho = { from = "身份证号", type = "text" }\n'
                'village = { from = "村", type = "text" }\namount = { from = "金额", type = "money" }\n'
            )
        for area, sev in [("低保", "high"), ("惠民惠农补贴", "medium")]:
            mid = "bench.a" if area == "低保" else "bench.b"
            with open(os.path.join(work, "models", "bench", f"{mid[-1]}.sql"), "w") as f:
                f.write(
                    f'/* searchlight\nid = "{mid}"\ntitle = "{area}基准"\ntitle_en = "Bench"\ndomain = "relief"\n'
                    f'area = "{area}"\nseverity = "{sev}"\nowner = "b"\ndescription = "基准"\nbasis = ["基准"]\n'
                    'entity = ["who"]\nunit = "village"\namount = "amount"\n*/\n'
                    f"SELECT who, village, amount FROM pay WHERE {'amount >= 300' if mid == 'bench.a' else 'amount < 300'}\n"
                )
        rng = random.Random(1)
        # first-run recipients n0 and churn c per run: n0 + (RUNS - 1) * c = CLUES, c = n0 / 40
        n0 = round(CLUES / (1 + (RUNS - 1) / 40))
        churn = (CLUES - n0) // max(RUNS - 1, 1)
        n0 = CLUES - churn * (RUNS - 1)
        people = [f"9900011990{n:08d}" for n in range(n0)]
        next_id = n0
        start = time.time()
        for run in range(RUNS):
            if run:
                leave = set(rng.sample(range(len(people)), churn))
                people = [p for k, p in enumerate(people) if k not in leave]
                for _ in range(len(leave)):
                    people.append(f"9900011990{next_id:08d}")
                    next_id += 1
            with open(os.path.join(work, "data", "pay.csv"), "w") as f:
                f.write("身份证号,村,金额\n")
                for p in people:
                    n = int(p[-8:])
                    f.write(f"{p},第0镇{n % 20}村,{100 + (n * 37) % 500}.{n % 100:02d}\n")
            month = 1 + run % 12
            year = 2024 + run // 12
            sh(binary, "--project", work, "pipeline", "--as-of", f"{year}-{month:02d}-28",
               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        print(f"ledger: {RUNS} runs, {CLUES} recipients ({n0} in the first run, {churn} in and out per run), made in {time.time() - start:.1f} s")
        as_of = f"{2024 + (RUNS - 1) // 12}-{1 + (RUNS - 1) % 12:02d}-28"
        results = {}
        for fmt in ["md", "html", "xlsx"]:
            out = os.path.join(work, f"brief.{fmt}")
            times = []
            for _ in range(REPEAT):
                t0 = time.perf_counter()
                p = sh(binary, "--project", work, "brief", "第0镇", "--as-of", as_of, "--format", fmt, "--out", out,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                times.append(time.perf_counter() - t0)
            results[fmt] = (min(times), sorted(times)[len(times) // 2], os.path.getsize(out))
            summary = p.stderr.decode().strip().splitlines()[0]
        print(summary)
        print(f"{'format':<6} {'best':>8} {'median':>8} {'size':>10}   ratio to the 1 s budget")
        for fmt, (best, med, size) in results.items():
            print(f"{fmt:<6} {best:>7.3f}s {med:>7.3f}s {size / 1024:>8.0f} KiB   {best / 1.0:.2f}")
    finally:
        if os.environ.get("KEEP"):
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
