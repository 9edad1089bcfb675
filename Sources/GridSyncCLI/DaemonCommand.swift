import ArgumentParser
import Foundation
import GridSyncCore
import GridSyncDistrict
import GridSyncNode
import GridSyncStore
import Logging
import ServiceLifecycle

struct DaemonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon",
        abstract: L("通过双向 TLS 与社区其他节点同步本存储：监听、拨号、实时推送变更。", en: "Sync this store with the community's other nodes over mutual TLS: listen, dial, push changes live."),
        discussion: L("""
            不加选项时，它为默认存储监听 127.0.0.1:7420。用 --listen 0.0.0.0:7420 接受其他机器的连接，\
            用 --peer 主机:端口（可重复）拨号它们。守护进程运行期间用命令行所做的写入会被发现，并在约一秒内推送出去。\
            SIGTERM 或 Ctrl-C 让它干净地停止。每个连接都是双向 TLS 1.3：只接纳社区中心和名册上有效的成员\
            （见 `gridsync join` 和 `gridsync roster`）。
            """, en: """
            With no options it listens on 127.0.0.1:7420 for the default store. Use --listen 0.0.0.0:7420 \
            to accept other machines, and --peer HOST:PORT (repeatable) to dial them. Writes made with the \
            CLI while the daemon runs are noticed and pushed within about a second. SIGTERM or Ctrl-C \
            stops it cleanly. Every connection is mutual TLS 1.3: only the community's centre and active \
            roster members are admitted (see `gridsync join` and `gridsync roster`).
            """))

    @OptionGroup var store: StoreOptions
    @Option(help: ArgumentHelp(L("TOML 配置文件（见 deploy/）。", en: "TOML config file (see deploy/)."), valueName: "FILE")) var config: String?
    @Option(help: ArgumentHelp(L("监听地址，或 'none'（默认 127.0.0.1:7420）。", en: "Address to listen on, or 'none' (default 127.0.0.1:7420)."), valueName: "HOST:PORT")) var listen: String?
    @Option(name: .customLong("peer"), help: ArgumentHelp(L("要拨号的对方节点（可重复；替代配置中的 peers）。", en: "A peer to dial (repeatable; replaces the config's peers)."), valueName: "HOST:PORT")) var peers: [String] = []
    @Flag(inversion: .prefixedNo, help: L("同时拨号 `gridsync join` 记下的社区中心（默认开启；配置项 dial_centre）。", en: "Also dial the centre `gridsync join` recorded (default on; config: dial_centre)."))
    var dialCentre: Bool?
    @Flag(help: L("使用不加密的 TCP，不做 TLS 和名册检查。只用于单机测试：能连上端口的任何人都能读到所有居民的数据。", en: "Speak plain TCP without TLS or roster checks on connections. For tests on one machine only: anyone who can reach the port reads every resident's data."))
    var plaintextForLocalTesting = false
    @Option(help: L("trace、debug、info、notice、warning、error（默认 info）。", en: "trace, debug, info, notice, warning, error (default info).")) var logLevel: String?
    @Option(help: L("text，或 json（每行一个 JSON 对象，默认 text）。", en: "text, or json for one JSON object per line (default text).")) var logFormat: String?
    @Option(name: .customLong("retention-months"), help: ArgumentHelp(L("仅限社区中心：需求评价或关闭 N 个月后抹除其个人信息（配置项 retention_months）。", en: "Centre only: erase requests' personal data N months after they were rated or closed (config: retention_months)."), valueName: "N"))
    var retentionMonths: Int?
    @Option(help: ArgumentHelp(L("仅限社区中心：定期上报到这个区级数据库（配置项 district；密码见 district_password_file 或 $PGPASSWORD）。", en: "Centre only: push to this district database regularly (config: district; password from district_password_file or $PGPASSWORD)."), valueName: "URL"))
    var district: String?
    @Option(help: ArgumentHelp(L("区级数据库的密码文件（配置项 district_password_file）。", en: "The district database's password file (config: district_password_file)."), valueName: "PATH"))
    var districtPasswordFile: String?
    @Option(help: ArgumentHelp(L("在 http://主机:端口/metrics 提供 Prometheus 指标（请放在 127.0.0.1 或管理网络上）。", en: "Serve Prometheus metrics at http://HOST:PORT/metrics (keep it on 127.0.0.1 or a management network)."), valueName: "HOST:PORT"))
    var metrics: String?
    @Option(help: ArgumentHelp(L("在 http://主机:端口/ 提供只读看板（配置项 dashboard；非本机地址须账户和 TLS）。", en: "Serve the read-only dashboard at http://HOST:PORT/ (config: dashboard; off loopback it needs accounts and TLS)."), valueName: "HOST:PORT"))
    var dashboard: String?
    @Option(help: ArgumentHelp(L("看板的 HTTPS 证书（PEM；配置项 dashboard_certificate）。", en: "The dashboard's HTTPS certificate (PEM; config: dashboard_certificate)."), valueName: "FILE"))
    var dashboardCertificate: String?
    @Option(help: ArgumentHelp(L("看板的 HTTPS 私钥（PEM；配置项 dashboard_key）。", en: "The dashboard's HTTPS private key (PEM; config: dashboard_key)."), valueName: "FILE"))
    var dashboardKey: String?

    /// Embedded defaults, then the config file, then flags.
    func settings() throws -> DaemonConfig {
        var s = try config.map(DaemonConfig.load) ?? DaemonConfig()
        if let db = store.db { s.store = db }
        if let listen { s.listen = listen }
        if !peers.isEmpty { s.peers = peers }
        if let logLevel { s.logLevel = logLevel }
        if let logFormat { s.logFormat = logFormat }
        if let metrics { s.metrics = metrics }
        if let dialCentre { s.dialCentre = dialCentre }
        if let district { s.district = district }
        if let districtPasswordFile { s.districtPasswordFile = districtPasswordFile }
        if let dashboard { s.dashboard = dashboard }
        if let dashboardCertificate { s.dashboardCertificate = dashboardCertificate }
        if let dashboardKey { s.dashboardKey = dashboardKey }
        if let retentionMonths {
            guard (1...1200).contains(retentionMonths) else { throw GridSyncError(.invalidInput, Localized("--retention-months 须为 1 到 1200", en: "--retention-months must be 1 to 1200 months")) }
            s.retentionMonths = retentionMonths
        }
        if let m = s.metrics { _ = try Self.parseAddress(m, "metrics") }
        if let d = s.dashboard { _ = try DashboardOptions.settings(address: d, certificate: s.dashboardCertificate, key: s.dashboardKey) }
        guard ["text", "json"].contains(s.logFormat) else {
            throw GridSyncError(.invalidInput, Localized("日志格式应为 text 或 json", en: "log format must be text or json"))
        }
        if s.listen != "none" { _ = try Self.parseAddress(s.listen, "listen") }
        for p in s.peers { _ = try Self.parseAddress(p, "peer") }
        guard Logger.Level(rawValue: s.logLevel) != nil else {
            throw GridSyncError(.invalidInput, Localized("日志级别应为 trace、debug、info、notice、warning、error 之一", en: "log level must be one of trace, debug, info, notice, warning, error"))
        }
        return s
    }

    static func parseAddress(_ s: String, _ what: String) throws -> (String, Int) {
        guard let colon = s.lastIndex(of: ":"), let port = Int(s[s.index(after: colon)...]), (0...65535).contains(port), colon != s.startIndex else {
            throw GridSyncError(.invalidInput, Localized("\(what)「\(s)」应为 主机:端口，例如 127.0.0.1:7420", en: "\(what) '\(s)' must be HOST:PORT, e.g. 127.0.0.1:7420"))
        }
        return (String(s[..<colon]), port)
    }

    func run() async throws {
        let settings = try settings()
        let level = Logger.Level(rawValue: settings.logLevel)!
        let json = settings.logFormat == "json"
        var logger = Logger(label: "gridsync") { label -> any LogHandler in
            if json {
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        logger.logLevel = level
        var storeOptions = store
        storeOptions.db = settings.store
        let lock = try DaemonLock(store: storeOptions.path)
        defer { withExtendedLifetime(lock) {} }
        let s = try Store.open(path: storeOptions.path, cacheMiB: SyncNode.storeCacheMiB, concurrent: true, passphrase: Passphrase.forOpening)
        var nodeConfig = SyncNode.Configuration()
        if settings.listen != "none" {
            let (host, port) = try Self.parseAddress(settings.listen, "listen")
            nodeConfig.listen = (host, port)
        }
        nodeConfig.peers = settings.peers
        let community = try s.community()
        // Where `gridsync join` found the centre: dialed whatever else the config names, so a
        // laptop whose config was never edited still syncs.
        if settings.dialCentre, let address = community?.centreAddress, !nodeConfig.peers.contains(address) {
            nodeConfig.peers.append(address)
        }
        if plaintextForLocalTesting {
            logger.warning("plaintext mode (--plaintext-for-local-testing): no TLS and no roster check on connections; never use it on a real network")
        } else {
            guard community != nil else {
                throw GridSyncError(.notPermitted, Localized("本节点不属于任何社区，没有可信任的对象：在社区中心的机器上用 `gridsync init --role centre` 创建存储；在笔记本上运行 `gridsync join`。（仅用于单机测试：--plaintext-for-local-testing。）", en: "this node belongs to no community, so it has nobody to trust: on the centre's machine create the store with `gridsync init --role centre`; on a laptop run `gridsync join`. (Only for a test on one machine: --plaintext-for-local-testing.)"))
            }
            nodeConfig.tls = try NodeTLS(key: s.nodeKey, name: s.node.name)
        }
        if let m = settings.metrics { nodeConfig.metrics = try Self.parseAddress(m, "metrics") }
        let node = try SyncNode(store: s, configuration: nodeConfig, logger: logger)
        do {
            try node.start()
        } catch {
            throw GridSyncError(.io, Localized("无法监听 \(settings.listen)\(settings.metrics.map { " 或 \($0)" } ?? "")：\(error)；是否已有守护进程在运行？请用 --listen 和 --metrics 换用其他端口", en: "cannot listen on \(settings.listen)\(settings.metrics.map { " or \($0)" } ?? ""): \(error); is another daemon running? pick other ports with --listen and --metrics"))
        }
        logger.info("node \(s.node.id.short) (\(s.node.name)) serving \(s.path)\(nodeConfig.tls == nil ? " without TLS" : " with mutual TLS")")
        var services: [any Service] = [SyncNodeService(node: node), searchIndexService(store: s, logger: logger)]
        if let months = settings.retentionMonths {
            guard s.node.role == .centre, community?.centre == s.node.id else {
                throw GridSyncError(.invalidInput, Localized("retention_months 只用于社区中心（只有社区中心抹除居民信息）", en: "retention_months is the centre's setting: only the centre erases residents' data"))
            }
            services.append(retentionService(store: s, months: months, logger: logger))
            logger.info("retention: personal data is erased \(months) months after a request is rated or closed")
        }
        if let url = settings.district {
            guard s.node.role == .centre, community?.centre == s.node.id else {
                throw GridSyncError(.invalidInput, Localized("district 只用于社区中心（只有社区中心向区级数据库上报）", en: "district is the centre's setting: only the centre pushes to the district database"))
            }
            let server = try DistrictServer(url: url, passwordFile: settings.districtPasswordFile)
            services.append(DistrictService(
                store: s, server: server, interval: .seconds(settings.districtIntervalSeconds), timeout: .seconds(settings.districtTimeoutSeconds), logger: logger))
            logger.info("district: pushing to \(server) every \(settings.districtIntervalSeconds) s")
        }
        if let address = settings.dashboard {
            let dashboard = try DashboardOptions.settings(address: address, certificate: settings.dashboardCertificate, key: settings.dashboardKey)
            services.append(try DashboardOptions.service(store: s, settings: dashboard, logger: logger))
        }
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
        logger.info("stopped")
    }
}

/// One daemon per store: an exclusive `flock` on `<store>.daemon.lock`, held while it runs
/// (the kernel releases it when the process ends, however it ends).
final class DaemonLock {
    private let fd: Int32

    init(store: String) throws {
        let path = store + ".daemon.lock"
        fd = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw GridSyncError(.io, Localized("无法创建锁文件 \(path)（\(String(cString: strerror(errno)))）；请检查存储所在文件夹", en: "cannot create the lock file \(path) (\(String(cString: strerror(errno)))); check the store's folder"))
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let other = (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            close(fd)
            throw GridSyncError(.io, Localized("已有守护进程在使用此存储（\(store)）\(other.isEmpty ? "" : "（进程 \(other)）")；请先停止它，或给这个守护进程另一个 --db", en: "another gridsync daemon already runs on \(store)\(other.isEmpty ? "" : " (process \(other))"); stop it first, or give this one another --db"))
        }
        _ = ftruncate(fd, 0)
        let pid = Array("\(getpid())\n".utf8)
        _ = pid.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }

    deinit { close(fd) }
}

struct PeersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peers", abstract: L("显示守护进程的对方节点：是否连接、上次同步、待交换的变更、最近的错误。", en: "Show the daemon's peers: connected or not, last sync, changes left to exchange, last error."))
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let list = try store.open().peers()
        if output.json { return try Output.json(list) }
        if list.isEmpty { return Output.line(L("还没有对端（请用 `gridsync daemon --peer 主机:端口` 启动）。", en: "No peers yet; start `gridsync daemon --peer HOST:PORT`.")) }
        var table = TextTable(Headers.peers, maxWidths: [28, nil, 24, nil, nil, nil, nil, 50])
        for p in list {
            table.add([
                p.peer.hasPrefix("in:") ? "—" : p.peer, p.direction == "in" ? L("入", en: "in") : L("出", en: "out"),
                p.nodeID.map { Output.node($0, p.name) } ?? "?", p.connected ? L("已连接", en: "connected") : L("未连接", en: "not connected"),
                Output.time(p.lastSync, seconds: true), p.toSend.map(String.init) ?? "?", p.toReceive.map(String.init) ?? "?",
                p.lastError ?? "",
            ])
        }
        Output.line(table.render(fitting: TerminalWidth.current()))
    }
}
