import ArgumentParser
import Foundation
import GridSyncCore
import GridSyncDistrict
import GridSyncStore
import Logging

/// `gridsync district`: the street office's or district's view — centres push their clear
/// records into one PostgreSQL database; the district report compares the communities.
struct DistrictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "district",
        abstract: L("向街道/区级 PostgreSQL 数据库上报，并查看各社区的四率。", en: "Push to the street office's or district's PostgreSQL database, and compare the communities' four rates."),
        discussion: L("""
            只上报明文字段（网格、楼栋、类别、状态、时间、满意度、派单的服务）；居民的姓名、电话、\
            地址和诉求内容不离开社区。密码从 --password-file 或环境变量 PGPASSWORD 读取，不写在命令行上。\
            数据库的表见 docs/DISTRICT.md。
            """, en: """
            Only clear fields are pushed (grid, building, category, status, times, satisfaction, the \
            service assigned); residents' names, phones, addresses and what they asked never leave the \
            community. The password is read from --password-file or PGPASSWORD, never from the command \
            line. The database's tables are described in docs/DISTRICT.md.
            """),
        subcommands: [DistrictPushCommand.self, DistrictReportCommand.self])
}

/// Where the district database is.
struct DistrictOptions: ParsableArguments {
    @Option(name: .customLong("postgres"), help: ArgumentHelp(
        L("数据库地址，postgres://用户@主机:端口/数据库[?sslmode=verify-full&sslrootcert=CA.pem]（默认：$GRIDSYNC_POSTGRES）。",
          en: "Database address, postgres://USER@HOST:PORT/DATABASE[?sslmode=verify-full&sslrootcert=CA.pem] (default: $GRIDSYNC_POSTGRES)."),
        valueName: "URL"))
    var url: String?
    @Option(help: ArgumentHelp(L("存放数据库密码的文件（第一行）；不给则用 $PGPASSWORD。", en: "File holding the database password (its first line); without it, $PGPASSWORD."), valueName: "PATH"))
    var passwordFile: String?
    @Option(help: ArgumentHelp(L("最多等数据库多少秒，超时即断开（什么都不会只写一半）。", en: "Seconds to wait for the database at most; then the connection is closed (nothing is left half-written)."), valueName: "SECONDS"))
    var timeout = 300

    func validate() throws {
        guard (1...86_400).contains(timeout) else { throw ValidationError(L("--timeout 应在 1 到 86400 秒之间", en: "--timeout must be between 1 and 86400 seconds")) }
    }

    func server() throws -> DistrictServer {
        let env = ProcessInfo.processInfo.environment
        guard let url = url ?? env["GRIDSYNC_POSTGRES"], !url.isEmpty else {
            throw GridSyncError(.invalidInput, Localized(
                "请用 --postgres 给出区级数据库的地址，例如 --postgres postgres://gridsync@127.0.0.1:5432/district",
                en: "give the district database's address with --postgres, e.g. --postgres postgres://gridsync@127.0.0.1:5432/district"))
        }
        return try DistrictServer(url: url, passwordFile: passwordFile, environment: env)
    }

    /// Messages from the PostgreSQL client library go to stderr only when asked for
    /// (`GRIDSYNC_DISTRICT_LOG=debug`, or `trace` for every message on the wire).
    static var logger: Logger {
        guard let level = ProcessInfo.processInfo.environment["GRIDSYNC_DISTRICT_LOG"].flatMap(Logger.Level.init(rawValue:)) else {
            var l = Logger(label: "gridsync.district") { _ in SwiftLogNoOpLogHandler() }
            l.logLevel = .critical
            return l
        }
        var l = Logger(label: "gridsync.district") { StreamLogHandler.standardError(label: $0) }
        l.logLevel = level
        return l
    }
}

struct DistrictPushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: L("把本社区自上次上报以来变化的需求和服务写入区级数据库（社区中心）。", en: "Write the requests and services that changed since the last push into the district database (centre)."),
        discussion: L("""
            增量、可断点续传：检查点与数据在同一个数据库事务里，中途断开不会丢失或重复任何内容，\
            再运行一次即可。第一次运行会建好数据库的表。守护进程配置了 district 时会自动定期上报。
            """, en: """
            Incremental and resumable: the checkpoint is written in the same database transaction as \
            the rows, so a push cut off midway loses and doubles nothing — run it again. The first run \
            creates the database's tables. A daemon with `district` in its config pushes by itself.
            """))

    @OptionGroup var store: StoreOptions
    @OptionGroup var district: DistrictOptions
    @OptionGroup var output: OutputOptions

    func run() async throws {
        let server = try district.server()
        let s = try store.open()
        let r = try await server.withConnection(logger: DistrictOptions.logger, timeout: .seconds(district.timeout)) { conn in
            try await DistrictPush.push(s, to: conn, logger: DistrictOptions.logger)
        }
        if output.json {
            try Output.json(r)
            return
        }
        if r.full_repush {
            Output.warn(L("区级数据库中本社区的检查点比本存储的变更日志还新（存储从较旧的备份恢复过？）；已全部重新上报", en: "the district's checkpoint for this community is ahead of this store's change log (restored from an older copy?); everything was pushed again"))
        }
        if r.requests == 0 && r.services == 0 {
            Output.line(L("区级数据库 \(server) 已是最新，没有需要上报的变化。", en: "The district database \(server) is up to date; nothing to push."))
        } else {
            Output.line(L("已上报到 \(server)：\(r.requests) 条需求、\(r.services) 项服务（变更日志至 \(r.pushed_through)）。", en: "Pushed to \(server): \(r.requests) requests, \(r.services) services (change log up to \(r.pushed_through))."))
        }
    }
}

struct DistrictReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: L("各社区和全区的数量与四率，口径与 gridsync report 相同。", en: "Counts and the four rates per community and for the district, defined as in gridsync report."),
        discussion: L("""
            按需求创建的本地日期选取；每个社区的数字与该社区中心自己的 `gridsync report` 相同\
            （计算用的是同一段代码）。定义见 docs/REPORTS.md。
            """, en: """
            Requests are selected by the local day they were created; each community's figures equal \
            its centre's own `gridsync report` (the same code computes both). Definitions in docs/REPORTS.md.
            """))

    enum Grouping: String, ExpressibleByArgument, CaseIterable {
        case community
    }

    @OptionGroup var district: DistrictOptions
    @OptionGroup var period: ReportPeriodOptions
    @Option(help: L("每个社区一行（默认）。", en: "One row per community (the default).")) var by: Grouping = .community
    @OptionGroup var format: ReportFormatOptions

    func run() async throws {
        var options = try period.options(by: nil)
        options.withPrevious = false
        try Store.checkReportOptions(options)
        let server = try district.server()
        let chosen = options
        let report = try await server.withConnection(logger: DistrictOptions.logger, timeout: .seconds(district.timeout)) { conn in
            try await DistrictReport.read(from: conn, options: chosen, nowMs: UInt64(Date().timeIntervalSince1970 * 1000), logger: DistrictOptions.logger)
        }
        switch format.chosen {
        case .json: try Output.json(report)
        case .csv: FileHandle.standardOutput.write(Data(Self.csv(report).utf8))
        case .table: Self.table(report)
        }
    }

    static var headers: [String] {
        [L("社区", en: "Community"), ReportCommand.Column.total, ReportCommand.Column.overdue] + ReportCommand.Column.rates + [L("上次上报", en: "Last push")]
    }

    static func cells(_ name: String, _ row: ReportRow, _ pushed: String) -> [String] {
        [name, String(row.total), String(row.overdue), row.responseRate.percent, row.closureRate.percent, row.resolutionRate.percent,
         row.satisfactionRate.percent, pushed]
    }

    static func pushedLocal(_ iso: String) -> String {
        guard let d = Timestamp.parse(iso) else { return iso }
        let f = DateFormatter()
        f.dateFormat = "yyyy-MM-dd HH:mm"
        f.timeZone = .current
        return f.string(from: d)
    }

    static func table(_ r: DistrictReport) {
        Output.line(L("区级报表  \(ReportCommand.period(r.district))（截至 \(r.district.today)；\(r.communities.count) 个社区；响应时限 \(r.district.responseHours) 小时）",
                      en: "District report  \(ReportCommand.period(r.district))  (as of \(r.district.today); \(r.communities.count) communities; response deadline \(r.district.responseHours) h)"))
        Output.line()
        var t = TextTable(headers, maxWidths: [24, nil, nil, nil, nil, nil, nil, nil])
        for c in r.communities { t.add(cells(c.name, c.report.total, pushedLocal(c.pushed_at))) }
        t.add(cells(L("全区", en: "District"), r.district.total, ""))
        Output.line(t.renderSplit(fitting: TerminalWidth.current()))
        if r.communities.isEmpty {
            Output.line(L("\n还没有社区上报；在社区中心运行 `gridsync district push`。", en: "\nNo community has pushed yet; run `gridsync district push` at a centre."))
        }
    }

    static func csv(_ r: DistrictReport) -> String {
        let header = [L("社区编号", en: "Community ID")] + headers
        var rows = r.communities.map { [$0.community_id] + cells($0.name, $0.report.total, $0.pushed_at) }
        rows.append([""] + cells(L("全区", en: "District"), r.district.total, ""))
        return CSV.document(header: header, rows: rows)
    }
}
