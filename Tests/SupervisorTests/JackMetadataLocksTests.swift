import Foundation
import Messaging
import TestSupport
import Testing

@testable import Supervisor

#if canImport(Glibc)
import Glibc
#endif

/// Stale JACK metadata locks are removed only while no process uses them.
@Suite struct JackMetadataLocksTests {
    @Test func regionFilesGoOnlyOnceNoProcessMapsThem() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("jack_db-test-\(getpid())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for name in ["__db.001", "__db.002", "metadata.db"] {
            try Data(repeating: 1, count: 4096).write(to: URL(fileURLWithPath: "\(folder)/\(name)"))
        }

        // Another process maps one of them, as a JACK server or client does: nothing is touched.
        let mapper = try await TestProcess(
            "/usr/bin/python3",
            [
                "-c",
                "import mmap, sys, time; f = open(sys.argv[1], 'r+b'); m = mmap.mmap(f.fileno(), 4096); time.sleep(60)",
                "\(folder)/__db.001",
            ]
        )
        try await eventually {
            guard JackMetadataLocks.anyProcessMaps(folder + "/") else { throw TestFailure("not mapped yet") }
        }
        #expect(!JackMetadataLocks.clearIfUnused(folder: folder, serverRunning: { false }))
        #expect(FileManager.default.fileExists(atPath: "\(folder)/__db.001"))
        try await mapper.stop(SIGKILL)

        // This process's own mappings do not count: libjack keeps them for the process's life.
        let fd = open("\(folder)/__db.002", O_RDWR)
        let mapping = mmap(nil, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
        #expect(mapping != MAP_FAILED)
        defer {
            munmap(mapping, 4096)
            close(fd)
        }
        #expect(!JackMetadataLocks.anyProcessMaps(folder + "/"))
        // A JACK server running (or starting) anywhere may be about to open them: untouched too.
        #expect(!JackMetadataLocks.clearIfUnused(folder: folder, serverRunning: { true }))
        #expect(JackMetadataLocks.clearIfUnused(folder: folder, serverRunning: { false }))
        let left = try FileManager.default.contentsOfDirectory(atPath: folder)
        #expect(left == ["metadata.db"], "the data stays; only the region files (the locks) go")
        #expect(!JackMetadataLocks.clearIfUnused(folder: folder, serverRunning: { false }), "nothing left to clear")
    }

    @Test func processesAreFoundByTheirCommandName() throws {
        let own = try #require(readTextFile(atPath: "/proc/self/comm")).trimmingCharacters(in: .newlines)
        #expect(JackMetadataLocks.anyProcess(named: [own]))
        #expect(!JackMetadataLocks.anyProcess(named: ["no-such-\(getpid())"]))
    }
}
