import Dispatch
import Foundation
import GridSyncStore
import Logging
import ServiceLifecycle

/// Keeps the store's search index up to date while the daemon runs — at start and then every
/// `interval` — so the first search after a sync answers at once instead of indexing first.
/// The index goes in steps (one write transaction of 2,000 requests each), so syncs writing
/// meanwhile wait for a step at most; the work runs off Swift's cooperative threads.
struct SearchIndexService: Service {
    let store: Store
    let logger: Logger
    var interval: Duration = .seconds(30)

    func run() async throws {
        try await cancelWhenGracefulShutdown { try await loop() }
    }

    private func loop() async throws {
        while !Task.isCancelled {
            let store = self.store
            let outcome: Result<Int, any Error> = await withCheckedContinuation { done in
                DispatchQueue.global(qos: .utility).async { done.resume(returning: Result { try store.refreshSearchIndex() }) }
            }
            switch outcome {
            case .success(let n) where n > 0: logger.info("search index: \(n) request(s) brought up to date")
            case .success: break
            case .failure(let error): logger.warning("search index: could not bring it up to date: \(error)")
            }
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
        }
    }
}
