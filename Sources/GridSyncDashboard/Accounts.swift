import Crypto
import CryptoExtras
import Foundation
import GridSyncCore
import GridSyncStore
import NIOConcurrencyHelpers

/// Dashboard passwords, stored as scrypt hashes: `scrypt$N$r$p$salt$hash` (base64 salt and
/// hash). Parameters are read back from the credential, within limits, so they can be raised
/// later without breaking old accounts.
public enum PasswordHash {
    public static let minCharacters = 10
    public static let maxBytes = 1024
    /// 16 MiB and about 50 ms per sign-in.
    static let rounds = 16384, blockSize = 8, parallelism = 1

    /// Refuses a password too short to protect residents' data, or absurdly long.
    public static func check(_ password: String) throws {
        guard password.count >= minCharacters else {
            throw GridSyncError(.invalidInput, Localized("密码至少 \(minCharacters) 个字符", en: "the password must have at least \(minCharacters) characters"))
        }
        guard password.utf8.count <= maxBytes else {
            throw GridSyncError(.invalidInput, Localized("密码过长（超过 \(maxBytes) 字节）", en: "the password is longer than \(maxBytes) bytes"))
        }
    }

    /// A new credential for `password` with a fresh salt.
    public static func make(_ password: String) throws -> String {
        try check(password)
        var salt = [UInt8](repeating: 0, count: 16)
        var rng = SystemRandomNumberGenerator()
        for i in salt.indices { salt[i] = rng.next() }
        let hash = try derive(Array(password.utf8), salt, rounds, blockSize, parallelism)
        return "scrypt$\(rounds)$\(blockSize)$\(parallelism)$\(Data(salt).base64EncodedString())$\(Data(hash).base64EncodedString())"
    }

    /// Whether `password` matches `credential`; false for any credential it cannot read.
    public static func verify(_ password: String, credential: String) -> Bool {
        guard password.utf8.count <= maxBytes else { return false }
        let parts = credential.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "scrypt", let n = Int(parts[1]), let r = Int(parts[2]), let p = Int(parts[3]),
              // Limits before any work: a credential from elsewhere cannot make a sign-in take
              // a gigabyte.
              (1024...(1 << 20)).contains(n), n & (n - 1) == 0, (1...16).contains(r), (1...4).contains(p),
              let salt = Data(base64Encoded: String(parts[4])), (8...64).contains(salt.count),
              let expected = Data(base64Encoded: String(parts[5])), expected.count == 32,
              let got = try? derive(Array(password.utf8), Array(salt), n, r, p) else { return false }
        var diff: UInt8 = 0
        for (a, b) in zip(got, expected) { diff |= a ^ b }
        return diff == 0
    }

    /// Spent on a sign-in for an account that does not exist, so its timing says nothing.
    static let decoy = "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="

    private static func derive(_ password: [UInt8], _ salt: [UInt8], _ n: Int, _ r: Int, _ p: Int) throws -> [UInt8] {
        do {
            let key = try KDF.Scrypt.deriveKey(from: password, salt: salt, outputByteCount: 32, rounds: n, blockSize: r, parallelism: p)
            return key.withUnsafeBytes { Array($0) }
        } catch {
            throw GridSyncError(.io, Localized("无法计算密码散列（scrypt 失败，内存不足？）", en: "cannot hash the password: scrypt failed — out of memory?"))
        }
    }
}

/// Signed-in sessions, in memory: a daemon restart signs everyone out. The cookie carries a
/// random token; only its SHA-256 is kept, so a memory dump lets nobody in.
final class SessionBook: Sendable {
    struct Session {
        var user: String
        var expires: Date
        var lastUsed: Date
    }

    static let lifetime: TimeInterval = 8 * 3600
    static let idle: TimeInterval = 3600
    static let maxSessions = 1000

    private let sessions = NIOLockedValueBox<[String: Session]>([:])

    /// A new session for `user`; the token for its cookie.
    func open(_ user: String, now: Date = Date()) -> String {
        var rng = SystemRandomNumberGenerator()
        let token = (0..<4).map { _ in String(format: "%016llx", rng.next() as UInt64) }.joined()
        sessions.withLockedValue { all in
            all = all.filter { $0.value.expires > now && now.timeIntervalSince($0.value.lastUsed) < Self.idle }
            if all.count >= Self.maxSessions, let oldest = all.min(by: { $0.value.lastUsed < $1.value.lastUsed })?.key {
                all[oldest] = nil
            }
            all[Self.digest(token)] = Session(user: user, expires: now.addingTimeInterval(Self.lifetime), lastUsed: now)
        }
        return token
    }

    /// Who `token` signs in, if its session is current.
    func user(_ token: String, now: Date = Date()) -> String? {
        guard token.utf8.count == 64 else { return nil }
        let key = Self.digest(token)
        return sessions.withLockedValue { all in
            guard var s = all[key] else { return nil }
            guard s.expires > now, now.timeIntervalSince(s.lastUsed) < Self.idle else {
                all[key] = nil
                return nil
            }
            s.lastUsed = now
            all[key] = s
            return s.user
        }
    }

    func close(_ token: String) {
        let key = Self.digest(token)
        _ = sessions.withLockedValue { $0.removeValue(forKey: key) }
    }

    /// Ends every session of `user` (after its account was removed).
    func closeAll(of user: String) {
        sessions.withLockedValue { all in all = all.filter { $0.value.user != user } }
    }

    private static func digest(_ token: String) -> String {
        SHA256.hash(data: Array(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

/// Failed sign-ins, counted per client address and per account name over a window: past the
/// limit a sign-in is refused before its password is checked, until the window has passed.
final class LoginThrottle: Sendable {
    static let window: TimeInterval = 15 * 60
    static let perAddress = 5
    static let perAccount = 10
    static let maxTracked = 10_000

    private let failures = NIOLockedValueBox<[String: [Date]]>([:])

    /// Seconds to wait before another try, or nil if one may be made now.
    func retryAfter(address: String, account: String, now: Date = Date()) -> Int? {
        failures.withLockedValue { all in
            var wait: TimeInterval = 0
            for (key, limit) in [("a:" + address, Self.perAddress), ("n:" + account, Self.perAccount)] {
                let recent = (all[key] ?? []).filter { now.timeIntervalSince($0) < Self.window }
                all[key] = recent.isEmpty ? nil : recent
                if recent.count >= limit, let first = recent.first { wait = max(wait, Self.window - now.timeIntervalSince(first)) }
            }
            return wait > 0 ? Int(wait.rounded(.up)) : nil
        }
    }

    func failed(address: String, account: String, now: Date = Date()) {
        failures.withLockedValue { all in
            if all.count >= Self.maxTracked { all = all.filter { ($0.value.last.map { now.timeIntervalSince($0) } ?? .infinity) < Self.window } }
            all["a:" + address, default: []].append(now)
            all["n:" + account, default: []].append(now)
        }
    }

    func succeeded(address: String) {
        _ = failures.withLockedValue { $0.removeValue(forKey: "a:" + address) }
    }
}
