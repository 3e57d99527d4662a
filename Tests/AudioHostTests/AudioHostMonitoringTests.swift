import Foundation
import Messaging
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `monitor` and `param_monitor` (to a socket the host dials), `monitor_audio_levels` (feedback
/// `audio_monitor`), and the MIDI monitor switches.
@Suite(.timeLimit(.minutes(5))) struct AudioHostMonitoringTests {
    @Test func dialsTheMonitorAndReportsConditions() async throws {
        try await withJackServer { server in
            let host = try await RunningHost(server: server.name)
            let client = try await host.connect()
            let listener = try Listener()
            defer { listener.close() }
            #expect(try await client.ask("add \(amp) 0") == "resp 0")
            #expect(try await client.ask("param_monitor 0 gain > 1") == "resp -1")
            #expect(try await client.ask("monitor 127.0.0.1 \(try freePort()) 1") == "resp 1")
            #expect(try await client.ask("monitor 127.0.0.1 \(listener.port) 1") == "resp 0")
            let monitor = try await onThread { try listener.accept() }
            defer { close(monitor) }
            #expect(try await client.ask("param_monitor 0 gain >= 1") == "resp 0")
            #expect(try await client.ask("param_monitor 0 gain ~ 1") == "resp -302")
            #expect(try await client.ask("param_monitor 0 nosuch > 1") == "resp -103")
            #expect(try await client.ask("param_monitor 77 gain > 1") == "resp -3")
            #expect(try await client.ask("param_monitor 0 gain >") == "few arguments")
            #expect(try await client.ask("param_set 0 gain 0.5") == "resp 0")
            #expect(try await client.ask("param_set 0 gain 3") == "resp 0")
            let message = try await onThread { try Listener.read(monitor) }
            #expect(message == "monitor 0 gain 3.000000")
            #expect(try await client.ask("monitor 127.0.0.1 \(listener.port) 0") == "resp 0")
            #expect(try await client.ask("monitor 127.0.0.1 x 1") == "invalid argument")
            try await host.process.stop(SIGTERM)
        }
    }

    @Test func reportsAudioLevelsAndSwitchesMIDIMonitors() async throws {
        try await withJackServer { server in
            let host = try await RunningHost(server: server.name)
            let tone = try ToneClient(server: server.name)
            let client = try await host.connect()
            let feedback = try await host.connectFeedback()
            #expect(try await client.ask("monitor_audio_levels tone:out 1") == "resp 0")
            #expect(try await client.ask("monitor_audio_levels tone:out 1") == "resp 0")
            #expect(try await client.ask("monitor_audio_levels system:capture_1 1") == "resp 0")
            #expect(try await client.ask("monitor_audio_levels tone:out 0") == "resp -902")
            #expect(try await client.ask("monitor_audio_levels system:capture_1 0") == "resp 0")
            let level = try await onThread { () throws -> String? in
                for _ in 0..<50 {
                    guard let line = try feedback.message() else { continue }
                    if line.hasPrefix("audio_monitor 0 ") { return line }
                    if line == "data_finish" { _ = try client.call("output_data_ready") }
                }
                return nil
            }
            let peak = level.flatMap { Double($0.split(separator: " ")[2]) } ?? 0
            #expect(peak > 0.05 && peak <= 0.1001, "\(level ?? "no audio_monitor line")")
            #expect(try await client.ask("monitor_audio_levels tone:out 0") == "resp 0")
            #expect(try await client.ask("monitor_audio_levels tone:out 0") == "resp -902")
            #expect(try await client.ask("monitor_audio_levels tone:out") == "few arguments")
            for command in ["monitor_midi_control", "monitor_midi_program"] {
                #expect(try await client.ask("\(command) 0 1") == "resp 0")
                #expect(try await client.ask("\(command) 15 0") == "resp 0")
                #expect(try await client.ask("\(command) 16 1") == "resp -902")
                #expect(try await client.ask("\(command) -1 1") == "resp -902")
                #expect(try await client.ask("\(command) 1") == "few arguments")
            }
            withExtendedLifetime(tone) {}
            try await host.process.stop(SIGTERM)
        }
    }
}

/// A TCP listener on 127.0.0.1 for the host's `monitor` connection.
struct Listener {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 1) == 0 else { throw TestFailure("cannot listen") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        self.fd = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func accept() throws -> Int32 {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, 5000) == 1 else { throw TestFailure("the host did not dial") }
        return Glibc.accept(fd, nil, nil)
    }

    /// One NUL-terminated message, within 5 s.
    static func read(_ fd: Int32) throws -> String {
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while true {
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 5000) == 1, Glibc.read(fd, &byte, 1) == 1 else {
                throw TestFailure("no monitor message")
            }
            if byte == 0 { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
    }

    func close() { _ = Glibc.close(fd) }
}
