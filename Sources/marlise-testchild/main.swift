// A child for the supervisor's tests: each option provokes one situation a supervisor must handle.
// Plain Foundation, Glibc and Posix, no argument parser, so it builds in seconds.

import Foundation
import Posix

#if canImport(Glibc)
import Glibc
#endif

let usage = """
    usage: marlise-testchild [options]   (then stays alive unless an option ends it)
      --crash-after MS      exit with status 3 (or --exit-code N, or die by --signal-self SIG) after MS ms
      --ignore-term         ignore SIGTERM and SIGINT
      --flood BYTES         write BYTES to stdout as numbered 100-byte lines, then exit 0 (--flood-stderr: stderr)
      --ready-after MS      after MS ms: listen on --port P (if given) and send READY=1 to NOTIFY_SOCKET
      --port P              listen on 127.0.0.1:P (at once, or when ready)
      --hang-after MS       after MS ms close the port and go silent, staying alive
      --grandchild MS       start a grandchild that sleeps MS ms holding our descriptors, print its pid, exit 0
      --close-fds           close every descriptor above 2 first
      --report FILE         write pid, pgid, sid and signal masks as JSON to FILE
      --print-env NAME      print "env NAME=<value or (unset)>"
      --echo TEXT           print TEXT
      --sleep MS            sleep MS ms, then exit 0

    """

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("marlise-testchild: \(message)\n\(usage)".utf8))
    exit(64)
}

func say(_ text: String) {
    var line = Array((text + "\n").utf8)
    line.withUnsafeMutableBytes { _ = write(STDOUT_FILENO, $0.baseAddress, $0.count) }
}

func milliseconds(_ value: Int) -> useconds_t { useconds_t(value * 1000) }

struct Options {
    var crashAfter: Int?
    var exitCode: Int32 = 3
    var signalSelf: Int32?
    var ignoreTerm = false
    var flood: Int?
    var floodStderr = false
    var readyAfter: Int?
    var port: Int?
    var hangAfter: Int?
    var grandchild: Int?
    var closeFDs = false
    var report: String?
    var printEnv: [String] = []
    var echo: [String] = []
    var sleep: Int?
}

func parse(_ arguments: [String]) -> Options {
    var options = Options()
    var rest = arguments[...]
    func value(_ name: String) -> String {
        guard let value = rest.popFirst() else { fail("\(name) needs a value") }
        return value
    }
    func number(_ name: String) -> Int {
        guard let number = Int(value(name)) else { fail("\(name) needs a number") }
        return number
    }
    while let argument = rest.popFirst() {
        switch argument {
        case "--crash-after": options.crashAfter = number(argument)
        case "--exit-code": options.exitCode = Int32(number(argument))
        case "--signal-self": options.signalSelf = Int32(number(argument))
        case "--ignore-term": options.ignoreTerm = true
        case "--flood": options.flood = number(argument)
        case "--flood-stderr":
            options.floodStderr = true
            if options.flood == nil, let bytes = Int(rest.first ?? "") {
                _ = rest.popFirst()
                options.flood = bytes
            }
        case "--never-ready": break
        case "--ready-after": options.readyAfter = number(argument)
        case "--port": options.port = number(argument)
        case "--hang-after": options.hangAfter = number(argument)
        case "--grandchild": options.grandchild = number(argument)
        case "--close-fds": options.closeFDs = true
        case "--report": options.report = value(argument)
        case "--print-env": options.printEnv.append(value(argument))
        case "--echo": options.echo.append(value(argument))
        case "--sleep": options.sleep = number(argument)
        default: fail("unknown option \(argument)")
        }
    }
    return options
}

/// Signal masks from /proc/self/status, as hex.
func statusField(_ name: String) -> String {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    for line in status.split(separator: "\n") where line.hasPrefix(name + ":") {
        return line.dropFirst(name.count + 1).trimmingCharacters(in: .whitespaces)
    }
    return ""
}

func writeReport(to path: String) {
    let blocked = UInt64(statusField("SigBlk"), radix: 16) ?? 0
    let ignored = UInt64(statusField("SigIgn"), radix: 16) ?? 0
    func bit(_ mask: UInt64, _ signal: Int32) -> Bool { mask & (1 << UInt64(signal - 1)) != 0 }
    let json = """
        {"pid":\(getpid()),"ppid":\(getppid()),"pgid":\(getpgrp()),"sid":\(getsid(0)),\
        "sigblk":"\(statusField("SigBlk"))","sigign":"\(statusField("SigIgn"))",\
        "sigpipe_default":\(!bit(ignored, SIGPIPE)),"sigterm_blocked":\(bit(blocked, SIGTERM))}
        """
    let temporary = path + ".tmp"
    _ = FileManager.default.createFile(atPath: temporary, contents: Data(json.utf8))
    rename(temporary, path)
}

func closeInheritedDescriptors() {
    var limit = rlimit()
    getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
    let highest = Int32(min(limit.rlim_cur, 65536))
    for fd in 3..<max(3, highest) { close(fd) }
}

func flood(bytes: Int, to fd: Int32) {
    let lineLength = 100
    var buffer = [UInt8]()
    buffer.reserveCapacity(1 << 20)
    var number = 0
    var written = 0
    while written < bytes {
        buffer.removeAll(keepingCapacity: true)
        while buffer.count + lineLength <= (1 << 20) && written + buffer.count + lineLength <= bytes {
            number += 1
            let head = "line \(String(repeating: "0", count: max(0, 9 - String(number).count)))\(number) "
            buffer.append(contentsOf: head.utf8)
            buffer.append(contentsOf: repeatElement(UInt8(ascii: "x"), count: lineLength - head.utf8.count - 1))
            buffer.append(0x0A)
        }
        if buffer.isEmpty { break }
        buffer.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let count = retryingOnInterrupt { write(fd, raw.baseAddress! + offset, raw.count - offset) }
                if count < 0 { exit(1) }
                offset += count
            }
        }
        written += buffer.count
    }
}

/// Listens on 127.0.0.1:port, accepting and closing connections on a thread; returns the socket.
func listen(port: Int) -> Int32 {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    var on: Int32 = 1
    guard fd >= 0, setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size)) == 0 else {
        fail("cannot listen on port \(port): \(errnoText())")
    }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = in_addr_t(0x7F00_0001).bigEndian
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0, Glibc.listen(fd, 16) == 0 else {
        fail("cannot listen on port \(port): \(errnoText())")
    }
    Thread {
        while true {
            let connection = retryingOnInterrupt { accept(fd, nil, nil) }
            if connection < 0 { return }
            close(connection)
        }
    }.start()
    return fd
}

func notifyReady() {
    guard var name = ProcessInfo.processInfo.environment["NOTIFY_SOCKET"], !name.isEmpty else { return }
    let abstract = name.hasPrefix("@")
    if abstract { name.removeFirst() }
    let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_un()
    address.sun_family = sa_family_t(AF_UNIX)
    let bytes = Array(name.utf8)
    let offset = abstract ? 1 : 0
    withUnsafeMutableBytes(of: &address.sun_path) { path in
        for (index, byte) in bytes.enumerated() where index + offset < path.count { path[index + offset] = byte }
    }
    let length = socklen_t(MemoryLayout<sa_family_t>.size + offset + bytes.count + (abstract ? 0 : 1))
    let message = Array("READY=1".utf8)
    let sent = withUnsafePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
            retryingOnInterrupt {
                message.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, 0, socketAddress, length) }
            }
        }
    }
    // Said on stderr, so a test waiting for readiness shows why it never came.
    if sent < 0 { FileHandle.standardError.write(Data("marlise-testchild: READY=1 not sent: \(errnoText())\n".utf8)) }
}

let options = parse(Array(CommandLine.arguments.dropFirst()))
if options.closeFDs { closeInheritedDescriptors() }
if let path = options.report { writeReport(to: path) }
if options.ignoreTerm {
    signal(SIGTERM, SIG_IGN)
    signal(SIGINT, SIG_IGN)
}
for name in options.printEnv { say("env \(name)=\(ProcessInfo.processInfo.environment[name] ?? "(unset)")") }
for text in options.echo { say(text) }
if let bytes = options.flood {
    flood(bytes: bytes, to: options.floodStderr ? STDERR_FILENO : STDOUT_FILENO)
    exit(0)
}
if let delay = options.grandchild {
    var pid: pid_t = 0
    let arguments = [CommandLine.arguments[0], "--sleep", String(delay)]
    var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
    let spawned = posix_spawn(&pid, CommandLine.arguments[0], nil, nil, &argv, environ)
    guard spawned == 0 else { fail("posix_spawn: \(errnoText(spawned))") }
    say("grandchild \(pid)")
    exit(0)
}
if let delay = options.sleep {
    usleep(milliseconds(delay))
    exit(0)
}
if let delay = options.crashAfter {
    let code = options.exitCode
    let signalNumber = options.signalSelf
    Thread {
        usleep(milliseconds(delay))
        if let signalNumber {
            signal(signalNumber, SIG_DFL)
            kill(getpid(), signalNumber)
        }
        exit(code)
    }.start()
}
var listening: Int32 = -1
if let delay = options.readyAfter {
    usleep(milliseconds(delay))
    if let port = options.port { listening = listen(port: port) }
    notifyReady()
} else if let port = options.port {
    listening = listen(port: port)
}
if let delay = options.hangAfter {
    usleep(milliseconds(delay))
    if listening >= 0 { shutdown(listening, Int32(SHUT_RDWR)) }
    if listening >= 0 { close(listening) }
}
while true { pause() }
