import ModHostWire
import Testing

@Suite struct ModHostReplyTests {
    @Test func repliesAsModHostWritesThem() {
        #expect(ModHostReply(text: "resp 0") == .status(0))
        #expect(ModHostReply(text: "resp 9990") == .status(9990))
        #expect(ModHostReply(text: "resp -101") == .status(-101))
        #expect(ModHostReply(text: "resp 0 6.5000") == .value(6.5))
        #expect(ModHostReply(text: "resp 0 -0.1250") == .value(-0.125))
        #expect(ModHostReply(text: "not found") == .parserError(.notFound))
        #expect(ModHostReply(text: "few arguments") == .parserError(.fewArguments))
        #expect(ModHostReply(text: "many arguments") == .parserError(.manyArguments))
        #expect(ModHostReply(text: "invalid argument") == .parserError(.invalidArgument))
        #expect(ModHostReply(Array("resp 1".utf8)) == .status(1))
    }

    @Test func malformedRepliesAreKeptAsText() {
        for text in [
            "", "resp", "resp x", "resp 1.5", "resp 1 2.0", "resp 0 abc", "resp 0 1 2", "RESP 0", "not found ",
            "<urn:preset>\n\ta pset:Preset .",
        ] {
            #expect(ModHostReply(text: text) == .text(text), "\(text)")
        }
    }

    @Test func repliesAreWrittenAsModHostWritesThem() {
        #expect(ModHostReply.status(0).text == "resp 0")
        #expect(ModHostReply.error(.instanceNonExists).text == "resp -3")
        #expect(ModHostReply.value(6.5).text == "resp 0 6.5000")
        #expect(ModHostReply.value(0.123456).text == "resp 0 0.1235")
        #expect(ModHostReply.parserError(.fewArguments).text == "few arguments")
        #expect(ModHostReply.text("@prefix pset: <x> .").text == "@prefix pset: <x> .")
        for reply in [ModHostReply.status(-205), .value(-2.25), .parserError(.manyArguments), .text("anything")] {
            #expect(ModHostReply(text: reply.text) == reply)
        }
    }

    @Test func failuresCarryModHostsCodeAndName() {
        #expect(ModHostReply.status(-3).failure == ModHostFailure(code: -3, name: "ERR_INSTANCE_NON_EXISTS"))
        #expect(ModHostReply.status(-3).failure?.description == "ERR_INSTANCE_NON_EXISTS (-3)")
        #expect(ModHostReply.status(-205).failure?.name == "ERR_JACK_PORT_CONNECTION")
        #expect(ModHostReply.status(-999).failure?.name == "ERR_UNKNOWN")
        #expect(ModHostReply.parserError(.manyArguments).failure == ModHostFailure(code: 0, name: "MANY_ARGUMENTS"))
        #expect(ModHostReply.parserError(.notFound).failure?.description == "NOT_FOUND")
        #expect(ModHostReply.status(0).failure == nil)
        #expect(ModHostReply.status(1).failure == nil)  // monitor_output's inverted success
        #expect(ModHostReply.value(2.3).failure == nil)
        #expect(ModHostReply.text("resp").failure == nil)
    }

    @Test func errorCodesOfReplies() {
        #expect(ModHostReply.status(-2).errorCode == .instanceAlreadyExists)
        #expect(ModHostReply.error(.lv2InvalidParamSymbol) == .status(-103))
        #expect(ModHostReply.status(-999).errorCode == nil)
        #expect(ModHostReply.status(3).errorCode == nil)
        #expect(ModHostReply.parserError(.notFound).errorCode == nil)
    }
}
