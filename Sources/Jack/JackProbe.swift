// Every call into libjack lives in this file.

import CJack

/// Whether a JACK server accepts clients: the readiness and liveness probe of the `jack` service.
public enum JackProbe {
    /// Opens and closes a client against `server` (never starting one), and reports how it went.
    ///
    /// - Important: libjack may block for up to its client timeout when the server is wedged (SIGSTOP);
    ///   call this off the cooperative pool, from a thread that may block.
    public static func check(server: String, clientName: String = "marlise-probe") -> Result<Void, JackProbeError> {
        silenceLibjack
        var status = jack_status_t(rawValue: 0)
        let options = jack_options_t(rawValue: JackNoStartServer.rawValue | JackServerName.rawValue)
        guard let client = marlise_jack_client_open(clientName, options, &status, server) else {
            return .failure(JackProbeError(server: server, status: status.rawValue))
        }
        jack_client_close(client)
        return .success(())
    }
}

/// A JACK server refused or did not answer a probe client.
public struct JackProbeError: Error, CustomStringConvertible, Sendable {
    public var server: String
    /// libjack's `jack_status_t` bits.
    public var status: UInt32

    public var description: String {
        var reasons: [String] = []
        if status & JackServerFailed.rawValue != 0 { reasons.append("cannot connect to the server") }
        if status & JackServerError.rawValue != 0 { reasons.append("communication error with the server") }
        if status & JackInitFailure.rawValue != 0 { reasons.append("cannot initialise the client") }
        if status & JackVersionError.rawValue != 0 { reasons.append("client protocol version mismatch") }
        if reasons.isEmpty { reasons.append("failed (status 0x\(String(status, radix: 16)))") }
        return "JACK server '\(server)': " + reasons.joined(separator: ", ")
    }
}
