import Posix

#if canImport(Glibc)
import Glibc
#endif

extension ServiceLog {
    /// Runs on the log's own thread until both pipes are closed: reads whatever is there, in large
    /// reads, so the child never blocks on a full pipe, and writes it as lines.
    func drain(output: Int32, error: Int32) {
        var streams = [LogStream(fd: output, tag: "stdout"), LogStream(fd: error, tag: "stderr")]
        var buffer = [UInt8](repeating: 0, count: 256 << 10)
        while streams.contains(where: { $0.open }) {
            var items = streams.map { pollfd(fd: $0.open ? $0.fd : -1, events: Int16(POLLIN), revents: 0) }
            guard retryingOnInterrupt({ poll(&items, nfds_t(items.count), -1) }) >= 0 else { break }
            for index in streams.indices where streams[index].open && items[index].revents != 0 {
                let count = retryingOnInterrupt {
                    buffer.withUnsafeMutableBytes { read(streams[index].fd, $0.baseAddress, $0.count) }
                }
                if count < 0 && errno == EAGAIN { continue }
                if count <= 0 {
                    streams[index].open = false
                    var tail: [UInt8] = []
                    if !streams[index].partial.isEmpty {
                        append(
                            stamp: LogTimestamp.now(),
                            stream: streams[index].tag,
                            line: streams[index].partial[...],
                            to: &tail
                        )
                        streams[index].partial.removeAll()
                    }
                    write(tail)
                    close(streams[index].fd)
                    continue
                }
                let lines = buffer.withUnsafeBufferPointer {
                    split(UnsafeBufferPointer(rebasing: $0[..<count]), stream: &streams[index])
                }
                write(lines)
            }
        }
        for stream in streams where stream.open { close(stream.fd) }
    }

}
