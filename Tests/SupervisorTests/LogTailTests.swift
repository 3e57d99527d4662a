import Foundation
import Testing

@testable import Supervisor

/// Following a log file for the operator's page: whole lines only, a rotation read from the start.
@Suite struct LogTailTests {
    @Test func newWholeLinesThenRotation() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tail-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var tail = LogTail(path: path)
        #expect(tail.read().isEmpty)  // no file yet

        try "old 1\nold 2\n".write(toFile: path, atomically: false, encoding: .utf8)
        // The first look starts at the end of a short file's start: its lines.
        #expect(tail.read() == ["old 1", "old 2"])
        #expect(tail.read().isEmpty)

        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("new 1\nhalf".utf8))
        #expect(tail.read() == ["new 1"])
        try handle.write(contentsOf: Data(" done\n".utf8))
        #expect(tail.read() == ["half done"])
        try handle.close()

        // Rotated: a smaller file is read from its start.
        try "fresh\n".write(toFile: path, atomically: false, encoding: .utf8)
        #expect(tail.read() == ["fresh"])
    }

    @Test func aLongFileIsJoinedNearItsEnd() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tail-\(UUID().uuidString).log").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let lines = (0..<2000).map { "line \($0)" }
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: false, encoding: .utf8)
        var tail = LogTail(path: path)
        let read = tail.read()
        #expect(read.last == "line 1999")
        #expect(read.count < 1000)
        #expect(lines.hasSuffix(read), "whole lines only, the first cut one dropped")
    }
}

extension Array where Element: Equatable {
    fileprivate func hasSuffix(_ suffix: [Element]) -> Bool {
        suffix.count <= count && Array(self[(count - suffix.count)...]) == suffix
    }
}
