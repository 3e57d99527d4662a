import LV2
import Testing

@testable import AudioHost

/// `patch_set` values typed by a parameter's range, and the feedback text of the atoms, in
/// mod-host's letters and formats.
@Suite struct AudioHostPatchValueTests {
    let features = HostFeatures(sampleRate: 48000, maximumBlockLength: 256)
    let atom = "http://lv2plug.in/ns/ext/atom#"

    @Test func valuesComeBackAsModHostWritesThem() throws {
        let cases = [
            ("Bool", "2", "b 1"), ("Int", "-7", "i -7"), ("Long", "9000000000", "l 9000000000"),
            ("Float", "0.5", "f 0.500000"), ("Double", "2.25", "g 2.250000"),
            ("String", "hello there", "s hello there"), ("Path", "/tmp/a b.wav", "p /tmp/a b.wav"),
            ("URI", "urn:x", "u urn:x"), ("Vector", "3-f-1:2.5:3", "v 3-f-1.000000:2.500000:3.000000"),
            ("Vector", "2-i-4:5", "v 2-i-4:5"),
        ]
        for (range, text, feedback) in cases {
            let value = try #require(PatchValue(range: atom + range, text: text, features: features))
            #expect(PatchValue.feedback(type: value.type, body: value.body, features: features) == feedback)
        }
    }

    @Test func valuesNotOfTheRangeAreRefused() {
        for (range, text) in [
            ("Float", "loud"), ("Int", "x"), ("Vector", "2-f-1"), ("Vector", "1-z-1"), ("Tuple", "1"),
        ] {
            #expect(PatchValue(range: atom + range, text: text, features: features) == nil, "\(range) \(text)")
        }
    }

    @Test func objectsArePaddedAtoms() {
        let object = AtomWriter.object(7, type: 9, properties: [(1, 2, [1, 2, 3])])
        // header 8, body id/otype 8, property key/context 8, value header 8, 3 bytes padded to 8.
        #expect(object.count == 40)
        #expect(object.prefix(4) == [32, 0, 0, 0])
    }
}
