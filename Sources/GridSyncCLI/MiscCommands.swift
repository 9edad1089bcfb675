import ArgumentParser
import GridSyncCore
import GridSyncStore

struct DigestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "digest", abstract: L("打印复制数据的摘要：持有相同数据的节点摘要相同。", en: "Print a digest of the replicated data: equal on nodes holding the same data."))
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let d = try store.open().digest()
        if output.json { try Output.json(["digest": d]) } else { Output.line(d) }
    }
}

struct VectorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vector", abstract: L("打印本存储的版本向量，供另一节点的 `bundle export --since` 使用。", en: "Print this store's version vector, for `bundle export --since` on another node."))
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let v = try store.open().vector()
        if output.json {
            try Output.json(Dictionary(uniqueKeysWithValues: v.entries.map { ($0.key.text, $0.value) }))
        } else {
            Output.line(v.text)
        }
    }
}

struct CategoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "category", abstract: L("需求类别：内置的默认类别，加上社区中心添加的。", en: "Request categories: built-in defaults plus those the centre adds."),
        subcommands: [CategoryList.self, CategoryAdd.self])
}

struct CategoryList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: L("列出需求类别。", en: "List request categories."))
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let list = try store.open().categories()
        if output.json { try Output.json(list) } else { list.forEach { Output.line($0) } }
    }
}

struct CategoryAdd: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: L("添加需求类别（仅限社区中心）。", en: "Add a request category (centre only)."))
    @OptionGroup var store: StoreOptions
    @Argument(help: L("类别名称，例如 垃圾分类。", en: "Category name.")) var name: String

    func run() throws {
        try store.open().addCategory(name)
        Output.line(L("已添加类别 \(name)。", en: "Added category \(name)."))
    }
}

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: L("汇总本节点的存储情况。", en: "Summarise this node's store."))
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions

    struct Summary: Encodable {
        var node_id: String
        var name: String
        var role: String
        var store: String
        var changes: Int
        var requests: Int
        var services: Int
        var open_conflicts: Int
        /// Changes refused on receipt (`gridsync quarantine list`).
        var quarantined: Int
        var origins: Int
        /// This node's own changes that peers said they did not apply.
        var own_refused: Int
        /// This node's own changes other nodes hold that this store lacks (restored from a backup).
        var own_missing: UInt64
        /// The scope this node writes with: the roster's, once the roster reached it.
        var scope: String
        /// nil until the node founds or joins a community.
        var community_id: String?
        /// The scope keys the centre granted this node (it reads residents' data of these).
        var keys: [HeldKey]
        var peers: [PeerStatus]
        /// Whether the search index is up to the store (the daemon keeps it so).
        var search_index_current: Bool
    }

    func run() throws {
        let s = try store.open()
        let c = try s.counts()
        let v = try s.vector()
        let community = try s.community()
        let summary = Summary(
            node_id: s.node.id.text, name: s.node.name, role: s.node.role.rawValue, store: s.path, changes: c.changes,
            requests: c.requests, services: c.services, open_conflicts: c.conflicts, quarantined: c.quarantined,
            origins: v.entries.count, own_refused: try s.ownRefusals().count, own_missing: try s.ownChangesMissing(),
            scope: (try? s.writerScope()) ?? "revoked", community_id: community?.id.text, keys: try s.heldKeys(), peers: try s.peers(),
            search_index_current: try s.searchIndexIsCurrent())
        if output.json { return try Output.json(summary) }
        Output.line(L("节点 \(s.node.name)（\(s.node.role.label)）\(s.node.id.text)", en: "node \(s.node.name) (\(s.node.role.rawValue)) \(s.node.id.text)"))
        Output.line(L("存储 \(s.path)", en: "store \(s.path)"))
        Output.line(community.map { L("社区 \($0.id.text) · 中心 \($0.centre.short)", en: "community \($0.id.text) · centre \($0.centre.short)") }
            ?? L("社区 —（尚未加入社区：`gridsync join`）", en: "community — (not in a community yet: `gridsync join`)"))
        Output.line(L("权限 \((try? s.localWriter())?.scopeLabel ?? "已吊销（本节点不能写入）")", en: "scope \((try? s.localWriter())?.scopeText.en ?? "revoked: this node may not write")"))
        if community != nil {
            let usable = summary.keys.filter(\.usable)
            Output.line(usable.isEmpty
                ? L("密钥 —— 尚未收到，暂不能写入或查看居民信息（请与社区中心同步）", en: "keys — none yet, residents' data can be neither written nor read (sync with the centre)")
                : L("密钥 ", en: "keys ") + usable.map(\.displayLabel).joined(separator: L("；", en: "; ")))
        }
        Output.line(L("需求 \(c.requests) · 服务 \(c.services) · 冲突 \(c.conflicts) · 隔离 \(c.quarantined) · 变更 \(c.changes)，来自 \(v.entries.count) 个节点", en: "requests \(c.requests) · services \(c.services) · conflicts \(c.conflicts) · quarantined \(c.quarantined) · changes \(c.changes) from \(v.entries.count) nodes"))
        if summary.own_refused > 0 {
            Output.line(L("⚠ 本节点有 \(summary.own_refused) 条变更被对端拒绝：`gridsync quarantine list`", en: "⚠ peers refused \(summary.own_refused) of this node's changes: `gridsync quarantine list`"))
        }
        if summary.own_missing > 0 {
            Output.line(L("⚠ 其他节点持有本节点 \(summary.own_missing) 条本机缺少的变更（从备份恢复的？）：取回之前（同步或数据包）拒绝写入", en: "⚠ other nodes hold \(summary.own_missing) of this node's changes that this store lacks (restored from a backup?): writing is refused until they are taken back by a sync or a bundle"))
        }
        Output.line(summary.search_index_current
            ? L("检索索引 最新", en: "search index up to date")
            : L("检索索引 待更新（守护进程会更新；否则下次检索时先更新）", en: "search index behind (the daemon brings it up; else the next search does first)"))
        for p in summary.peers {
            let who = p.nodeID.map { Output.node($0, p.name) } ?? p.peer
            let state: String = p.connected ? L("已连接", en: "connected") : L("未连接", en: "not connected")
            let toSend = p.toSend.map(String.init) ?? "?", toGet = p.toReceive.map(String.init) ?? "?", last = Output.time(p.lastSync, seconds: true)
            Output.line(
                L("对端 \(who) \(state) · 上次同步 \(last) · 待发 \(toSend) · 待收 \(toGet)", en: "peer \(who) \(state) · last sync \(last) · to send \(toSend) · to get \(toGet)")
                    + (p.lastError.map { L(" · 错误：\($0)", en: " · error: \($0)") } ?? ""))
        }
    }
}
