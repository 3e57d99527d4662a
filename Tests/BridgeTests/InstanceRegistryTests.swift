import Bridge
import Testing

/// Instance numbers: the one asked for when free, else the lowest free one, never one in use.
@Suite struct InstanceRegistryTests {
    @Test func aFreeNumberAskedForIsGivenAndATakenOneIsNot() {
        var registry = InstanceRegistry()
        #expect(registry.reserve() == 0)
        #expect(registry.reserve(preferring: 7) == 7)
        // 7 is reserved: the lowest free number instead.
        #expect(registry.reserve(preferring: 7) == 1)
        #expect(registry.reserve(preferring: 10_000) == 2)
        #expect(registry.reserve(preferring: -1) == 3)
        registry.release(7)
        #expect(registry.reserve(preferring: 7) == 7)
    }
}
