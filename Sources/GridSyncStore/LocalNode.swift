import GridSyncCore

/// This node's identity and scope, as created by `gridsync init`.
public struct LocalNode: Sendable, Equatable {
    public var id: NodeID
    public var name: String
    public var role: NodeRole
    /// The grid a grid or building node belongs to.
    public var grid: String?
    /// The building a building node looks after.
    public var building: String?

    public init(id: NodeID, name: String, role: NodeRole, grid: String?, building: String?) {
        self.id = id
        self.name = name
        self.role = role
        self.grid = grid
        self.building = building
    }
}
