import ArgumentParser
import GridSyncCore
import GridSyncStore

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Create this node's store and key, and print its node ID.")

    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions

    @Option(help: "This node's display name, e.g. 三号楼 or 网格一.") var name: String
    @Option(help: "centre, grid or building.", completion: .list(["centre", "grid", "building"])) var role: String
    @Option(help: "The grid this node belongs to (grid and building nodes).") var grid: String?
    @Option(help: "The building this node looks after (building nodes).") var building: String?
    @Flag(help: "Protect the node key with a passphrase (asked twice, or read from GRIDSYNC_PASSPHRASE_FILE): without it a lost disk yields no resident's data.")
    var passphrase = false

    func validate() throws {
        guard let role = NodeRole(rawValue: role) else {
            throw ValidationError("--role must be centre, grid or building")
        }
        if role != .centre && (grid ?? "").isEmpty {
            throw ValidationError("a \(role.rawValue) node needs --grid")
        }
        if role == .building && (building ?? "").isEmpty {
            throw ValidationError("a building node needs --building")
        }
        if name.trimmingCharacters(in: .whitespaces).isEmpty || name.count > 64 {
            throw ValidationError("--name must be 1–64 characters")
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
            Output.line("Created store \(s.path) for \(role.label) node \(s.node.name).")
            Output.line("Node ID: \(s.node.id.text)")
            if let community {
                Output.line("Community ID (社区编号): \(community.id.text)")
                Output.line("Give it to each laptop with the centre's address; enrol each laptop's node ID with `gridsync roster add`.")
            } else {
                Output.line("Next: give this node ID to the centre (it runs `gridsync roster add`), then `gridsync join`.")
            }
        }
    }
}

struct IDCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "id", abstract: "Print this node's ID and its community's ID (--json: node_id, community_id, …).")

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
        Output.line(community.map { "community \($0.id.text)" } ?? "community: none yet (`gridsync join`)")
    }
}
