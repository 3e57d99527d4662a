/// Who may restart, stop or start a service from the operator's page.
///
/// Only loopback by default: the page can act on the stack, and the health port may be opened to
/// the network for reading. From elsewhere an action needs the configured token, compared in
/// constant time. Every action also needs the `X-Marlise-Action` header, which a browser will not
/// send cross-origin without a preflight we never grant, so a foreign page cannot act through an
/// operator's browser.
public enum ActionPolicy {
    public enum Decision: Equatable, Sendable {
        case allowed
        case forbidden(String)
    }

    public static func decide(peer: String, token: String?, presented: String?, marked: Bool) -> Decision {
        guard marked else { return .forbidden("the X-Marlise-Action header is missing") }
        if let token, !token.isEmpty {
            if let presented, equal(Array(token.utf8), Array(presented.utf8)) { return .allowed }
            if isLoopback(peer) { return .allowed }
            return .forbidden("actions from \(peer) need the token")
        }
        return isLoopback(peer) ? .allowed : .forbidden("actions only from loopback")
    }

    /// `127.0.0.0/8` and `::1` (also as `::ffff:127.x.y.z`).
    public static func isLoopback(_ address: String) -> Bool {
        address.hasPrefix("127.") || address == "::1" || address.hasPrefix("::ffff:127.")
    }

    private static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}

/// What the page may ask of a service.
public enum ServiceAction: String, Sendable, CaseIterable {
    case restart, stop, start
}
