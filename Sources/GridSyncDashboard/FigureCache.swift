import Foundation
import GridSyncStore
import NIOConcurrencyHelpers

/// Report figures already worked out, by month and grouping, each valid while the store's
/// change log stays where it was and the day does not turn (overdue counts move with the day).
/// The daemon's refresher (``Dashboard/refresh()``) works out the current month again soon
/// after a change, so the page a person opens is usually ready.
final class FigureCache: Sendable {
    struct Entry {
        var position: Int64
        var day: String
        var figures: Figures
        var used: Date
    }

    typealias Figures = (report: RequestReport, series: [MonthFigures])

    static let maxEntries = 32
    private let entries = NIOLockedValueBox<[String: Entry]>([:])

    /// The figures for `month` by `by` (twelve months of series for the overview), from the
    /// cache if nothing changed since they were worked out.
    func figures(_ store: Store, month: String, by: ReportGrouping?, responseHours: Int) throws -> Figures {
        let key = "\(month)|\(by?.rawValue ?? "")|\(responseHours)"
        let position = try store.logPosition(), day = store.today()
        if let hit = entries.withLockedValue({ all -> Figures? in
            guard var e = all[key], e.position == position, e.day == day else { return nil }
            e.used = Date()
            all[key] = e
            return e.figures
        }) {
            return hit
        }
        let figures = try store.monthlyReport(month, months: by == nil ? 12 : 1, by: by, responseHours: responseHours)
        entries.withLockedValue { all in
            if all.count >= Self.maxEntries, let oldest = all.min(by: { $0.value.used < $1.value.used })?.key { all[oldest] = nil }
            all[key] = Entry(position: position, day: day, figures: figures, used: Date())
        }
        return figures
    }
}
