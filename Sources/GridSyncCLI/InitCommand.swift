import ArgumentParser
import GridSyncCore
import GridSyncStore

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Create this node's store and key, and print its node ID.")

    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions

    @Option(help: "This node's display name, e.g. 三号楼 or 网格一.") var name: String
    @Option(help: "centre, grid or building.") var role: String
    @Option(help: "The grid this node belongs to (grid and building nodes).") var grid: String?
    @Option(help: "The building this node looks after (building nodes).") var building: String?

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
        let s = try Store.create(
            path: store.path, name: name.trimmingCharacters(in: .whitespaces), role: role,
            grid: role == .centre ? nil : grid, building: role == .building ? building : nil)
        if output.json {
            try Output.json(IDCommand.Identity(s.node))
        } else {
            Output.line("Created store \(s.path) for \(role.label) node \(s.node.name).")
            Output.line("Node ID: \(s.node.id.text)")
        }
    }
}

struct IDCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "id", abstract: "Print this node's ID.")

    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions

    struct Identity: Encodable {
        var node_id: String
        var name: String
        var role: String
        var grid: String?
        var building: String?

        init(_ n: LocalNode) {
            node_id = n.id.text
            name = n.name
            role = n.role.rawValue
            grid = n.grid
            building = n.building
        }
    }

    func run() throws {
        let s = try store.open()
        if output.json { try Output.json(Identity(s.node)) } else { Output.line(s.node.id.text) }
    }
}
