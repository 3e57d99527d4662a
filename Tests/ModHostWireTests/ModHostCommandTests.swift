import Foundation
import Testing

@testable import ModHostWire

@Suite struct ModHostCommandTests {
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
        #expect(try ModHostCommand("cpu_load", []).wire == Data("cpu_load\0".utf8))
    }

    @Test func quotedArgumentsReadBackWhole() throws {
        let save = try ModHostCommand(
            "preset_save",
            [.int(3), .quoted("Big Room Verb"), .word("/tmp/presets"), .word("big.ttl")]
        )
        #expect(save.text == #"preset_save 3 "Big Room Verb" /tmp/presets big.ttl"#)
        #expect(try ModHostTokens.split(save.text) == ["preset_save", "3", "Big Room Verb", "/tmp/presets", "big.ttl"])
        let add = try ModHostCommand("add", [.uri("urn:x:amp#mono"), .int(9999)])
        #expect(try ModHostTokens.split(add.text) == ["add", "urn:x:amp#mono", "9999"])
        let set = try ModHostCommand("param_set", [.int(-1), .word("gain"), .number(-0.5)])
        #expect(try ModHostTokens.split(set.text) == ["param_set", "-1", "gain", "-0.5"])
    }

    @Test func theHostsTokenizerAsModHostSplits() throws {
        #expect(try ModHostTokens.split("cpu_load \t\n") == ["cpu_load"])
        #expect(try ModHostTokens.split("remove 1\r\n") == ["remove", "1"])
        #expect(try ModHostTokens.split(#"a "b  c"d e"#) == ["a", "b  cd", "e"])
        #expect(throws: ModHostParserError.notFound) { try ModHostTokens.split(" cpu_load") }
        #expect(throws: ModHostParserError.notFound) { try ModHostTokens.split("") }
        #expect(try ModHostTokens.split("remove  1") == ["remove", "", "1"])
        #expect(try ModHostTokens.split(#"state_tmpdir """#) == ["state_tmpdir", ""])
        #expect(throws: ModHostParserError.invalidArgument) { try ModHostTokens.split(#"add "urn:x 1"#) }
    }

    @Test(arguments: [
        ModHostCommand.Argument.word("gain\0param_set 0 gain 70"), .word("two words"), .word(""), .word("a\"b"),
        .uri("http://x/ y"), .uri("http://x/\"; quit"), .uri(""), .quoted(""), .quoted("a\"b"), .quoted("a\nb"),
        .number(.nan), .number(.infinity),
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
}

/// Numbers are written as `%.6f` without trailing zeros, whole numbers without a point.
@Suite struct ModHostNumberFormatTests {
    static let cases: [(Double, String)] = [
        (0, "0"), (-3, "-3"), (0.5, "0.5"), (-0.5, "-0.5"), (1.0 / 3.0, "0.333333"), (2.0 / 3.0, "0.666667"),
        (-16.25, "-16.25"), (1e-7, "0."), (123456.7890125, "123456.789012"), (1e16 + 0.5, "10000000000000000."),
    ]

    @Test func asPrintfWritesThem() {
        for (value, expected) in Self.cases { #expect(ModHostCommand.format(value) == expected, "\(value)") }
    }

    /// The largest magnitudes are written whole, never cut short.
    @Test func hugeValuesAreWrittenWhole() {
        for value in [-1e300 / 3, Double.greatestFiniteMagnitude / 7] {
            let text = ModHostCommand.format(value)
            let read = Double(text.hasSuffix(".") ? text + "0" : text)
            #expect(read.map { abs($0 - value) <= abs(value) * 1e-15 } == true, "\(text.prefix(40))…")
        }
    }
}
