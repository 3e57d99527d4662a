import Foundation
import Messaging
import Testing

@Suite(.timeLimit(.minutes(1))) struct TextFileTests {
    /// `/proc` files report a size of 0; String(contentsOfFile:) leaked 4 KiB on each (LeakSanitizer
    /// reports it at exit under `scripts/sanitize.sh address`, which this loop makes plain).
    @Test func procFilesAreReadWholeAndRepeatedly() throws {
        for _ in 0..<100 {
            let status = try #require(readTextFile(atPath: "/proc/self/status"))
            #expect(status.contains("VmRSS:"))
            #expect(status.hasSuffix("\n"))
        }
    }

    @Test func emptyLongAndMissingFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("textfile-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let empty = directory.appendingPathComponent("empty").path
        let long = directory.appendingPathComponent("long").path
        #expect(FileManager.default.createFile(atPath: empty, contents: nil))
        let text = String(repeating: "0123456789abcdef\n", count: 1000)
        try text.write(toFile: long, atomically: true, encoding: .utf8)
        #expect(readTextFile(atPath: empty) == "")
        #expect(readTextFile(atPath: long) == text)
        #expect(readTextFile(atPath: directory.appendingPathComponent("missing").path) == nil)
    }
}
