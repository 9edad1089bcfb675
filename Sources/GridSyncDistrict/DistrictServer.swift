import Foundation
import GridSyncCore
import Synchronization
import Logging
import NIOSSL
import PostgresNIO

/// Where the district's PostgreSQL database is, and how to log in (docs/DISTRICT.md).
///
/// The address is a `postgres://USER@HOST:PORT/DATABASE` URL, optionally with
/// `?sslmode=disable|prefer|require|verify-full` and `sslrootcert=PATH`. The password never
/// comes from the command line, where other users of the machine see it: it is read from a
/// file (`--password-file`, `password_file` in the config) or from `$PGPASSWORD`, and a URL
/// that carries one is refused.
public struct DistrictServer: Sendable, CustomStringConvertible {
    public enum TLSMode: String, Sendable {
        /// No TLS (a server on the same machine).
        case disable
        /// TLS if the server offers it, without checking its certificate.
        case prefer
        /// TLS, without checking the certificate.
        case require
        /// TLS, the certificate checked against `sslrootcert` (or the system's roots) and the host name.
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var user: String
    public var database: String
    public var password: String?
    public var tls: TLSMode
    public var rootCertificate: String?

    /// The URL without a password, for messages and logs.
    public var description: String { "postgres://\(user)@\(host):\(port)/\(database)" }

    /// Reads `url`; the password from `passwordFile` if given, else `$PGPASSWORD`.
    public init(url: String, passwordFile: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws(GridSyncError) {
        guard let c = URLComponents(string: url), c.scheme == "postgres" || c.scheme == "postgresql", let host = c.host, !host.isEmpty else {
            throw GridSyncError(.invalidInput, Localized(
                "数据库地址应为 postgres://用户@主机:端口/数据库（例如 postgres://gridsync@127.0.0.1:5432/district）",
                en: "the database address should be postgres://USER@HOST:PORT/DATABASE (e.g. postgres://gridsync@127.0.0.1:5432/district)"))
        }
        guard c.password == nil else {
            throw GridSyncError(.invalidInput, Localized(
                "不要把密码写在地址里（命令行上别人看得见）；把它放进只有你能读的文件，用 --password-file 指定，或设环境变量 PGPASSWORD",
                en: "do not put the password in the address (others can see command lines); put it in a file only you can read and give --password-file, or set PGPASSWORD"))
        }
        self.host = host
        port = c.port ?? 5432
        guard (1...65535).contains(port) else {
            throw GridSyncError(.invalidInput, Localized("数据库端口 \(port) 无效", en: "database port \(port) is not valid"))
        }
        user = c.user ?? environment["PGUSER"] ?? "gridsync"
        let path = c.path.hasPrefix("/") ? String(c.path.dropFirst()) : c.path
        database = path.isEmpty ? (environment["PGDATABASE"] ?? "district") : path
        let items = c.queryItems ?? []
        let mode = items.first { $0.name == "sslmode" }?.value ?? "prefer"
        guard let tls = TLSMode(rawValue: mode) else {
            throw GridSyncError(.invalidInput, Localized(
                "sslmode=\(mode) 无效；可用 disable、prefer、require、verify-full", en: "sslmode=\(mode) is not valid; use disable, prefer, require or verify-full"))
        }
        self.tls = tls
        rootCertificate = items.first { $0.name == "sslrootcert" }?.value
        if let passwordFile {
            guard let text = try? String(contentsOfFile: passwordFile, encoding: .utf8) else {
                throw GridSyncError(.notFound, Localized("读不了密码文件 \(passwordFile)", en: "cannot read the password file \(passwordFile)"))
            }
            let line = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
            guard !line.isEmpty else {
                throw GridSyncError(.invalidInput, Localized("密码文件 \(passwordFile) 是空的", en: "the password file \(passwordFile) is empty"))
            }
            password = line
        } else {
            password = environment["PGPASSWORD"].flatMap { $0.isEmpty ? nil : $0 }
        }
    }

    func configuration() throws(GridSyncError) -> PostgresConnection.Configuration {
        func context(_ c: TLSConfiguration) throws(GridSyncError) -> NIOSSLContext {
            do {
                return try NIOSSLContext(configuration: c)
            } catch {
                throw GridSyncError(.invalidInput, Localized("无法建立 TLS 设置：\(error)", en: "cannot set up TLS: \(error)"))
            }
        }
        let tls: PostgresConnection.Configuration.TLS
        switch self.tls {
        case .disable:
            tls = .disable
        case .prefer, .require:
            var c = TLSConfiguration.makeClientConfiguration()
            c.certificateVerification = .none
            tls = self.tls == .prefer ? .prefer(try context(c)) : .require(try context(c))
        case .verifyFull:
            var c = TLSConfiguration.makeClientConfiguration()
            c.certificateVerification = .fullVerification
            if let rootCertificate {
                guard let roots = try? NIOSSLCertificate.fromPEMFile(rootCertificate), !roots.isEmpty else {
                    throw GridSyncError(.invalidInput, Localized(
                        "sslrootcert=\(rootCertificate) 不是可读的 PEM 证书文件", en: "sslrootcert=\(rootCertificate) is not a readable PEM certificate file"))
                }
                c.trustRoots = .certificates(roots)
            }
            tls = .require(try context(c))
        }
        var config = PostgresConnection.Configuration(host: host, port: port, username: user, password: password, database: database, tls: tls)
        config.options.connectTimeout = .seconds(10)
        if tls.isEnforced || self.tls == .prefer { config.options.tlsServerName = host.first?.isNumber == true ? nil : host }
        // A push waits at most this long behind another session's lock, then fails (and is
        // tried again), rather than hanging a daemon.
        config.options.additionalStartupParameters = [("lock_timeout", "60s"), ("application_name", "gridsync")]
        return config
    }

    /// Runs `body` on one connection to this server, and closes it afterwards. One connection,
    /// not a pool: a server that is down fails the call at once (a pool would keep trying).
    /// After `timeout` the connection is closed and the call fails, whatever it was waiting
    /// for: a server that died mid-statement must not hang a push (the client library was seen
    /// to miss the end of a connection cut by a crashed server now and then).
    public func withConnection<T: Sendable>(
        logger: Logger, timeout: Duration = .seconds(300), _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let server = self
        let configuration = try configuration()
        return try await withCheckedThrowingContinuation { (done: CheckedContinuation<T, any Error>) in
            let race = Race(done, server: server)
            let timer = Task {
                try? await Task.sleep(for: timeout)
                guard !Task.isCancelled else { return }
                race.timedOut(after: timeout)
            }
            let task = Task {
                do {
                    let c = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
                    race.connection.withLock { $0 = c }
                    do {
                        let result = try await body(c)
                        try? await c.close()
                        race.finish(.success(result))
                    } catch {
                        try? await c.close()
                        race.finish(.failure(error))
                    }
                } catch {
                    race.finish(.failure(error))
                }
                timer.cancel()
            }
            race.work.withLock { $0 = task }
        }
    }
}

/// The work on a connection and its deadline: whichever ends first answers, once.
private final class Race<T: Sendable>: Sendable {
    let done: CheckedContinuation<T, any Error>
    let server: DistrictServer
    let decided = Mutex(false)
    let connection = Mutex<PostgresConnection?>(nil)
    let work = Mutex<Task<Void, Never>?>(nil)

    init(_ done: CheckedContinuation<T, any Error>, server: DistrictServer) {
        self.done = done
        self.server = server
    }

    func finish(_ result: Result<T, any Error>) {
        let first = decided.withLock { d -> Bool in
            defer { d = true }
            return !d
        }
        guard first else { return }
        done.resume(with: result.mapError { DistrictError.map($0, server: server) })
    }

    func timedOut(after timeout: Duration) {
        let seconds = timeout.components.seconds
        finish(.failure(GridSyncError(.io, Localized(
            "数据库 \(server) 在 \(seconds) 秒内没有完成；连接已断开，什么都没有写入一半（可以再运行一次）",
            en: "the database \(server) did not finish within \(seconds) s; the connection was closed and nothing was left half-written (run it again)"))))
        work.withLock { $0?.cancel() }
        if let c = connection.withLock({ $0 }) { _ = c.close() as EventLoopFuture<Void> }
    }
}

/// Errors from the server, in the catalogue's words: what failed and what to check, never the
/// statement or its values.
enum DistrictError {
    static func map(_ error: any Error, server: DistrictServer) -> any Error {
        if error is GridSyncError { return error }
        // What went wrong inside a transaction: the statement's error, not the wrapper's.
        if let t = error as? PostgresTransactionError, let inner = t.closureError ?? t.beginError ?? t.commitError ?? t.rollbackError {
            return map(inner, server: server)
        }
        if let e = error as? PSQLError {
            switch e.code {
            case .server:
                let message = e.serverInfo?[.message] ?? ""
                let state = e.serverInfo?[.sqlState] ?? ""
                if state == "28P01" || state == "28000" {
                    return GridSyncError(.notPermitted, Localized(
                        "数据库 \(server) 拒绝登录（\(message)）；检查用户名和密码文件", en: "the database \(server) refused the login (\(message)); check the user and the password file"))
                }
                if state == "42501" {
                    return GridSyncError(.notPermitted, Localized(
                        "数据库用户 \(server.user) 没有权限（\(message)）；见 docs/DISTRICT.md「权限」", en: "database user \(server.user) lacks a privilege (\(message)); see docs/DISTRICT.md, \"Privileges\""))
                }
                if state == "3D000" {
                    return GridSyncError(.notFound, Localized(
                        "数据库 \(server) 不存在；请先创建（createdb \(server.database)）", en: "the database \(server) does not exist; create it first (createdb \(server.database))"))
                }
                return GridSyncError(.io, Localized("数据库 \(server) 报错：\(message)（SQLSTATE \(state)）", en: "the database \(server) reported: \(message) (SQLSTATE \(state))"))
            case .serverClosedConnection, .uncleanShutdown:
                return GridSyncError(.io, Localized(
                    "数据库 \(server) 中途断开了连接（服务器停止或重启？）；本次上报没有写入任何内容，再运行一次即可",
                    en: "the database \(server) closed the connection midway (server stopped or restarted?); this push wrote nothing — run it again"))
            case .sslUnsupported:
                return GridSyncError(.io, Localized(
                    "数据库 \(server) 不支持 TLS；在同一台机器上可用 ?sslmode=disable", en: "the database \(server) does not offer TLS; on the same machine use ?sslmode=disable"))
            default:
                return GridSyncError(.io, Localized(
                    "连不上数据库 \(server)：请检查地址、端口和服务器是否在运行（\(e.code)）", en: "cannot reach the database \(server): check the address, the port and that the server runs (\(e.code))"))
            }
        }
        return GridSyncError(.io, Localized(
            "连不上数据库 \(server)：请检查地址、端口和服务器是否在运行", en: "cannot reach the database \(server): check the address, the port and that the server runs"))
    }
}
