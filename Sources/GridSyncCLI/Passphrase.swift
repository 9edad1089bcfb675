import Foundation
import GridSyncCore

/// Where the passphrase of a protected node key comes from (docs/OPERATIONS.md):
///
/// 1. `GRIDSYNC_PASSPHRASE_FILE`: a file (mode 0600) whose first line is the passphrase — for
///    scripts;
/// 2. `$CREDENTIALS_DIRECTORY/gridsync-passphrase`: systemd's `LoadCredential=` (or
///    `LoadCredentialEncrypted=`), for the daemon as a service;
/// 3. a prompt on the terminal, without echo.
///
/// The passphrase itself is never a flag or an environment value (both show in `ps` and in
/// `/proc`), and never logged.
enum Passphrase {
    static let credentialName = "gridsync-passphrase"

    /// The passphrase to unlock a protected key, or nil when none can be had here.
    static func forOpening() throws -> String? {
        if let file = try fromConfiguredFile() { return file }
        guard isatty(STDIN_FILENO) == 1 || FileManager.default.isReadableFile(atPath: "/dev/tty") && isatty(STDERR_FILENO) == 1 else { return nil }
        return prompt(L("本节点密钥的口令：", en: "Passphrase for this node's key: "))
    }

    /// A new passphrase for `init --passphrase`: from the configured file, or typed twice.
    static func forCreating() throws -> String {
        if let file = try fromConfiguredFile() { return file }
        guard isatty(STDIN_FILENO) == 1 else {
            throw GridSyncError(.invalidInput, Localized("设置口令需要在终端上输入，或用 GRIDSYNC_PASSPHRASE_FILE 指定口令文件（没有创建任何内容）", en: "--passphrase needs a terminal to ask on, or GRIDSYNC_PASSPHRASE_FILE naming a file that holds it (nothing was created)"))
        }
        guard let first = prompt(L("设置口令（至少 8 个字符）：", en: "New passphrase (at least 8 characters): ")),
            let second = prompt(L("再输入一次：", en: "Again: "))
        else { throw GridSyncError(.invalidInput, Localized("没有输入口令（没有创建任何内容）", en: "no passphrase was typed (nothing was created)")) }
        guard first == second else { throw GridSyncError(.invalidInput, Localized("两次输入的口令不一致（没有创建任何内容）", en: "the two passphrases differ (nothing was created)")) }
        return first
    }

    private static func fromConfiguredFile() throws -> String? {
        let env = ProcessInfo.processInfo.environment
        if let path = env["GRIDSYNC_PASSPHRASE_FILE"], !path.isEmpty { return try read(path) }
        if let dir = env["CREDENTIALS_DIRECTORY"], !dir.isEmpty {
            let path = (dir as NSString).appendingPathComponent(credentialName)
            if FileManager.default.fileExists(atPath: path) { return try read(path) }
        }
        return nil
    }

    /// The first line of a small file.
    static func read(_ path: String) throws -> String {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path), let size = (attributes[.size] as? NSNumber)?.intValue,
            size <= 4096, let data = FileManager.default.contents(atPath: path)
        else {
            throw GridSyncError(.invalidInput, Localized("无法读取口令文件 \(path)（它须存在且小于 4 KiB）", en: "cannot read the passphrase file \(path): it must exist and be under 4 KiB"))
        }
        let line = String(decoding: data, as: UTF8.self).split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return String(line.hasSuffix("\r") ? line.dropLast() : line)
    }

    /// Asks on the terminal without echo: a password, say.
    static func ask(_ text: String) -> String? { prompt(text) }

    /// Reads a line from the terminal without echo.
    private static func prompt(_ text: String) -> String? {
        guard let p = getpass(text) else { return nil }
        let s = String(cString: p)
        // getpass keeps the line in a static buffer: wipe it.
        memset(p, 0, strlen(p))
        return s.isEmpty ? nil : s
    }
}
