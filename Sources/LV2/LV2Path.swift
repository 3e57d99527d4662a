import Foundation

/// The folders lilv searches for bundles: `LV2_PATH`, or lilv's own default when it is unset.
///
/// The catalogue is scanned from exactly these folders, so that the cache's fingerprint and the
/// scan see the same bundles.
public enum LV2Path {
    /// lilv 0.24's built-in search path on Linux.
    static let lilvDefault = "~/.lv2:/usr/lib/x86_64-linux-gnu/lv2:/usr/lib/lv2:/usr/local/lib/lv2"

    public static var folders: [String] {
        let environment = ProcessInfo.processInfo.environment
        let path = environment["LV2_PATH"].flatMap { $0.isEmpty ? nil : $0 } ?? lilvDefault
        let home = environment["HOME"] ?? NSHomeDirectory()
        return path.split(separator: ":").map { folder in
            folder.hasPrefix("~") ? home + folder.dropFirst() : String(folder)
        }
    }
}
