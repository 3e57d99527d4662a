/// The last `capacity` values, oldest first: memory fixed however long the supervisor runs.
///
/// A plain array written round, so pushing is O(1) and never allocates once full.
public struct HistoryRing<Element: Sendable>: Sendable {
    public let capacity: Int
    private var storage: [Element] = []
    private var next = 0

    public init(capacity: Int) {
        precondition(capacity > 0, "a ring holds at least one value")
        self.capacity = capacity
        storage.reserveCapacity(capacity)
    }

    public mutating func push(_ value: Element) {
        if storage.count < capacity {
            storage.append(value)
        } else {
            storage[next] = value
        }
        next = (next + 1) % capacity
    }

    public var count: Int { storage.count }

    /// Every value held, oldest first.
    public var values: [Element] {
        storage.count < capacity ? storage : Array(storage[next...] + storage[..<next])
    }

    public var last: Element? {
        storage.isEmpty ? nil : storage[(next + capacity - 1) % capacity]
    }
}
