import ArgumentParser
import GridSyncCore
import GridSyncStore

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: L("创建本节点的存储和密钥，并打印节点 ID。", en: "Create this node's store and key, and print its node ID."))

    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions

    @Option(help: L("本节点的显示名称，例如 三号楼 或 网格一。", en: "This node's display name, e.g. Building 3 or Grid 1.")) var name: String
    @Option(help: L("centre（社区中心）、grid（网格）或 building（楼栋）。", en: "centre, grid or building."), completion: .list(["centre", "grid", "building"])) var role: String
    @Option(help: L("本节点所属的网格（网格和楼栋节点）。", en: "The grid this node belongs to (grid and building nodes).")) var grid: String?
    @Option(help: L("本节点负责的楼栋（楼栋节点）。", en: "The building this node looks after (building nodes).")) var building: String?
    @Flag(help: L("用口令保护节点密钥（输入两次，或从 GRIDSYNC_PASSPHRASE_FILE 读取）：丢失的磁盘不会泄露任何居民的数据。", en: "Protect the node key with a passphrase (asked twice, or read from GRIDSYNC_PASSPHRASE_FILE): without it a lost disk yields no resident's data."))
    var passphrase = false

    func validate() throws {
        guard let role = NodeRole(rawValue: role) else {
            throw ValidationError(L("--role 应为 centre、grid 或 building", en: "--role must be centre, grid or building"))
        }
        if role != .centre && (grid ?? "").isEmpty {
            throw ValidationError(L("\(role.label)节点需要 --grid", en: "a \(role.rawValue) node needs --grid"))
        }
        if role == .building && (building ?? "").isEmpty {
            throw ValidationError(L("楼栋节点需要 --building", en: "a building node needs --building"))
        }
        if name.trimmingCharacters(in: .whitespaces).isEmpty || name.count > 64 {
            throw ValidationError(L("--name 须为 1–64 个字符", en: "--name must be 1–64 characters"))
        }
    }

    func run() throws {
        let role = NodeRole(rawValue: role)!
        let secret = passphrase ? try Passphrase.forCreating() : nil
        let s = try Store.create(
            path: store.path, name: name.trimmingCharacters(in: .whitespaces), role: role,
            grid: role == .centre ? nil : grid, building: role == .building ? building : nil, passphrase: secret)
        let community = try s.community()
        if output.json {
            try Output.json(IDCommand.Identity(s.node, community))
        } else {
            Output.line(L("已为\(role.label)节点 \(s.node.name) 创建存储 \(s.path)。", en: "Created store \(s.path) for \(role.rawValue) node \(s.node.name)."))
            Output.line(L("节点 ID：\(s.node.id.text)", en: "Node ID: \(s.node.id.text)"))
            if let community {
                Output.line(L("社区编号：\(community.id.text)", en: "Community ID: \(community.id.text)"))
                Output.line(L("把它和社区中心的地址交给每台笔记本；用 `gridsync roster add` 登记每台笔记本的节点 ID。", en: "Give it to each laptop with the centre's address; enrol each laptop's node ID with `gridsync roster add`."))
            } else {
                Output.line(L("下一步：把这个节点 ID 交给社区中心（由它运行 `gridsync roster add`），然后运行 `gridsync join`。", en: "Next: give this node ID to the centre (it runs `gridsync roster add`), then `gridsync join`."))
            }
        }
    }
}

struct IDCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "id", abstract: L("打印本节点的 ID 和所属社区的 ID（--json：node_id、community_id 等）。", en: "Print this node's ID and its community's ID (--json: node_id, community_id, …)."))

    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions

    struct Identity: Encodable {
        var node_id: String
        /// nil (JSON null) until the node founds (centre) or joins a community.
        var community_id: String?
        var centre_id: String?
        var name: String
        var role: String
        var grid: String?
        var building: String?

        init(_ n: LocalNode, _ community: CommunityInfo?) {
            node_id = n.id.text
            community_id = community?.id.text
            centre_id = community?.centre.text
            name = n.name
            role = n.role.rawValue
            grid = n.grid
            building = n.building
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(node_id, forKey: .node_id)
            try c.encode(community_id, forKey: .community_id)
            try c.encode(centre_id, forKey: .centre_id)
            try c.encode(name, forKey: .name)
            try c.encode(role, forKey: .role)
            try c.encode(grid, forKey: .grid)
            try c.encode(building, forKey: .building)
        }

        enum CodingKeys: String, CodingKey { case node_id, community_id, centre_id, name, role, grid, building }
    }

    func run() throws {
        let s = try store.open()
        let community = try s.community()
        if output.json { return try Output.json(Identity(s.node, community)) }
        Output.line(s.node.id.text)
        Output.line(community.map { L("社区 \($0.id.text)", en: "community \($0.id.text)") } ?? L("社区：尚未加入（`gridsync join`）", en: "community: none yet (`gridsync join`)"))
    }
}
