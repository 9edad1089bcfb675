import GridSyncStore
import Logging

/// The centre's retention setting (`retention_months`): at start and then every hour, erases
/// the personal data of requests rated or closed more than that many months ago. The erasures
/// are ordinary centre changes, so the daemon pushes them to every peer like any other write.
func retentionService(store: Store, months: Int, logger: Logger) -> PeriodicService {
    PeriodicService(interval: .seconds(3600)) {
        do {
            let n = try store.eraseDue(afterMonths: months)
            if n > 0 { logger.notice("retention: erased the personal data of \(n) request(s) rated or closed more than \(months) months ago") }
        } catch {
            logger.warning("retention: could not erase due requests: \(error)")
        }
    }
}
