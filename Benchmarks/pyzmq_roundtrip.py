"""The reference stack's floor: pyzmq REQ/REP round trips in the Marlise envelope.

Same shape as `marlise-bench messaging`: the client encodes a request envelope and decodes the reply,
the server (a separate process, so the GIL is not shared) decodes the request and encodes a reply.

`pyzmq_roundtrip.py COUNT` prints one line: `pyzmq p50_us p99_us max_us`.
`pyzmq_roundtrip.py COUNT CLIENTS` runs CLIENTS client processes against the one server (a REP socket
answers one request at a time, as the reference's loop does), COUNT round trips in all, split among
them after a warm-up, and prints `pyzmq p50_us p99_us max_us calls_per_second` over every sample.
"""
import json
import multiprocessing
import sys
import time
import uuid
from datetime import datetime

import zmq

WARM_UP = 200


def serve(port_queue):
    context = zmq.Context()
    socket = context.socket(zmq.REP)
    socket.setsockopt(zmq.LINGER, 0)
    port = socket.bind_to_random_port("tcp://127.0.0.1")
    port_queue.put(port)
    while True:
        request = json.loads(socket.recv())
        if request.get("method") == "stop":
            socket.send(b"{}")
            return
        reply = {"request_id": request.get("request_id"), "result": {"success": True, "healthy": True},
                 "timestamp": datetime.now().isoformat()}
        socket.send(json.dumps(reply).encode())


def client(port, count, warm_up, barrier, results):
    """Round trips on a REQ socket of its own; puts (samples_ns, start_ns, end_ns) on `results`."""
    context = zmq.Context()
    socket = context.socket(zmq.REQ)
    socket.setsockopt(zmq.LINGER, 0)
    socket.setsockopt(zmq.RCVTIMEO, 30000)
    socket.connect(f"tcp://127.0.0.1:{port}")
    samples = []
    for index in range(count + warm_up):
        if index == warm_up and barrier is not None:
            barrier.wait(timeout=60)
        if index == warm_up:
            began = time.perf_counter_ns()
        request = {"method": "health_check", "params": {}, "source_service": "bench",
                   "request_id": str(uuid.uuid4()), "timestamp": datetime.now().isoformat()}
        start = time.perf_counter_ns()
        socket.send(json.dumps(request).encode())
        json.loads(socket.recv())
        if index >= warm_up:  # warm-up excluded
            samples.append(time.perf_counter_ns() - start)
    ended = time.perf_counter_ns()
    socket.close()
    if results is None:
        return samples, began, ended
    results.put((samples, began, ended))


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    clients = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    ports = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(ports,))
    server.start()
    port = ports.get(timeout=30)
    if clients == 0:
        runs = [client(port, count, WARM_UP, None, None)]
    else:
        barrier = multiprocessing.Barrier(clients)
        results = multiprocessing.Queue()
        each = max(1, count // clients)
        workers = [multiprocessing.Process(target=client, args=(port, each, max(1, WARM_UP // clients), barrier,
                                                                results))
                   for _ in range(clients)]
        for worker in workers:
            worker.start()
        runs = [results.get(timeout=300) for _ in workers]
        for worker in workers:
            worker.join(timeout=30)
    stopper = zmq.Context().socket(zmq.REQ)
    stopper.setsockopt(zmq.LINGER, 0)
    stopper.connect(f"tcp://127.0.0.1:{port}")
    stopper.send(json.dumps({"method": "stop"}).encode())
    stopper.recv()
    server.join(timeout=30)
    samples = sorted(sample for run in runs for sample in run[0])
    def pick(q):
        return samples[min(len(samples) - 1, int(q * len(samples)))] / 1000
    line = f"pyzmq {pick(0.5):.1f} {pick(0.99):.1f} {samples[-1] / 1000:.1f}"
    if clients > 0:
        elapsed = (max(run[2] for run in runs) - min(run[1] for run in runs)) / 1e9
        line += f" {len(samples) / elapsed:.1f}"
    print(line)


if __name__ == "__main__":
    main()
