import ArgumentParser
import Foundation
import GridSyncCore
import GridSyncDashboard
import GridSyncStore
import Logging
import ServiceLifecycle

/// `gridsync dashboard`: the centre's read-only web dashboard, and its accounts.
struct DashboardCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dashboard",
        abstract: L("只读网页看板：四率、逾期需求、按网格/楼栋/类别/服务统计、节点同步情况。", en: "The read-only web dashboard: the four rates, overdue requests, figures by grid/building/category/service, nodes."),
        discussion: L("""
            不加子命令时在 http://127.0.0.1:8420 提供看板（守护进程也可以用 --dashboard 或配置项 dashboard 提供）。\
            本机地址上概览和统计无需登录，需求详情须登录；其他地址须登录且须 TLS（--certificate 和 --key）。
            """, en: """
            With no subcommand it serves the dashboard at http://127.0.0.1:8420 (the daemon can serve it too, \
            with --dashboard or the config's dashboard). On a loopback address the overview and tables need no \
            sign-in and a request's detail does; any other address needs sign-in for every page, and TLS \
            (--certificate and --key).
            """),
        subcommands: [DashboardServe.self, DashboardUser.self],
        defaultSubcommand: DashboardServe.self)
}

/// Where the dashboard listens and how it encrypts, for `gridsync dashboard` and the daemon.
struct DashboardOptions {
    /// Settings from an address (HOST:PORT) and optional certificate and key files.
    static func settings(address: String, certificate: String?, key: String?) throws -> Dashboard.Settings {
        let (host, port) = try DaemonCommand.parseAddress(address, "dashboard")
        var s = Dashboard.Settings(host: host, port: port)
        switch (certificate, key) {
        case (let c?, let k?): s.tls = Dashboard.TLSFiles(certificate: c, key: k)
        case (nil, nil): break
        default:
            throw GridSyncError(.invalidInput, Localized("看板的证书和私钥须一起给出（dashboard_certificate 与 dashboard_key）", en: "give the dashboard's certificate and key together (dashboard_certificate and dashboard_key)"))
        }
        return s
    }

    /// The dashboard as a service, logging where it can be opened.
    static func service(store: Store, settings: Dashboard.Settings, logger: Logger) throws -> any Service {
        let dashboard = try Dashboard(store: store, settings: settings)
        let scheme = settings.tls == nil ? "http" : "https"
        let host = settings.host.contains(":") ? "[\(settings.host)]" : settings.host
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .warning)
        let app = try dashboard.application(logger: quiet) { port in
            logger.info("dashboard: open \(scheme)://\(host):\(port)/\(settings.isLoopback ? "" : " (sign-in required)")")
        }
        return DashboardService(app: app, address: "\(host):\(settings.port)")
    }
}

/// The dashboard's application, with a failure to serve (the port taken, say) said plainly.
struct DashboardService<App: Service>: Service {
    let app: App
    let address: String

    func run() async throws {
        do {
            try await app.run()
        } catch is CancellationError {
            return
        } catch {
            throw GridSyncError(.io, Localized("无法在 \(address) 提供看板：\(error)；端口是否已被占用？请换一个看板地址（--listen、--dashboard 或配置项 dashboard）", en: "cannot serve the dashboard on \(address): \(error); is the port in use? pick another dashboard address (--listen, --dashboard or the config's dashboard)"))
        }
    }
}

struct DashboardServe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: L("提供看板，直到按 Ctrl-C（默认子命令）。", en: "Serve the dashboard until Ctrl-C (the default subcommand)."))
    @OptionGroup var store: StoreOptions
    @Option(help: ArgumentHelp(L("监听地址（默认 127.0.0.1:8420）。", en: "Address to listen on (default 127.0.0.1:8420)."), valueName: "HOST:PORT")) var listen = "127.0.0.1:8420"
    @Option(help: ArgumentHelp(L("HTTPS 证书（PEM）；非本机地址必须给出。", en: "HTTPS certificate (PEM); required on a non-loopback address."), valueName: "FILE")) var certificate: String?
    @Option(help: ArgumentHelp(L("HTTPS 私钥（PEM，未加密）。", en: "HTTPS private key (PEM, unencrypted)."), valueName: "FILE")) var key: String?
    @Option(help: L("需求须在多少小时内受理才算及时响应（同 report）。", en: "Hours within which a request must be accepted to count as responded in time (as report).")) var responseHours = 24

    func validate() throws {
        guard responseHours > 0 else { throw ValidationError(L("--response-hours 至少为 1", en: "--response-hours must be at least 1")) }
    }

    func run() async throws {
        var settings = try DashboardOptions.settings(address: listen, certificate: certificate, key: key)
        settings.responseHours = responseHours
        let s = try Store.open(path: store.path, concurrent: true, passphrase: Passphrase.forOpening)
        var logger = Logger(label: "gridsync") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .info
        let service = try DashboardOptions.service(store: s, settings: settings, logger: logger)
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [service], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

struct DashboardUser: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: L("看板账户：添加、列出、删除。账户只存在本机存储中，不会同步。", en: "Dashboard accounts: add, list, remove. They stay in this store and are never synced."),
        subcommands: [DashboardUserAdd.self, DashboardUserList.self, DashboardUserRemove.self])
}

struct DashboardUserAdd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: L("添加账户（或为已有账户设新密码）；密码在终端上输入两次。", en: "Add an account (or set a new password for one); the password is typed twice on the terminal."))
    @OptionGroup var store: StoreOptions
    @Argument(help: L("账户名，例如 zhangsan。", en: "The account name, e.g. zhangsan.")) var name: String
    @Option(help: ArgumentHelp(L("从文件第一行读取密码（供脚本使用；文件应只有本人可读）。", en: "Read the password from the first line of a file (for scripts; keep the file private)."), valueName: "FILE")) var passwordFile: String?

    func run() throws {
        try Store.checkAccountName(name)
        let password: String
        if let passwordFile {
            password = try Passphrase.read(passwordFile)
        } else {
            guard isatty(STDIN_FILENO) == 1 else {
                throw GridSyncError(.invalidInput, Localized("设置密码需要在终端上输入，或用 --password-file 指定密码文件（没有添加账户）", en: "setting a password needs a terminal to ask on, or --password-file naming a file that holds it (no account was added)"))
            }
            guard let first = Passphrase.ask(L("「\(name)」的密码（至少 \(PasswordHash.minCharacters) 个字符）：", en: "Password for '\(name)' (at least \(PasswordHash.minCharacters) characters): ")),
                  let second = Passphrase.ask(L("再输入一次：", en: "Again: ")) else {
                throw GridSyncError(.invalidInput, Localized("没有输入密码（没有添加账户）", en: "no password was typed (no account was added)"))
            }
            guard first == second else { throw GridSyncError(.invalidInput, Localized("两次输入的密码不一致（没有添加账户）", en: "the two passwords differ (no account was added)")) }
            password = first
        }
        let s = try store.open()
        let added = try s.setDashboardAccount(name, credential: try PasswordHash.make(password))
        Output.line(added
            ? L("已添加看板账户「\(name)」。正在运行的看板立即接受它。", en: "Added the dashboard account '\(name)'. A running dashboard accepts it at once.")
            : L("已为看板账户「\(name)」设置新密码。", en: "Set a new password for the dashboard account '\(name)'."))
    }
}

struct DashboardUserList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: L("列出看板账户。", en: "List the dashboard accounts."))
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let list = try store.open().dashboardAccounts()
        if output.json { return try Output.json(list) }
        if list.isEmpty { return Output.line(L("还没有看板账户（`gridsync dashboard user add 账户名` 添加）。", en: "No dashboard accounts yet; add one with `gridsync dashboard user add NAME`.")) }
        var table = TextTable([L("账户名", en: "Account"), L("添加时间", en: "Added")])
        for a in list { table.add([a.name, Output.time(a.createdAt)]) }
        Output.line(table.render(fitting: TerminalWidth.current()))
    }
}

struct DashboardUserRemove: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: L("删除看板账户；它已登录的会话随即失效。", en: "Remove a dashboard account; its signed-in sessions end at once."))
    @OptionGroup var store: StoreOptions
    @Argument(help: L("账户名。", en: "The account name.")) var name: String

    func run() throws {
        try store.open().removeDashboardAccount(name)
        Output.line(L("已删除看板账户「\(name)」。", en: "Removed the dashboard account '\(name)'."))
    }
}
