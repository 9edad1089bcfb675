import Foundation

/// Charts drawn on the server as inline SVG: no script, nothing fetched. Each has a title and a
/// description for screen readers (`role="img"`), and every page shows the same figures in a
/// table beside it.
enum Charts {
    /// One line of a line chart: its name, colour (a CSS class) and a value per point (nil: no
    /// value that month).
    struct Series {
        var name: String
        var cssClass: String
        var values: [Double?]
    }

    /// Percentages (0…1) over labelled points: the four rates over twelve months.
    static func lines(title: String, description: String, labels: [String], series: [Series], id: String) -> String {
        let width = 720.0, height = 260.0, left = 44.0, right = 12.0, top = 14.0, bottom = 30.0
        let plotW = width - left - right, plotH = height - top - bottom
        let n = max(labels.count, 1)
        let step = n > 1 ? plotW / Double(n - 1) : 0
        func x(_ i: Int) -> Double { left + (n > 1 ? Double(i) * step : plotW / 2) }
        func y(_ v: Double) -> Double { top + plotH * (1 - min(max(v, 0), 1)) }
        var svg = """
            <svg class="chart" viewBox="0 0 \(Int(width)) \(Int(height))" role="img" aria-labelledby="\(id)-t \(id)-d" xmlns="http://www.w3.org/2000/svg">\
            <title id="\(id)-t">\(HTML.escape(title))</title><desc id="\(id)-d">\(HTML.escape(description))</desc>
            """
        for tick in stride(from: 0, through: 100, by: 25) {
            let ty = y(Double(tick) / 100)
            svg += "<line class=\"grid\" x1=\"\(f(left))\" y1=\"\(f(ty))\" x2=\"\(f(width - right))\" y2=\"\(f(ty))\"/>"
            svg += "<text class=\"axis\" x=\"\(f(left - 6))\" y=\"\(f(ty + 4))\" text-anchor=\"end\">\(tick)%</text>"
        }
        for (i, label) in labels.enumerated() {
            svg += "<text class=\"axis\" x=\"\(f(x(i)))\" y=\"\(f(height - 10))\" text-anchor=\"middle\">\(HTML.escape(label))</text>"
        }
        for s in series {
            // A gap where a month has nothing to count: the line is broken, not drawn to zero.
            var runs: [[(Double, Double)]] = [[]]
            for (i, v) in s.values.enumerated() {
                if let v { runs[runs.count - 1].append((x(i), y(v))) } else if !(runs.last?.isEmpty ?? true) { runs.append([]) }
            }
            for run in runs where !run.isEmpty {
                if run.count > 1 {
                    svg += "<polyline class=\"series \(s.cssClass)\" points=\"\(run.map { "\(f($0.0)),\(f($0.1))" }.joined(separator: " "))\"/>"
                }
                for p in run { svg += "<circle class=\"dot \(s.cssClass)\" cx=\"\(f(p.0))\" cy=\"\(f(p.1))\" r=\"3\"/>" }
            }
        }
        svg += "</svg>"
        let legend = series.map { "<li><span class=\"swatch \($0.cssClass)\"></span>\(HTML.escape($0.name))</li>" }.joined()
        return svg + "<ul class=\"legend\">\(legend)</ul>"
    }

    /// One horizontal bar per row: a label and a count, longest bar the largest count.
    static func bars(title: String, description: String, rows: [(label: String, value: Int)], id: String) -> String {
        let shown = Array(rows.prefix(40))
        let rowH = 26.0, labelW = 170.0, width = 720.0, valueW = 60.0
        let height = max(rowH * Double(shown.count) + 8, 34)
        let most = Double(max(shown.map(\.value).max() ?? 0, 1))
        var svg = """
            <svg class="chart" viewBox="0 0 \(Int(width)) \(Int(height))" role="img" aria-labelledby="\(id)-t \(id)-d" xmlns="http://www.w3.org/2000/svg">\
            <title id="\(id)-t">\(HTML.escape(title))</title><desc id="\(id)-d">\(HTML.escape(description))</desc>
            """
        for (i, r) in shown.enumerated() {
            let top = 4 + Double(i) * rowH
            let w = (width - labelW - valueW) * Double(r.value) / most
            let label = r.label.count > 14 ? String(r.label.prefix(13)) + "…" : r.label
            svg += "<text class=\"label\" x=\"\(f(labelW - 8))\" y=\"\(f(top + 17))\" text-anchor=\"end\">\(HTML.escape(label))</text>"
            svg += "<rect class=\"bar\" x=\"\(f(labelW))\" y=\"\(f(top + 3))\" width=\"\(f(max(w, r.value > 0 ? 2 : 0)))\" height=\"\(f(rowH - 8))\"/>"
            svg += "<text class=\"value\" x=\"\(f(labelW + w + 6))\" y=\"\(f(top + 17))\">\(r.value)</text>"
        }
        return svg + "</svg>"
    }

    private static func f(_ v: Double) -> String { String(format: "%.1f", v) }
}
