import ArgumentParser
import Foundation
import GridSyncCore
import GridSyncNode
import GridSyncStore

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
    @Option(help: "grid or building.") var role: String
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
                e.node_id, e.name ?? "", e.role.flatMap(NodeRole.init).map(\.label) ?? "?", e.grid ?? "—", e.building ?? "—",
                e.status == "revoked" ? "已吊销 revoked" : "有效 active", Output.time(e.revoked_at, seconds: true),
            ])
        }
        Output.line(table.render())
    }
}

struct RosterRevoke: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revoke", abstract: "Revoke a node (a lost or stolen laptop): its connections and later changes are refused everywhere.")
    @OptionGroup var store: StoreOptions
    @Argument(help: "The node ID to revoke.") var nodeID: String

    func run() throws {
        let id = try NodeID(text: nodeID)
        try store.open().rosterRevoke(id)
        Output.line("Revoked \(id.short). The centre's daemon refuses it now; every other node does from its next sync with the centre. Changes it made before now stay.")
    }
}

/// `gridsync quarantine`: changes refused on receipt.
struct QuarantineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quarantine", abstract: "Changes refused on receipt (bad signature, outside their node's scope, revoked node…) and kept for inspection.",
        subcommands: [QuarantineList.self], defaultSubcommand: QuarantineList.self)
}

struct QuarantineList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List quarantined changes: origin, reason, when, from where.")
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions

    func run() throws {
        let list = try store.open().quarantine()
        if output.json { return try Output.json(list) }
        if list.isEmpty { return Output.line("隔离区为空 (no quarantined changes).") }
        var table = TextTable(["来源节点 origin", "seq", "原因", "reason", "接收时间", "来自 from", "说明 detail"], maxWidths: [24, nil, nil, nil, nil, 28, 70])
        for e in list {
            let reason = QuarantineReason(rawValue: e.reason)
            table.add([
                Output.node(e.origin, e.origin_name), e.seq.map(String.init) ?? "?", reason?.label ?? e.reason, e.reason,
                Output.time(e.received_at, seconds: true), e.from, e.detail,
            ])
        }
        Output.line(table.render())
        Output.line("\(list.count) 条被隔离的变更 — nothing in them was applied. Changes refused because a node was not yet enrolled are applied by themselves once the centre enrols it.")
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
        Output.line(centre.map { "`gridsync daemon` now dials the centre at \($0) when given no --peer." }
            ?? "Start `gridsync daemon --peer CENTRE_HOST:7420`, or exchange bundles with the centre.")
    }
}
