// gridsync-bench: release-mode benchmarks that print their figures and, last, one JSON line.
//
//   swift run -c release gridsync-bench import [--requests N] [--community]
//   swift run -c release gridsync-bench sync [--requests N] [--tls] [--community | --register]
//   swift run -c release gridsync-bench search [--requests N]
//   swift run -c release gridsync-bench dashboard [--requests N]
//   swift run -c release gridsync-bench csv [--requests N]      (needs the release gridsync beside it)
//   swift run -c release gridsync-bench district --postgres URL [--communities N] [--requests N]
//                                                                (a real PostgreSQL; password in $PGPASSWORD)
//
// --community: inside a real community (roster, per-change authorisation, sealed personal
// fields); --register: the centre's history is a register imported from rows, as from a CSV.
//
// See docs/PERFORMANCE.md for the recorded figures and what each one measures.
import Foundation
import GridSyncCore
import GridSyncStore

let arguments = Array(CommandLine.arguments.dropFirst())

func usage() -> Never {
    FileHandle.standardError.write(Data("usage: gridsync-bench import|sync|search|csv|district|dashboard [--requests N] [--dir PATH] [--tls] [--community] [--register] [--postgres URL] [--communities N]\n".utf8))
    exit(64)
}

guard let mode = arguments.first else { usage() }
if mode == "serve" { try Serve.run(Array(arguments.dropFirst())) }
var requests = 100_000
var baseDir = NSTemporaryDirectory()
var tls = false
var community = false
var register = false
var postgres: String?
var communities = 60
var i = 1
while i < arguments.count {
    switch arguments[i] {
    case "--requests":
        guard i + 1 < arguments.count, let n = Int(arguments[i + 1]), n > 0 else { usage() }
        requests = n
        i += 2
    case "--tls":
        tls = true
        i += 1
    case "--community":
        community = true
        i += 1
    case "--register":
        register = true
        community = true
        i += 1
    case "--postgres":
        guard i + 1 < arguments.count else { usage() }
        postgres = arguments[i + 1]
        i += 2
    case "--communities":
        guard i + 1 < arguments.count, let n = Int(arguments[i + 1]), n > 0 else { usage() }
        communities = n
        i += 2
    case "--dir":
        guard i + 1 < arguments.count else { usage() }
        baseDir = arguments[i + 1]
        i += 2
    default: usage()
    }
}

switch mode {
case "import":
    try ImportBenchmark(requests: requests, baseDir: baseDir, community: community).run()
case "csv":
    try CSVImportBenchmark(requests: requests, baseDir: baseDir).run()
case "dashboard":
    try await DashboardBenchmark(requests: requests, baseDir: baseDir).run()
case "search":
    try SearchBenchmark(requests: requests, baseDir: baseDir).run()
case "district":
    guard let postgres else { usage() }
    try await DistrictBenchmark(url: postgres, communities: communities, requests: arguments.contains("--requests") ? requests : 30_000, baseDir: baseDir).run()
case "sync":
    try SyncBenchmark(requests: requests, baseDir: baseDir, tls: tls, community: community, register: register).run()
default:
    usage()
}
