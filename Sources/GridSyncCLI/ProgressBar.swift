import Foundation

/// A progress bar on standard error for work that takes more than a second: drawn only on a
/// terminal, at most ten times a second, and wiped when the work is done, so scripts and
/// logs never see it.
final class ProgressBar {
    private let label: String
    private let start = Date()
    private var lastDraw = Date.distantPast
    private var drawn = false
    private let enabled: Bool

    /// `label` says what is being done, e.g. 导入 or 建立检索索引.
    init(_ label: String, enabled: Bool = isatty(STDERR_FILENO) == 1) {
        self.label = label
        self.enabled = enabled
    }

    /// `done` of `total` steps are done.
    func update(_ done: Int, of total: Int) {
        guard enabled, total > 0 else { return }
        let now = Date()
        guard now.timeIntervalSince(start) >= 1, now.timeIntervalSince(lastDraw) >= 0.1 || done == total else { return }
        lastDraw = now
        drawn = true
        let width = 30
        let filled = min(width, done * width / total)
        let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
        FileHandle.standardError.write(Data("\r\(label) \(bar) \(done * 100 / total)% \(done)/\(total)\u{1B}[K".utf8))
    }

    /// Clears the bar (if it was drawn).
    func finish() {
        guard drawn else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        drawn = false
    }
}
