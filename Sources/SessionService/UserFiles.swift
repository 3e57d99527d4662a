import Foundation
public import Messaging

/// The user's files that plugins load (loops, impulse responses, cabinet sims, SF2/SFZ, amp
/// models…), in mod-ui's layout: one folder per kind under `<data>/user-files/`, e.g.
/// `Reverb IRs/`, `Speaker Cabinets IRs/`, `NAM Models/`.
///
/// Listing never leaves those folders: links are not followed, hidden names are skipped, and the
/// walk is bounded in depth and count so a huge or looping tree cannot stall the service.
public struct UserFiles: Sendable {
    public let root: String

    /// A file kind the web client asks for: its folder and the name endings it lists.
    public struct Kind: Sendable {
        public var folder: String
        public var extensions: [String]
    }

    static let audio = [
        ".aif", ".aifc", ".aiff", ".au", ".bwf", ".flac", ".htk", ".iff", ".mat4", ".mat5", ".oga", ".ogg", ".opus",
        ".paf", ".pvf", ".pvf5", ".sd2", ".sf", ".snd", ".svx", ".vcc", ".w64", ".wav", ".xi", ".3g2", ".3gp",
        ".aac", ".ac3", ".amr", ".ape", ".mp2", ".mp3", ".mpc", ".wma",
    ]
    static let lossless = [".aif", ".aifc", ".aiff", ".flac", ".w64", ".wav"]

    /// The kinds by the names the web client sends (`types`), as mod-ui files them.
    public static let kinds: [String: Kind] = [
        "audioloop": Kind(folder: "Audio Loops", extensions: audio),
        "audiorecording": Kind(folder: "Audio Recordings", extensions: audio),
        "audiosample": Kind(folder: "Audio Samples", extensions: audio),
        "audiotrack": Kind(folder: "Audio Tracks", extensions: audio),
        "cabsim": Kind(folder: "Speaker Cabinets IRs", extensions: lossless),
        "h2drumkit": Kind(folder: "Hydrogen Drumkits", extensions: [".h2drumkit"]),
        "ir": Kind(folder: "Reverb IRs", extensions: lossless),
        "midiclip": Kind(folder: "MIDI Clips", extensions: [".mid", ".midi"]),
        "midisong": Kind(folder: "MIDI Songs", extensions: [".mid", ".midi"]),
        "sf2": Kind(folder: "SF2 Instruments", extensions: [".sf2", ".sf3"]),
        "sfz": Kind(folder: "SFZ Instruments", extensions: [".sfz"]),
        "aidadspmodel": Kind(folder: "Aida DSP Models", extensions: [".aidax", ".json"]),
        "nammodel": Kind(folder: "NAM Models", extensions: [".nam"]),
    ]

    static let maximumDepth = 8
    static let maximumFiles = 10_000

    /// Opens `<data>/user-files`, creating every kind's folder so an operator sees where files go.
    public init(dataDirectory: String) {
        root = (dataDirectory as NSString).appendingPathComponent("user-files")
        for kind in Self.kinds.values {
            try? FileManager.default.createDirectory(
                atPath: (root as NSString).appendingPathComponent(kind.folder),
                withIntermediateDirectories: true
            )
        }
    }

    /// Every file of the given kinds, sorted by full path, as `{fullname, basename, filetype}`.
    /// Unknown kinds are passed over (as mod-ui does); none known at all is INVALID_PARAMETERS.
    public func list(types: [String]) throws(RPCError) -> JSONValue {
        let known = types.filter { Self.kinds[$0] != nil }
        guard !known.isEmpty else {
            throw RPCError(
                .invalidParameters,
                "No known file type in \(types); known: \(Self.kinds.keys.sorted().joined(separator: ", "))"
            )
        }
        var files: [String: JSONValue] = [:]
        for type in known {
            guard let kind = Self.kinds[type] else { continue }
            for path in walk((root as NSString).appendingPathComponent(kind.folder), depth: 0)
            where kind.extensions.contains(where: { path.lowercased().hasSuffix($0) }) {
                files[path] = [
                    "fullname": .string(path), "basename": .string((path as NSString).lastPathComponent),
                    "filetype": .string(type),
                ]
                if files.count >= Self.maximumFiles { break }
            }
        }
        return ["files": .array(files.keys.sorted().compactMap { files[$0] }), "count": .int(files.count)]
    }

    /// Regular files below `folder`, links and hidden names left out.
    private func walk(_ folder: String, depth: Int) -> [String] {
        guard depth <= Self.maximumDepth else { return [] }
        var found: [String] = []
        for name in ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).sorted()
        where !name.hasPrefix(".") {
            let path = (folder as NSString).appendingPathComponent(name)
            switch (try? FileManager.default.attributesOfItem(atPath: path))?[.type] as? FileAttributeType {
            case .typeRegular?: found.append(path)
            case .typeDirectory?: found += walk(path, depth: depth + 1)
            default: continue
            }
            if found.count >= Self.maximumFiles { break }
        }
        return found
    }
}
