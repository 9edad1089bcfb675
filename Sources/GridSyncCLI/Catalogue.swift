import GridSyncCore

/// What the CLI says, in both languages (``Localized``; Chinese unless the environment asks for
/// English — see ``Language/from(environment:)``). Every message here has both texts; a test
/// checks the Chinese is Chinese and the English has no Chinese in it.
///
/// The first part of the catalogue: the request commands' confirmations. The rest of the CLI
/// still writes "中文 (English)" in one string and moves here command by command.
enum Say {
    static func requestNow(_ id: String, _ status: RequestStatus) -> String {
        Localized("需求 \(id) 现为「\(status.label)」。", en: "Request \(id) is now \(status.englishLabel).").text
    }

    static func requestRated(_ id: String, _ satisfaction: Satisfaction) -> String {
        Localized("需求 \(id) 现为「已评价」：\(satisfaction.label)。", en: "Request \(id) is now rated: \(satisfaction.englishLabel).").text
    }

    static func requestUpdated(_ id: String) -> String {
        Localized("已更新需求 \(id)。", en: "Updated request \(id).").text
    }

    static func noteAdded(_ id: String) -> String {
        Localized("已为需求 \(id) 添加跟进记录。", en: "Note added to request \(id).").text
    }

    static func requestDeleted(_ id: String, short: String) -> String {
        Localized("已删除需求 \(id)。如属误删，`gridsync request restore \(short)` 可以恢复。", en: "Deleted request \(id). `gridsync request restore \(short)` brings it back.").text
    }

    static func requestRestored(_ id: String) -> String {
        Localized("已恢复需求 \(id)。", en: "Restored request \(id).").text
    }
}
