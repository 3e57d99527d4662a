import Foundation
import Messaging
import Testing

@testable import SessionService

/// The current session on disk as a killed session leaves it: every knob turn that was answered
/// is found again, however the write and the journal's truncation were interleaved with the kill.
@Suite struct SessionJournalTests {
    /// A store over a fresh folder, and a state with one amp on it.
    static func setUp() throws -> (SessionStore, SessionState, String) {
        let data = SessionHarness.makeDataDirectory()
        let store = try SessionStore(dataDirectory: data)
        var state = SessionState()
        state.add(SessionStateTests.amp("amp", number: 0))
        return (store, state, data)
    }

    /// What a session starting now would restore.
    static func restored(_ data: String) throws -> (SessionState?, UInt64) {
        let (state, epoch, problem) = try SessionStore(dataDirectory: data).loadSession()
        #expect(problem == nil)
        return (state, epoch)
    }

    @Test func knobTurnsAnsweredBeforeAKillAreRestored() throws {
        let (store, start, data) = try Self.setUp()
        defer { try? FileManager.default.removeItem(atPath: data) }
        // No flush ever runs: the process "dies" with only what was written before each reply.
        let persistence = SessionPersistence(store: store, delay: .seconds(3600), epoch: 0)
        persistence.record(start)
        var state = start
        for value in [-3.0, 4.5, 1.25] {
            state.setParameter("amp", "gain", value)
            persistence.recordParameter(state, instanceID: "amp", symbol: "gain", value: value)
        }
        let (restored, _) = try Self.restored(data)
        #expect(restored?.plugins.first?.parameters["gain"] == 1.25)
        #expect(try String(contentsOfFile: "\(data)/session/current.journal", encoding: .utf8).count > 0)
    }

    @Test func aFlushFoldsTheJournalIntoTheSessionFile() throws {
        let (store, start, data) = try Self.setUp()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let persistence = SessionPersistence(store: store, delay: .seconds(3600), epoch: 0)
        persistence.record(start)
        var state = start
        state.setParameter("amp", "gain", 6)
        persistence.recordParameter(state, instanceID: "amp", symbol: "gain", value: 6)
        #expect(persistence.flush() == nil)
        #expect(try Data(contentsOf: URL(fileURLWithPath: "\(data)/session/current.journal")).isEmpty)
        let document = try #require(try DurableFile.read("\(data)/session/current.json"))
        let plugins = try #require(document["pedalboard"]?["plugins"]?.arrayValue)
        #expect(plugins.first?["parameters"]?["gain"]?.doubleValue == 6)
        #expect(try Self.restored(data).0?.plugins.first?.parameters["gain"] == 6)
    }

    @Test func linesOfAnOlderEpochAndATornLastLineAreSkipped() throws {
        let (store, start, data) = try Self.setUp()
        defer { try? FileManager.default.removeItem(atPath: data) }
        let persistence = SessionPersistence(store: store, delay: .seconds(3600), epoch: 0)
        persistence.record(start)
        var state = start
        state.setParameter("amp", "gain", -9)
        persistence.recordParameter(state, instanceID: "amp", symbol: "gain", value: -9)
        // A snapshot applied since set the gain to 2 and rewrote the session file; the process died
        // before the journal was emptied. Its line belongs to the older file and must not win.
        state.setParameter("amp", "gain", 2)
        let (_, epoch) = try Self.restored(data)
        try store.saveSession(state, epoch: epoch + 1)
        #expect(try Self.restored(data).0?.plugins.first?.parameters["gain"] == 2)

        // A power cut in the middle of a line: the whole lines before it still count.
        let journal = try FileHandle(forWritingTo: URL(fileURLWithPath: "\(data)/session/current.journal"))
        try journal.seekToEnd()
        let line = "{\"epoch\":\(epoch + 1),\"instance_id\":\"amp\",\"parameter\":\"gain\",\"value\":7}\n"
        try journal.write(contentsOf: Data(line.utf8))
        try journal.write(contentsOf: Data(line.prefix(40).utf8))
        try journal.close()
        let (restored, _) = try Self.restored(data)
        #expect(restored?.plugins.first?.parameters["gain"] == 7)
    }
}
