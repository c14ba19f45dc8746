#!/usr/bin/env python3
"""The eleven Open Contracting red flags on a generated OCDS file: processes per second and peak
memory of `searchlight ocds-flags`.

    python3 benches/ocds_flags.py             # PROCESSES=… (default 100 000), RUNS=… (default 3)

A benchmark, not a test: it measures and prints; nothing asserts a time.

The file is made by `searchlight fixtures ocds` (compiled releases as JSON lines, the same for
the same seed); the run uses every flag with its defaults. The reference implementation (OCDS
Cardinal) is not installable offline — it is not on crates.io, and its PyPI binding has only
`coverage` — so its figure is the one the issue gives for this machine, about 16 000
processes/s, printed beside ours, not measured here.
"""
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROCESSES = int(os.environ.get("PROCESSES", "100000"))
RUNS = int(os.environ.get("RUNS", "3"))
REFERENCE = 16_000  # processes/s of OCDS Cardinal on this machine, as issue 23 states


def main():
    print("building searchlight (release) …", flush=True)
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    exe = os.path.join(ROOT, "target", "release", "searchlight")
    with tempfile.TemporaryDirectory() as work:
        path = os.path.join(work, "processes.jsonl")
        subprocess.run([exe, "fixtures", "ocds", "--processes", str(PROCESSES), "--out", path], check=True,
                       cwd=work, stdout=subprocess.DEVNULL)
        size = os.path.getsize(path)
        best = None
        for _ in range(RUNS):
            start = time.time()
            p = subprocess.run(["/usr/bin/time", "-f", "RSS_KIB=%M", exe, "ocds-flags", path],
                               capture_output=True, text=True, cwd=work)
            wall = time.time() - start
            if p.returncode != 0:
                sys.exit(p.stderr)
            rss = [int(l.split("=")[1]) for l in p.stderr.splitlines() if l.startswith("RSS_KIB=")][-1] / 1024
            if best is None or wall < best[0]:
                best = (wall, rss, p.stdout)
        wall, rss, out = best
        flagged = out.count('"R0')
        print(f"\n{PROCESSES:,} processes ({size / 2**20:.0f} MiB), 11 flags, best of {RUNS}")
        print(f"  searchlight ocds-flags  {wall:6.2f}s  {PROCESSES / wall:10,.0f} processes/s  peak RSS {rss:5.0f} MiB  ({flagged:,} flags)")
        print(f"  reference (stated)               {REFERENCE:10,} processes/s")
        print(f"  ratio                   {PROCESSES / wall / REFERENCE:6.2f}")


if __name__ == "__main__":
    main()
