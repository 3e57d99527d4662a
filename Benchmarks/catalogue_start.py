#!/usr/bin/env python3
"""The session's start against the plugins installed: time to answer health_check and to a first
get_available_plugins, its memory and CPU, and the catalogue answers' bytes and times.

usage: catalogue_start.py SESSION_BINARY LABEL:LV2_PATH[:cold|warm] ...
Each run starts the session alone (no bridge) on its own ports and data directory; `cold` (the
default) starts with no catalogue cache, `warm` reuses the previous run's data directory."""
import json, os, signal, subprocess, sys, tempfile, time
import zmq

BASE = 41000  # the session's RPC port is BASE + crc32("session_manager") % 1000
PORT = BASE + 163


def call(ctx, method, timeout_ms):
    sock = ctx.socket(zmq.REQ)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.RCVTIMEO, timeout_ms)
    sock.connect(f"tcp://127.0.0.1:{PORT}")
    sock.send_json({"method": method, "params": {}, "source_service": "bench", "request_id": method})
    try:
        raw = sock.recv()
    except zmq.Again:
        return None
    finally:
        sock.close()
    return raw


def proc_figures(pid):
    status = open(f"/proc/{pid}/status").read().split("\n")
    fields = {line.split(":")[0]: line.split(":")[1].strip() for line in status if ":" in line}
    stat = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return fields["VmRSS"], fields.get("RssAnon", "?"), (int(stat[11]) + int(stat[12])) / ticks


def run(binary, label, lv2_path, data):
    ctx = zmq.Context()
    env = dict(os.environ, LV2_PATH=lv2_path, ZMQ_BASE_PORT=str(BASE), SESSION_MANAGER_DATA_DIR=data,
               MODHOST_BRIDGE_ENDPOINT="tcp://127.0.0.1:1", MODHOST_BRIDGE_HEALTH="tcp://127.0.0.1:1",
               MODHOST_BRIDGE_PUB="tcp://127.0.0.1:1")
    start = time.monotonic()
    child = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while call(ctx, "health_check", 50) is None:
            if child.poll() is not None:
                raise SystemExit(f"{label}: the session exited with {child.returncode}")
        health = time.monotonic() - start
        first = call(ctx, "get_available_plugins", 120000)
        catalogue = time.monotonic() - start
        count = len(json.loads(first)["result"]["plugins"])
        rss, anon, cpu = proc_figures(child.pid)
        t = time.monotonic(); available = call(ctx, "get_available_plugins", 120000); t_av = time.monotonic() - t
        t = time.monotonic(); listed = call(ctx, "list_plugins", 120000); t_list = time.monotonic() - t
        print(f"| {label} | {count} | {health*1000:.0f} ms | {catalogue*1000:.0f} ms | {rss} | {anon} | {cpu:.2f} s "
              f"| {len(available):,} B in {t_av*1000:.0f} ms | {len(listed):,} B in {t_list*1000:.0f} ms |", flush=True)
    finally:
        child.send_signal(signal.SIGTERM)
        child.wait()
        ctx.term()


def main():
    binary = sys.argv[1]
    print("| run | plugins | start → health_check | start → first get_available_plugins | RSS | anon | CPU "
          "| get_available_plugins | list_plugins |")
    print("|---|---|---|---|---|---|---|---|---|")
    data = None
    for spec in sys.argv[2:]:
        parts = spec.split(":")
        label, mode = parts[0], parts[-1] if parts[-1] in ("cold", "warm") else "cold"
        path = ":".join(p for p in parts[1:] if p not in ("cold", "warm"))
        if mode == "cold" or data is None:
            data = tempfile.mkdtemp(prefix="catalogue-bench-")
        run(binary, label, path, data)


if __name__ == "__main__":
    main()
