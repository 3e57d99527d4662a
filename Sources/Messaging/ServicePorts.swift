/// The ports a Marlise service listens on, derived from its name as every Marlise service does:
/// `rpc = base + crc32(name) % 1000`, `pub = rpc + 1000`, `sub = rpc + 2000`.
///
/// With the default base 5555, `session_manager` gets 5718 / 6718 / 7718.
public struct ServicePorts: Sendable, Equatable {
    public static let defaultBase = 5555

    public var rpc: Int
    public var pub: Int
    public var sub: Int

    public init(service name: String, base: Int = ServicePorts.defaultBase) {
        rpc = base + Int(CRC32.checksum(name.utf8) % 1000)
        pub = rpc + 1000
        sub = rpc + 2000
    }

    public var rpcEndpoint: String { "tcp://127.0.0.1:\(rpc)" }
    public var pubEndpoint: String { "tcp://127.0.0.1:\(pub)" }
}

/// CRC-32 (IEEE 802.3, the one `zlib.crc32` and Python's `binascii.crc32` compute).
public enum CRC32 {
    private static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1 }
        return value
    }

    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        return crc ^ 0xFFFF_FFFF
    }
}
