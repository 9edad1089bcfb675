import Foundation
import GridSyncCore
import NIOConcurrencyHelpers
import Prometheus

/// The daemon's Prometheus metrics. Every family carries help text (promtool's linter asks for
/// it), which is why they are made on the registry directly rather than through the
/// swift-metrics factory, whose families have none.
///
/// Label values are node IDs and node display names (三号楼, 社区服务中心) — never residents'
/// data.
public final class NodeMetrics: Sendable {
    /// Everything the endpoint shows.
    public let registry: PrometheusCollectorRegistry

    let peersConnected: Gauge
    let changesSent: Counter
    let changesReceived: Counter
    let changesRefused: Counter
    let applyDuration: DurationHistogram
    let openConflicts: Gauge
    let quarantined: Gauge
    let ownRefused: Gauge
    let wireBytesSent: Counter
    let wireBytesReceived: Counter
    private let lastSyncGauges = NIOLockedValueBox([String: Gauge]())
    /// Traffic already added to the wire counters.
    private let trafficCounted = NIOLockedValueBox(SyncNode.Traffic())

    /// The per-peer family's name and help; a descriptor is made from them per new peer.
    private static let lastSync = (metric: "peer_last_sync", unit: "timestamp_seconds",
                                   help: "When this node last knew a peer to hold everything it holds (Unix seconds), by peer node ID.")

    public init() {
        let r = PrometheusCollectorRegistry()
        registry = r
        func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "gridsync", metricName: metric, unitName: unit, helpText: help)
        }
        peersConnected = r.makeGauge(descriptor: name("peers", "connected", "Peers with an open, identified session."))
        changesSent = r.makeCounter(descriptor: name("changes_sent", "total", "Changes sent to peers."))
        changesReceived = r.makeCounter(descriptor: name("changes_received", "total", "Changes received from peers and applied (including ones already held)."))
        changesRefused = r.makeCounter(descriptor: name("batches_refused", "total", "Batches of changes refused as invalid; the peer was told why."))
        applyDuration = r.makeDurationHistogram(
            descriptor: name("apply_duration", "seconds", "Time to apply one group of received batches to the store, in one transaction."),
            buckets: [.microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                      .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500)])
        openConflicts = r.makeGauge(descriptor: name("conflicts", "open", "Fields with competing values waiting for a person to settle them."))
        quarantined = r.makeGauge(descriptor: name("quarantine", "changes", "Changes refused on receipt and kept in quarantine (see `gridsync quarantine list`)."))
        ownRefused = r.makeGauge(descriptor: name("own_refused", "changes", "This node's own changes that peers said they did not apply (see `gridsync quarantine list`)."))
        wireBytesSent = r.makeCounter(descriptor: name("wire_sent_bytes", "total", "Bytes sent on sync connections."))
        wireBytesReceived = r.makeCounter(descriptor: name("wire_received_bytes", "total", "Bytes received on sync connections."))
    }

    /// Records that `peer` held everything this node holds at `ms` (Unix milliseconds).
    func peerSynced(_ peer: NodeID, name: String, atMs ms: UInt64) {
        let gauge = lastSyncGauges.withLockedValue { gauges in
            if let g = gauges[peer.text] { return g }
            let g = registry.makeGauge(descriptor: MetricNameDescriptor(namespace: "gridsync", metricName: Self.lastSync.metric, unitName: Self.lastSync.unit, helpText: Self.lastSync.help), labels: [("peer", peer.text), ("peer_name", name)])
            gauges[peer.text] = g
            return g
        }
        gauge.set(to: Double(ms) / 1000)
    }

    /// Brings the wire counters up to the node's running totals.
    func countTraffic(_ total: SyncNode.Traffic) {
        let (sent, received) = trafficCounted.withLockedValue { counted -> (UInt64, UInt64) in
            defer { counted = total }
            return (total.sent &- counted.sent, total.received &- counted.received)
        }
        if sent > 0 { wireBytesSent.increment(by: Int64(clamping: sent)) }
        if received > 0 { wireBytesReceived.increment(by: Int64(clamping: received)) }
    }

    /// The Prometheus text exposition of every family.
    public func render() -> [UInt8] { registry.emitToBuffer() }
}
