import Bridge
import Foundation
import Testing

/// mod-host's text protocol as a real mod-host speaks it.
@Suite struct ModHostProtocolTests {
    @Test func commandsAreWrittenAsModHostReadsThem() throws {
        let add = try ModHostCommand("add", [.uri("http://plugin.org.uk/swh-plugins/amp"), .int(0)])
        #expect(add.wire == Data("add \"http://plugin.org.uk/swh-plugins/amp\" 0\0".utf8))
        #expect(try ModHostCommand("param_set", [.int(0), .word("gain"), .number(6.5)]).text == "param_set 0 gain 6.5")
        #expect(try ModHostCommand("param_set", [.int(0), .word("gain"), .number(-3)]).text == "param_set 0 gain -3")
        #expect(
            try ModHostCommand("param_set", [.int(0), .word("gain"), .number(0.1234567)]).text
                == "param_set 0 gain 0.123457"
        )
        #expect(
            try ModHostCommand("connect", [.word("system:capture_1"), .word("effect_0:input")]).text
                == "connect system:capture_1 effect_0:input"
        )
    }

    @Test(arguments: [
        ModHostCommand.Argument.word("gain\0param_set 0 gain 70"), .word("two words"), .word(""), .word("a\"b"),
        .uri("http://x/ y"), .uri("http://x/\"; quit"), .uri(""), .number(.nan), .number(.infinity),
    ])
    func injectionsAreRefusedBeforeSending(_ argument: ModHostCommand.Argument) {
        #expect(throws: ModHostCommandError.self) { try ModHostCommand("param_set", [.int(0), argument]) }
    }

    @Test func commandsModHostNeverAnswersAreRefusedLocally() throws {
        for name in ["help", "quit"] {
            #expect(throws: ModHostCommandError.self) { try ModHostCommand(name, []) }
            #expect(throws: ModHostCommandError.self) { try ModHostCommand(raw: name) }
        }
        #expect(throws: ModHostCommandError.self) { try ModHostCommand(raw: "") }
        #expect(throws: ModHostCommandError.self) { try ModHostCommand(raw: "   ") }
        #expect(throws: ModHostCommandError.self) { try ModHostCommand(raw: "cpu_load\0quit") }
        #expect(throws: ModHostCommandError.self) { try ModHostCommand(raw: "cpu_load\nquit") }
        #expect(try ModHostCommand(raw: "cpu_load").wire == Data("cpu_load\0".utf8))
    }

    @Test func repliesAsRecorded() {
        #expect(ModHostReply(Data("resp 0".utf8)) == .status(0))
        #expect(ModHostReply(Data("resp 9990".utf8)) == .status(9990))
        #expect(ModHostReply(Data("resp -101".utf8)) == .status(-101))
        #expect(ModHostReply(Data("resp 0 6.5000".utf8)) == .value(6.5))
        #expect(ModHostReply(Data("not found".utf8)) == .parserError("not found"))
        #expect(ModHostReply(Data("few arguments".utf8)) == .parserError("few arguments"))
        #expect(ModHostReply(Data()) == .text(""))
        #expect(ModHostReply(Data("<urn:preset>\n\ta pset:Preset .".utf8)) == .text("<urn:preset>\n\ta pset:Preset ."))
    }

    @Test func failuresCarryModHostsCodeAndName() {
        #expect(ModHostReply.status(-3).failure?.description == "ERR_INSTANCE_NON_EXISTS (-3)")
        #expect(ModHostReply.status(-205).failure?.name == "ERR_JACK_PORT_CONNECTION")
        #expect(ModHostReply.status(-999).failure?.name == "ERR_UNKNOWN")
        #expect(ModHostReply.parserError("many arguments").failure?.name == "MANY_ARGUMENTS")
        #expect(ModHostReply.status(0).failure == nil)
        #expect(ModHostReply.status(1).failure == nil)  // monitor_output's inverted success
        #expect(ModHostReply.value(2.3).failure == nil)
    }

    @Test func framingJoinsSplitReadsAndSeparatesJoinedOnes() throws {
        var framer = NULFramer()
        #expect(try framer.append(Data("resp 0 2.35".utf8)).isEmpty)
        #expect(
            try framer.append(Data("55\0resp 0 1.5000\0res".utf8)) == [
                Data("resp 0 2.3555".utf8), Data("resp 0 1.5000".utf8),
            ]
        )
        #expect(try framer.append(Data("p -3\0".utf8)) == [Data("resp -3".utf8)])
        #expect(try framer.append(Data([0])) == [Data()])
        var small = NULFramer(limit: 8)
        #expect(throws: ModHostCommandError.self) { try small.append(Data(repeating: 0x41, count: 9)) }
        #expect(try small.append(Data("ok\0".utf8)) == [Data("ok".utf8)])
    }
}
