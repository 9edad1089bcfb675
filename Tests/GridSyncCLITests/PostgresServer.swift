import Foundation

/// A throw-away PostgreSQL cluster for a test: Debian's `initdb` in a temporary folder (as the
/// `postgres` user when the tests run as root — initdb refuses root), a server on a free port of
/// 127.0.0.1 with password (SCRAM) logins, a database `district`. Stopped and removed by
/// ``destroy()``. No mocked database: the real server, started and killed as a test needs.
final class PostgresServer {
    let dir: String
    let port: Int
    let user = "gridsync"
    let password = "district-test-\(UInt32.random(in: 1..<UInt32.max))"
    let bin: String
    private let asRoot = getuid() == 0

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The newest PostgreSQL installed (`/usr/lib/postgresql/N/bin`).
    static func binaries() -> String? {
        let base = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []).compactMap(Int.init).sorted()
        return versions.last.map { "\(base)/\($0)/bin" }.flatMap { FileManager.default.isExecutableFile(atPath: $0 + "/initdb") ? $0 : nil }
    }

    /// With `tls`, the server speaks TLS with a certificate for `localhost` and 127.0.0.1 made
    /// here (``certificate``), self-signed.
    let tls: Bool

    init(tls: Bool = false) throws {
        self.tls = tls
        guard let bin = Self.binaries() else {
            throw Failure(description: "PostgreSQL is not installed (Debian: apt-get install postgresql; .ci/run does it)")
        }
        self.bin = bin
        dir = NSTemporaryDirectory() + "gridsync-pg-\(getpid())-\(UInt32.random(in: 0..<UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        try password.write(toFile: dir + "/pw", atomically: true, encoding: .utf8)
        try (password + "\n").write(toFile: dir + "/password", atomically: true, encoding: .utf8)
        if tls {
            try Self.exec([
                "/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", dir + "/server.key", "-out", dir + "/server.crt",
            ])
            try Self.exec(["/bin/chmod", "600", dir + "/server.key"])
        }
        if asRoot { try Self.exec(["/bin/chown", "-R", "postgres:postgres", dir]) }
        port = DaemonEndToEndTests.freePort()
        try run([bin + "/initdb", "-D", dir + "/data", "-U", user, "--pwfile=" + dir + "/pw", "-A", "scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync"])
        try start()
        try run([bin + "/createdb", "-h", "127.0.0.1", "-p", String(port), "-U", user, "district"], env: ["PGPASSWORD": password])
    }

    /// `postgres://gridsync@127.0.0.1:PORT/district`, TLS off (the server is on this machine).
    var url: String { "postgres://\(user)@127.0.0.1:\(port)/district?sslmode=disable" }
    /// The server's certificate (with `tls`), as `sslrootcert=` reads it.
    var certificate: String { dir + "/server.crt" }
    /// The password in a file, as `--password-file` reads it.
    var passwordFile: String { dir + "/password" }

    func start() throws {
        // Spawned and waited for by hand: the server pg_ctl leaves behind inherits the
        // descriptors Foundation's Process watches, so Process would wait for the server too.
        try spawn([bin + "/pg_ctl", "-D", dir + "/data", "-l", dir + "/log", "-w", "-t", "60", "-o",
                 "-p \(port) -k \(dir) -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
                    + (tls ? " -c ssl=on -c ssl_cert_file=\(dir)/server.crt -c ssl_key_file=\(dir)/server.key" : ""), "start"])
    }

    /// Stops the server: `fast` ends every session at once (what an administrator's restart
    /// does), `immediate` as a crash would (no shutdown checkpoint, sessions cut).
    func stop(_ mode: String = "fast") throws {
        try run([bin + "/pg_ctl", "-D", dir + "/data", "-m", mode, "-w", "stop"])
    }

    /// Runs SQL through psql; returns its unaligned output.
    @discardableResult
    func sql(_ statement: String) throws -> String {
        try run([bin + "/psql", "-h", "127.0.0.1", "-p", String(port), "-U", user, "-d", "district", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", statement],
                env: ["PGPASSWORD": password])
    }

    private func spawn(_ args: [String]) throws {
        let full = asRoot ? ["/usr/sbin/runuser", "-u", "postgres", "--"] + args : args
        var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, dir + "/pg_ctl.out", O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var argv: [UnsafeMutablePointer<CChar>?] = full.map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, full[0], &actions, nil, &argv, environ) == 0 else { throw Failure(description: "could not start \(full[0])") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        guard status == 0 else {
            let log = (try? String(contentsOfFile: dir + "/log", encoding: .utf8)) ?? ""
            throw Failure(description: "\(args.joined(separator: " ")) failed (\(status)): \(log.suffix(2000))")
        }
    }

    func destroy() {
        _ = try? run([bin + "/pg_ctl", "-D", dir + "/data", "-m", "immediate", "-w", "stop"])
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Runs a PostgreSQL program, as the postgres user when this process is root.
    @discardableResult
    private func run(_ args: [String], env: [String: String] = [:]) throws -> String {
        let full = asRoot ? ["/usr/sbin/runuser", "-u", "postgres", "--", "/usr/bin/env"] + env.map { "\($0)=\($1)" } + args : args
        return try Self.exec(full, env: asRoot ? [:] : env)
    }

    @discardableResult
    fileprivate static func exec(_ args: [String], env: [String: String] = [:]) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: args[0])
        p.arguments = Array(args.dropFirst())
        p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        p.currentDirectoryURL = URL(fileURLWithPath: "/")
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else {
            throw Failure(description: "\(args.joined(separator: " ")) failed (\(p.terminationStatus)): \(String(decoding: e, as: UTF8.self))")
        }
        return String(decoding: o, as: UTF8.self)
    }
}


extension PostgresServer {
    /// A self-signed certificate for localhost made in `dir` (one that signed no server here).
    static func selfSigned(in dir: String) -> String {
        let path = dir + "/other-ca.crt"
        _ = try? exec([
            "/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
            "-keyout", dir + "/other-ca.key", "-out", path,
        ])
        return path
    }
}
