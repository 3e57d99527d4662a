import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Lines echoed on the supervisor's stderr, `name | line`, coloured per service on a terminal.
enum Echo {
    static let colours = ["36", "32", "33", "35", "34", "31"]
    static let terminal = isatty(STDERR_FILENO) == 1

    static func write(_ bytes: [UInt8], service: String) {
        let colour = colours[Int(DJB2.hash(service) % UInt32(colours.count))]
        let padded = service.padding(toLength: 8, withPad: " ", startingAt: 0)
        let text = terminal ? "\u{1B}[\(colour)m\(padded) |\u{1B}[0m " : "\(padded) | "
        let prefix = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + bytes.count / 4)
        var start = 0
        while let newline = bytes[start...].firstIndex(of: 0x0A) {
            out.append(contentsOf: prefix)
            // Drop the timestamp and stream: the terminal shows them as they come.
            let line = bytes[start..<newline]
            let afterStamp = line.firstIndex(of: 0x20).map { line.index(after: $0) } ?? line.startIndex
            let afterStream = line[afterStamp...].firstIndex(of: 0x20).map { line.index(after: $0) } ?? afterStamp
            out.append(contentsOf: line[afterStream...])
            out.append(0x0A)
            start = newline + 1
        }
        out.withUnsafeBytes { _ = Glibc.write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }
}

/// Bernstein's djb2 string hash (`h * 33 + byte`, from 5381): stable from run to run, unlike
/// `Hasher`, so a service keeps its colour; nothing here needs a checksum.
private enum DJB2 {
    static func hash(_ text: String) -> UInt32 { text.utf8.reduce(5381) { ($0 &* 33) &+ UInt32($1) } }
}
