import ArgumentParser
import Foundation
import GridSyncCore
import GridSyncNode
import GridSyncStore
import Logging

/// `gridsync roster`: who belongs to the community (centre only writes it).
struct RosterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "roster",
        abstract: L("社区成员名册：登记、列出和吊销节点。在社区中心写入，由它签名，复制到所有节点。", en: "The community's members (the roster): enrol, list and revoke nodes. Written on the centre, signed by it, replicated everywhere."),
        subcommands: [RosterAdd.self, RosterList.self, RosterRevoke.self])
}

struct RosterAdd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: L("登记一个节点（ID 由那台机器上的 `gridsync id` 给出），指定角色和范围。", en: "Enrol a node (its ID from `gridsync id` on that machine) with a role and scope."))
    @OptionGroup var store: StoreOptions
    @Argument(help: L("节点 ID，照 `gridsync id` 打印的写（短横可省略）。", en: "The node ID, as `gridsync id` prints it (dashes optional).")) var nodeID: String
    @Option(help: L("大家认得的名字，例如 三号楼 或 网格一。", en: "A name people recognise, e.g. Building 3 or Grid 1.")) var name: String
    @Option(help: L("grid（网格）或 building（楼栋）。", en: "grid or building."), completion: .list(["grid", "building"])) var role: String
    @Option(help: L("节点服务的网格。", en: "The grid the node serves.")) var grid: String?
    @Option(help: L("楼栋节点负责的楼栋。", en: "The building a building node looks after.")) var building: String?

    func run() throws {
        let id = try NodeID(text: nodeID)
        guard let role = NodeRole(rawValue: role), role != .centre else {
            throw GridSyncError(.invalidInput, Localized("--role 应为 grid 或 building", en: "--role must be grid or building"))
        }
        let s = try store.open()
        try s.rosterAdd(id, name: name, role: role, grid: grid, building: building)
        Output.line(L("已把 \(id.short)（\(name)）登记为\(role.label)节点。社区中心的守护进程运行后它即可连接；其他节点在下次同步时得知。", en: "Enrolled \(id.short) (\(name)) as a \(role.rawValue) node. It can connect once the centre's daemon runs; other nodes learn of it at their next sync."))
    }
}

struct RosterList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: L("列出本节点所持有的成员名册。", en: "List the roster as this node holds it."))
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions
    @Flag(help: L("完整显示每一列，不管多宽（否则表格适应终端宽度或 COLUMNS）。", en: "Every column in full, however wide (otherwise the table fits the terminal or COLUMNS).")) var wide = false

    func run() throws {
        let s = try store.open()
        let list = try s.roster()
        if output.json { return try Output.json(list) }
        guard let community = try s.community() else {
            return Output.line(L("本节点尚未加入社区（请运行 `gridsync join`）。", en: "This node belongs to no community yet; run `gridsync join`."))
        }
        Output.line(L("社区 \(community.id.text) · 中心 \(community.centre.short)", en: "community \(community.id.text) · centre \(community.centre.short)"))
        if list.isEmpty { return Output.line(L("名册为空（社区中心运行 `gridsync roster add 节点ID …` 登记成员）。", en: "No members enrolled yet; the centre runs `gridsync roster add NODE_ID …`.")) }
        var table = TextTable(Headers.roster, maxWidths: [nil, 24, nil, nil, nil, nil, nil])
        for e in list {
            table.add([
                // The first two groups are unique in any real roster and typed wherever an ID is asked for.
                wide ? e.node_id : String(e.node_id.prefix(15)), e.name ?? "", e.role.flatMap(NodeRole.init).map(\.displayLabel) ?? "?", e.grid ?? "—", e.building ?? "—",
                e.status == "revoked" ? L("已吊销", en: "revoked") : L("有效", en: "active"), Output.time(e.revoked_at, seconds: true),
            ])
        }
        // Node IDs give way first (any unique prefix is accepted wherever an ID is asked for).
        Output.line(table.render(fitting: wide ? nil : TerminalWidth.current(), keep: [1, 2, 5]))
    }
}

struct RosterRevoke: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke", abstract: L("吊销一个节点（丢失或被盗的笔记本）：它的连接和此后的变更在各处都会被拒绝。", en: "Revoke a node (a lost or stolen laptop): its connections and later changes are refused everywhere."))
    @OptionGroup var store: StoreOptions
    @Argument(help: L("要吊销的节点 ID，或其开头部分（消息中显示的 7 个字符）。", en: "The node ID to revoke, or the start of it (the 7 characters messages show).")) var nodeID: String
    @OptionGroup var confirmation: ConfirmOptions

    func run() throws {
        let s = try store.open()
        let id = try s.rosterMember(nodeID)
        let name = try s.roster().first { $0.node_id == id.text }?.name ?? "?"
        try confirmation.confirm(L("吊销节点 \(id.short)（\(name)）？吊销后不能恢复，找回的笔记本需要新建存储", en: "Revoke node \(id.short) (\(name))? It stays revoked; a recovered laptop needs a new store"))
        try s.rosterRevoke(id)
        Output.line(L("已吊销 \(id.short)。社区中心的守护进程从现在起拒绝它；其他节点从下次与社区中心同步起拒绝它。它此前所做的变更保留。", en: "Revoked \(id.short). The centre's daemon refuses it now; every other node does from its next sync with the centre. Changes it made before now stay."))
    }
}

/// `gridsync quarantine`: changes refused on receipt, and this node's own changes peers refused.
struct QuarantineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quarantine",
        abstract: L("隔离区：接收时被拒绝的变更（超出其节点范围、节点已吊销、签名无效……），以及对方拒绝的本节点变更。", en: "Quarantine: changes refused on receipt (outside their node's scope, revoked node, bad signature…), and this node's own changes that peers refused."),
        subcommands: [QuarantineList.self, QuarantineShow.self, QuarantineRelease.self, QuarantineDiscard.self],
        defaultSubcommand: QuarantineList.self)
}

struct QuarantineList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: L("列出被拒绝的变更：编号、状态、来源、原因、时间、来自何处；然后是本节点被拒绝的变更。", en: "List refused changes: number, state, origin, reason, when, from where; then this node's own refused changes."))
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions

    struct Listing: Encodable {
        var received: [QuarantineEntry]
        /// This node's own changes that peers told it they did not apply.
        var own_refused: [OwnRefusal]
    }

    func run() throws {
        let s = try store.open()
        let list = try s.quarantine()
        let own = try s.ownRefusals()
        if output.json { return try Output.json(Listing(received: list, own_refused: own)) }
        if list.isEmpty { Output.line(L("隔离区为空（没有收到被拒绝的变更）。", en: "No refused changes received.")) }
        if !list.isEmpty {
            var table = TextTable(Headers.quarantine, maxWidths: [nil, nil, 24, nil, nil, nil, 28, 70])
            for e in list {
                let reason = QuarantineReason(rawValue: e.reason)
                let seq = e.last_seq.map { "\(e.seq ?? 0)–\($0)" } ?? e.seq.map(String.init) ?? "?"
                table.add([
                    e.id.map(String.init) ?? "—", Self.stateLabel(e.state), Output.node(e.origin, e.origin_name), seq,
                    reason?.displayLabel ?? e.reason, Output.time(e.received_at, seconds: true), e.from, e.detail,
                ])
            }
            Output.line(table.render(fitting: TerminalWidth.current()))
            Output.line(L(
                "共 \(list.count) 条——作废：在日志中，其操作不应用，其节点后来的变更照常生效；暂扣：另行保存，其节点后来的变更排在它后面；"
                    + "计数：不保存，发送方会再次提供。`gridsync quarantine show N` 说明一个变更试图做什么。",
                en: "\(list.count) in all — void: in the log, its ops not applied, its node's later changes apply; "
                    + "held: kept aside, its node's later changes wait behind it; counted: not kept, offered again by the sender. "
                    + "`gridsync quarantine show N` says what a change tried."))
        }
        if !own.isEmpty {
            Output.line()
            Output.line(L("本节点被对端拒绝的变更：", en: "This node's own changes that peers refused:"))
            var table = TextTable([L("对端", en: "peer"), L("序号", en: "seq"), L("原因", en: "reason"), L("时间", en: "time")], maxWidths: [60, nil, nil, nil])
            for r in own { table.add([r.peer, String(r.seq), Self.codeLabel(r.code), Output.time(r.at, seconds: true)]) }
            Output.line(table.render(fitting: TerminalWidth.current()))
            Output.line(L("请在本节点的范围内重新写入（`gridsync status` 显示范围）；被拒绝的变更在对端仍不应用。", en: "Write again within this node's scope (`gridsync status` shows it); the refused changes stay unapplied there."))
        }
    }

    static func stateLabel(_ state: String) -> String {
        switch state {
        case "void": L("作废", en: "void")
        case "held": L("暂扣", en: "held")
        default: L("计数", en: "counted")
        }
    }

    static func codeLabel(_ code: Int) -> String {
        RefusalCode.reason(of: code).map(\.displayLabel) ?? String(code)
    }
}

/// Options naming one quarantined change by its number.
struct QuarantineNumber: ParsableArguments {
    @Argument(help: ArgumentHelp(L("变更的编号，见 `gridsync quarantine list`。", en: "The change's number from `gridsync quarantine list`."), valueName: "N")) var number: Int64
}

struct QuarantineShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: L("被拒绝的变更试图写入什么：记录和字段（从不显示值）。", en: "What a refused change tried to write: records and fields (never values)."))
    @OptionGroup var store: StoreOptions
    @OptionGroup var which: QuarantineNumber
    @OptionGroup var output: OutputOptions

    func run() throws {
        let d = try store.open().quarantineDetail(which.number)
        if output.json { return try Output.json(d) }
        let e = d.entry
        Output.fields([
            (L("编号", en: "number"), String(which.number)), (L("状态", en: "state"), QuarantineList.stateLabel(e.state)),
            (L("来源节点", en: "origin"), Output.node(e.origin, e.origin_name)), (L("序号", en: "seq"), e.seq.map(String.init) ?? "?"),
            (L("原因", en: "reason"), "\(QuarantineReason(rawValue: e.reason)?.displayLabel ?? e.reason) (\(e.reason))"),
            (L("说明", en: "detail"), e.detail), (L("来自", en: "from"), e.from), (L("接收时间", en: "received"), Output.time(e.received_at, seconds: true)),
            (L("变更时间", en: "changed"), Output.time(d.hlc_time, seconds: true)),
        ])
        guard !d.writes.isEmpty else { return Output.line(L("（这个变更的字节无法解读）", en: "(the change's bytes are not readable)")) }
        var table = TextTable([L("集合", en: "collection"), L("记录", en: "record"), L("字段", en: "fields")], maxWidths: [nil, nil, 80])
        for w in d.writes { table.add([w.collection, w.record, w.fields.joined(separator: " ")]) }
        Output.line(table.render(fitting: TerminalWidth.current()))
    }
}

struct QuarantineRelease: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release", abstract: L("现在重试暂扣的变更（升级或名册变动之后）；仍被拒绝的继续暂扣。", en: "Try held changes again now (after an upgrade or a roster change); what is still refused stays held."))
    @OptionGroup var store: StoreOptions
    @Argument(help: ArgumentHelp(L("变更的编号，见 `gridsync quarantine list`；用 --all 时省略。", en: "The change's number from `gridsync quarantine list`; omit with --all."), valueName: "N")) var number: Int64?
    @Flag(help: L("重试所有暂扣的变更。", en: "Try every held change.")) var all = false

    func validate() throws {
        guard (number == nil) == all else { throw ValidationError(L("请给出变更编号 N，或 --all", en: "give a change number N, or --all")) }
    }

    func run() throws {
        let r = try store.open().releaseQuarantined(number)
        Output.line(L("已放行 \(r.applied) 条；\(r.quarantined.count) 条仍被拒绝——`gridsync quarantine list` 说明原因。", en: "Applied \(r.applied); \(r.quarantined.count) still refused — `gridsync quarantine list` says why."))
        if !r.quarantined.isEmpty { throw ExitCode(3) }
    }
}

struct QuarantineDiscard: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "discard", abstract: L("永久丢弃一个被拒绝的变更（仅限社区中心；此操作记入 quarantine_audit）。", en: "Drop a refused change for good (centre only; the act is kept in quarantine_audit)."))
    @OptionGroup var store: StoreOptions
    @OptionGroup var which: QuarantineNumber

    func run() throws {
        try store.open().discardQuarantined(which.number)
        Output.line(L("已丢弃 \(which.number)（记入 quarantine_audit）。", en: "Discarded \(which.number); recorded in quarantine_audit."))
    }
}

extension JoinCommand {
    /// Syncs once with the centre until its key grants for this node arrive (the centre issues
    /// them on receiving this node's profile), so residents' data can be written at once, even
    /// offline afterwards. Gives up after 20 s with a word; the daemon fetches them later.
    static func fetchKeys(_ s: Store, _ centre: String) {
        guard (try? s.holdsKeys()) != true else { return }
        guard let lock = try? DaemonLock(store: s.path) else {
            Output.line(L("本机守护进程在运行，它会取回本节点的密钥。", en: "The daemon running on this store fetches this node's keys."))
            return
        }
        defer { withExtendedLifetime(lock) {} }
        var config = SyncNode.Configuration()
        config.peers = [centre]
        var logger = Logger(label: "gridsync.join")
        logger.logLevel = .critical
        let node: SyncNode
        do {
            config.tls = try NodeTLS(key: s.nodeKey, name: s.node.name)
            node = try SyncNode(store: s, configuration: config, logger: logger)
            _ = try node.start()
        } catch {
            Output.line(L("未能与社区中心同步以取回密钥（\(error)）；`gridsync daemon` 稍后会取回。", en: "Could not sync with the centre to fetch keys (\(error)); `gridsync daemon` fetches them later."))
            return
        }
        defer { node.stop() }
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if (try? s.holdsKeys()) == true {
                Output.line(L("已收到本节点的密钥，可以登记居民信息了。", en: "This node's keys arrived: residents' data can be written now."))
                return
            }
            usleep(100_000)
        }
        Output.line(L("尚未收到密钥；请保持联网并运行 `gridsync daemon`，收到后才能写入居民信息。", en: "No keys yet: keep the daemon running with the centre reachable; residents' data can be written once they arrive."))
    }
}

/// `gridsync join`: make this laptop a member of a community.
struct JoinCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "join",
        abstract: L("加入社区：找到社区中心，用社区 ID 核对它的密钥，并记住两者。", en: "Join a community: find its centre, check its key against the community ID, and remember both."),
        discussion: L("""
            先把本节点的 ID（`gridsync id`）告诉社区中心，由它运行 `gridsync roster add`。然后用社区中心给你的社区 ID \
            （写在纸上、打电话告知均可）：

              gridsync join --centre 192.168.1.10:7420 --community XXXXXXXXX-XXXXXXXXX-XXXXXXXXX-XXXXXXXXX

            它通过双向 TLS 连接社区中心，核对中心的密钥与社区 ID 相符（输错或冒充都会被拒绝），\
            并记下社区、中心及其地址：此后 `gridsync daemon` 默认拨号它。没有网络（只用数据包）时，\
            改为给出社区中心的节点 ID：--centre-id 节点ID。
            """, en: """
            First tell the centre this node's ID (`gridsync id`) so it runs `gridsync roster add`. Then, with \
            the community ID the centre gave you (on paper, by phone — as Syncthing exchanges device IDs):

              gridsync join --centre 192.168.1.10:7420 --community XXXXXXXXX-XXXXXXXXX-XXXXXXXXX-XXXXXXXXX

            connects to the centre over mutual TLS, checks that its key hashes to the community ID (so a \
            typo or an impostor is refused), and records the community, the centre and its address: \
            `gridsync daemon` then dials it by default. Without a network (bundles only), give the centre's \
            node ID instead: --centre-id NODE_ID.
            """))
    @OptionGroup var store: StoreOptions
    @Option(help: ArgumentHelp(L("社区中心给出的社区 ID（社区编号）。", en: "The community ID from the centre."), valueName: "ID")) var community: String
    @Option(help: ArgumentHelp(L("社区中心的同步地址；join 会连接它。", en: "The centre's sync address; join connects to it."), valueName: "HOST:PORT")) var centre: String?
    @Option(name: .customLong("centre-id"), help: ArgumentHelp(L("社区中心的节点 ID，用于不联网加入。", en: "The centre's node ID, to join without connecting."), valueName: "NODE_ID"))
    var centreID: String?

    func validate() throws {
        guard centre != nil || centreID != nil else { throw ValidationError(L("请给出 --centre 主机:端口（或离线时 --centre-id 节点ID）", en: "give --centre HOST:PORT (or, offline, --centre-id NODE_ID)")) }
    }

    func run() throws {
        let communityID = try CommunityID(text: community)
        if let centre { _ = try DaemonCommand.parseAddress(centre, "centre") }
        let s = try store.open()
        let centreNode: NodeID
        if let centreID {
            centreNode = try NodeID(text: centreID)
        } else {
            let tls = try NodeTLS(key: s.nodeKey, name: s.node.name)
            centreNode = try tls.identifyCentre(at: centre!, community: communityID)
        }
        try s.join(community: communityID, centre: centreNode, address: centre)
        Output.line(L("已加入社区 \(communityID.text)（中心 \(centreNode.short)）。", en: "Joined community \(communityID.text) (centre \(centreNode.short))."))
        if let centre { Self.fetchKeys(s, centre) }
        Output.line(centre.map { L("此后 `gridsync daemon` 在不加 --peer 时拨号社区中心 \($0)。", en: "`gridsync daemon` now dials the centre at \($0) when given no --peer.") }
            ?? L("请运行 `gridsync daemon --peer 中心地址:7420`，或与社区中心交换数据包。", en: "Start `gridsync daemon --peer CENTRE_HOST:7420`, or exchange bundles with the centre."))
    }
}
