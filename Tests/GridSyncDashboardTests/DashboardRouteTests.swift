import Foundation
#if canImport(Glibc)
    import Glibc
#endif
import GridSyncCore
import GridSyncStore
import Hummingbird
import HummingbirdTesting
import HTTPTypes
import Testing

@testable import GridSyncDashboard

/// The dashboard's routes and access rules through Hummingbird's router test client, on a real
/// centre store in a temporary folder.
extension Dashboard {
    /// The routes as an application the router test client drives.
    var app: some ApplicationProtocol { Application(router: router()) }
}

@Suite struct DashboardRouteTests {
    /// A centre with requests in several states: two overdue, one rated, one refused; its
    /// clock a fixed day in November 2026.
    final class Fixture: @unchecked Sendable {
        let dir = NSTemporaryDirectory() + "gridsync-dash-" + UUID().uuidString
        let store: Store
        var ids: [String] = []
        static let now: UInt64 = 1_795_000_000_000  // 2026-11-18T08:26:40Z

        init() throws {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            store = try Store.create(path: dir + "/centre.db", name: "社区服务中心", role: .centre, grid: nil, building: nil, wallClock: { Fixture.now })  // catalogue: data
            let rows: [(String, String, String, String?)] = [  // catalogue: data — sample residents and requests
                ("王秀英", "楼道灯不亮", "物业", "2026-11-01"), ("李建国", "水管漏水", "物业", "2026-11-10"),
                ("张桂兰", "上门理发", "居家养老", nil), ("刘志强", "=HYPERLINK(\"x\")", "=cmd|' /C calc'!A0", nil),
                ("陈玉梅", "噪音扰民", "矛盾纠纷调解", "2026-12-30"),
            ]
            try store.addCategory("=cmd|' /C calc'!A0")
            for (i, r) in rows.enumerated() {
                ids.append(try store.addRequest(NewRequest(
                    grid: "\(i % 2 + 1)", building: "\(i + 1)", resident: r.0, phone: "1380000000\(i)", category: r.2, title: r.1, due: r.3)))
            }
            _ = try store.transition(ids[2], .accept)
            _ = try store.transition(ids[2], .resolve)
            _ = try store.rate(ids[2], satisfaction: .satisfied, comment: nil)
            _ = try store.transition(ids[3], .reject, note: "重复")  // catalogue: data
        }

        func dashboard(_ settings: Dashboard.Settings = .init()) throws -> Dashboard { try Dashboard(store: store, settings: settings) }

        deinit { try? FileManager.default.removeItem(atPath: dir) }
    }

    static let host = HTTPField.Name("Host")!

    static func text(_ r: TestResponse) -> String { String(buffer: r.body) }

    /// The four rate cards, read back from the page: key → (numerator, denominator).
    static func cards(_ html: String) -> [String: (Int, Int)] {
        var out: [String: (Int, Int)] = [:]
        for key in Pages.rateKeys {
            guard let start = html.range(of: "id=\"rate-\(key)\"") else { continue }
            let rest = html[start.upperBound...]
            func attribute(_ name: String) -> Int? {
                guard let a = rest.range(of: "\(name)=\"") else { return nil }
                return Int(rest[a.upperBound...].prefix { $0 != "\"" })
            }
            if let n = attribute("data-numerator"), let d = attribute("data-denominator") { out[key] = (n, d) }
        }
        return out
    }

    @Test func theOverviewShowsTheReportsFigures() async throws {
        let f = try Fixture()
        let report = try f.store.report(ReportOptions(from: "2026-11-01", to: "2026-11-30"))
        let expected = Pages.rates(report.total)
        try await f.dashboard().app.test(.router) { client in
            let r = try await client.execute(uri: "/?month=2026-11", method: .get)
            #expect(r.status == .ok)
            #expect(r.headers[.contentType] == "text/html; charset=utf-8")
            let html = Self.text(r)
            #expect(html.contains("<html lang=\"zh-CN\">"))
            let cards = Self.cards(html)
            #expect(cards.count == 4)
            for (i, key) in Pages.rateKeys.enumerated() {
                #expect(cards[key]?.0 == expected[i].numerator && cards[key]?.1 == expected[i].denominator, "\(key)")
            }
            // Five requests, none withdrawn: five to handle; one rated satisfied.
            #expect(expected[0].denominator == 5 && expected[3].numerator == 1 && expected[3].denominator == 1)
            for s in RequestStatus.allCases {
                #expect(html.contains("data-status=\"\(s.rawValue)\">\(report.total.byStatus[s.rawValue] ?? 0)<"), "\(s)")
            }
            // Two requests are past due today (2026-11-18): the older first, days counted.
            #expect(html.contains("id=\"overdue-count\">2<"))
            let first = try #require(html.range(of: "/requests/\(f.ids[0])")), second = try #require(html.range(of: "/requests/\(f.ids[1])"))
            #expect(first.lowerBound < second.lowerBound)
            #expect(html.contains("<td class=\"late\">17</td>") && html.contains("<td class=\"late\">8</td>"))
            #expect(!html.contains(f.ids[4]), "due in December: not overdue")
        }
    }

    /// Without signing in, no page holds a resident's name, phone or a request's title.
    @Test func nothingPersonalWithoutSigningIn() async throws {
        let f = try Fixture()
        try await f.dashboard().app.test(.router) { client in
            for uri in ["/", "/by/grid", "/by/building", "/by/category", "/by/service", "/nodes", "/by/category/report.csv", "/login"] {
                let r = try await client.execute(uri: uri, method: .get)
                #expect(r.status == .ok, "\(uri)")
                let body = Self.text(r)
                for personal in ["王秀英", "李建国", "13800000000", "楼道灯不亮", "水管漏水"] {  // catalogue: data
                    #expect(!body.contains(personal), "\(uri) shows \(personal)")
                }
            }
            let detail = try await client.execute(uri: "/requests/\(f.ids[0])", method: .get)
            #expect(detail.status == .seeOther)
            #expect(detail.headers[.location] == "/login?next=/requests/\(f.ids[0])")
        }
    }

    static func form(_ fields: [String: String]) -> ByteBuffer {
        ByteBuffer(string: fields.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&"))
    }

    static func signIn(_ client: some TestClientProtocol, _ name: String, _ password: String, next: String = "/") async throws -> TestResponse {
        try await client.execute(
            uri: "/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
            body: form(["name": name, "password": password, "next": next]))
    }

    @Test func aSignedInUserReadsTheDetailAndTheRightPasswordIsNeeded() async throws {
        let f = try Fixture()
        try f.store.setDashboardAccount("clerk", credential: PasswordHash.make("correct horse battery"))
        try await f.dashboard().app.test(.router) { client in
            let wrong = try await Self.signIn(client, "clerk", "wrong password!")
            #expect(wrong.status == .unauthorized)
            #expect(wrong.headers[.setCookie] == nil)
            #expect(Self.text(wrong).contains("账户名或密码不对"))
            let unknown = try await Self.signIn(client, "nobody", "correct horse battery")
            #expect(unknown.status == .unauthorized)
            let ok = try await Self.signIn(client, "clerk", "correct horse battery", next: "/requests/\(f.ids[0])")
            #expect(ok.status == .seeOther)
            #expect(ok.headers[.location] == "/requests/\(f.ids[0])")
            let cookie = try #require(ok.headers[.setCookie])
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.hasPrefix("gridsync_session="))
            let token = String(cookie.prefix { $0 != ";" })
            let detail = try await client.execute(uri: "/requests/\(f.ids[0])", method: .get, headers: [.cookie: token])
            #expect(detail.status == .ok)
            #expect(detail.headers[.cacheControl] == "no-store")
            let html = Self.text(detail)
            #expect(html.contains("王秀英") && html.contains("13800000000") && html.contains("楼道灯不亮"))  // catalogue: data
            #expect(html.contains("clerk"))
            // The overview lists overdue titles to a signed-in user.
            #expect(Self.text(try await client.execute(uri: "/?month=2026-11", method: .get, headers: [.cookie: token])).contains("楼道灯不亮"))  // catalogue: data
            // A made-up token reads nothing; nor does one after signing out.
            let forged = try await client.execute(uri: "/requests/\(f.ids[0])", method: .get, headers: [.cookie: "gridsync_session=" + String(repeating: "ab", count: 32)])
            #expect(forged.status == .seeOther)
            let out = try await client.execute(uri: "/logout", method: .post, headers: [.cookie: token])
            #expect(out.status == .seeOther)
            #expect(try await client.execute(uri: "/requests/\(f.ids[0])", method: .get, headers: [.cookie: token]).status == .seeOther)
            // A removed account's session ends at once.
            let again = try await Self.signIn(client, "clerk", "correct horse battery")
            let token2 = String((again.headers[.setCookie] ?? "").prefix { $0 != ";" })
            #expect(try await client.execute(uri: "/requests/\(f.ids[1])", method: .get, headers: [.cookie: token2]).status == .ok)
            try f.store.removeDashboardAccount("clerk")
            #expect(try await client.execute(uri: "/requests/\(f.ids[1])", method: .get, headers: [.cookie: token2]).status == .seeOther)
        }
    }

    @Test func signingInIsRateLimited() async throws {
        let f = try Fixture()
        try f.store.setDashboardAccount("clerk", credential: PasswordHash.make("correct horse battery"))
        try await f.dashboard().app.test(.router) { client in
            for _ in 0..<LoginThrottle.perAddress {
                #expect(try await Self.signIn(client, "clerk", "guess guess guess").status == .unauthorized)
            }
            // Past the limit even the right password is refused, with a time to wait.
            let blocked = try await Self.signIn(client, "clerk", "correct horse battery")
            #expect(blocked.status == .tooManyRequests)
            #expect(Int(blocked.headers[.retryAfter] ?? "") ?? 0 > 60)
            #expect(blocked.headers[.setCookie] == nil)
        }
        let t = LoginThrottle()
        let start = Date()
        for _ in 0..<LoginThrottle.perAddress { t.failed(address: "a", account: "x", now: start) }
        #expect(t.retryAfter(address: "a", account: "y", now: start) != nil)
        #expect(t.retryAfter(address: "b", account: "y", now: start) == nil)
        #expect(t.retryAfter(address: "a", account: "y", now: start.addingTimeInterval(LoginThrottle.window + 1)) == nil)
    }

    /// No route changes data: other methods are refused and the store's digest is unchanged.
    @Test func theDashboardIsReadOnly() async throws {
        let f = try Fixture()
        let before = try f.store.digest()
        let position = try f.store.logPosition()
        try await f.dashboard().app.test(.router) { client in
            for method in [HTTPRequest.Method.post, .put, .delete, .patch] {
                for uri in ["/", "/requests/\(f.ids[0])", "/nodes", "/by/grid"] {
                    let r = try await client.execute(uri: uri, method: method, body: ByteBuffer(string: "status=resolved"))
                    #expect(r.status == .methodNotAllowed, "\(method) \(uri)")
                }
            }
            for uri in ["/", "/by/service", "/nodes", "/by/grid/report.csv", "/requests/\(f.ids[0])"] {
                _ = try await client.execute(uri: uri, method: .get)
            }
        }
        #expect(try f.store.digest() == before)
        #expect(try f.store.logPosition() == position)
    }

    @Test func carelessAndHostileRequests() async throws {
        let f = try Fixture()
        try f.store.setDashboardAccount("clerk", credential: PasswordHash.make("correct horse battery"))
        try await f.dashboard().app.test(.router) { client in
            #expect(try await client.execute(uri: "/?month=2026-13", method: .get).status == .badRequest)
            #expect(try await client.execute(uri: "/?month=yesterday", method: .get).status == .badRequest)
            #expect(try await client.execute(uri: "/by/street", method: .get).status == .notFound)
            #expect(try await client.execute(uri: "/nowhere", method: .get).status == .notFound)
            let notFound = try await client.execute(uri: "/nodes/NOPE", method: .get)
            #expect(notFound.status == .notFound)
            #expect(Self.text(notFound).contains("找不到该页面"))
            // After signing in, only a path on this dashboard is followed.
            for next in ["//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"] {
                let r = try await Self.signIn(client, "clerk", "correct horse battery", next: next)
                #expect(r.headers[.location] == "/", "\(next)")
            }
            let ok = try await Self.signIn(client, "clerk", "correct horse battery")
            let token = String((ok.headers[.setCookie] ?? "").prefix { $0 != ";" })
            for id in ["ffffffffffffffffffffffffffffffff", "../../etc/passwd", String(repeating: "a", count: 500), "%00"] {
                let r = try await client.execute(uri: "/requests/\(id)", method: .get, headers: [.cookie: token])
                #expect(r.status == .notFound, "\(id)")
            }
            // A form posted from another site is refused.
            let crossSite = try await client.execute(
                uri: "/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded", .origin: "https://evil.example"],
                body: Self.form(["name": "clerk", "password": "correct horse battery"]))
            #expect(crossSite.status == .methodNotAllowed)
            // Every page keeps itself to itself.
            let r = try await client.execute(uri: "/", method: .get)
            #expect(r.headers[.contentSecurityPolicy]?.contains("default-src 'none'") == true)
            #expect(r.headers[.xContentTypeOptions] == "nosniff")
        }
    }

    /// Over a real socket: a page on another site that rebinds its name to 127.0.0.1 arrives
    /// with its own host name and is refused (DNS rebinding); our own names are served.
    @Test func onLoopbackOnlyOurOwnHostNamesAreServed() async throws {
        let f = try Fixture()
        let app = Application(router: try f.dashboard().router(), configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            for (host, expected) in [("evil.example", HTTPResponse.Status.misdirectedRequest), ("evil.example:8420", .misdirectedRequest),
                                     ("127.0.0.1:8420", .ok), ("localhost:8420", .ok)] {
                let port = try #require(client.port)
                #expect(Self.rawStatus(port: port, host: host) == Int(expected.code), "\(host)")
            }
        }
    }

    /// The status code of `GET /` sent by hand with this Host header (HTTP clients set their own).
    static func rawStatus(port: Int, host: String) -> Int? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        let connected = withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard connected == 0 else { return nil }
        let request = Array("GET / HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
        var buffer = [UInt8](repeating: 0, count: 64)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, 64, Int32(MSG_WAITALL)) }
        guard n >= 12 else { return nil }
        return Int(String(decoding: buffer[9..<12], as: UTF8.self))
    }

    /// A hostile name (a category, a service) is text on every page, never markup.
    @Test func hostileNamesAreEscaped() async throws {
        let f = try Fixture()
        let evil = "<script>alert(1)</script>"
        try f.store.addCategory(evil)
        _ = try f.store.addRequest(NewRequest(grid: "1", building: "1", resident: "赵六", category: evil, title: "\"><img src=x onerror=alert(1)>"))  // catalogue: data
        try await f.dashboard().app.test(.router) { client in
            for uri in ["/by/category?month=2026-11", "/?month=2026-11"] {
                let html = Self.text(try await client.execute(uri: uri, method: .get))
                #expect(!html.contains("<script") && !html.contains("<img"), "\(uri)")
            }
            let html = Self.text(try await client.execute(uri: "/by/category?month=2026-11", method: .get))
            #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;") || html.contains("&lt;script&gt;alert(1)&lt;"))
        }
    }

    /// The CSV download is `gridsync report --by … --format csv`: BOM, and no cell a spreadsheet
    /// would run.
    @Test func theCSVIsTheReportsCSVAndFormulaSafe() async throws {
        let f = try Fixture()
        try await f.dashboard().app.test(.router) { client in
            let r = try await client.execute(uri: "/by/category/report.csv?month=2026-11", method: .get)
            #expect(r.status == .ok)
            #expect(r.headers[.contentType] == "text/csv; charset=utf-8")
            #expect(r.headers[.contentDisposition]?.contains("attachment") == true)
            let body = Self.text(r)
            var options = ReportOptions(from: "2026-11-01", to: "2026-11-30", by: .category)
            options.withPrevious = true
            #expect(body == (try f.store.report(options)).csv)
            #expect(body.hasPrefix("\u{FEFF}"))
            #expect(body.contains("'=cmd"))
            #expect(!body.contains(",=cmd"))
        }
    }

    /// Off loopback the dashboard refuses to start without TLS or without an account, and then
    /// every page asks to sign in.
    @Test func aNetworkAddressNeedsTLSAndAccounts() async throws {
        let f = try Fixture()
        #expect(throws: GridSyncError.self) { try f.dashboard(.init(host: "0.0.0.0", port: 8420)) }
        let tls = Dashboard.TLSFiles(certificate: f.dir + "/cert.pem", key: f.dir + "/key.pem")
        #expect(throws: GridSyncError.self) { try f.dashboard(.init(host: "0.0.0.0", port: 8420, tls: tls)) }
        try f.store.setDashboardAccount("clerk", credential: PasswordHash.make("correct horse battery"))
        let dashboard = try f.dashboard(.init(host: "0.0.0.0", port: 8420, tls: tls))
        #expect(throws: GridSyncError.self) { try Dashboard.tlsConfiguration(tls) }  // no such files: a clear error
        try await dashboard.app.test(.router) { client in
            for uri in ["/", "/nodes", "/by/grid/report.csv"] {
                let r = try await client.execute(uri: uri, method: .get)
                #expect(r.status == .seeOther, "\(uri)")
                #expect(r.headers[.location]?.hasPrefix("/login") == true)
            }
            #expect(try await client.execute(uri: "/login", method: .get).status == .ok)
            let ok = try await Self.signIn(client, "clerk", "correct horse battery")
            let cookie = ok.headers[.setCookie] ?? ""
            #expect(cookie.contains("; Secure"))
            let token = String(cookie.prefix { $0 != ";" })
            #expect(try await client.execute(uri: "/", method: .get, headers: [.cookie: token]).status == .ok)
        }
    }

    @Test func passwordHashes() throws {
        let c = try PasswordHash.make("correct horse battery")
        #expect(c.hasPrefix("scrypt$16384$8$1$"))
        #expect(PasswordHash.verify("correct horse battery", credential: c))
        #expect(!PasswordHash.verify("correct horse batterY", credential: c))
        #expect(try PasswordHash.make("correct horse battery") != c, "a fresh salt each time")
        #expect(throws: GridSyncError.self) { try PasswordHash.make("short") }
        // Credentials that would cost too much, or are not credentials, are refused unread.
        for bad in ["", "scrypt$1048577$8$1$AAAA$AAAA", "scrypt$4194304$8$1$AAAAAAAAAAAAAAAAAAAAAA==$" + String(repeating: "A", count: 44), "plain", c + "$x"] {
            #expect(!PasswordHash.verify("correct horse battery", credential: bad))
        }
        #expect(!PasswordHash.verify("anything", credential: PasswordHash.decoy))
    }
}
