import Foundation

/// How a message a ROUTER socket hands over divides into the route its reply goes back on and the
/// body frames: the one split ``RPCServer`` and ``FrameServer`` share.
enum RouterEnvelope {
    /// Splits `frames` as received from a ROUTER, which always puts the peer's identity first.
    ///
    /// REQ peers put an empty delimiter after the identity frames and expect it back ahead of the
    /// reply, so the delimiter stays in `route`; a DEALER may send none, and then `route` is its
    /// identity alone. `body` is what came after: a request is exactly one frame.
    static func split(_ frames: [Data]) -> (route: [Data], body: ArraySlice<Data>) {
        if let delimiter = frames.firstIndex(where: \.isEmpty) {
            return (Array(frames[...delimiter]), frames[(delimiter + 1)...])
        }
        return (Array(frames.prefix(1)), frames.dropFirst())
    }
}
