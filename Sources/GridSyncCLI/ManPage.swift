import ArgumentParser
import Foundation

/// `gridsync man`: the manual page (roff), made from the commands' own help so it never says
/// other than `--help`, in this process's language. The pages ship as `docs/man/gridsync.1`
/// (English) and `docs/man/zh_CN/gridsync.1` (Chinese) — a test keeps both current — so they
/// install without building: `install -D -m 644 docs/man/gridsync.1 /usr/local/share/man/man1/gridsync.1`.
struct ManCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "man", abstract: L("打印 gridsync(1) 的手册页（roff）。", en: "Print the manual page (roff) for gridsync(1)."), shouldDisplay: false)

    func run() throws { Output.line(ManPage.render(), terminator: "") }
}

enum ManPage {
    /// Every command and subcommand, depth first, with its path of names.
    static func commands(_ type: any ParsableCommand.Type = GridSyncCommand.self, path: [String] = []) -> [(path: [String], type: any ParsableCommand.Type)] {
        let config = type.configuration
        guard config.shouldDisplay else { return [] }
        let name = config.commandName ?? String(describing: type).lowercased()
        let here = path + [name]
        return [(here, type)] + config.subcommands.flatMap { commands($0, path: here) }
    }

    /// Text as roff reads it: backslashes doubled, and a line starting with `.` or `'` escaped.
    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "\\", with: "\\e").split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.hasPrefix(".") || line.hasPrefix("'") ? "\\&" + line : String(line)
        }.joined(separator: "\n")
    }

    static func render() -> String {
        let root = GridSyncCommand.configuration
        var out = """
            .TH GRIDSYNC 1 "" "\(escape(GridSyncCommand.version))" "\(L("用户命令", en: "User Commands"))"
            .ad l
            .SH \(L("名称", en: "NAME"))
            gridsync \\- \(escape(root.abstract))
            .SH \(L("概要", en: "SYNOPSIS"))
            .B gridsync
            .I \(L("命令", en: "command"))
            [\\fI\(L("选项", en: "options"))\\fR]
            .SH \(L("描述", en: "DESCRIPTION"))
            \(escape(root.discussion))
            .PP
            \(L("下面每个命令都接受 \\fB\\-\\-help\\fR，打印本页关于它的内容。", en: "Every command below takes \\fB\\-\\-help\\fR, which prints what this page says of it."))
            .SH \(L("命令", en: "COMMANDS"))

            """
        for (path, type) in commands().dropFirst() where type.configuration.subcommands.isEmpty {
            out += ".SS \"\(escape(path.joined(separator: " ")))\"\n"
            let help = ParserText.localize(GridSyncCommand.helpMessage(for: type, columns: 100_000), width: 78)
            out += ".nf\n" + escape(help.trimmingCharacters(in: .whitespacesAndNewlines)) + "\n.fi\n"
        }
        out += L("""
            .SH 环境变量
            .TP
            .B GRIDSYNC_DB
            不给 \\fB\\-\\-db\\fR 时使用的存储文件（默认 ~/.local/share/gridsync/gridsync.db）。
            .TP
            .B GRIDSYNC_PASSPHRASE_FILE
            存放节点密钥口令的文件（否则用 systemd 凭据 gridsync-passphrase，再否则在终端上询问）。
            .TP
            .B GRIDSYNC_LANG
            \\fBen\\fR 为英文；否则看 \\fBLC_ALL\\fR、\\fBLC_MESSAGES\\fR 或 \\fBLANG\\fR 是否以 \\fBen\\fR 开头；默认中文。
            .TP
            .B COLUMNS
            表格适应的宽度（否则用终端的宽度）。
            .SH 退出状态
            0 完成；1 失败；2 未找到或有歧义；3 被拒绝（无权，或需求当前状态不允许）；
            4 数据有误；5 没有存储（或存储已存在）；64 用法错误。
            .SH 文件
            存储、它的 \\-wal 和 \\-shm 文件，以及旁边的节点密钥（\\fIgridsync.db.key\\fR），权限都是 0600，所在文件夹为 0700。
            .SH 另见
            源代码中的 README.md、docs/OPERATIONS.md、docs/IMPORT.md、docs/REPORTS.md 和 Protocol/SPEC.md。

            """, en: """
            .SH ENVIRONMENT
            .TP
            .B GRIDSYNC_DB
            The store file when \\fB\\-\\-db\\fR is not given (default ~/.local/share/gridsync/gridsync.db).
            .TP
            .B GRIDSYNC_PASSPHRASE_FILE
            A file holding the node key's passphrase (else the systemd credential gridsync-passphrase, else the terminal).
            .TP
            .B GRIDSYNC_LANG
            \\fBen\\fR for English; otherwise \\fBLC_ALL\\fR, \\fBLC_MESSAGES\\fR or \\fBLANG\\fR starting with \\fBen\\fR; Chinese by default.
            .TP
            .B COLUMNS
            The width tables fit (else the terminal's).
            .SH EXIT STATUS
            0 done; 1 failure; 2 not found or ambiguous; 3 refused (not permitted, or not allowed from the request's status);
            4 bad data; 5 no store (or one already exists); 64 bad usage.
            .SH FILES
            The store, its \\-wal and \\-shm files, and the node key beside it (\\fIgridsync.db.key\\fR), all 0600 in a 0700 folder.
            .SH SEE ALSO
            README.md, docs/OPERATIONS.md, docs/IMPORT.md, docs/REPORTS.md and Protocol/SPEC.md in the source.

            """)
        return out
    }
}
