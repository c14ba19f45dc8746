#!/usr/bin/env python3
"""Ingest before and after a change: two searchlight binaries on the same ≈1 GB GBK CSV.

    python3 benches/ingest_ab.py OLD_BINARY NEW_BINARY     # e.g. a release build of main, and yours

A benchmark, not a test: it measures and prints; nothing asserts a time. The file is the demo
county's treasury payments at scale 1000 (made by OLD_BINARY); each binary lands it with
`ingest --force` four times, the two alternating so that the machine's drift hits both alike,
then re-ingests it unchanged three times (the survey alone). Prints the best wall time, every
run, peak RSS and the ratio (old / new; above 1 the new one is faster). DuckDB's side of the
same file is `benches/ingest.py`.
"""
import os, re, shutil, subprocess, sys, time, tempfile
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
A, B = sys.argv[1], sys.argv[2]
def timed(cmd):
    t=time.perf_counter(); p=subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, st, us = os.wait4(p.pid, 0); w=time.perf_counter()-t
    if st: sys.exit(p.stderr.read().decode())
    return w, us.ru_maxrss/1024
work=tempfile.mkdtemp(prefix="searchlight-ab-")
subprocess.run([A,"fixtures","generate","--seed","1","--scale","1000","--only","treasury_payments","--out",f"{work}/county"],check=True,stdout=subprocess.DEVNULL)
gbk=f"{work}/county/finance/国库集中支付明细.csv"
proj=f"{work}/p"; os.makedirs(f"{proj}/connectors")
spec=open(f"{ROOT}/connectors/treasury_payments.toml",encoding="utf-8").read()
spec=re.sub(r'(?m)^location\s*=.*$', f'location = "{gbk}"', spec)
open(f"{proj}/connectors/treasury_payments.toml","w",encoding="utf-8").write(spec)
with open(gbk,"rb") as h:
    while h.read(64<<20): pass
res={A:[],B:[]}
for i in range(4):
    for b in (A,B):
        shutil.rmtree(f"{work}/lake",ignore_errors=True)
        res[b].append(timed([b,"--project",proj,"--lake",f"{work}/lake","ingest","--force"]))
for b in (A,B):
    print(b, "best %.2f s" % min(w for w,_ in res[b]), "runs", ", ".join("%.2f"%w for w,_ in res[b]), "peak RSS %.0f MiB" % max(r for _,r in res[b]))
print("ratio old/new: %.3f" % (min(w for w,_ in res[A]) / min(w for w,_ in res[B])))
# unchanged re-ingest (survey only)
for b in (A,B):
    ws=[timed([b,"--project",proj,"--lake",f"{work}/lake","ingest"])[0] for _ in range(3)]
    print(b, "unchanged re-ingest best %.2f s" % min(ws))
shutil.rmtree(work)
