"""The reference stack's floor: pyzmq REQ/REP round trips in the Marlise envelope.

Same shape as `marlise-bench messaging`: the client encodes a request envelope and decodes the reply,
the server (a separate process, so the GIL is not shared) decodes the request and encodes a reply.
Prints one line: `pyzmq p50_us p99_us max_us`.
"""
import json
import multiprocessing
import sys
import time
import uuid
from datetime import datetime

import zmq


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


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    ports = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(ports,))
    server.start()
    port = ports.get()
    context = zmq.Context()
    socket = context.socket(zmq.REQ)
    socket.setsockopt(zmq.LINGER, 0)
    socket.connect(f"tcp://127.0.0.1:{port}")
    samples = []
    for index in range(count + 200):
        request = {"method": "health_check", "params": {}, "source_service": "bench",
                   "request_id": str(uuid.uuid4()), "timestamp": datetime.now().isoformat()}
        start = time.perf_counter_ns()
        socket.send(json.dumps(request).encode())
        json.loads(socket.recv())
        if index >= 200:  # warm-up excluded
            samples.append(time.perf_counter_ns() - start)
    socket.send(json.dumps({"method": "stop"}).encode())
    socket.recv()
    server.join()
    samples.sort()
    def pick(q):
        return samples[min(len(samples) - 1, int(q * len(samples)))] / 1000
    print(f"pyzmq {pick(0.5):.1f} {pick(0.99):.1f} {samples[-1] / 1000:.1f}")


if __name__ == "__main__":
    main()
