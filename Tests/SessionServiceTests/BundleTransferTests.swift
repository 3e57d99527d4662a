import Foundation
import Messaging
import SessionService
import TestSupport
import Testing

/// MOD bundles through the methods the web client calls: dropped in, listed, read, packed,
/// uploaded, copied — and hostile archives and links refused with nothing written or read.
@Suite(.timeLimit(.minutes(1))) struct BundleTransferTests {
    @Test func aBundleDroppedInWhileRunningListsAndReads() async throws {
        let session = try await SessionHarness.start()
        let bundle = try ModBundleTests.writeModUIBundle(in: session.pedalboardsFolder)
        let list = try #require(try await session.call("get_pedalboard_list")["pedalboards"]?.arrayValue)
        let entry = try #require(list.first)
        #expect(entry["bundlepath"] == .string(bundle))
        #expect(entry["title"] == "Stage \"amp\"")
        #expect(entry["broken"] == false)
        #expect(entry["plugin_count"] == 1)
        let info = try await session.call("get_pedalboard_info", ["bundlepath": .string(bundle + "/")])
        #expect(info["connections"] == [["system:capture_1", "amp_1:input"], ["amp_1:output", "system:playback_1"]])
        #expect(info["plugins"]?.arrayValue?.first?["uri"] == .string(SessionHarness.amp))
        #expect(info["pedalboard"]?["snapshots"]?.arrayValue?.count == 2)
        await session.stop()
    }

    @Test func packThenUploadGivesTheSameBoard() async throws {
        let session = try await SessionHarness.start()
        let bundle = try ModBundleTests.writeModUIBundle(in: session.pedalboardsFolder)
        let before = try await session.call("get_pedalboard_info", ["bundlepath": .string(bundle)])
        let packed = try await session.call("pack_pedalboard_bundle", ["bundlepath": .string(bundle)])
        #expect(packed["filename"] == "Stage_amp.pedalboard.tar.gz")
        let archive = try #require(packed["file_data"]?.stringValue.flatMap { Data(base64Encoded: $0) })
        #expect(archive.starts(with: [0x1F, 0x8B]), "gzip")

        // The archive is an ordinary tar.gz: the system's tar lists the bundle's files.
        let listing = try await Self.tarListing(archive)
        #expect(
            listing == [
                "Stage_amp.pedalboard/", "Stage_amp.pedalboard/Stage_amp.ttl", "Stage_amp.pedalboard/manifest.ttl",
                "Stage_amp.pedalboard/snapshots.json",
            ]
        )

        _ = try await session.call("remove_pedalboard", ["bundlepath": .string(bundle)])
        #expect(try session.pedalboardFiles().isEmpty)
        // Uploading needs the bridge to load the amp; the board is stored whatever the load says.
        try await session.fails(
            "load_pedalboard_web",
            ["file_data": .string(archive.base64EncodedString()), "filename": "x.tar.gz"],
            .bridgeError
        )
        #expect(try session.pedalboardFiles() == ["Stage_amp.pedalboard"])
        let after = try await session.call("get_pedalboard_info", ["bundlepath": .string(bundle)])
        for field in ["title", "connections", "hardware"] { #expect(after[field] == before[field], "\(field)") }
        func withoutDates(_ info: JSONValue) -> [JSONValue] {
            (info["plugins"]?.arrayValue ?? []).map { plugin in
                .object((plugin.objectValue ?? [:]).filter { $0.key != "created_at" })
            }
        }
        #expect(withoutDates(after) == withoutDates(before))
        #expect(withoutDates(after).count == 1)
        // A second upload of the same archive lands beside the first, never over it.
        try await session.fails(
            "load_pedalboard_web",
            ["file_data": .string(archive.base64EncodedString())],
            .bridgeError
        )
        #expect(try session.pedalboardFiles().count == 2)
        await session.stop()
    }

    @Test func anEmptyBoardUploadsAndLoadsWithoutTheBridge() async throws {
        let session = try await SessionHarness.start()
        _ = try await session.call("create_pedalboard", ["name": "Blank", "description": "nothing yet"])
        let bundle = try #require(
            try await session.call("save_current_pedalboard", ["title": "Blank"])["bundlepath"]?.stringValue
        )
        let packed = try await session.call("pack_pedalboard_bundle", ["bundlepath": .string(bundle)])
        _ = try await session.call("remove_pedalboard", ["bundlepath": .string(bundle)])
        _ = try await session.call("reset_session")
        let loaded = try await session.call("load_pedalboard_web", ["file_data": packed["file_data"] ?? ""])
        #expect(loaded["name"] == "Blank")
        #expect(loaded["bundlepath"] == .string(bundle))
        #expect(try await session.call("get_current_pedalboard")["pedalboard"]?["description"] == "nothing yet")
        await session.stop()
    }

    @Test func aCopyIsABoardOfItsOwn() async throws {
        let session = try await SessionHarness.start()
        let bundle = try ModBundleTests.writeModUIBundle(in: session.pedalboardsFolder)
        let copy = try await session.call("factory_copy_pedalboard", ["bundlepath": .string(bundle), "title": "Mine"])
        let path = try #require(copy["bundlepath"]?.stringValue)
        #expect(path == "\(session.pedalboardsFolder)/Mine.pedalboard")
        #expect(copy["title"] == "Mine")
        #expect(copy["plugins"]?.arrayValue?.count == 1)
        #expect(copy["connections"]?.arrayValue?.count == 2)
        #expect(try await session.call("get_pedalboard_info", ["bundlepath": .string(path)])["title"] == "Mine")
        await session.stop()
    }

    /// A link in the pedalboard folder (to a bundle elsewhere, or a bundle's manifest to a file
    /// elsewhere) is never followed.
    @Test func linksAreNeverFollowed() async throws {
        let session = try await SessionHarness.start()
        let elsewhere = FileManager.default.temporaryDirectory.appendingPathComponent("elsewhere-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: elsewhere) }
        let outside = try ModBundleTests.writeModUIBundle(in: elsewhere)
        let linked = "\(session.pedalboardsFolder)/Linked.pedalboard"
        try FileManager.default.createSymbolicLink(atPath: linked, withDestinationPath: outside)
        let inner = "\(session.pedalboardsFolder)/Inner.pedalboard"
        try FileManager.default.createDirectory(atPath: inner, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: "\(inner)/manifest.ttl",
            withDestinationPath: "\(outside)/manifest.ttl"
        )

        let list = try await session.call("get_pedalboard_list")
        #expect(list["pedalboards"] == [])
        #expect(
            Set(list["problems"]?.arrayValue?.compactMap { $0["file"]?.stringValue } ?? []) == [
                "Linked.pedalboard", "Inner.pedalboard",
            ]
        )
        for path in [linked, inner] {
            for method in ["get_pedalboard_info", "load_pedalboard_bundle", "pack_pedalboard_bundle"] {
                let reply = try await session.client.call(method, params: ["bundlepath": .string(path)])
                #expect(reply["success"] == false, "\(method) \(path)")
            }
        }
        _ = try? await session.client.call("remove_pedalboard", params: ["bundlepath": .string(linked)])
        #expect(FileManager.default.fileExists(atPath: "\(outside)/manifest.ttl"), "nothing outside is deleted")
        await session.stop()
    }

    /// Archives that try to write outside one bundle folder, hold links, or inflate without end.
    @Test func hostileUploadsAreRefusedAndLeaveNothing() async throws {
        let session = try await SessionHarness.start()
        let manifest: BundleArchive.File = ("manifest.ttl", Array("@prefix x: <y> .".utf8))
        var uploads: [(String, [UInt8])] = [
            ("traversal", try BundleArchive.pack(name: "../Evil.pedalboard", files: [manifest])),
            ("absolute", try BundleArchive.pack(name: "/tmp/Evil.pedalboard", files: [manifest])),
            ("not a bundle", try BundleArchive.pack(name: "Evil", files: [manifest])),
            ("nested", try BundleArchive.pack(name: "A.pedalboard", files: [manifest, ("sub/x.ttl", [1])])),
            ("hidden", try BundleArchive.pack(name: "A.pedalboard", files: [manifest, (".x", [1])])),
            ("no manifest", try BundleArchive.pack(name: "A.pedalboard", files: [("a.ttl", [1])])),
            ("not Turtle", try BundleArchive.pack(name: "A.pedalboard", files: [("manifest.ttl", Array("<".utf8))])),
            (
                "bomb",
                try BundleArchive.pack(
                    name: "A.pedalboard",
                    files: [manifest, ("big", [UInt8](repeating: 0, count: BundleArchive.maximumBytes + 1))]
                )
            ),
            ("garbage", (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 7919) }),
            ("truncated", Array(try BundleArchive.pack(name: "A.pedalboard", files: [manifest]).prefix(40))),
        ]
        uploads.append(("a link", try await Self.tarWithLink()))
        for (what, bytes) in uploads {
            let reply = try await session.client.call(
                "load_pedalboard_web",
                params: ["file_data": .string(Data(bytes).base64EncodedString())]
            )
            #expect(reply["success"] == false, "\(what)")
            #expect(reply["code"] == "INVALID_PARAMETERS" || reply["code"] == "STORAGE_ERROR", "\(what): \(reply)")
        }
        try await session.fails("load_pedalboard_web", ["file_data": "%%% not base64 %%%"], .invalidParameters)
        #expect(try session.pedalboardFiles().isEmpty)
        #expect(try FileManager.default.contentsOfDirectory(atPath: session.pedalboardsFolder).isEmpty, "no leftovers")
        #expect(!FileManager.default.fileExists(atPath: "/tmp/Evil.pedalboard"))
        #expect(try await session.client.call("echo", params: ["still": "serving"])["echo"] == ["still": "serving"])
        await session.stop()
    }

    /// The names `tar -tzf` lists in `archive`.
    static func tarListing(_ archive: Data) async throws -> [String] {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("pack-\(getpid()).tar.gz").path
        try archive.write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        return try await run("/usr/bin/tar", ["-tzf", file]).split(separator: "\n").map(String.init).sorted()
    }

    /// A tar.gz made by the system's tar of a bundle folder holding a link to /etc/passwd.
    static func tarWithLink() async throws -> [UInt8] {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("linktar-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: "\(folder)/L.pedalboard", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: "\(folder)/L.pedalboard/manifest.ttl",
            withDestinationPath: "/etc/passwd"
        )
        _ = try await run("/usr/bin/tar", ["-czf", "\(folder)/l.tar.gz", "-C", folder, "L.pedalboard"])
        return Array(try Data(contentsOf: URL(fileURLWithPath: "\(folder)/l.tar.gz")))
    }

    /// Runs a system tool to its end (bounded by the suite's time limit) and returns its output.
    static func run(_ program: String, _ arguments: [String]) async throws -> String {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("tool-\(getpid())-\(UUID()).log")
        defer { try? FileManager.default.removeItem(at: log) }
        let tool = try await TestProcess(program, arguments, log: log)
        try await tool.stop(0)
        guard tool.process.terminationStatus == 0 else { throw TestFailure("\(program) failed") }
        return try String(contentsOf: log, encoding: .utf8)
    }
}
