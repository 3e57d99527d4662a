import Foundation
import Messaging
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Headless Chromium driven over the DevTools protocol on `--remote-debugging-pipe`: commands go in
/// on its fd 3 and answers and events come out of its fd 4, each a JSON text ended by a NUL. No
/// WebSocket, no port to find; every read is bounded in time.
final class ChromiumDevTools: @unchecked Sendable {  // used from one test at a time, on a thread
    let pid: pid_t
    private let commands: Int32
    private let answers: Int32
    private var pending: [UInt8] = []
    private var nextID = 0
    /// Every event received so far, in order.
    private(set) var events: [JSONValue] = []
    /// The page's session once ``open(_:)`` attached to it.
    private var session: String?

    /// Starts `chromium` headless with its own profile under `folder`; its output goes to `log`.
    init(chromium: String, folder: String, log: String) throws {
        var toBrowser: [Int32] = [0, 0]
        var fromBrowser: [Int32] = [0, 0]
        guard pipe(&toBrowser) == 0, pipe(&fromBrowser) == 0 else { throw TestFailure("pipe: \(errno)") }
        // Close-on-exec (the pipes are only for this child, which gets them by dup2), and above fd 4,
        // so that placing them at 3 and 4 in the child never overwrites one another.
        let high = (toBrowser + fromBrowser).map { fd in
            defer { close(fd) }
            return fcntl(fd, F_DUPFD_CLOEXEC, 10)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, high[0], 3)
        posix_spawn_file_actions_adddup2(&actions, high[3], 4)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let arguments = [
            chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--no-default-browser-check",
            "--disable-extensions", "--remote-debugging-pipe", "--window-size=1280,1600", "--user-data-dir=\(folder)",
            "about:blank",
        ]
        var argv = arguments.map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, chromium, &actions, nil, &argv, environ)
        close(high[0])
        close(high[3])
        guard spawned == 0 else {
            close(high[1])
            close(high[2])
            throw TestFailure("posix_spawn \(chromium): \(spawned)")
        }
        self.pid = pid
        commands = high[1]
        answers = high[2]
    }

    /// Sends `method` (to the page's session once there is one) and waits at most `timeout` for
    /// its answer; an error answer throws.
    @discardableResult
    func call(
        _ method: String,
        _ params: [String: JSONValue] = [:],
        browser: Bool = false,
        timeout: Duration = .seconds(15)
    ) throws -> JSONValue {
        nextID += 1
        let id = nextID
        var message: [String: JSONValue] = ["id": .int(id), "method": .string(method), "params": .object(params)]
        if !browser, let session { message["sessionId"] = .string(session) }
        var bytes = [UInt8](JSONValue.object(message).serialized())
        bytes.append(0)
        var written = 0
        while written < bytes.count {
            let count = bytes[written...].withUnsafeBytes { write(commands, $0.baseAddress, $0.count) }
            guard count > 0 else { throw TestFailure("\(method): write: \(errno)") }
            written += count
        }
        let deadline = ContinuousClock.now + timeout
        while true {
            let message = try next(until: deadline, waitingFor: method)
            guard message["id"]?.intValue == id else {
                if message["method"] != nil { events.append(message) }
                continue
            }
            if let error = message["error"] { throw TestFailure("\(method): \(error.jsonText)") }
            return message["result"] ?? .null
        }
    }

    /// Opens a page on `url` and attaches to it, with the runtime, log and page domains reporting.
    func open(_ url: String) throws {
        let target = try call("Target.createTarget", ["url": "about:blank"], browser: true)
        guard let id = target["targetId"] else { throw TestFailure("no target in \(target.jsonText)") }
        let attached = try call("Target.attachToTarget", ["targetId": id, "flatten": true], browser: true)
        session = attached["sessionId"]?.stringValue
        try call("Runtime.enable")
        try call("Log.enable")
        try call("Page.enable")
        try call("Page.navigate", ["url": .string(url)])
    }

    /// `expression`'s value in the page (awaited if it is a promise), returned by value.
    func evaluate(_ expression: String) throws -> JSONValue {
        let result = try call(
            "Runtime.evaluate",
            ["expression": .string(expression), "returnByValue": true, "awaitPromise": true]
        )
        if let exception = result["exceptionDetails"] { throw TestFailure("\(expression): \(exception.jsonText)") }
        return result["result"]?["value"] ?? .null
    }

    /// The page as a PNG.
    func screenshot() throws -> Data {
        let shot = try call("Page.captureScreenshot", ["format": "png", "captureBeyondViewport": true])
        guard let text = shot["data"]?.stringValue, let data = Data(base64Encoded: text) else {
            throw TestFailure("no screenshot")
        }
        return data
    }

    /// What the page said went wrong: console errors, uncaught exceptions, error log entries.
    var errors: [String] {
        events.compactMap { event -> String? in
            let params = event["params"]
            switch event["method"]?.stringValue {
            case "Runtime.consoleAPICalled" where params?["type"] == "error":
                return "console.error: \(params?["args"]?.jsonText ?? "")"
            case "Runtime.exceptionThrown":
                return "exception: \(params?["exceptionDetails"]?.jsonText ?? "")"
            case "Log.entryAdded" where params?["entry"]?["level"] == "error":
                return "log: \(params?["entry"]?.jsonText ?? "")"
            default: return nil
            }
        }
    }

    /// Asks the browser to close, then waits for it at most 10 s before killing it; either way it is
    /// reaped.
    func shut() {
        _ = try? call("Browser.close", browser: true, timeout: .seconds(5))
        let deadline = ContinuousClock.now + .seconds(10)
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) == 0 {
            if ContinuousClock.now > deadline {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                break
            }
            usleep(50_000)
        }
        close(commands)
        close(answers)
    }

    /// The next whole message, reading what is needed before `deadline`.
    private func next(until deadline: ContinuousClock.Instant, waitingFor method: String) throws -> JSONValue {
        while true {
            if let end = pending.firstIndex(of: 0) {
                let text = Data(pending[..<end])
                pending.removeSubrange(...end)
                return try JSONValue(parsing: text)
            }
            let left = deadline - ContinuousClock.now
            guard left > .zero else { throw TestFailure("\(method): no answer from chromium in time") }
            var item = pollfd(fd: answers, events: Int16(POLLIN), revents: 0)
            let milliseconds = Int32(min(left.inSeconds * 1000 + 1, 60_000))
            guard poll(&item, 1, milliseconds) >= 0 || errno == EINTR else { throw TestFailure("poll: \(errno)") }
            guard item.revents != 0 else { continue }
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            let count = buffer.withUnsafeMutableBytes { read(answers, $0.baseAddress, $0.count) }
            guard count > 0 else { throw TestFailure("\(method): chromium closed its pipe") }
            pending += buffer[..<count]
        }
    }
}
