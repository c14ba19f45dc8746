#!/usr/bin/env python3
"""A month's delivery on top of a county: landing it and re-running the library after it.

    python3 benches/append.py            # SCALE=… (default 300), RUNS=… (default 3), SHARE=… (default 0.01)

A benchmark, not a test: it measures and prints; nothing asserts a time.

Steps: generate the demo county at SCALE into a scratch project whose relief-payments connector
is the repository's with `append = true` and a glob over the payment workbooks; land it; run the
whole library recorded in a ledger (`--full`, best of RUNS: the full run). Then write SHARE of the
payment rows again as a second workbook beside the first — late-arriving payments of households
not seen before, 2 % of them paid again to the same household for a month it was paid for — and
measure

  * the ingest of the grown export (the new workbook decoded; the earlier parts shared) against
    a full landing of both workbooks (`ingest --force`, into a scratch copy of the lake);
  * the recorded run after it: models whose inputs did not change are replayed, models declared
    `[incremental]` evaluate the households the new rows touch, the rest compute in full — against
    the full run; and every model's rows against a `--full` run of the same lake into another
    ledger.
"""
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from library import ROOT, release_binary, sh, timed  # noqa: E402
from library import county as make_county  # noqa: E402

SCALE = int(os.environ.get("SCALE", "300"))
RUNS = int(os.environ.get("RUNS", "3"))
SHARE = float(os.environ.get("SHARE", "0.01"))
AS_OF = "2025-12-31"
BOOK = "低保发放明细"


def grow(src, dst, share, seed=7, again=0.02):
    """A second workbook of the same sheets: `share` of the rows as late-arriving payments of
    households not seen before (their household number suffixed), and `again` of those paid
    again to the same household for the same month (another date): a double payment."""
    import openpyxl

    rnd = random.Random(seed)
    wb = openpyxl.load_workbook(src, read_only=True)
    out = openpyxl.Workbook(write_only=True)
    rows_out = 0
    for ws in wb.worksheets:
        rows = list(ws.iter_rows(values_only=True))
        title, header, data = rows[0], rows[1], rows[2:]
        # data rows only (a totals row starts with 合计)
        data = [r for r in data if r and not str(r[0] or "").startswith(("合计", "小计", "总计"))]
        pick = [r for r in data if rnd.random() < share]
        sheet = out.create_sheet(ws.title)
        sheet.append(list(title))
        sheet.append(list(header))
        date_col = header.index("发放日期") if "发放日期" in header else None
        hh_col = header.index("家庭编号")
        acct_col = header.index("银行账号") if "银行账号" in header else None
        for r in pick:
            r = list(r)
            if rnd.random() >= again:
                # a household not seen before, paid into an account of its own
                r[hh_col] = f"{r[hh_col]}B"
                if acct_col is not None:
                    a = r[acct_col]
                    r[acct_col] = f"8{a[1:]}" if isinstance(a, str) and a.isdigit() else None
            if date_col is not None and isinstance(r[date_col], str) and re.match(r"\d{4}-\d{2}-\d{2}", r[date_col]):
                r[date_col] = r[date_col][:8] + "28"
            sheet.append(r)
            rows_out += 1
    out.save(dst)
    return rows_out


def main():
    try:
        import openpyxl  # noqa: F401
    except ImportError:
        sh(sys.executable, "-m", "pip", "install", "--quiet", "openpyxl")
    binary = release_binary()
    work = os.environ.get("WORK") or tempfile.mkdtemp(prefix="searchlight-append-")
    keep = "WORK" in os.environ
    try:
        proj = f"{work}/project"
        county = make_county(binary, proj, SCALE)
        if not os.path.exists(f"{proj}/models"):
            os.symlink(os.path.join(ROOT, "models"), f"{proj}/models")
        # the repository's connectors, relief payments declared as an export that grows
        shutil.rmtree(f"{proj}/connectors", ignore_errors=True)
        shutil.copytree(os.path.join(ROOT, "connectors"), f"{proj}/connectors")
        spec = open(f"{proj}/connectors/relief_payments.toml", encoding="utf-8").read()
        spec = re.sub(r'location\s*=\s*"[^"]*"', f'append      = true\nlocation    = "fixtures/demo/relief/{BOOK}*.xlsx"', spec)
        open(f"{proj}/connectors/relief_payments.toml", "w", encoding="utf-8").write(spec)
        for f in os.listdir(f"{county}/relief"):
            if f.startswith(f"{BOOK}_"):
                os.remove(f"{county}/relief/{f}")
        shutil.rmtree(f"{proj}/lake", ignore_errors=True)
        for d in (proj, work):
            for f in os.listdir(d):
                if f.endswith(".sqlite"):
                    os.remove(f"{d}/{f}")
        base = [binary, "--project", proj]
        wall, rss, _ = timed(base + ["ingest", "--as-of", AS_OF])
        print(f"ingest of the county: {wall:.1f} s, peak RSS {rss:,.0f} MiB")
        rows = json.load(open(f"{proj}/lake/relief_payments/v000001/_manifest.json"))["rows"]

        full_runs = []
        for i in range(RUNS):
            args = base + ["run", "--as-of", AS_OF, "--full"] + (["--new-ledger"] if i == 0 else [])
            wall, _, _ = timed(args)
            full_runs.append(wall)
        full = min(full_runs)
        print(f"full run of the library, recorded: {full:.2f} s (runs {', '.join(f'{x:.2f}' for x in full_runs)})")

        added = grow(f"{county}/relief/{BOOK}.xlsx", f"{county}/relief/{BOOK}_追加01.xlsx", SHARE)
        print(f"\nthe delivery: {added:,} payment rows ({added / rows:.2%} of {rows:,}) in a second workbook")
        scratch = f"{work}/lake-full"
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.copytree(f"{proj}/lake", scratch)
        wall_full_land, _, _ = timed(base + ["--lake", scratch, "ingest", "--as-of", AS_OF, "--force", "relief_payments"])
        wall, rss, out = timed(base + ["ingest", "--as-of", AS_OF, "relief_payments"], stdout=subprocess.PIPE)
        m = json.load(open(f"{proj}/lake/relief_payments/v000002/_manifest.json"))
        print(f"ingest of the grown export: {wall:.2f} s (appends {m.get('appends')}; "
              f"{sum(1 for p in m['parts'] if p.get('snapshot'))} of {len(m['parts'])} parts shared), "
              f"a full landing of both workbooks {wall_full_land:.2f} s: {wall / wall_full_land:.0%}")

        runs = f"{proj}/lake/_runs"

        def last_report():
            latest = max(os.listdir(runs), key=lambda r: os.path.getmtime(f"{runs}/{r}/run.json"))
            return json.load(open(f"{runs}/{latest}/run.json"))

        # the same run once more, one model at a time, into a copy of the ledger: each model's own time
        shutil.copy(f"{proj}/ledger.sqlite", f"{work}/before.sqlite")
        # timed as a scheduled run is (no JSON on stdout); its report is the run's run.json
        wall, rss, _ = timed(base + ["run", "--as-of", AS_OF])
        report = last_report()
        timed(base + ["--ledger", f"{work}/before.sqlite", "run", "--as-of", AS_OF, "--jobs", "1"])
        alone = {m["model"]: m for m in last_report()["models"]}
        replayed = [m["model"] for m in report["models"] if m.get("carried_from")]
        updated = [m for m in report["models"] if m.get("increment")]
        computed = [m for m in report["models"] if not m.get("carried_from") and not m.get("increment")
                    and m["status"] not in ("not_run",)]
        models_ms = sum(m["elapsed_ms"] for m in report["models"])
        print(f"recorded run after the delivery: {wall:.2f} s = {wall / full:.0%} of a full run "
              f"(models {models_ms / 1000:.2f} s of it, summed); "
              f"{len(replayed)} replayed, {len(updated)} incremental, {len(computed)} computed in full, peak RSS {rss:,.0f} MiB")
        for u in updated:
            i = u["increment"]
            print(f"  incremental {u['model']}: {i['keys']:,} {i['key']} of {i['new_rows']:,} new rows, "
                  f"{alone[u['model']]['elapsed_ms']} ms alone")
        for c in computed:
            print(f"  computed in full {c['model']}: {alone[c['model']]['elapsed_ms']} ms alone")
        # the same rows as a full run of the same lake (one model at a time: each one's own time)
        other = f"{work}/full.sqlite"
        timed(base + ["--ledger", other, "run", "--as-of", AS_OF, "--full", "--new-ledger", "--jobs", "1"])
        full_report = {m["model"]: m for m in last_report()["models"]}
        differ = [m["model"] for m in report["models"]
                  if sorted(c["evidence_key"] for c in m["clues"]) != sorted(c["evidence_key"] for c in full_report[m["model"]]["clues"])]
        for u in updated:
            f = full_report[u["model"]]
            print(f"  {u['model']} computed in full: {f['elapsed_ms']} ms alone, {len(f['clues'])} clues (incremental: {len(u['clues'])})")
        print(f"models whose clues differ from a full run's: {len(differ)} {differ if differ else ''}")
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
