import Dispatch
import ServiceLifecycle

/// A daemon's housekeeping: `work` at start and then every `interval` until shutdown, on a
/// Dispatch thread — store work blocks, and Swift's cooperative threads are few.
struct PeriodicService: Service {
    let interval: Duration
    let work: @Sendable () -> Void

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let work = self.work
                await withCheckedContinuation { done in
                    DispatchQueue.global(qos: .utility).async {
                        work()
                        done.resume()
                    }
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
