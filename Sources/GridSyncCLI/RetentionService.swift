import Foundation
import GridSyncCore
import GridSyncStore
import Logging
import ServiceLifecycle

/// The centre's retention setting (`retention_months`): at start and then every hour, erases
/// the personal data of requests rated or closed more than that many months ago. The erasures
/// are ordinary centre changes, so the daemon pushes them to every peer like any other write.
struct RetentionService: Service {
    let store: Store
    let months: Int
    let logger: Logger
    var interval: Duration = .seconds(3600)

    func run() async throws {
        try await cancelWhenGracefulShutdown { try await loop() }
    }

    private func loop() async throws {
        while !Task.isCancelled {
            do {
                let n = try store.eraseDue(afterMonths: months)
                if n > 0 { logger.notice("retention: erased the personal data of \(n) request(s) rated or closed more than \(months) months ago") }
            } catch {
                logger.warning("retention: could not erase due requests: \(error)")
            }
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
        }
    }
}
