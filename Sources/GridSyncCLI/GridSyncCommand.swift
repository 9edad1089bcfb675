import ArgumentParser
import Foundation
import GridSyncCore
import GridSyncStore
import GridSyncWire

/// `gridsync`: the root command.
public struct GridSyncCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "gridsync",
        abstract: L("离线优先的需求清单和服务清单，在节点之间自动合并。", en: "Offline-first registers of residents' requests and services that merge between nodes."),
        discussion: L("""
            每个节点都有自己的存储，断网也能工作。存储通过变更数据包（`gridsync bundle`）或网络实时同步\
            （`gridsync daemon`）合并，不会丢失或悄悄覆盖任何内容；同一字段的并发修改出现在 `gridsync conflicts` 中。

            存储为 --db 路径，或 $GRIDSYNC_DB，或 ~/.local/share/gridsync/gridsync.db。
            """, en: """
            Every node keeps its own store and works offline. Stores merge through change bundles \
            (`gridsync bundle`) or live over the network (`gridsync daemon`) without losing or silently \
            overwriting anything; concurrent edits of the same field show up in `gridsync conflicts`.

            The store is --db PATH, or $GRIDSYNC_DB, or ~/.local/share/gridsync/gridsync.db.
            """),
        version: GridSyncCommand.version,
        subcommands: [
            InitCommand.self, IDCommand.self, JoinCommand.self, RosterCommand.self, QuarantineCommand.self, RequestCommand.self, ServiceCommand.self, ConflictsCommand.self,
            BundleCommand.self, ReportCommand.self, DistrictCommand.self, DashboardCommand.self, DaemonCommand.self, DemoCommand.self, PeersCommand.self, DigestCommand.self, VectorCommand.self, CategoryCommand.self, StatusCommand.self, ManCommand.self,
        ])

    /// This build's version, with the formats it speaks.
    public static let version =
        "gridsync 0.8.0 (sync protocol \(Message.Hello.currentVersion), change format \(ChangeCodec.formatVersion), bundle format \(ChangeBundle.version))"

    public init() {}

    /// Parses the command line, runs the command, and exits with a documented code.
    public static func runMain(_ arguments: [String]? = nil) async -> Never {
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            Foundation.exit(0)
        } catch let error as GridSyncError {
            FileHandle.standardError.write(Data(L("gridsync：错误：\(error.message)\n", en: "gridsync: error: \(error.message)\n").utf8))
            Foundation.exit(ExitCodes.code(for: error))
        } catch {
            // Help, --version and usage errors: ArgumentParser's text, its own words in this
            // process's language and wrapped by display width.
            let code = exitCode(for: error)
            // Unwrapped, then wrapped here by display width.
            let text = ParserText.localize(fullMessage(for: error, columns: 100_000), width: TerminalWidth.current() ?? 80)
            if code == .success {
                if !text.isEmpty { print(text) }
            } else {
                FileHandle.standardError.write(Data((text + "\n").utf8))
            }
            Foundation.exit(code.rawValue)
        }
    }
}

/// Exit codes, documented in the README.
public enum ExitCodes {
    public static let failure: Int32 = 1
    public static let notFound: Int32 = 2
    public static let refused: Int32 = 3
    public static let badData: Int32 = 4
    public static let noStore: Int32 = 5
    public static let usage: Int32 = 64

    public static func code(for error: GridSyncError) -> Int32 {
        switch error.code {
        case .notFound, .ambiguous: notFound
        case .invalidTransition, .notPermitted: refused
        case .malformed, .tooLarge, .badSignature, .brokenChain, .seqGap, .causalGap, .fork: badData
        case .notInitialized, .alreadyInitialized: noStore
        case .invalidInput: usage
        default: failure
        }
    }
}

/// `--db`: which store file.
struct StoreOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(L("存储文件（默认：$GRIDSYNC_DB 或 ~/.local/share/gridsync/gridsync.db）。", en: "Store file (default: $GRIDSYNC_DB or ~/.local/share/gridsync/gridsync.db)."), valueName: "PATH"))
    var db: String?

    var path: String {
        if let db, !db.isEmpty { return db }
        let env = ProcessInfo.processInfo.environment
        if let p = env["GRIDSYNC_DB"], !p.isEmpty { return p }
        // $HOME first, as every other program does (NSHomeDirectory reads the password file).
        let home = env["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        let dataHome = env["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? (home as NSString).appendingPathComponent(".local/share")
        return (dataHome as NSString).appendingPathComponent("gridsync/gridsync.db")
    }

    func open() throws -> Store { try Store.open(path: path, passphrase: Passphrase.forOpening) }
}

/// `--yes`: a step that cannot simply be undone goes ahead without asking.
struct ConfirmOptions: ParsableArguments {
    @Flag(name: .long, help: L("不询问，直接执行（供脚本使用）。", en: "Do it without asking (for scripts).")) var yes = false

    /// Asks `question` on the terminal and goes on only on yes; without a terminal, only with
    /// `--yes`. Either way, refusing changes nothing.
    func confirm(_ question: String) throws {
        if yes { return }
        guard isatty(STDIN_FILENO) == 1 else {
            throw GridSyncError(.invalidInput, Localized("\(question)——没有终端可以询问，请加 --yes 确认（没有修改任何内容）", en: "\(question) — there is no terminal to ask on; add --yes to confirm (nothing was changed)"))
        }
        FileHandle.standardError.write(Data("\(question) [y/N] ".utf8))
        let answer = (readLine() ?? "").trimmingCharacters(in: .whitespaces).lowercased()
        guard ["y", "yes", "是", "确认"].contains(answer) else {  // catalogue: data — the answers that confirm, in both languages
            throw GridSyncError(.invalidInput, Localized("已取消，未做任何修改", en: "cancelled; nothing was changed"))
        }
    }
}

/// `--json`: machine-readable output.
struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: L("输出 JSON 而不是表格。", en: "Print JSON instead of a table."))
    var json = false
}
