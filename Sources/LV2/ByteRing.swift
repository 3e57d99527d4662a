import Synchronization

/// A single-producer, single-consumer ring of bytes in memory made once, so the audio thread
/// can hand messages to another thread (or take them) without allocating or locking. Records
/// go in whole or not at all.
public struct ByteRing: @unchecked Sendable {  // Each side touches only its own end; counts are atomic.
    private let bytes: UnsafeMutableRawPointer
    private let mask: Int
    /// [0] bytes written so far, [1] bytes read so far.
    private let counts: UnsafeMutablePointer<Atomic<Int>>

    /// A ring of `capacity` bytes, rounded up to a power of two.
    public static func make(capacity: Int) -> ByteRing {
        var size = 64
        while size < capacity { size *= 2 }
        let counts = UnsafeMutablePointer<Atomic<Int>>.allocate(capacity: 2)
        counts.initialize(to: Atomic(0))
        (counts + 1).initialize(to: Atomic(0))
        let bytes = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 8)
        bytes.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        return ByteRing(bytes: bytes, mask: size - 1, counts: counts)
    }

    /// Only once neither side can use the ring again.
    public func free() {
        bytes.deallocate()
        counts.deallocate()
    }

    public var capacity: Int { mask + 1 }

    /// Bytes waiting to be read (reader's side).
    public var readable: Int { counts[0].load(ordering: .acquiring) - counts[1].load(ordering: .relaxed) }

    /// Writes `first` then `second` as one record; false, writing nothing, when they do not fit.
    @discardableResult
    public func write(_ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer? = nil) -> Bool {
        let written = counts[0].load(ordering: .relaxed)
        let free = capacity - (written - counts[1].load(ordering: .acquiring))
        guard first.count + (second?.count ?? 0) <= free else { return false }
        copyIn(first, at: written)
        if let second { copyIn(second, at: written + first.count) }
        counts[0].store(written + first.count + (second?.count ?? 0), ordering: .releasing)
        return true
    }

    /// Copies `count` bytes from `offset` past the read position into `destination`, leaving
    /// them in the ring; false when fewer are waiting.
    public func peek(into destination: UnsafeMutableRawPointer, count: Int, offset: Int = 0) -> Bool {
        guard count >= 0, offset + count <= readable else { return false }
        let start = (counts[1].load(ordering: .relaxed) + offset) & mask
        let head = min(count, capacity - start)
        destination.copyMemory(from: bytes + start, byteCount: head)
        if head < count { (destination + head).copyMemory(from: bytes, byteCount: count - head) }
        return true
    }

    /// Consumes `count` bytes (at most what is waiting).
    public func skip(_ count: Int) {
        let read = counts[1].load(ordering: .relaxed)
        counts[1].store(read + min(count, readable), ordering: .releasing)
    }

    /// Drops everything waiting (reader's side).
    public func clear() { skip(readable) }

    private func copyIn(_ source: UnsafeRawBufferPointer, at position: Int) {
        guard let base = source.baseAddress, source.count > 0 else { return }
        let start = position & mask
        let head = min(source.count, capacity - start)
        (bytes + start).copyMemory(from: base, byteCount: head)
        if head < source.count { bytes.copyMemory(from: base + head, byteCount: source.count - head) }
    }
}
