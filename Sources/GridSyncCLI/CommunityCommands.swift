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
        abstract: "The community's members (名册): enrol, list and revoke nodes. Written on the centre, signed by it, replicated everywhere.",
        subcommands: [RosterAdd.self, RosterList.self, RosterRevoke.self])
}

struct RosterAdd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add", abstract: "Enrol a node (its ID from `gridsync id` on that machine) with a role and scope.")
    @OptionGroup var store: StoreOptions
    @Argument(help: "The node ID, as `gridsync id` prints it (dashes optional).") var nodeID: String
    @Option(help: "A name people recognise, e.g. 三号楼 or 网格一.") var name: String
    @Option(help: "grid or building.", completion: .list(["grid", "building"])) var role: String
    @Option(help: "The grid the node serves.") var grid: String?
    @Option(help: "The building a building node looks after.") var building: String?

    func run() throws {
        let id = try NodeID(text: nodeID)
        guard let role = NodeRole(rawValue: role), role != .centre else {
            throw GridSyncError(.invalidInput, "--role must be grid or building")
        }
        let s = try store.open()
        try s.rosterAdd(id, name: name, role: role, grid: grid, building: building)
        Output.line("Enrolled \(id.short) (\(name)) as \(role.label) node. It can connect once the centre's daemon runs; other nodes learn of it at their next sync.")
    }
}

struct RosterList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the roster as this node holds it.")
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions
    @Flag(help: "Every column in full, however wide (otherwise the table fits the terminal or COLUMNS).") var wide = false

    func run() throws {
        let s = try store.open()
        let list = try s.roster()
        if output.json { return try Output.json(list) }
        guard let community = try s.community() else {
            return Output.line("此节点尚未加入社区 (this node belongs to no community yet; run `gridsync join`).")
        }
        Output.line("社区 community \(community.id.text) · 中心 centre \(community.centre.short)")
        if list.isEmpty { return Output.line("名册为空 (no members enrolled yet; the centre runs `gridsync roster add NODE_ID …`).") }
        var table = TextTable(["节点 node", "名称", "角色", "网格", "楼栋", "状态", "吊销时间"], maxWidths: [nil, 24, nil, nil, nil, nil, nil])
        for e in list {
            table.add([
                // The first two groups are unique in any real roster and typed wherever an ID is asked for.
                wide ? e.node_id : String(e.node_id.prefix(15)), e.name ?? "", e.role.flatMap(NodeRole.init).map(\.label) ?? "?", e.grid ?? "—", e.building ?? "—",
                e.status == "revoked" ? "已吊销 revoked" : "有效 active", Output.time(e.revoked_at, seconds: true),
            ])
        }
        // Node IDs give way first (any unique prefix is accepted wherever an ID is asked for).
        Output.line(table.render(fitting: wide ? nil : TerminalWidth.current(), keep: [1, 2, 5]))
    }
}

struct RosterRevoke: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke", abstract: "Revoke a node (a lost or stolen laptop): its connections and later changes are refused everywhere.")
    @OptionGroup var store: StoreOptions
    @Argument(help: "The node ID to revoke, or the start of it (the 7 characters messages show).") var nodeID: String
    @OptionGroup var confirmation: ConfirmOptions

    func run() throws {
        let s = try store.open()
        let id = try s.rosterMember(nodeID)
        let name = try s.roster().first { $0.node_id == id.text }?.name ?? "?"
        try confirmation.confirm("吊销节点 \(id.short) (\(name))? (revoke: it stays revoked; a recovered laptop needs a new store)")
        try s.rosterRevoke(id)
        Output.line("Revoked \(id.short). The centre's daemon refuses it now; every other node does from its next sync with the centre. Changes it made before now stay.")
    }
}

/// `gridsync quarantine`: changes refused on receipt, and this node's own changes peers refused.
struct QuarantineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quarantine",
        abstract: "隔离区: changes refused on receipt (outside their node's scope, revoked node, bad signature…), and this node's own changes that peers refused.",
        subcommands: [QuarantineList.self, QuarantineShow.self, QuarantineRelease.self, QuarantineDiscard.self],
        defaultSubcommand: QuarantineList.self)
}

struct QuarantineList: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List refused changes: number, state, origin, reason, when, from where; then this node's own refused changes.")
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
        if list.isEmpty { Output.line("隔离区为空 (no refused changes received).") }
        if !list.isEmpty {
            var table = TextTable(["编号", "状态", "来源节点 origin", "seq", "原因", "接收时间", "来自 from", "说明 detail"], maxWidths: [nil, nil, 24, nil, nil, nil, 28, 70])
            for e in list {
                let reason = QuarantineReason(rawValue: e.reason)
                let seq = e.last_seq.map { "\(e.seq ?? 0)–\($0)" } ?? e.seq.map(String.init) ?? "?"
                table.add([
                    e.id.map(String.init) ?? "—", Self.stateLabel(e.state), Output.node(e.origin, e.origin_name), seq,
                    reason?.label ?? e.reason, Output.time(e.received_at, seconds: true), e.from, e.detail,
                ])
            }
            Output.line(table.render(fitting: TerminalWidth.current()))
            Output.line("\(list.count) 条 — 作废 void: in the log, its ops not applied, its node's later changes apply; "
                + "暂扣 held: kept aside, its node's later changes wait behind it; 计数 counted: not kept, offered again by the sender. "
                + "`gridsync quarantine show N` says what a change tried.")
        }
        if !own.isEmpty {
            Output.line()
            Output.line("本节点被对端拒绝的变更 (this node's own changes that peers refused):")
            var table = TextTable(["对端 peer", "seq", "原因 code", "时间"], maxWidths: [60, nil, nil, nil])
            for r in own { table.add([r.peer, String(r.seq), Self.codeLabel(r.code), Output.time(r.at, seconds: true)]) }
            Output.line(table.render(fitting: TerminalWidth.current()))
            Output.line("Write again within this node's scope (`gridsync status` shows it); the refused changes stay unapplied there.")
        }
    }

    static func stateLabel(_ state: String) -> String {
        switch state {
        case "void": "作废 void"
        case "held": "暂扣 held"
        default: "计数 counted"
        }
    }

    static func codeLabel(_ code: Int) -> String {
        RefusalCode.reason(of: code).map { "\($0.label) \($0.rawValue)" } ?? String(code)
    }
}

/// Options naming one quarantined change by its number.
struct QuarantineNumber: ParsableArguments {
    @Argument(help: ArgumentHelp("The change's number (编号) from `gridsync quarantine list`.", valueName: "N")) var number: Int64
}

struct QuarantineShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "What a refused change tried to write: records and fields (never values).")
    @OptionGroup var store: StoreOptions
    @OptionGroup var which: QuarantineNumber
    @OptionGroup var output: OutputOptions

    func run() throws {
        let d = try store.open().quarantineDetail(which.number)
        if output.json { return try Output.json(d) }
        let e = d.entry
        Output.fields([
            ("编号", String(which.number)), ("状态", QuarantineList.stateLabel(e.state)), ("来源节点", Output.node(e.origin, e.origin_name)),
            ("seq", e.seq.map(String.init) ?? "?"), ("原因", "\(QuarantineReason(rawValue: e.reason)?.label ?? e.reason) \(e.reason)"),
            ("说明", e.detail), ("来自", e.from), ("接收时间", Output.time(e.received_at, seconds: true)), ("变更时间", Output.time(d.hlc_time, seconds: true)),
        ])
        guard !d.writes.isEmpty else { return Output.line("(the change's bytes are not readable)") }
        var table = TextTable(["集合 collection", "记录 record", "字段 fields"], maxWidths: [nil, nil, 80])
        for w in d.writes { table.add([w.collection, w.record, w.fields.joined(separator: " ")]) }
        Output.line(table.render(fitting: TerminalWidth.current()))
    }
}

struct QuarantineRelease: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release", abstract: "Try held changes again now (after an upgrade or a roster change); what is still refused stays held.")
    @OptionGroup var store: StoreOptions
    @Argument(help: ArgumentHelp("The change's number from `gridsync quarantine list`; omit with --all.", valueName: "N")) var number: Int64?
    @Flag(help: "Try every held change.") var all = false

    func validate() throws {
        guard (number == nil) == all else { throw ValidationError("give a change number N, or --all") }
    }

    func run() throws {
        let r = try store.open().releaseQuarantined(number)
        Output.line("已放行 \(r.applied) 条 (applied \(r.applied)); \(r.quarantined.count) still refused — `gridsync quarantine list` says why.")
        if !r.quarantined.isEmpty { throw ExitCode(3) }
    }
}

struct QuarantineDiscard: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "discard", abstract: "Drop a refused change for good (centre only; the act is kept in quarantine_audit).")
    @OptionGroup var store: StoreOptions
    @OptionGroup var which: QuarantineNumber

    func run() throws {
        try store.open().discardQuarantined(which.number)
        Output.line("已丢弃 \(which.number) (discarded; recorded in quarantine_audit).")
    }
}

extension JoinCommand {
    /// Syncs once with the centre until its key grants for this node arrive (the centre issues
    /// them on receiving this node's profile), so residents' data can be written at once, even
    /// offline afterwards. Gives up after 20 s with a word; the daemon fetches them later.
    static func fetchKeys(_ s: Store, _ centre: String) {
        guard (try? s.holdsKeys()) != true else { return }
        guard let lock = try? DaemonLock(store: s.path) else {
            Output.line("本机守护进程在运行，它会取回本楼栋的密钥 (the daemon running on this store fetches this node's keys).")
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
            Output.line("未能与社区中心同步以取回密钥 (could not sync with the centre to fetch keys: \(error)); `gridsync daemon` fetches them later.")
            return
        }
        defer { node.stop() }
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            if (try? s.holdsKeys()) == true {
                Output.line("已收到本节点的密钥，可以登记居民信息了 (this node's keys arrived: residents' data can be written now).")
                return
            }
            usleep(100_000)
        }
        Output.line("尚未收到密钥；请保持联网并运行 `gridsync daemon`，收到后才能写入居民信息 (no keys yet: keep the daemon running with the centre reachable; residents' data can be written once they arrive).")
    }
}

/// `gridsync join`: make this laptop a member of a community.
struct JoinCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "join",
        abstract: "Join a community: find its centre, check its key against the community ID, and remember both.",
        discussion: """
            First tell the centre this node's ID (`gridsync id`) so it runs `gridsync roster add`. Then, with \
            the community ID the centre gave you (on paper, by phone — as Syncthing exchanges device IDs):

              gridsync join --centre 192.168.1.10:7420 --community XXXXXXXXX-XXXXXXXXX-XXXXXXXXX-XXXXXXXXX

            connects to the centre over mutual TLS, checks that its key hashes to the community ID (so a \
            typo or an impostor is refused), and records the community, the centre and its address: \
            `gridsync daemon` then dials it by default. Without a network (bundles only), give the centre's \
            node ID instead: --centre-id NODE_ID.
            """)
    @OptionGroup var store: StoreOptions
    @Option(help: ArgumentHelp("The community ID (社区编号) from the centre.", valueName: "ID")) var community: String
    @Option(help: ArgumentHelp("The centre's sync address; join connects to it.", valueName: "HOST:PORT")) var centre: String?
    @Option(name: .customLong("centre-id"), help: ArgumentHelp("The centre's node ID, to join without connecting.", valueName: "NODE_ID"))
    var centreID: String?

    func validate() throws {
        guard centre != nil || centreID != nil else { throw ValidationError("give --centre HOST:PORT (or, offline, --centre-id NODE_ID)") }
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
        Output.line("Joined community \(communityID.text) (centre \(centreNode.short)).")
        if let centre { Self.fetchKeys(s, centre) }
        Output.line(centre.map { "`gridsync daemon` now dials the centre at \($0) when given no --peer." }
            ?? "Start `gridsync daemon --peer CENTRE_HOST:7420`, or exchange bundles with the centre.")
    }
}
