import GridSyncCore

enum StoreError {
    static func corrupt(_ what: String) -> GridSyncError {
        GridSyncError(.malformed, Localized("存储文件已损坏（\(what)）；请从备份恢复，或从其他节点重新同步", en: "the store file is damaged (\(what)); restore it from a backup or re-sync from a peer"))
    }
}

import Foundation

extension Array where Element == UInt8 {
    /// For binding as a SQLite blob.
    var blob: Data { Data(self) }
}
