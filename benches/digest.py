#!/usr/bin/env python3
"""Digests of a run that raises 10 000 new clues for 20 subscribers, their delivery to a local
SMTP server, and the idle server.

    python3 benches/digest.py       # CLUES=… (default 10000), SUBSCRIBERS=… (default 20)
                                    # SEARCHLIGHT_BIN=… times that binary instead of a release build
                                    # KEEP=1 keeps the scratch project

A benchmark, not a test: it measures and prints; nothing asserts a time. Needs python3 with
aiosmtpd (pip install aiosmtpd), the SMTP server the mail tests use.

Steps: a scratch project with a payment export of CLUES recipients over 40 villages and three
models in three areas (one of high severity, so its clues' working papers are attached), and
SUBSCRIBERS subscribers with different filters (everything; one area; one severity; full IDs
for some). `searchlight pipeline` lands and runs it; the digests are built from the ledger and
queued in the run's transaction — the time that takes is what the pipeline prints (生成用时),
and the pipeline's peak RSS is read by /usr/bin/time (GNU time, `time` from Debian). Then a
local aiosmtpd server (tests/support/smtp_server.py) is started and `searchlight serve` drains
the outbox: the time from its start until the Maildir holds every mail gives the send
throughput. Then the idle server is watched for IDLE seconds: CPU time from /proc/PID/stat and
RSS from /proc/PID/status.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLUES = int(os.environ.get("CLUES", "10000"))
SUBSCRIBERS = int(os.environ.get("SUBSCRIBERS", "20"))
IDLE = float(os.environ.get("IDLE", "20"))


def sh(*args, **kw):
    return subprocess.run(args, check=True, **kw)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def idle(pid, seconds):
    c0, t0 = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    c1, t1 = cpu_seconds(pid), time.monotonic()
    return 100 * (c1 - c0) / (t1 - t0), rss_mib(pid)


def main():
    binary = os.environ.get("SEARCHLIGHT_BIN")
    if not binary:
        sh("cargo", "build", "--release", "--quiet", cwd=ROOT)
        binary = os.path.join(ROOT, "target", "release", "searchlight")
    gnu_time = shutil.which("time") and "/usr/bin/time"
    work = tempfile.mkdtemp(prefix="searchlight-digest-")
    smtp = serve = None
    try:
        for d in ["connectors", "data", os.path.join("models", "bench")]:
            os.makedirs(os.path.join(work, d))
        with open(os.path.join(work, "connectors", "pay.toml"), "w") as f:
            f.write(
                'name = "pay"\ntitle = "补贴发放"\ndomain = "bench"\ncustom = true\nlocation = "data/pay.csv"\n'
                '[format]\ntype = "csv"\n[columns]\nwho = { from = "姓名", type = "text" }\n'
                'id_no = { from = "身份证号", type = "text" }\nvillage = { from = "村", type = "text" }\n'
                'kind = { from = "类别", type = "text" }\namount = { from = "金额", type = "money" }\n'
            )
        areas = [("a", "低保", "high"), ("b", "惠民惠农补贴", "medium"), ("c", "特困供养", "low")]
        for key, area, sev in areas:
            with open(os.path.join(work, "models", "bench", f"{key}.sql"), "w") as f:
                f.write(
                    f'/* searchlight\nid = "bench.{key}"\ntitle = "{area}基准"\ntitle_en = "Bench"\ndomain = "relief"\n'
                    f'area = "{area}"\nseverity = "{sev}"\nowner = "b"\ndescription = "基准"\nbasis = ["基准"]\n'
                    'entity = ["id_no"]\nunit = "village"\namount = "amount"\n*/\n'
                    f"SELECT who, id_no, village, amount FROM pay WHERE kind = '{area}'\n"
                )
        with open(os.path.join(work, "data", "pay.csv"), "w") as f:
            f.write("姓名,身份证号,村,类别,金额\n")
            for n in range(CLUES):
                # a valid ID (GB 11643 check digit), so masking has real work to do
                body = f"110101{1950 + n % 50}{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
                w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
                check = "10X98765432"[sum(int(c) * k for c, k in zip(body, w)) % 11]
                area = areas[n % len(areas)][1]
                f.write(f"收款人{n},{body}{check},第{n % 8}镇{n % 40}村,{area},{100 + n % 900}.{n % 100:02d}\n")
        port = free_port()
        subs = []
        for s in range(SUBSCRIBERS):
            line = f'[[subscriber]]\nname = "订阅人{s:02d}"\nemail = "s{s:02d}@county.gov.cn"\n'
            if s % 4 == 1:
                line += f'areas = ["{areas[s % 3][1]}"]\n'
            elif s % 4 == 2:
                line += 'severities = ["high", "medium"]\n'
            if s % 5 == 0:
                line += "show_ids = true\n"
            subs.append(line)
        with open(os.path.join(work, "searchlight.toml"), "w") as f:
            f.write(
                'time_zone = "Asia/Shanghai"\nadmin = "admin@county.gov.cn"\n\n'
                f'[smtp]\nhost = "127.0.0.1"\nport = {port}\nsecurity = "plain"\nfrom = "探照灯 <searchlight@county.gov.cn>"\nretry = "1s"\n\n'
                '[[schedule]]\nname = "yearly"\ncron = "0 0 0 1 1 *"\nmodels = ["bench.a"]\n\n'
                + "\n".join(subs)
                + "\n[library]\nbundled = false\n"
            )

        cmd = [binary, "--project", work, "pipeline", "--as-of", "2025-12-31"]
        if gnu_time:
            cmd = [gnu_time, "-f", "PEAK_KIB %M"] + cmd
        t0 = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True)
        took = time.perf_counter() - t0
        if p.returncode != 0:
            print(p.stdout, p.stderr)
            raise SystemExit("the pipeline failed")
        built = re.search(r"已排队 (\d+) 封.*?built in ([\d.]+)s", p.stdout)
        peak = re.search(r"PEAK_KIB (\d+)", p.stderr)
        mails = json.loads(sh(binary, "--project", work, "outbox", "--json", "--limit", "1000",
                              capture_output=True).stdout)
        print(f"run: {CLUES} new clues in 3 areas, {SUBSCRIBERS} subscribers; pipeline {took:.2f} s in all"
              + (f", peak RSS {int(peak.group(1)) / 1024:.0f} MiB" if peak else ""))
        print(f"digests: {built.group(1)} mails built and queued in {float(built.group(2)):.3f} s "
              f"(ratio to the 1 s budget {float(built.group(2)) / 1.0:.2f})")

        maildir = os.path.join(work, "maildir")
        smtp = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests", "support", "smtp_server.py"),
                                 "--port", str(port), "--maildir", maildir], stdout=subprocess.PIPE)
        assert smtp.stdout.readline() == b"ready\n"
        want = len(mails)
        t0 = time.perf_counter()
        serve = subprocess.Popen([binary, "--project", work, "serve"], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        new = os.path.join(maildir, "new")
        while len(os.listdir(new)) < want:
            if time.perf_counter() - t0 > 600:
                raise SystemExit("not every mail arrived within 10 minutes")
            time.sleep(0.02)
        sent = time.perf_counter() - t0
        total = sum(os.path.getsize(os.path.join(new, n)) for n in os.listdir(new))
        print(f"send: {want} mails ({total / 2**20:.1f} MiB) delivered {sent:.2f} s after serve started: "
              f"{want / sent:.1f} mails/s, {total / 2**20 / sent:.1f} MiB/s (server start-up included)")
        time.sleep(1)
        cpu, rss = idle(serve.pid, IDLE)
        print(f"idle after sending: {cpu:.2f} % of a core over {IDLE:.0f} s, RSS {rss:.1f} MiB "
              f"(ratios to the 1 % / 50 MiB budget {cpu / 1.0:.2f} / {rss / 50:.2f})")
        serve.terminate()
        serve.wait(timeout=60)
        serve = subprocess.Popen([binary, "--project", work, "serve"], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
        time.sleep(2)
        cpu, rss = idle(serve.pid, IDLE)
        print(f"idle fresh server: {cpu:.2f} % of a core over {IDLE:.0f} s, RSS {rss:.1f} MiB "
              f"(ratios to the 1 % / 50 MiB budget {cpu / 1.0:.2f} / {rss / 50:.2f})")
    finally:
        for proc in [serve, smtp]:
            if proc and proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=60)
        if os.environ.get("KEEP"):
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
