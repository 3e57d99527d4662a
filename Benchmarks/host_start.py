#!/usr/bin/env python3
# marlise-host alone against its own dummy JACK server: time to "mod-host ready!", to the first
# answer and to the first `add`, and RssAnon, with two LV2_PATHs. Usage: host_start.py HOST STOCK ALL
import os, socket, subprocess, sys, time, statistics
host_bin, stock, allp = sys.argv[1:4]
name = f"marlise-hostbench-{os.getpid()}"
jack = subprocess.Popen(["jackd", "-n", name, "-d", "dummy", "-r", "48000", "-p", "256"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
time.sleep(1.5)
def one(path, port):
    env = dict(os.environ, LV2_PATH=path)
    t0 = time.monotonic()
    p = subprocess.Popen([host_bin, "-p", str(port), "-f", "0", "--jack-server", name], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    line = p.stdout.readline()
    ready = time.monotonic() - t0
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    def ask(c):
        s.sendall(c.encode() + b"\0"); b = b""
        while not b.endswith(b"\0"): b += s.recv(4096)
        return b[:-1].decode()
    ask("cpu_load"); first = time.monotonic() - t0
    r = ask("add http://plugin.org.uk/swh-plugins/amp 0"); added = time.monotonic() - t0
    anon = [l for l in open(f"/proc/{p.pid}/status") if l.startswith("RssAnon")][0].split()[1]
    s.close(); p.terminate(); p.wait(timeout=10)
    return ready*1000, first*1000, added*1000, int(anon), r
try:
    base = 21000 + os.getpid() % 5000
    for label, path in [("stock", stock), ("all", allp)]:
        rows = [one(path, base + i) for i in range(3)]
        base += 10
        print(label, "ready ms %.0f, first answer %.0f, first add done %.0f, RssAnon %d kB (median of 3)" % tuple(statistics.median(r[i] for r in rows) for i in range(4)), rows[0][4])
finally:
    jack.terminate(); jack.wait(timeout=10)
