import Foundation
import GridSyncCore

#if canImport(Glibc)
    import Glibc
#endif

// Two ways to run the same targets (Targets.swift):
//
// - the mutation loop below (the default build): `gridsync-fuzz --runs 1000000` mutates valid
//   seeds of every target, a million inputs each, reporting crashes, hangs and memory growth;
// - libFuzzer, coverage-guided, when built with
//   `-Xswiftc -sanitize=fuzzer,address -Xswiftc -DGRIDSYNC_LIBFUZZER` (see docs/FUZZING.md):
//   GRIDSYNC_FUZZ_TARGET picks the target.

/// The input being decoded, for the crash handler to save. Written before each run.
nonisolated(unsafe) var currentInput = UnsafeMutablePointer<UInt8>.allocate(capacity: Fuzz.maxInput)
nonisolated(unsafe) var currentCount = 0
nonisolated(unsafe) var crashPath = [CChar](repeating: 0, count: 4096)

enum Fuzz {
    /// Longest input tried: enough for a frame holding a compressed batch.
    static let maxInput = 1 << 16

    static func remember(_ input: [UInt8]) {
        currentCount = min(input.count, maxInput)
        input.withUnsafeBufferPointer { currentInput.update(from: $0.baseAddress!, count: currentCount) }
    }

    /// On a trap or fault: write the input being decoded to `crashPath`, then die. Only
    /// async-signal-safe calls.
    static func installCrashHandler(saveTo path: String) {
        let bytes = Array(path.utf8CString)
        for (i, b) in bytes.enumerated() where i < crashPath.count { crashPath[i] = b }
        for sig in [SIGILL, SIGTRAP, SIGSEGV, SIGBUS, SIGABRT, SIGFPE] {
            signal(sig) { s in
                let fd = open(&crashPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
                if fd >= 0 {
                    _ = write(fd, currentInput, currentCount)
                    close(fd)
                }
                let message = "gridsync-fuzz: crash (signal); input saved\n"
                _ = message.withCString { write(2, $0, strlen($0)) }
                _exit(70)
            }
        }
    }

    static func mutate(_ input: [UInt8], _ seeds: [[UInt8]], _ rng: inout SplitMix64) -> [UInt8] {
        var b = input
        let interesting: [UInt8] = [0, 1, 2, 0x3f, 0x40, 0x7f, 0x80, 0xfe, 0xff]
        for _ in 0..<Int.random(in: 1...6, using: &rng) {
            switch Int.random(in: 0..<10, using: &rng) {
            case 0 where !b.isEmpty: b[Int.random(in: 0..<b.count, using: &rng)] ^= UInt8(1 << Int.random(in: 0..<8, using: &rng))
            case 1 where !b.isEmpty: b[Int.random(in: 0..<b.count, using: &rng)] = interesting.randomElement(using: &rng)!
            case 2 where b.count < maxInput: b.insert(UInt8.random(in: 0...255, using: &rng), at: Int.random(in: 0...b.count, using: &rng))
            case 3 where !b.isEmpty: b.remove(at: Int.random(in: 0..<b.count, using: &rng))
            case 4 where !b.isEmpty: b.removeLast(Int.random(in: 0...min(b.count, 64), using: &rng))
            case 5 where b.count >= 4:
                // A big number where a length or count may sit: 0xffffffff, a long varint…
                let at = Int.random(in: 0..<(b.count - 3), using: &rng)
                let big: [[UInt8]] = [[0xff, 0xff, 0xff, 0xff], [0x80, 0x80, 0x80, 0x01], [0x7f, 0xff, 0xff, 0xff], [0, 0, 0, 0]]
                b.replaceSubrange(at..<(at + 4), with: big.randomElement(using: &rng)!)
            case 6 where !b.isEmpty && b.count < maxInput / 2:
                // Repeat a chunk.
                let from = Int.random(in: 0..<b.count, using: &rng)
                let len = Int.random(in: 1...min(64, b.count - from), using: &rng)
                b.insert(contentsOf: b[from..<(from + len)], at: Int.random(in: 0...b.count, using: &rng))
            case 7:
                // Splice with another seed.
                let other = seeds.randomElement(using: &rng)!
                let cut = Int.random(in: 0...b.count, using: &rng)
                let cut2 = Int.random(in: 0...other.count, using: &rng)
                b = Array(b[..<cut] + other[cut2...]).prefix(maxInput).map { $0 }
            default:
                if !b.isEmpty { b[Int.random(in: 0..<b.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
            }
        }
        return b
    }

    static func rssMiB() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kb = Double(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kb / 1024
    }
}

#if GRIDSYNC_LIBFUZZER
    nonisolated(unsafe) let libFuzzerTarget: FuzzTarget = {
        let name = ProcessInfo.processInfo.environment["GRIDSYNC_FUZZ_TARGET"] ?? "message"
        guard let t = FuzzTarget(rawValue: name) else { fatalError("GRIDSYNC_FUZZ_TARGET must be one of \(FuzzTarget.allCases.map(\.rawValue))") }
        return t
    }()

    @_cdecl("LLVMFuzzerTestOneInput")
    public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
        libFuzzerTarget.run(size == 0 ? [] : Array(UnsafeBufferPointer(start: data, count: size)))
        return 0
    }

    @_silgen_name("LLVMFuzzerRunDriver")
    func LLVMFuzzerRunDriver(
        _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

    /// SwiftPM names an executable's entry point after its module; hand over to libFuzzer's driver.
    @_cdecl("gridsync_fuzz_main")
    public func gridsyncFuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
        var count = argc
        var vector = argv
        return LLVMFuzzerRunDriver(&count, &vector) { data, size in fuzzOne(data, size) }
    }
#else
    @main
    struct FuzzMain {
        static func main() throws {
            var runs = 1_000_000
            var seed: UInt64 = 0x6772_6964
            var targets = FuzzTarget.allCases
            var out = "."
            var args = CommandLine.arguments.dropFirst()
            while let flag = args.popFirst() {
                switch flag {
                case "--runs": runs = Int(args.popFirst() ?? "") ?? runs
                case "--seed": seed = UInt64(args.popFirst() ?? "") ?? seed
                case "--target": targets = (args.popFirst() ?? "").split(separator: ",").compactMap { FuzzTarget(rawValue: String($0)) }
                case "--out": out = args.popFirst() ?? out
                case "--seeds":
                    // Write every target's seeds as a starting corpus for libFuzzer: DIR/TARGET/seed-N.
                    let dir = args.popFirst() ?? "corpus"
                    for target in FuzzTarget.allCases {
                        let sub = "\(dir)/\(target.rawValue)"
                        try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
                        for (i, seed) in try target.seeds().enumerated() {
                            try Data(seed).write(to: URL(fileURLWithPath: "\(sub)/seed-\(i)"))
                        }
                    }
                    print("seeds written to \(dir)/TARGET/")
                    exit(0)
                default:
                    print("usage: gridsync-fuzz [--runs N] [--seed S] [--target frame,message,change,bundle,ids] [--out DIR] | --seeds DIR")
                    exit(64)
                }
            }
            print("gridsync-fuzz: \(runs) mutated inputs per target, seed \(seed); crashing inputs go to \(out)/crash-TARGET.bin")
            var failed = false
            for target in targets {
                Fuzz.installCrashHandler(saveTo: "\(out)/crash-\(target.rawValue).bin")
                let seeds = try target.seeds()
                var rng = SplitMix64(seed: seed &+ UInt64(FuzzTarget.allCases.firstIndex(of: target)!))
                var corpus = seeds
                let progress = Progress()
                let out = out
                let watchdog = Thread {
                    // A hang: no progress for 10 s. Save the input and stop.
                    var last = -1
                    var still = 0
                    while !progress.done {
                        Thread.sleep(forTimeInterval: 1)
                        let now = progress.count
                        still = now == last ? still + 1 : 0
                        last = now
                        if still >= 10 {
                            let data = Data(bytes: currentInput, count: currentCount)
                            try? data.write(to: URL(fileURLWithPath: "\(out)/hang-\(target.rawValue).bin"))
                            print("gridsync-fuzz: \(target.rawValue): no progress for 10 s; input saved to \(out)/hang-\(target.rawValue).bin")
                            exit(71)
                        }
                    }
                }
                watchdog.start()
                let started = Date()
                var rssAfterWarmup = 0.0
                for i in 0..<runs {
                    let base = corpus[Int(rng.next() % UInt64(corpus.count))]
                    let input = Fuzz.mutate(base, seeds, &rng)
                    Fuzz.remember(input)
                    target.run(input)
                    progress.count = i + 1
                    // Keep a few mutants as bases: deeper mutations of near-valid inputs.
                    if i % 97 == 0 { corpus.append(input); if corpus.count > 256 { corpus.remove(at: seeds.count) } }
                    if i == runs / 10 { rssAfterWarmup = Fuzz.rssMiB() }
                }
                progress.done = true
                let growth = Fuzz.rssMiB() - rssAfterWarmup
                let seconds = Date().timeIntervalSince(started)
                print(String(format: "%@ %d inputs in %.1f s (%.0f/s), no crash, no hang; RSS grew %.1f MiB after warm-up", target.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0), runs, seconds, Double(runs) / seconds, growth))
                if growth > 64 {
                    print("gridsync-fuzz: \(target.rawValue): memory grew by \(growth) MiB — a leak?")
                    failed = true
                }
            }
            exit(failed ? 1 : 0)
        }
    }

    final class Progress: @unchecked Sendable {
        var count = 0
        var done = false
    }
#endif
