import GridSyncStore
import Logging

/// Keeps the store's search index up to date while the daemon runs — at start and then every
/// 30 s — so the first search after a sync answers at once instead of indexing first. The index
/// goes in steps (one write transaction of 2,000 requests each), so syncs writing meanwhile
/// wait for a step at most.
func searchIndexService(store: Store, logger: Logger) -> PeriodicService {
    PeriodicService(interval: .seconds(30)) {
        do {
            let n = try store.refreshSearchIndex()
            if n > 0 { logger.info("search index: \(n) request(s) brought up to date") }
        } catch {
            logger.warning("search index: could not bring it up to date: \(error)")
        }
    }
}
