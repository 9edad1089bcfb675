import ServiceLifecycle

/// Runs a started ``SyncNode`` inside a `ServiceGroup` until graceful shutdown (SIGTERM,
/// SIGINT), then stops it: every peer is told ERROR "shutting down", connections and the
/// listener close, pending store work finishes.
public struct SyncNodeService: Service {
    let node: SyncNode

    public init(node: SyncNode) { self.node = node }

    public func run() async throws {
        try? await gracefulShutdown()
        node.stop()
    }
}
