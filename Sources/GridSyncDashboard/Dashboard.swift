import Foundation
import GridSyncCore
import GridSyncStore
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import Mustache
import ServiceLifecycle
import NIOCore
import NIOPosix
import NIOSSL

/// The request context of a dashboard request: who is asking (their address) and, once the
/// session cookie is read, who is signed in.
public struct DashboardContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The client's IP address (nil in router tests): what sign-in attempts are counted by.
    public let remoteAddress: String?
    /// The signed-in account, if any.
    public var user: String?
    /// The session token the request came with.
    var token: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress?.ipAddress
    }
}

/// The centre's read-only dashboard: overview, tables by grid/building/category/service with
/// CSV, request detail (signed-in users only), nodes. Served by the daemon or by
/// `gridsync dashboard`.
public struct Dashboard: Sendable {
    /// How the dashboard is reached.
    public struct Settings: Sendable {
        public var host: String
        public var port: Int
        /// Certificate and key PEM files for HTTPS (nil: plain HTTP, loopback only).
        public var tls: TLSFiles?
        /// A request counts as responded in time within this many hours (as `report`).
        public var responseHours = 24

        public init(host: String = "127.0.0.1", port: Int = 8420, tls: TLSFiles? = nil) {
            self.host = host
            self.port = port
            self.tls = tls
        }

        /// Loopback: only this machine can connect.
        public var isLoopback: Bool {
            host == "localhost" || host == "::1" || host.hasPrefix("127.")
        }
    }

    /// A certificate chain and its private key, PEM.
    public struct TLSFiles: Sendable {
        public var certificate: String
        public var key: String
        public init(certificate: String, key: String) {
            self.certificate = certificate
            self.key = key
        }
    }

    public let store: Store
    public let settings: Settings
    let sessions = SessionBook()
    let throttle = LoginThrottle()
    let cache = FigureCache()
    let library: MustacheLibrary

    /// Checks what the address asks for: a non-loopback address needs TLS and at least one
    /// account, since residents' data would otherwise be one guess or one sniff away.
    public init(store: Store, settings: Settings) throws {
        self.store = store
        self.settings = settings
        var library = MustacheLibrary()
        for (name, text) in Templates.all {
            do {
                try library.register(text, named: name)
            } catch {
                throw GridSyncError(.io, Localized("看板模板「\(name)」有误：\(error)", en: "the dashboard template '\(name)' is broken: \(error)"))
            }
        }
        self.library = library
        guard (0...65535).contains(settings.port) else {
            throw GridSyncError(.invalidInput, Localized("看板端口 \(settings.port) 不在 0–65535 之内", en: "dashboard port \(settings.port) is not within 0–65535"))
        }
        if !settings.isLoopback {
            guard settings.tls != nil else {
                throw GridSyncError(.notPermitted, Localized(
                    "看板地址 \(settings.host) 不是本机地址，必须使用 TLS：给出证书和私钥（gridsync dashboard 的 --certificate/--key，守护进程的 dashboard_certificate/dashboard_key），或改用 127.0.0.1",
                    en: "the dashboard address \(settings.host) is not loopback, so it needs TLS: give a certificate and key (--certificate/--key for gridsync dashboard, dashboard_certificate/dashboard_key for the daemon), or use 127.0.0.1"))
            }
            guard try !store.dashboardAccounts().isEmpty else {
                throw GridSyncError(.notPermitted, Localized(
                    "看板地址 \(settings.host) 不是本机地址，必须登录后访问：先运行 `gridsync dashboard user add 账户名` 添加账户",
                    en: "the dashboard address \(settings.host) is not loopback, so it needs accounts: add one with `gridsync dashboard user add NAME` first"))
            }
        }
    }

    /// Every page needs a signed-in user when the dashboard is reachable from the network.
    var signInEverywhere: Bool { !settings.isLoopback }

    // MARK: Serving

    /// The HTTP(S) application, ready to run as a service.
    public func application(logger: Logger, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some ApplicationProtocol {
        let server: HTTPServerBuilder
        if let tls = settings.tls {
            server = try .tls(.http1(), tlsConfiguration: try Self.tlsConfiguration(tls))
        } else {
            server = .http1()
        }
        return Application(
            router: router(), server: server,
            configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "gridsync"),
            services: [Refresher(dashboard: self, logger: logger)],
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    static func tlsConfiguration(_ files: TLSFiles) throws -> TLSConfiguration {
        let chain: [NIOSSLCertificate], key: NIOSSLPrivateKey
        do {
            chain = try NIOSSLCertificate.fromPEMFile(files.certificate)
        } catch {
            throw GridSyncError(.invalidInput, Localized("无法读取看板证书 \(files.certificate)：应为 PEM 格式的证书文件", en: "cannot read the dashboard certificate \(files.certificate): it must be a PEM certificate file"))
        }
        do {
            key = try NIOSSLPrivateKey(file: files.key, format: .pem)
        } catch {
            throw GridSyncError(.invalidInput, Localized("无法读取看板私钥 \(files.key)：应为 PEM 格式、未加密的私钥文件", en: "cannot read the dashboard key \(files.key): it must be an unencrypted PEM private key file"))
        }
        guard !chain.isEmpty else {
            throw GridSyncError(.invalidInput, Localized("看板证书文件 \(files.certificate) 里没有证书", en: "the dashboard certificate file \(files.certificate) holds no certificate"))
        }
        var c = TLSConfiguration.makeServerConfiguration(certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(key))
        c.minimumTLSVersion = .tlsv12
        return c
    }

    /// The routes. Only GET reads; POST signs in and out and changes nothing stored.
    public func router() -> Router<DashboardContext> {
        let router = Router(context: DashboardContext.self)
        router.add(middleware: AccessMiddleware(dashboard: self))
        let pages = Pages(store: store, responseHours: settings.responseHours, cache: cache)
        router.get("/assets/style.css") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "max-age=3600"],
                     body: .init(byteBuffer: ByteBuffer(string: Templates.css)))
        }
        router.get("/") { request, context in
            let month = try self.month(request)
            return try await self.page("overview") { try pages.overview(month: month, user: context.user) }
        }
        router.get("/by/:grouping") { request, context in
            let by = try self.grouping(context)
            let month = try self.month(request)
            return try await self.page("grouped") { try pages.grouped(by, month: month, user: context.user) }
        }
        router.get("/by/:grouping/report.csv") { request, context in
            let by = try self.grouping(context)
            let month = try self.month(request)
            let text = try await Self.off { try pages.csv(by, month: month) }
            return Response(status: .ok, headers: [
                .contentType: "text/csv; charset=utf-8",
                .contentDisposition: "attachment; filename=\"report-\(by.rawValue)-\(month).csv\"",
            ], body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        router.get("/requests/:id") { request, context in
            guard let user = context.user else { return Self.redirect("/login?next=" + Self.nextParameter(request.uri.path)) }
            guard let id = context.parameters.get("id"), id.count <= 64, id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else {
                throw DashboardError.notFound
            }
            return try await self.page("request", headers: [.cacheControl: "no-store"]) {
                do {
                    return try pages.request(id, user: user)
                } catch let e as GridSyncError where e.code == .notFound || e.code == .invalidInput {
                    throw DashboardError.notFound
                }
            }
        }
        router.get("/nodes") { _, context in
            try await self.page("nodes") { try pages.nodes(user: context.user) }
        }
        router.get("/nodes/:id") { _, context in
            guard let id = context.parameters.get("id"), id.count <= 64 else { throw DashboardError.notFound }
            return try await self.page("node") {
                guard let c = try pages.node(id, user: context.user) else { throw DashboardError.notFound }
                return c
            }
        }
        router.get("/login") { request, context in
            let next = Self.safeNext(request.uri.queryParameters.get("next"))
            return try await self.page("login", headers: [.cacheControl: "no-store"]) {
                var c = pages.common(Texts.entries["signInTitle"]?.text ?? "", user: context.user, current: "isLogin")
                c["next"] = next
                c["noAccounts"] = try self.store.dashboardAccounts().isEmpty
                return c
            }
        }
        router.post("/login") { request, context in try await self.signIn(request, context, pages) }
        router.post("/logout") { _, context in
            if let token = context.token { self.sessions.close(token) }
            var r = Self.redirect("/")
            r.headers[.setCookie] = Self.cookie("", maxAge: 0, secure: self.settings.tls != nil)
            return r
        }
        return router
    }

    /// Works out this month's overview figures again if the store changed since they were
    /// (the refresher calls it every few seconds), so the page is ready when someone opens it.
    public func refresh() async throws {
        let store = self.store, cache = self.cache, hours = settings.responseHours
        try await Self.off { _ = try cache.figures(store, month: store.currentMonth(), by: nil, responseHours: hours) }
    }

    // MARK: Signing in

    static let cookieName = "gridsync_session"

    /// `Secure` whenever the page came over TLS; on plain loopback HTTP a browser would not
    /// send a Secure cookie back, and nothing leaves the machine.
    static func cookie(_ token: String, maxAge: Int, secure: Bool) -> String {
        "\(cookieName)=\(token); Path=/; Max-Age=\(maxAge); HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }

    struct SignInForm: Decodable {
        var name: String?
        var password: String?
        var next: String?
    }

    func signIn(_ request: Request, _ context: DashboardContext, _ pages: Pages) async throws -> Response {
        var request = request
        let body = try await request.body.collect(upTo: 8192)
        let form = (try? URLEncodedFormDecoder().decode(SignInForm.self, from: String(buffer: body))) ?? SignInForm()
        let name = String((form.name ?? "").prefix(Store.maxAccountName)), password = form.password ?? ""
        let next = Self.safeNext(form.next)
        let address = context.remoteAddress ?? "local"
        func again(_ message: Localized, status: HTTPResponse.Status, extra: HTTPFields = [:]) async throws -> Response {
            var r = try await page("login", status: status, headers: extra + [HTTPField(name: .cacheControl, value: "no-store")]) {
                var c = pages.common(Texts.entries["signInTitle"]?.text ?? "", user: nil, current: "isLogin")
                c["next"] = next
                c["error"] = message.text
                return c
            }
            r.status = status
            return r
        }
        if let wait = throttle.retryAfter(address: address, account: name) {
            return try await again(
                Localized("登录失败次数过多，请 \(wait / 60 + 1) 分钟后再试", en: "too many failed sign-ins; try again in \(wait / 60 + 1) minutes"),
                status: .tooManyRequests, extra: [.retryAfter: String(wait)])
        }
        let credential = try await Self.off { try self.store.dashboardCredential(name) }
        // An unknown name costs the same scrypt as a known one.
        let ok = try await Self.off { PasswordHash.verify(password, credential: credential ?? PasswordHash.decoy) } && credential != nil
        guard ok else {
            throttle.failed(address: address, account: name)
            return try await again(Localized("账户名或密码不对", en: "wrong account name or password"), status: .unauthorized)
        }
        throttle.succeeded(address: address)
        let token = sessions.open(name)
        var r = Self.redirect(next)
        r.headers[.setCookie] = Self.cookie(token, maxAge: Int(SessionBook.lifetime), secure: settings.tls != nil)
        return r
    }

    /// Where to go after signing in: a path on this dashboard only (never another site).
    static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.contains("\\"), next.count <= 200,
              next.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F }) else { return "/" }
        return next
    }

    static func nextParameter(_ path: String) -> String {
        path.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "/-_"))) ?? "/"
    }

    static func redirect(_ to: String) -> Response {
        Response(status: .seeOther, headers: [.location: to])
    }

    // MARK: Pages

    func month(_ request: Request) throws -> String {
        guard let m = request.uri.queryParameters.get("month") else { return store.currentMonth() }
        guard ReportOptions.monthRange(m) != nil else { throw DashboardError.badMonth }
        return m
    }

    func grouping(_ context: DashboardContext) throws -> ReportGrouping {
        guard let g = context.parameters.get("grouping").flatMap(ReportGrouping.init(rawValue:)) else { throw DashboardError.notFound }
        return g
    }

    /// Builds a page's context off the event loop (the store is read synchronously) and
    /// renders it as HTML in UTF-8.
    func page(_ template: String, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:], _ build: @escaping @Sendable () throws -> [String: Any]) async throws -> Response {
        let library = self.library
        let html = try await Self.off { library.render(try build(), withTemplate: template) ?? "" }
        var h = headers
        h[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: h, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    func errorPage(_ e: DashboardError) -> Response {
        let pages = Pages(store: store, responseHours: settings.responseHours, cache: cache)
        var c = pages.common(e.title.text, user: nil, current: "isError")
        c["heading"] = e.title.text
        c["message"] = e.message.text
        let html = library.render(c, withTemplate: "message") ?? e.message.text
        return Response(status: e.status, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// Runs blocking store work on NIO's thread pool, not on an event loop.
    static func off<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive(work)
    }
}

/// Keeps the current month's overview worked out: every few seconds, if the store moved. It
/// reads on the thread pool from a reader of the store, so sync (the writer) never waits on it.
struct Refresher: Service {
    let dashboard: Dashboard
    let logger: Logger
    static let interval: Duration = .seconds(5)

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await dashboard.refresh()
                } catch is CancellationError {
                    return
                } catch {
                    logger.warning("dashboard: working out the overview failed: \(AccessMiddleware.describe(error))")
                }
                do { try await Task.sleep(for: Self.interval) } catch { return }
            }
        }
    }
}

/// What a dashboard request can go wrong with, as a page in the reader's language.
enum DashboardError: Error {
    case notFound, badMonth, wrongHost, methodNotAllowed, failed

    var status: HTTPResponse.Status {
        switch self {
        case .notFound: .notFound
        case .badMonth: .badRequest
        case .wrongHost: .misdirectedRequest
        case .methodNotAllowed: .methodNotAllowed
        case .failed: .internalServerError
        }
    }

    var title: Localized {
        switch self {
        case .notFound: Localized("找不到该页面", en: "Page not found")
        case .badMonth: Localized("月份有误", en: "Wrong month")
        case .wrongHost: Localized("地址不对", en: "Wrong address")
        case .methodNotAllowed: Localized("看板是只读的", en: "The dashboard is read-only")
        case .failed: Localized("出错了", en: "Something went wrong")
        }
    }

    var message: Localized {
        switch self {
        case .notFound: Localized("没有这个页面或这条记录；请从概览进入。", en: "There is no such page or record; start from the overview.")
        case .badMonth: Localized("月份应为 YYYY-MM，例如 2026-11。", en: "A month is YYYY-MM, e.g. 2026-11.")
        case .wrongHost: Localized("请用 http://127.0.0.1:端口 或 http://localhost:端口 打开看板。", en: "Open the dashboard as http://127.0.0.1:PORT or http://localhost:PORT.")
        case .methodNotAllowed: Localized("看板只读，不接受修改。", en: "The dashboard is read-only and takes no changes.")
        case .failed: Localized("读取存储时出错；详情见守护进程日志。", en: "Reading the store failed; the daemon's log says why.")
        }
    }
}

/// Every request: the Host header (on loopback, against DNS rebinding), the session cookie,
/// sign-in where it is required, errors as pages, and headers that keep pages to themselves.
struct AccessMiddleware: RouterMiddleware {
    typealias Context = DashboardContext
    let dashboard: Dashboard

    func handle(_ request: Request, context: DashboardContext, next: (Request, DashboardContext) async throws -> Response) async throws -> Response {
        var context = context
        var response: Response
        do {
            response = try await admit(request, &context, next)
        } catch let e as DashboardError {
            response = dashboard.errorPage(e)
        } catch let e as HTTPError where e.status == .notFound || e.status == .methodNotAllowed {
            response = dashboard.errorPage(e.status == .notFound ? .notFound : .methodNotAllowed)
        } catch {
            context.logger.error("dashboard: \(request.method) \(request.uri.path) failed: \(Self.describe(error))")
            response = dashboard.errorPage(.failed)
        }
        response.headers[.contentSecurityPolicy] = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        if dashboard.settings.tls != nil { response.headers[HTTPField.Name("Strict-Transport-Security")!] = "max-age=31536000" }
        return response
    }

    /// What an error may say in the log: its kind, never a value from the store.
    static func describe(_ error: any Error) -> String {
        if let e = error as? GridSyncError { return "\(e.code)" }
        return String(describing: type(of: error))
    }

    func admit(_ request: Request, _ context: inout DashboardContext, _ next: (Request, DashboardContext) async throws -> Response) async throws -> Response {
        guard request.method == .get || (request.method == .post && ["/login", "/logout"].contains(request.uri.path)) else {
            throw DashboardError.methodNotAllowed
        }
        if dashboard.settings.isLoopback, let host = request.head.authority {
            // A page on another site that rebinds its name to 127.0.0.1 arrives with its own
            // name here: refused.
            let name = host.hasPrefix("[") ? String(host.prefix { $0 != "]" }.dropFirst()) : String(host.split(separator: ":").first ?? "")
            guard name == "localhost" || name == "::1" || name.hasPrefix("127.") else { throw DashboardError.wrongHost }
        }
        if request.method == .post, let origin = request.headers[.origin], let host = request.head.authority {
            // A form posted from another site (a sign-in or sign-out forced on the user).
            guard origin.hasSuffix("://" + host) else { throw DashboardError.methodNotAllowed }
        }
        if let token = request.cookies[Dashboard.cookieName]?.value, !token.isEmpty {
            context.token = token
            // An account removed since it signed in is signed out at once.
            if let user = dashboard.sessions.user(token) {
                let store = dashboard.store
                if try await Dashboard.off({ try store.dashboardCredential(user) != nil }) {
                    context.user = user
                } else {
                    dashboard.sessions.closeAll(of: user)
                }
            }
        }
        let open = request.uri.path == "/login" || request.uri.path == "/assets/style.css"
        if dashboard.signInEverywhere, context.user == nil, !open {
            return Dashboard.redirect("/login?next=" + Dashboard.nextParameter(request.uri.path))
        }
        return try await next(request, context)
    }
}
