import ArgumentParser
import Foundation

/// `gridsync man`: the manual page (roff), made from the commands' own help so it never says
/// other than `--help`. The page ships as `docs/man/gridsync.1` (a test keeps it current), so
/// it installs without building: `install -D -m 644 docs/man/gridsync.1 /usr/local/share/man/man1/gridsync.1`.
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
            .TH GRIDSYNC 1 "" "\(escape(GridSyncCommand.version))" "User Commands"
            .SH NAME
            gridsync \\- \(escape(root.abstract))
            .SH SYNOPSIS
            .B gridsync
            .I command
            [\\fIoptions\\fR]
            .SH DESCRIPTION
            \(escape(root.discussion))
            .PP
            Every command below takes \\fB\\-\\-help\\fR, which prints what this page says of it.
            .SH COMMANDS

            """
        for (path, type) in commands().dropFirst() where type.configuration.subcommands.isEmpty {
            out += ".SS \"\(escape(path.joined(separator: " ")))\"\n"
            out += ".nf\n" + escape(GridSyncCommand.helpMessage(for: type, columns: 78).trimmingCharacters(in: .whitespacesAndNewlines)) + "\n.fi\n"
        }
        out += """
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

            """
        return out
    }
}
