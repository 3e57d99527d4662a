/// Placeholder until the Jack target's client lands.
final class AudioService: Sendable {
    init(server: String?) {}
    func close() {}
}
