/// What the operator's page may do to the stack, and with which token from outside loopback.
public struct OperatorActions: Sendable {
    /// When set, a request from elsewhere than loopback that presents it (`Authorization: Bearer`)
    /// may act too.
    public var token: String?
    /// Starts the action; the page follows its effect on the event stream.
    public var perform: @Sendable (String, ServiceAction) async throws -> Void

    public init(token: String? = nil, perform: @escaping @Sendable (String, ServiceAction) async throws -> Void) {
        self.token = token
        self.perform = perform
    }
}
