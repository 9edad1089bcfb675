import ArgumentParser
import GridSyncCore
import GridSyncStore

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

    // MARK: request list

    static let noRequests = Localized("没有符合条件的需求。", en: "No requests match.").text

    static func offsetPastEnd(total: Int, offset: Int) -> String {
        Localized("共 \(total) 条需求，--offset \(offset) 已超出。", en: "\(total) requests; --offset \(offset) is past the last one.").text
    }

    /// The footer of a page: where it is in the list and how to see the next one.
    static func page(first: Int, last: Int, total: Int) -> String {
        if first == 1 && last == total { return Localized("共 \(total) 条需求", en: "\(total) \(total == 1 ? "request" : "requests")").text }
        let here = Localized("第 \(first)–\(last) 条，共 \(total) 条需求", en: "\(first)–\(last) of \(total) requests").text
        return last < total ? here + Localized("；下一页：--offset \(last)", en: "; next page: --offset \(last)").text : here
    }

    static let updatingSearchIndex = Localized("正在更新检索索引", en: "Updating the search index").text

    // MARK: request import / export

    static let importing = Localized("导入", en: "Importing").text

    static func importSummary(_ o: ImportOutcome, skipped: Int, dryRun: Bool) -> String {
        let counts = Localized(
            "新增 \(o.added.count) 条、更新 \(o.updated.count) 条、不变 \(o.unchanged) 条需求，新增跟进记录 \(o.notesAdded) 条"
                + (skipped == 0 ? "" : "；跳过 \(skipped) 行错误"),
            en: "\(o.added.count) new, \(o.updated.count) updated, \(o.unchanged) unchanged requests; \(o.notesAdded) new notes"
                + (skipped == 0 ? "" : "; \(skipped) bad rows skipped"))
        return dryRun
            ? Localized("试运行，未做任何修改：将\(counts.zh)", en: "Dry run, nothing was changed: would add \(counts.en)").text
            : Localized("已导入：\(counts.zh)", en: "Imported: \(counts.en)").text
    }

    static func moreUpdates(_ n: Int) -> String { Localized("…（另有 \(n) 条更新）", en: "… (\(n) more updates)").text }

    static func exported(_ n: Int, to path: String) -> String {
        Localized("已将 \(n) 条需求写入 \(path)", en: "Wrote \(n) requests to \(path)").text
    }
}

/// A catalogue entry read now, in this process's language: for help texts, validation errors
/// and whatever else the CLI prints. `L("中文", en: "English")`.
func L(_ zh: String, en: String) -> String { Localized(zh, en: en).text }

/// ``L(_:en:)`` where a help text goes (`@Option(help: L("…", en: "…"))`).
func L(_ zh: String, en: String) -> ArgumentHelp { ArgumentHelp(Localized(zh, en: en).text) }

/// Table headers, in this process's language.
enum Headers {
    static var requests: [String] {
        [
            L("ID", en: "ID"), L("状态", en: "Status"), L("楼栋", en: "Building"), L("房号", en: "Room"), L("居民", en: "Resident"),
            L("电话", en: "Phone"), L("类别", en: "Category"), L("标题", en: "Title"), L("期限", en: "Due"), L("紧急", en: "Urgent"),
        ]
    }

    static var roster: [String] {
        [L("节点", en: "Node"), L("名称", en: "Name"), L("角色", en: "Role"), L("网格", en: "Grid"), L("楼栋", en: "Building"), L("状态", en: "Status"), L("吊销时间", en: "Revoked")]
    }

    static var quarantine: [String] {
        [
            L("编号", en: "No."), L("状态", en: "State"), L("来源节点", en: "Origin"), L("序号", en: "Seq"), L("原因", en: "Reason"),
            L("接收时间", en: "Received"), L("来自", en: "From"), L("说明", en: "Detail"),
        ]
    }

    static var conflicts: [String] {
        [L("冲突ID", en: "Conflict"), L("记录", en: "Record"), L("字段", en: "Field"), "#", L("值", en: "Value"), L("节点", en: "Node"), L("时间", en: "Time"), ""]
    }

    static var conflictValues: [String] { ["#", L("值", en: "Value"), L("节点", en: "Node"), L("时间", en: "Time"), ""] }

    static var peers: [String] {
        [
            L("对端", en: "Peer"), L("方向", en: "Dir"), L("节点", en: "Node"), L("连接", en: "Link"), L("上次同步", en: "Last sync"),
            L("待发", en: "To send"), L("待收", en: "To get"), L("最近错误", en: "Last error"),
        ]
    }

    static var history: [String] { [L("时间", en: "Time"), L("节点", en: "Node"), L("字段", en: "Field"), L("值", en: "Value")] }

    static var services: [String] {
        [L("ID", en: "ID"), L("名称", en: "Name"), L("提供方", en: "Provider"), L("类型", en: "Kind"), L("类别", en: "Category"), L("网格", en: "Grid"), L("状态", en: "Status")]
    }

    /// "是" / "yes".
    static func yesNo(_ value: Bool) -> String { Display.yesNo(value) }
}
