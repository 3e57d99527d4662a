"""Where a knob turn's time goes: sequential `set_parameter` calls to a running session, with each
process's threads' CPU time and context switches read from /proc before and after.

usage: knob_turns.py SESSION_ENDPOINT COUNT NAME=PID [NAME=PID ...] [--perf | --strace]

Loads the swh amp on a new pedalboard, makes 200 warm-up calls, then COUNT timed calls (values
cycling over 64 steps of 0.5 dB). Prints the client's p50, then per process and per thread (by
name) the CPU microseconds and the context switches per call. With --perf, `perf record -g` samples
the session and the bridge during the timed calls, into perf.session.data and perf.bridge.data in
the current folder; with --strace, `strace -f -c` counts their system calls (every thread) into
strace.session.txt and strace.bridge.txt.
"""
import signal
import json
import os
import subprocess
import sys
import time
import uuid

import zmq

TICK = os.sysconf("SC_CLK_TCK")


def call(socket, method, params):
    socket.send(json.dumps({"method": method, "params": params, "source_service": "bench",
                            "request_id": str(uuid.uuid4())}).encode())
    reply = json.loads(socket.recv())
    if "error" in reply or not reply.get("result", {}).get("success", False):
        raise SystemExit(f"{method}: {reply}")
    return reply["result"]


def threads(pid):
    """{thread name: [cpu ticks, voluntary switches, involuntary switches]} summed by name."""
    found = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                stat = f.read()
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                status = dict(line.split(":\t", 1) for line in f.read().splitlines() if ":\t" in line)
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        ticks = int(fields[11]) + int(fields[12])
        entry = found.setdefault(name, [0, 0, 0, 0])
        entry[0] += ticks
        entry[1] += int(status["voluntary_ctxt_switches"])
        entry[2] += int(status["nonvoluntary_ctxt_switches"])
        entry[3] += 1
    return found


def main():
    endpoint, count = sys.argv[1], int(sys.argv[2])
    processes = dict(arg.split("=", 1) for arg in sys.argv[3:] if "=" in arg)
    perf = "--perf" in sys.argv
    trace = "--strace" in sys.argv
    context = zmq.Context()
    socket = context.socket(zmq.REQ)
    socket.setsockopt(zmq.LINGER, 0)
    socket.setsockopt(zmq.RCVTIMEO, 120000)
    socket.connect(endpoint)
    call(socket, "create_pedalboard", {"name": "Knobs"})
    instance = call(socket, "add_plugin", {"uri": "http://plugin.org.uk/swh-plugins/amp"})["instance_id"]
    frames = [json.dumps({"method": "set_parameter", "source_service": "bench", "request_id": str(uuid.uuid4()),
                          "params": {"instance_id": instance, "parameter": "gain",
                                     "value": -16 + (index % 64) * 0.5}}).encode()
              for index in range(count + 200)]
    for frame in frames[:200]:
        socket.send(frame)
        socket.recv()
    recorders = []
    if perf:
        for name in ("session", "bridge"):
            recorders.append(subprocess.Popen(["perf", "record", "-F", "4999", "-g", "-o", f"perf.{name}.data", "-p",
                                               processes[name]], stdout=subprocess.DEVNULL,
                                              stderr=subprocess.DEVNULL))
    if trace:
        for name in ("session", "bridge"):
            recorders.append(subprocess.Popen(["strace", "-f", "-c", "-o", f"strace.{name}.txt", "-p",
                                               processes[name]], stdout=subprocess.DEVNULL,
                                              stderr=subprocess.DEVNULL))
    if recorders:
        time.sleep(1)
    before = {name: threads(pid) for name, pid in processes.items()}
    cpu_before = os.times()
    samples = []
    began = time.perf_counter()
    for frame in frames[200:]:
        start = time.perf_counter_ns()
        socket.send(frame)
        socket.recv()
        samples.append(time.perf_counter_ns() - start)
    elapsed = time.perf_counter() - began
    cpu_after = os.times()
    after = {name: threads(pid) for name, pid in processes.items()}
    for recorder in recorders:
        recorder.send_signal(signal.SIGINT)
        recorder.wait(timeout=60)
    samples.sort()
    print(f"{count} calls in {elapsed:.2f} s, client p50 {samples[len(samples) // 2] / 1000:.1f} us, "
          f"client CPU {(cpu_after.user + cpu_after.system - cpu_before.user - cpu_before.system) / count * 1e6:.1f} "
          f"us/call")
    print("process        thread                 threads  CPU us/call  voluntary/call  involuntary/call")
    for name in processes:
        totals = [0, 0, 0]
        for thread, values in sorted(after[name].items()):
            old = before[name].get(thread, [0, 0, 0, 0])
            delta = [values[i] - old[i] for i in range(3)]
            totals = [totals[i] + delta[i] for i in range(3)]
            if delta[0] == 0 and delta[1] + delta[2] < count / 100:
                continue
            print(f"{name:14} {thread:22} {values[3]:7} {delta[0] / TICK / count * 1e6:12.1f} "
                  f"{delta[1] / count:15.2f} {delta[2] / count:17.2f}")
        print(f"{name:14} {'(all)':22} {'':7} {totals[0] / TICK / count * 1e6:12.1f} {totals[1] / count:15.2f} "
              f"{totals[2] / count:17.2f}")


if __name__ == "__main__":
    main()
