#!/usr/bin/env python3
"""The workbench with a million clues in the ledger: the clue list, a clue page and a brief.

    python3 benches/workbench.py    # CLUES=… (default 1000000), REPEAT=… requests per URL (200)
                                    # SEARCHLIGHT_BIN=… uses that binary instead of a release build
                                    # KEEP=1 keeps the scratch project
                                    # REUSE=DIR measures a project a KEEP=1 run left, as it is

A benchmark, not a test: it measures and prints; nothing asserts a time.

Steps: a scratch project with a directory of 10 townships and their 300 villages, and a payment
export of CLUES rows spread over the villages, read by two models (one high, one medium
severity), so `searchlight pipeline` records CLUES clues; a second export in which 1/40 of the
recipients leave and as many new ones come is landed and run again (new, ongoing and resolved
marks). 2 000 clues are worked through the API (triaged, some verified, rectified, excepted).
Then `searchlight serve` answers, one request at a time from one client, REPEAT times each:
the clue list (API and page) with no filter, by status, by model, by severity and mark, for a
team member whose units are one township, ordered by amount, and twenty pages deep by cursor;
a clue (API and page); and a township's brief (page and xlsx). Best, median and p99 per
request, then requests per second from 16 clients at once on the list and a clue page.
"""
import concurrent.futures
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLUES = int(os.environ.get("CLUES", "1000000"))
REPEAT = int(os.environ.get("REPEAT", "200"))


def sh(binary, work, *args, env=None, input=None):
    e = dict(os.environ, **(env or {}))
    p = subprocess.run([binary, "--project", work, *args], env=e, input=input, capture_output=True, check=False)
    if p.returncode != 0:
        sys.exit(f"searchlight {' '.join(args)} failed:\n{p.stderr.decode()}")
    return p.stdout.decode()


def write_export(path, people):
    with open(path, "w") as f:
        f.write("身份证号,村,金额\n")
        for n in people:
            f.write(f"9900011990{n:08d},V{n % 300:03d},{100 + (n * 37) % 500}.{n % 100:02d}\n")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def get(base, path, token, method="GET", body=None):
    req = urllib.request.Request(base + path, method=method, data=body)
    req.add_header("Authorization", f"Bearer {token}")
    if body is not None:
        req.add_header("Content-Type", "application/json")
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            data = r.read()
    except urllib.error.HTTPError as e:
        sys.exit(f"{method} {path}: {e.code} {e.read().decode(errors='replace')[:500]}")
    return time.perf_counter() - t0, data


def timed(base, path, token, repeat):
    times = []
    for _ in range(repeat):
        dt, _ = get(base, path, token)
        times.append(dt)
    times.sort()
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    return times[0], times[len(times) // 2], p99


def main():
    binary = os.environ.get("SEARCHLIGHT_BIN")
    if not binary:
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
        binary = os.path.join(ROOT, "target", "release", "searchlight")
    reuse = os.environ.get("REUSE")
    work = reuse or tempfile.mkdtemp(prefix="searchlight-workbench-")
    server = None
    try:
        if not reuse:
            make(binary, work)
        admin = sh(binary, work, "user", "token", "chief").strip()
        team = sh(binary, work, "user", "token", "team3").strip()
        measure(binary, work, admin, team, worked=not reuse)
    finally:
        if os.environ.get("KEEP") or reuse:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def make(binary, work):
    """The scratch project, its two runs and its users."""
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
    with open(os.path.join(work, "data", "units.csv"), "w") as f:
        f.write("单位编码,单位名称,单位类型,上级单位编码,行政区划代码,人数\n")
        for t in range(10):
            f.write(f"T{t},第{t}镇,镇,,99000110{t:02d},{5000 + 100 * t}\n")
        for v in range(300):
            f.write(f"V{v:03d},第{v % 10}镇{v}村,村,T{v % 10},99000110{v % 10:02d}{v:03d},250\n")
    with open(os.path.join(work, "connectors", "pay.toml"), "w") as f:
        f.write(
            'name = "pay"\ntitle = "补贴发放"\ndomain = "bench"\ncustom = true\nlocation = "data/pay.csv"\n'
            '[format]\ntype = "csv"\n[columns]\nwho = { from = "身份证号", type = "text" }\n'
            'village = { from = "村", type = "text" }\namount = { from = "金额", type = "money" }\n'
        )
    for mid, area, sev, cond in [("bench.a", "低保", "high", "amount >= 300"),
                                 ("bench.b", "惠民惠农补贴", "medium", "amount < 300")]:
        with open(os.path.join(work, "models", "bench", f"{mid[-1]}.sql"), "w") as f:
            f.write(
                f'/* searchlight\nid = "{mid}"\ntitle = "{area}基准"\ntitle_en = "Bench"\ndomain = "relief"\n'
                f'area = "{area}"\nseverity = "{sev}"\nowner = "b"\ndescription = "基准"\nbasis = ["基准"]\n'
                'entity = ["who"]\nunit = "village"\namount = "amount"\n*/\n'
                f"SELECT who, village, amount FROM pay WHERE {cond}\n"
            )
    rng = random.Random(1)
    churn = CLUES // 41
    first = list(range(CLUES - churn))
    export = os.path.join(work, "data", "pay.csv")
    write_export(export, first)
    t0 = time.perf_counter()
    sh(binary, work, "pipeline", "--as-of", "2026-10-31")
    t1 = time.perf_counter()
    leave = set(rng.sample(range(len(first)), churn))
    second = [p for k, p in enumerate(first) if k not in leave] + list(range(len(first), CLUES))
    write_export(export, second)
    sh(binary, work, "pipeline", "--as-of", "2026-11-30")
    t2 = time.perf_counter()
    print(f"ledger: {CLUES} clues; first pipeline (all new) {t1 - t0:.1f} s, "
          f"second ({churn} new, {churn} resolved, the rest ongoing) {t2 - t1:.1f} s")

    pw = {"SEARCHLIGHT_PASSWORD": "bench-password-1"}
    sh(binary, work, "user", "add", "chief", "--role", "admin", env=pw)
    sh(binary, work, "user", "add", "team3", "--role", "team", "--team", "三组", env=pw)
    sh(binary, work, "user", "grant", "team3", "--unit", "T3")


def measure(binary, work, admin, team, worked):
    """Serves the project and times the requests."""
    server = None
    try:

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen([binary, "--project", work, "serve", "--listen", f"127.0.0.1:{port}"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(600):
            try:
                get(base, "/api/v1/me", admin)
                break
            except Exception:
                time.sleep(0.1)
        page = json.loads(get(base, "/api/v1/clues?limit=500&sort=amount", admin)[1])
        ids = [c["clue_id"] for c in page["items"]]
        more = json.loads(get(base, "/api/v1/clues?limit=500&sort=newest", admin)[1])["items"]
        ids = list(dict.fromkeys(ids + [c["clue_id"] for c in more]))
        steps = 0
        t0 = time.perf_counter()
        for n, cid in enumerate(ids[:1000] if worked else []):
            steps = [{"kind": "triage", "dismiss": n % 5 == 0, "reason": "基准研判"}]
            if n % 5 != 0 and n % 3 == 0:
                steps += [{"kind": "verify", "result": "属实", "amount_involved": 1200.5},
                          {"kind": "rectify", "due": "2026-11-15"}]
            if n % 7 == 1:
                steps = [{"kind": "except", "until": "2027-06-30", "reason": "合法代领"}]
            for s in steps:
                get(base, f"/api/v1/clues/{cid}/steps", admin, "POST", json.dumps(s).encode())
                steps += 1
        if worked:
            print(f"{steps} steps taken on {min(len(ids), 1000)} clues through the API in {time.perf_counter() - t0:.1f} s")

        deep = ""
        cursor = None
        for _ in range(20):
            q = "/api/v1/clues?limit=50" + (f"&cursor={cursor}" if cursor else "")
            cursor = json.loads(get(base, q, admin)[1])["next"]
        deep = f"/api/v1/clues?limit=50&cursor={cursor}"
        clue = ids[3]
        cases = [
            ("list, no filter (API)", "/api/v1/clues", admin),
            ("list, no filter (page)", "/clues", admin),
            ("list, status 整改中 (API)", "/api/v1/clues?status=rectifying", admin),
            ("list, status 已分流 (page)", "/clues?status=routed", admin),
            ("list, model bench.b (API)", "/api/v1/clues?model=bench.b", admin),
            ("list, model bench.b, 待研判 (API)", "/api/v1/clues?model=bench.b&status=pending", admin),
            ("list, model bench.b, by amount (API)", "/api/v1/clues?model=bench.b&sort=amount", admin),
            ("list, severity high, mark new (API)", "/api/v1/clues?severity=high&mark=new", admin),
            ("list, overdue flag (API)", "/api/v1/clues?flag=overdue&as_of=2026-12-01", admin),
            ("list, by amount (API)", "/api/v1/clues?sort=amount", admin),
            ("list, 21st page by cursor (API)", deep, admin),
            ("list, team member: one township (API)", "/api/v1/clues", team),
            ("list, team member: one township (page)", "/clues", team),
            ("list, unit V123 (API)", "/api/v1/clues?unit=V123", admin),
            ("clue (API)", f"/api/v1/clues/{clue}", admin),
            ("clue (page)", f"/clues/{clue}", admin),
            ("working paper (page)", f"/papers/{clue}", admin),
            ("models with 属实率 (page)", "/models", admin),
            ("runs (page)", "/runs", admin),
        ]
        print(f"\n{'request':<42} {'best':>8} {'median':>8} {'p99':>8}   (ms, one client; {REPEAT} requests each "
              f"for the list and a clue, {max(10, REPEAT // 10)} for the other pages, {max(5, REPEAT // 20)} for a brief)")
        for name, path, token in cases:
            # the pages beyond the list and the clue are asked for less often
            many = REPEAT if name.startswith(("list", "clue")) else max(10, REPEAT // 10)
            best, med, p99 = timed(base, path, token, many)
            print(f"{name:<42} {best * 1e3:>8.1f} {med * 1e3:>8.1f} {p99 * 1e3:>8.1f}")
        for name, path in [("brief of 第3镇, page", "/units/T3"),
                           ("brief of 第3镇, xlsx", "/api/v1/units/T3/brief?format=xlsx")]:
            best, med, p99 = timed(base, path, admin, max(5, REPEAT // 20))
            print(f"{name:<42} {best * 1e3:>8.1f} {med * 1e3:>8.1f} {p99 * 1e3:>8.1f}")

        # throughput: 16 clients at once, half on the list, half on a clue page
        stop = time.perf_counter() + 10
        def client(k):
            n, lat = 0, []
            path = "/clues" if k % 2 else f"/clues/{ids[k]}"
            while time.perf_counter() < stop:
                dt, _ = get(base, path, admin)
                lat.append(dt)
                n += 1
            return n, lat
        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            results = list(pool.map(client, range(16)))
        total = sum(n for n, _ in results)
        lat = sorted(x for _, l in results for x in l)
        print(f"\n16 clients for 10 s: {total / 10:.0f} requests per second, "
              f"p50 {lat[len(lat) // 2] * 1e3:.1f} ms, p99 {lat[int(len(lat) * 0.99)] * 1e3:.1f} ms, 0 errors")
    finally:
        if server:
            server.terminate()
            server.wait()


if __name__ == "__main__":
    sys.exit(main())
