import Crypto
import CryptoExtras
import Foundation
import GridSyncCore

/// The node's private key lives beside the store in `<store>.key`, readable by its owner only,
/// so that a copy of the store given to an auditor does not carry the key.
///
/// Two forms (docs/OPERATIONS.md, "A passphrase on the node key"):
///
/// ```
/// GRIDSYNC NODE KEY v1            GRIDSYNC NODE KEY v2 scrypt N=32768 r=8 p=1
/// <seed, base64>                  <salt, 16 bytes, base64>
///                                 <ChaCha20-Poly1305 nonce ‖ sealed seed ‖ tag, base64>
/// ```
///
/// With a passphrase the seed is sealed under scrypt(passphrase, salt), the first line being
/// the associated data; a lost laptop's disk then yields neither the signing key nor — since
/// scope keys are unwrapped with the agreement key derived from the seed — any resident's data.
enum KeyFile {
    static let header = "GRIDSYNC NODE KEY v1"
    static let lockedHeader = "GRIDSYNC NODE KEY v2 scrypt N=32768 r=8 p=1"
    /// scrypt cost: 32 MiB and about a tenth of a second per unlock on a laptop.
    static let rounds = 32768, blockSize = 8, parallelism = 1
    static let minPassphraseCharacters = 8
    static let maxPassphraseBytes = 1024

    static func path(forStore storePath: String) -> String { storePath + ".key" }

    static func write(_ key: NodeKey, to path: String, passphrase: String? = nil) throws {
        guard let passphrase else {
            let text = "\(header)\n\(Data(key.seed).base64EncodedString())\n"
            return try PrivateFiles.write(Data(text.utf8), to: path)
        }
        try check(passphrase)
        var salt = [UInt8](repeating: 0, count: 16)
        for i in salt.indices { salt[i] = UInt8.random(in: 0...255) }
        let k = try derive(passphrase, salt)
        let box = try ChaChaPoly.seal(key.seed, using: k, authenticating: Array(lockedHeader.utf8) + salt)
        let text = "\(lockedHeader)\n\(Data(salt).base64EncodedString())\n\(box.combined.base64EncodedString())\n"
        try PrivateFiles.write(Data(text.utf8), to: path)
    }

    /// Refuses a passphrase too short to protect anything, or absurdly long.
    static func check(_ passphrase: String) throws {
        guard passphrase.count >= minPassphraseCharacters else {
            throw GridSyncError(.invalidInput, Localized("口令至少 \(minPassphraseCharacters) 个字符", en: "the passphrase must have at least \(minPassphraseCharacters) characters"))
        }
        guard passphrase.utf8.count <= maxPassphraseBytes else {
            throw GridSyncError(.invalidInput, Localized("口令过长（超过 \(maxPassphraseBytes) 字节）", en: "the passphrase is longer than \(maxPassphraseBytes) bytes"))
        }
    }

    private static func derive(_ passphrase: String, _ salt: [UInt8]) throws -> SymmetricKey {
        do {
            return try KDF.Scrypt.deriveKey(
                from: Array(passphrase.utf8), salt: salt, outputByteCount: 32, rounds: rounds, blockSize: blockSize, parallelism: parallelism)
        } catch {
            throw GridSyncError(.io, Localized("无法由口令算出密钥（scrypt 失败，内存不足？）", en: "cannot derive the key from the passphrase: scrypt failed — out of memory?"))
        }
    }

    /// Whether the key file at `path` is protected by a passphrase.
    static func isLocked(_ path: String) -> Bool {
        guard let data = FileManager.default.contents(atPath: path), data.count < 4096 else { return false }
        return String(decoding: data, as: UTF8.self).hasPrefix(lockedHeader)
    }

    /// Reads the key; for a locked file asks `passphrase` (nil: none can be had here).
    static func read(from path: String, passphrase: () throws -> String? = { nil }) throws -> NodeKey {
        try PrivateFiles.checkKey(path)
        guard let data = FileManager.default.contents(atPath: path), data.count < 4096 else {
            throw GridSyncError(.io, Localized("无法读取节点密钥文件 \(path)；它必须放在存储旁边（从备份恢复，或为新存储运行 `gridsync init`）", en: "cannot read the node key file \(path); it must sit beside the store (restore it from backup, or run `gridsync init` for a new store)"))
        }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
        let damaged = GridSyncError(.malformed, Localized("节点密钥文件 \(path) 已损坏；请从备份恢复", en: "the node key file \(path) is damaged; restore it from backup"))
        if lines.first.map(String.init) == lockedHeader {
            guard lines.count == 3, let salt = Data(base64Encoded: String(lines[1])), salt.count == 16,
                let combined = Data(base64Encoded: String(lines[2])), combined.count == 12 + 32 + 16
            else { throw damaged }
            guard let given = try passphrase() else {
                throw GridSyncError(.notPermitted, Localized("""
                    节点密钥 \(path) 有口令保护，但没有给出口令：请在终端上运行命令以便输入，或把口令写进只有你能读的文件，\
                    并把 GRIDSYNC_PASSPHRASE_FILE 设为该文件（systemd 下的守护进程：LoadCredential=gridsync-passphrase:文件）
                    """, en: """
                    the node key \(path) is protected by a passphrase and none was given: \
                    run the command on a terminal to be asked, or put the passphrase in a file readable only by you and set \
                    GRIDSYNC_PASSPHRASE_FILE to it (the daemon under systemd: LoadCredential=gridsync-passphrase:FILE)
                    """))
            }
            let k = try derive(given, Array(salt))
            guard let box = try? ChaChaPoly.SealedBox(combined: combined),
                let seed = try? ChaChaPoly.open(box, using: k, authenticating: Array(lockedHeader.utf8) + Array(salt))
            else {
                throw GridSyncError(.notPermitted, Localized("节点密钥 \(path) 的口令不对；没有打开任何内容", en: "wrong passphrase for the node key \(path); nothing was opened"))
            }
            return try NodeKey(seed: Array(seed))
        }
        guard lines.count == 2, lines[0] == header, let seed = Data(base64Encoded: String(lines[1])), seed.count == 32 else {
            throw damaged
        }
        return try NodeKey(seed: Array(seed))
    }
}
