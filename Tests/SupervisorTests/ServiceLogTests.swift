import Foundation
import Messaging
import Supervisor
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Child output into rotated log files, through real pipes.
@Suite(.serialized, .timeLimit(.minutes(2 * slowdown))) struct ServiceLogTests {
    static func folder() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("logs-\(getpid())-\(UUID().uuidString.prefix(6))")
            .path
    }

    static func write(_ text: String, to fd: Int32) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let count = bytes[offset...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { return }
            offset += count
        }
    }

    static func lines(_ path: String) -> [String] {
        (readTextFile(atPath: path) ?? "").split(separator: "\n").map(String.init)
    }

    @Test func linesArriveCompleteTaggedAndInOrder() async throws {
        let directory = Self.folder()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let log = try ServiceLog(directory: directory, name: "talker")
        let pipes = try log.attach()
        Self.write("one\ntw", to: pipes.standardOutput)
        Self.write("o\nthree\n", to: pipes.standardOutput)
        Self.write("oops\n", to: pipes.standardError)
        Self.write("no newline at the end", to: pipes.standardOutput)
        close(pipes.standardOutput)
        close(pipes.standardError)
        await log.waitUntilDrained()
        log.record("talker: exited")
        let lines = Self.lines("\(directory)/talker.log")
        let pattern = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3} (stdout|stderr|supervisor) (.*)$/
        let parsed = lines.compactMap { line in line.wholeMatch(of: pattern).map { (String($0.1), String($0.2)) } }
        #expect(parsed.count == lines.count, "\(lines)")
        #expect(parsed.filter { $0.0 == "stdout" }.map(\.1) == ["one", "two", "three", "no newline at the end"])
        #expect(parsed.filter { $0.0 == "stderr" }.map(\.1) == ["oops"])
        #expect(parsed.last?.0 == "supervisor")
    }

    @Test func rotationKeepsWholeLinesAndAtMostKeepFiles() async throws {
        let directory = Self.folder()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let log = try ServiceLog(directory: directory, name: "chatty", maxBytes: 4096, keep: 3)
        let pipes = try log.attach()
        let writer = Thread {
            for number in 1...2000 { Self.write("line \(number) of the chatty child\n", to: pipes.standardOutput) }
            close(pipes.standardOutput)
            close(pipes.standardError)
        }
        writer.start()
        await log.waitUntilDrained()
        let files = try FileManager.default.contentsOfDirectory(atPath: directory).sorted()
        #expect(files == ["chatty.log", "chatty.log.1", "chatty.log.2", "chatty.log.3"])
        var numbers: [Int] = []
        for file in ["chatty.log.3", "chatty.log.2", "chatty.log.1", "chatty.log"] {
            let path = "\(directory)/\(file)"
            let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
            #expect(size <= 4096, "\(file) has \(size) bytes")
            for line in Self.lines(path) {
                let match = try #require(
                    line.wholeMatch(of: /^\S+ stdout line (\d+) of the chatty child$/),
                    "torn line: \(line)"
                )
                numbers.append(Int(match.1)!)
            }
        }
        // What is kept is the newest lines, contiguous, ending with the last one.
        #expect(numbers.last == 2000)
        #expect(numbers == Array((2001 - numbers.count)...2000))
    }

    @Test func aFloodIsDrainedCompletelyIntoRotatedLogs() async throws {
        // 64 MiB of 100-byte lines from a real child; the rotated files hold every line, whole.
        let directory = Self.folder()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let bytes = 64 << 20
        let log = try ServiceLog(directory: directory, name: "flood", maxBytes: 16 << 20, keep: 10)
        let pipes = try log.attach()
        let child = try await ChildProcess.spawn(
            Command(
                executable: product("marlise-testchild"),
                arguments: ["--flood", String(bytes)],
                environment: ProcessInfo.processInfo.environment,
                standardOutput: pipes.standardOutput,
                standardError: pipes.standardError
            )
        )
        #expect(try await child.exitStatus == .exited(0))
        await log.waitUntilDrained()
        let files = try FileManager.default.contentsOfDirectory(atPath: directory)
        #expect(files.count > 1, "rotated")
        var count = 0
        var highest = 0
        for file in files {
            // Byte-level checks: a regex per line is too slow for 670,000 lines in a debug build.
            let data = try Data(contentsOf: URL(fileURLWithPath: "\(directory)/\(file)"))
            for line in data.split(separator: 0x0A) {
                // "<23-byte timestamp> stdout line 000000001 xxx…": 23 + 8 + 99 bytes.
                let bytes = Array(line)
                guard bytes.count == 130, bytes[23...35] == Array(" stdout line ".utf8)[...],
                    let number = Int(String(decoding: bytes[36..<45], as: UTF8.self))
                else {
                    Issue.record("torn line in \(file): \(String(decoding: bytes.prefix(80), as: UTF8.self))")
                    return
                }
                count += 1
                highest = max(highest, number)
            }
        }
        #expect(count == bytes / 100)
        #expect(highest == bytes / 100)
    }
}
