import Foundation
import Messaging
import Testing

@Suite struct JSONCodecTests {
    @Test func roundTripsEveryKind() throws {
        let text = #"{"a":null,"b":true,"c":-12,"d":0.5,"e":"x\"y\\z\n","f":[1,[2,{}]],"g":{"h":[]}}"#
        let value = try JSONValue(parsing: text)
        #expect(value["c"] == .int(-12))
        #expect(value["d"] == .double(0.5))
        #expect(value["e"] == .string("x\"y\\z\n"))
        #expect(try JSONValue(parsing: value.serialized()) == value)
    }

    @Test func keepsIntegersApartFromFractions() throws {
        #expect(try JSONValue(parsing: "3") == .int(3))
        #expect(try JSONValue(parsing: "3.0") == .double(3))
        #expect(JSONValue.int(3).jsonText == "3")
        #expect(JSONValue.double(3).jsonText == "3.0")
        #expect(JSONValue.double(3).intValue == 3)
        #expect(JSONValue.double(3.5).intValue == nil)
        // Too large for Int: still a number.
        #expect(try JSONValue(parsing: "123456789012345678901234567890").doubleValue == 1.2345678901234568e29)
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        #expect(try JSONValue(parsing: #""\u00e9\ud83c\udfb8\/""#) == .string("é🎸/"))
        #expect(try JSONValue(parsing: "\"é🎸\"") == .string("é🎸"))
    }

    @Test func writesControlCharactersEscaped() {
        #expect(JSONValue.string("a\u{01}b\tc").jsonText == #""a\u0001b\tc""#)
    }

    @Test(arguments: [
        "", " ", "{", "[1,]", "{\"a\":1,}", "{'a':1}", "01", "1.", "-", "NaN", "Infinity", "tru",
        "\"\\ud800\"", "\"\\x\"", "\"a\u{01}\"", "[1] x", "{\"a\" 1}", "1e400",
    ])
    func refusesMalformedText(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: text) }
    }

    @Test func refusesInvalidUTF8() {
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: Data([0x22, 0xC3, 0x28, 0x22])) }
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: Data([0xFF, 0xFE])) }
    }

    @Test func limitsNesting() throws {
        let deepest =
            String(repeating: "[", count: JSONValue.maximumDepth)
            + String(repeating: "]", count: JSONValue.maximumDepth)
        _ = try JSONValue(parsing: deepest)
        let tooDeep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: tooDeep) }
    }

    @Test func sortedKeysAreStable() {
        let value: JSONValue = ["b": 1, "a": ["d": 2, "c": 3]]
        #expect(String(decoding: value.serialized(sortedKeys: true), as: UTF8.self) == #"{"a":{"c":3,"d":2},"b":1}"#)
    }

    @Test func codableBridgesToFoundation() throws {
        let value: JSONValue = ["x": [1, 2.5, "s", true, nil]]
        let data = try JSONEncoder().encode(value)
        #expect(try JSONDecoder().decode(JSONValue.self, from: data) == value)
    }
}
