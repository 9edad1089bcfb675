// gridsync-bench: release-mode benchmarks that print their figures and, last, one JSON line.
//
//   swift run -c release gridsync-bench import [--requests N]
//   swift run -c release gridsync-bench sync [--requests N] [--tls]
//
// See docs/PERFORMANCE.md for the recorded figures and what each one measures.
import Foundation
import GridSyncCore
import GridSyncStore

let arguments = Array(CommandLine.arguments.dropFirst())

func usage() -> Never {
    FileHandle.standardError.write(Data("usage: gridsync-bench import|sync [--requests N] [--dir PATH] [--tls]\n".utf8))
    exit(64)
}

guard let mode = arguments.first else { usage() }
if mode == "serve" { try Serve.run(Array(arguments.dropFirst())) }
var requests = 100_000
var baseDir = NSTemporaryDirectory()
var tls = false
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
    case "--dir":
        guard i + 1 < arguments.count else { usage() }
        baseDir = arguments[i + 1]
        i += 2
    default: usage()
    }
}

switch mode {
case "import":
    try ImportBenchmark(requests: requests, baseDir: baseDir).run()
case "sync":
    try SyncBenchmark(requests: requests, baseDir: baseDir, tls: tls).run()
default:
    usage()
}
