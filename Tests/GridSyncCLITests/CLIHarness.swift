import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Runs the built `gridsync` binary as a user would.
struct CLI {
    struct Result {
        var status: Int32
        var out: String
        var err: String
    }

    static let binary: String = {
        if let env = ProcessInfo.processInfo.environment["GRIDSYNC_BIN"] { return env }
        // The test bundle sits in the build products directory, beside the executable.
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("gridsync").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        for candidate in [".build/debug/gridsync", ".build/release/gridsync"]
        where FileManager.default.isExecutableFile(atPath: candidate) {
            return candidate
        }
        fatalError("gridsync binary not found; build it first or set GRIDSYNC_BIN")
    }()

    let dir: String

    init() {
        dir = NSTemporaryDirectory() + "gridsync-cli-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { dir + "/" + name }

    @discardableResult
    func run(_ args: [String], env: [String: String] = [:]) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.binary)
        p.arguments = args
        var environment = ProcessInfo.processInfo.environment
        environment["HOME"] = dir
        environment["XDG_DATA_HOME"] = dir + "/xdg"
        environment.removeValue(forKey: "GRIDSYNC_DB")
        for (k, v) in env { environment[k] = v }
        p.environment = environment
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, out: String(decoding: outData, as: UTF8.self), err: String(decoding: errData, as: UTF8.self))
    }

    /// Runs and expects success; returns trimmed stdout.
    @discardableResult
    func ok(_ args: [String], env: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation) throws -> String {
        let r = try run(args, env: env)
        #expect(r.status == 0, "gridsync \(args.joined(separator: " ")) failed: \(r.err)", sourceLocation: sourceLocation)
        return r.out.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func cleanup() { try? FileManager.default.removeItem(atPath: dir) }
}

extension CLI {
    /// Enrols the node of store `member` (its `--db` arguments) in the community of the centre
    /// `centre`, as a user would: `roster add` on the centre with the member's ID and scope,
    /// then `join` on the member with the centre's community and node IDs.
    func enrol(_ member: [String], in centre: [String], env: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation) throws {
        func identity(_ db: [String]) throws -> [String: Any] {
            let text = try ok(["id", "--json"] + db, env: env, sourceLocation: sourceLocation)
            return try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], sourceLocation: sourceLocation)
        }
        let m = try identity(member)
        let c = try identity(centre)
        var add = ["roster", "add", m["node_id"] as! String, "--name", m["name"] as! String, "--role", m["role"] as! String]
        if let grid = m["grid"] as? String { add += ["--grid", grid] }
        if let building = m["building"] as? String { add += ["--building", building] }
        try ok(add + centre, sourceLocation: sourceLocation)
        try ok(["join", "--community", c["community_id"] as! String, "--centre-id", c["node_id"] as! String] + member, env: env, sourceLocation: sourceLocation)
        // Joined offline: its profile goes to the centre and its key grants come back by hand.
        let name = UUID().uuidString
        for (from, to, leg) in [(member, centre, "up"), (centre, member, "down")] {
            let r = try carry(from, to, file: "enrol-\(leg)-\(name).gsb", env: env, sourceLocation: sourceLocation)
            #expect(r.status == 0, "enrolment bundle \(leg): \(r.err)", sourceLocation: sourceLocation)
        }
    }

    /// Carries what `to` lacks from `from` in a bundle file, as a worker with a USB stick does;
    /// returns how the import ended (a refused change exits 3).
    @discardableResult
    func carry(_ from: [String], _ to: [String], file: String, env: [String: String] = [:], sourceLocation: SourceLocation = #_sourceLocation) throws -> Result {
        let vector = path(file + ".vector")
        try ok(["vector"] + to, env: env, sourceLocation: sourceLocation).write(toFile: vector, atomically: true, encoding: .utf8)
        try ok(["bundle", "export", "--out", path(file), "--since", "@" + vector] + from, env: env, sourceLocation: sourceLocation)
        return try run(["bundle", "import", path(file)] + to, env: env)
    }
}

/// Plain TCP to 127.0.0.1, for tests that speak to a daemon by hand.
enum Loopback {
    /// A connected socket; `timeout` (seconds) bounds each read.
    static func connect(port: Int, timeout: Double? = nil) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        if let timeout {
            var t = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1_000_000))
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &t, socklen_t(MemoryLayout<timeval>.size))
        }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = UInt16(port).bigEndian
        let rc = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard rc == 0 else {
            close(fd)
            throw POSIXError(.ECONNREFUSED)
        }
        return fd
    }

    static func send(_ fd: Int32, _ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, 0) }
    }

    /// Everything until the peer closes or a read times out.
    static func readAll(_ fd: Int32) -> [UInt8] {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = recv(fd, &chunk, chunk.count, 0)
            if n <= 0 { return received }
            received += chunk[0..<n]
        }
    }
}

/// Another program the tests check against (a validator, a real peer, the chaos script).
enum Tool {
    /// Runs `path` with `arguments`, feeding `input` on standard input and keeping it open for
    /// `holdInput` seconds (for programs that read their peer's answer while stdin is open);
    /// returns the exit status and standard output and error together.
    static func run(
        _ path: String, _ arguments: [String], input: Data = Data(), holdInput: Double = 0, environment: [String: String]? = nil
    ) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: path)
        p.arguments = arguments
        if let environment { p.environment = environment }
        let stdin = Pipe()
        let out = Pipe()
        p.standardInput = stdin
        p.standardOutput = out
        p.standardError = out
        try p.run()
        stdin.fileHandleForWriting.write(input)
        if holdInput > 0 { Thread.sleep(forTimeInterval: holdInput) }
        try stdin.fileHandleForWriting.close()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, text)
    }
}
