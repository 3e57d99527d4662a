import Foundation
import ModHostWire

/// Commands run so far, as mod-host's readline history keeps them for `save`.
struct CommandHistory {
    private(set) var lines: [String] = []
    /// The oldest lines are dropped past this many.
    static let limit = 100_000

    mutating func record(_ command: CommandLine) {
        guard command.name != "save", command.name != "load" else { return }
        lines.append(([command.name] + command.arguments.map(Self.quoted)).joined(separator: " "))
        if lines.count > Self.limit { lines.removeFirst(lines.count - Self.limit) }
    }

    /// An argument written so that it reads back as the same token.
    private static func quoted(_ argument: String) -> String {
        argument.isEmpty || argument.contains(" ") ? "\"\(argument)\"" : argument
    }
}

/// `save <file>` and `load <file>`: the command history written out, and a file of commands run.
extension Host {
    /// How deep `load` may nest (a file that loads itself would never end).
    static let loadDepthLimit = 8

    func runHistory(_ name: String, _ arguments: Arguments) throws(HostFailure) -> ModHostReply? {
        switch name {
        case "save":
            // mod-host saves its interactive readline history and answers nothing when it is
            // empty; here every command this host ran is saved, and the answer is always given.
            let text = history.lines.map { $0 + "\n" }.joined()
            do { try text.write(toFile: arguments[0], atomically: true, encoding: .utf8) } catch {
                throw HostFailure(.invalidOperation, "cannot write \(arguments[0]): \(error)")
            }
            return .status(0)
        case "load":
            // mod-host answers only when the file cannot be opened, and prints each command's
            // reply on its own stdout; here the replies go to the log and `load` answers `resp 0`.
            guard loadDepth < Self.loadDepthLimit, let text = try? String(contentsOfFile: arguments[0], encoding: .utf8)
            else { return .text("error: can't open the file") }
            loadDepth += 1
            defer { loadDepth -= 1 }
            for line in text.split(whereSeparator: \.isNewline) where !line.isEmpty {
                let reply = execute(String(line))
                logger.info("load", metadata: ["command": "\(line.prefix(200))", "reply": "\(reply.text.prefix(200))"])
                if quitRequested { break }
            }
            return .status(0)
        default:
            return nil
        }
    }
}
