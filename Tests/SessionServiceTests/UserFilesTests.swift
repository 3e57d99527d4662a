import Foundation
import Messaging
import SessionService
import Testing

/// The user's files by kind, as the web client's file selectors list them, never from outside.
@Suite(.timeLimit(.minutes(1))) struct UserFilesTests {
    @Test func listsEachKindFromItsFolderOnly() async throws {
        let session = try await SessionHarness.start()
        let root = "\(session.data)/user-files"
        let elsewhere = "\(session.data)/elsewhere"
        try FileManager.default.createDirectory(atPath: "\(root)/Reverb IRs/Halls", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        for file in [
            "Reverb IRs/room.wav", "Reverb IRs/Halls/big.FLAC", "Reverb IRs/notes.txt", "Reverb IRs/.hidden.wav",
            "Reverb IRs/take.mp3", "NAM Models/amp.nam", "Speaker Cabinets IRs/4x12.wav", "\(elsewhere)/secret.wav",
        ] {
            let path = file.hasPrefix("/") ? file : "\(root)/\(file)"
            try Data([1, 2, 3]).write(to: URL(fileURLWithPath: path))
        }
        try FileManager.default.createSymbolicLink(
            atPath: "\(root)/Reverb IRs/out.wav",
            withDestinationPath: "\(elsewhere)/secret.wav"
        )
        try FileManager.default.createSymbolicLink(atPath: "\(root)/Reverb IRs/outside", withDestinationPath: elsewhere)

        let reply = try await session.call("list_user_files", ["file_types": ["ir", "nammodel", "unknown"]])
        #expect(
            reply["files"] == [
                ["fullname": .string("\(root)/NAM Models/amp.nam"), "basename": "amp.nam", "filetype": "nammodel"],
                ["fullname": .string("\(root)/Reverb IRs/Halls/big.FLAC"), "basename": "big.FLAC", "filetype": "ir"],
                ["fullname": .string("\(root)/Reverb IRs/room.wav"), "basename": "room.wav", "filetype": "ir"],
            ]
        )
        let query = try await session.call("list_user_files", ["types": "cabsim"])
        #expect(query["files"]?.arrayValue?.map { $0["basename"] } == ["4x12.wav"])
        #expect(
            FileManager.default.fileExists(atPath: "\(root)/SFZ Instruments"),
            "every kind's folder is there to fill"
        )
        try await session.fails("list_user_files", ["file_types": ["nothing"]], .invalidParameters)
        try await session.fails("list_user_files", ["file_types": [1]], .invalidParameters)
        try await session.fails("list_user_files", [:], .invalidParameters)
        await session.stop()
    }
}
