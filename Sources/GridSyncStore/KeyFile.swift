import Foundation
import GridSyncCore

/// The node's private key lives beside the store in `<store>.key`, readable by its owner only,
/// so that a copy of the store given to an auditor does not carry the key.
enum KeyFile {
    static let header = "GRIDSYNC NODE KEY v1"

    static func path(forStore storePath: String) -> String { storePath + ".key" }

    static func write(_ key: NodeKey, to path: String) throws {
        let text = "\(header)\n\(Data(key.seed).base64EncodedString())\n"
        try PrivateFiles.write(Data(text.utf8), to: path)
    }

    static func read(from path: String) throws -> NodeKey {
        try PrivateFiles.checkKey(path)
        guard let data = FileManager.default.contents(atPath: path), data.count < 4096 else {
            throw GridSyncError(.io, "cannot read the node key file \(path); it must sit beside the store (restore it from backup, or run `gridsync init` for a new store)")
        }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n")
        guard lines.count == 2, lines[0] == header, let seed = Data(base64Encoded: String(lines[1])), seed.count == 32 else {
            throw GridSyncError(.malformed, "the node key file \(path) is damaged; restore it from backup")
        }
        return try NodeKey(seed: Array(seed))
    }
}
