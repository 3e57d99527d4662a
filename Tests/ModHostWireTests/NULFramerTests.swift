import ModHostWire
import Testing

@Suite struct NULFramerTests {
    private func text(_ message: [UInt8]?) -> String? { message.map { String(decoding: $0, as: UTF8.self) } }

    @Test func aMessageSplitAcrossReadsIsJoined() throws {
        var framer = NULFramer()
        framer.append(Array("resp 0 2.35".utf8))
        #expect(try framer.next() == nil)
        #expect(framer.pendingCount == 11)
        framer.append(Array("55".utf8))
        #expect(try framer.next() == nil)
        framer.append([0])
        #expect(text(try framer.next()) == "resp 0 2.3555")
        #expect(try framer.next() == nil)
        #expect(framer.pendingCount == 0)
    }

    @Test func severalMessagesInOneReadComeOutInOrder() throws {
        var framer = NULFramer()
        let messages = try framer.messages(after: Array("resp 0\0resp -3\0\0output_set 0 gain 1.0\0resp".utf8))
        #expect(
            messages.map { String(decoding: $0, as: UTF8.self) } == ["resp 0", "resp -3", "", "output_set 0 gain 1.0"]
        )
        #expect(framer.pendingCount == 4)
        #expect(try framer.messages(after: Array(" 7\0".utf8)) == [Array("resp 7".utf8)])
    }

    @Test func messagesAreTakenOneAtATimeAndTheRestWaits() throws {
        var framer = NULFramer()
        framer.append(Array("quit\0param_set 0 gain 1\0".utf8))
        #expect(text(try framer.next()) == "quit")
        #expect(framer.pendingCount == 19)
        framer.append(Array("cpu_load\0".utf8))
        #expect(text(try framer.next()) == "param_set 0 gain 1")
        #expect(text(try framer.next()) == "cpu_load")
        #expect(try framer.next() == nil)
    }

    @Test func anUnfinishedMessageOverTheLimitIsDroppedAndFramingGoesOn() throws {
        var framer = NULFramer(limit: 8)
        framer.append(Array("12345678".utf8))
        #expect(try framer.next() == nil, "exactly the limit is still held")
        framer.append(Array("9".utf8))
        let error = #expect(throws: FrameTooLong.self) { try framer.next() }
        #expect(error?.limit == 8)
        #expect(error?.description == "a message longer than 8 bytes without its NUL")
        #expect(framer.pendingCount == 0)
        #expect(try framer.messages(after: Array("ok\0".utf8)) == [Array("ok".utf8)])
    }

    @Test func completeMessagesBeforeAnOversizeTailAreStillTaken() throws {
        var framer = NULFramer(limit: 4)
        framer.append(Array("resp 0\0toolong".utf8))
        #expect(text(try framer.next()) == "resp 0")
        #expect(throws: FrameTooLong.self) { try framer.next() }
    }

    @Test func aFrameIsTheTextAndOneNUL() {
        #expect(NULFramer.frame("cpu_load") == Array("cpu_load".utf8) + [0])
        #expect(NULFramer.frame("") == [0])
        #expect(NULFramer.frame("é") == [0xC3, 0xA9, 0])
    }
}
