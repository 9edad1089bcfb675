import GridSyncCore
import GridSyncDistrict
import GridSyncStore
import Logging
import ServiceLifecycle

/// The centre's daemon with `district` in its config: pushes to the district database at start
/// and then every `interval`. A failed push (the server down, a network cut) is logged and tried
/// again at the next turn; each push is one transaction with its checkpoint, so it resumes
/// where the last one that committed left off.
struct DistrictService: Service {
    let store: Store
    let server: DistrictServer
    let interval: Duration
    /// A push still running after this long is cut off (nothing of it is written) and tried again.
    let timeout: Duration
    let logger: Logger

    func run() async throws {
        let quiet = DistrictOptions.logger
        try await cancelWhenGracefulShutdown {
            var failing = false
            while !Task.isCancelled {
                do {
                    let store = self.store
                    let r = try await server.withConnection(logger: quiet, timeout: timeout) { conn in try await DistrictPush.push(store, to: conn, logger: quiet) }
                    if r.requests + r.services > 0 || failing {
                        logger.info("district: pushed \(r.requests) requests and \(r.services) services to \(server) (change log up to \(r.pushed_through))")
                    }
                    failing = false
                } catch let e as GridSyncError {
                    logger.warning("district: push to \(server) failed, trying again in \(interval.components.seconds) s: \(e.localized.en)")
                    failing = true
                } catch {
                    logger.warning("district: push to \(server) failed, trying again in \(interval.components.seconds) s")
                    failing = true
                }
                do {
                    try await Task.sleep(for: interval)
                } catch {
                    return
                }
            }
        }
    }
}
