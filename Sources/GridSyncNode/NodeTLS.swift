import Crypto
import Foundation
import GridSyncCore
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOSSL
import X509

/// Mutual TLS 1.3 bound to node keys.
///
/// Each node presents a self-signed certificate for its own Ed25519 node key, made afresh when
/// the daemon starts; TLS 1.3's CertificateVerify proves the peer holds the key. There is no
/// certificate authority: instead of a chain, the peer's key *is* its node ID, and a custom
/// verification callback asks the node whether that ID may connect (the centre, or an active
/// roster member). Both sides require a certificate, so a client without one (e.g. plain
/// `openssl s_client`) cannot complete a handshake.
public struct NodeTLS: Sendable {
    let certificate: NIOSSLCertificate
    let privateKey: NIOSSLPrivateKey
    public let nodeID: NodeID

    /// A certificate for `key`, valid from a day ago for 20 years (validity is not what the
    /// peer checks; the key is).
    public init(key: NodeKey, name: String) throws {
        let signing = Certificate.PrivateKey(key.privateKey)
        let subject = try DistinguishedName {
            CommonName("gridsync node \(key.nodeID.short)")
            OrganizationName("GridSync")
        }
        let now = Date()
        let cert = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: signing.publicKey,
            notValidBefore: now.addingTimeInterval(-86_400), notValidAfter: now.addingTimeInterval(20 * 365 * 86_400),
            issuer: subject, subject: subject, signatureAlgorithm: .ed25519,
            extensions: Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
            },
            issuerPrivateKey: signing)
        certificate = try NIOSSLCertificate(bytes: Array(try cert.serializeAsPEM().pemString.utf8), format: .pem)
        privateKey = try NIOSSLPrivateKey(bytes: Array(try signing.serializeAsPEM().pemString.utf8), format: .pem)
        nodeID = key.nodeID
    }

    /// TLS 1.3 only, Ed25519 only, a certificate required from the peer.
    func configuration(server: Bool) -> TLSConfiguration {
        var c = server
            ? TLSConfiguration.makeServerConfiguration(certificateChain: [.certificate(certificate)], privateKey: .privateKey(privateKey))
            : TLSConfiguration.makeClientConfiguration()
        c.certificateChain = [.certificate(certificate)]
        c.privateKey = .privateKey(privateKey)
        c.minimumTLSVersion = .tlsv13
        c.maximumTLSVersion = .tlsv13
        c.certificateVerification = .noHostnameVerification
        c.trustRoots = .certificates([])
        c.signingSignatureAlgorithms = [.ed25519]
        c.verifySignatureAlgorithms = [.ed25519]
        return c
    }

    /// The node ID a peer certificate is for: its key, if it is an Ed25519 key.
    public static func nodeID(of certificate: NIOSSLCertificate) -> NodeID? {
        // SubjectPublicKeyInfo of an Ed25519 key: a fixed 12-byte header, then the 32-byte key.
        let header: [UInt8] = [0x30, 0x2A, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x03, 0x21, 0x00]
        guard let spki = try? certificate.extractPublicKey().toSPKIBytes(), spki.count == 44, Array(spki.prefix(12)) == header else {
            return nil
        }
        return NodeID(bytes: spki.suffix(32))
    }
}

/// What the verification callback learnt about the peer of one connection: filled in during
/// the handshake, read by the session when HELLO arrives.
final class VerifiedPeer: Sendable {
    private let box = NIOLockedValueBox<NodeID?>(nil)
    var nodeID: NodeID? { box.withLockedValue { $0 } }
    func set(_ id: NodeID) { box.withLockedValue { $0 = id } }
}

extension NodeTLS {
    /// Why a peer may not connect, or nil if it may. Called off the event loop.
    public typealias Admission = @Sendable (NodeID) -> String?

    /// The TLS handler for one connection: verifies the peer's certificate with `admit` and
    /// records its node ID in `verified`. Refusals are logged by `refused`.
    func handler(
        server: Bool, context: NIOSSLContext, verified: VerifiedPeer, admit: @escaping Admission,
        refused: @escaping @Sendable (NodeID?, String) -> Void
    ) throws -> any ChannelHandler {
        let callback: NIOSSLCustomVerificationCallback = { certificates, promise in
            guard let leaf = certificates.first, let id = NodeTLS.nodeID(of: leaf) else {
                refused(nil, "its certificate does not carry an Ed25519 node key")
                promise.succeed(.failed)
                return
            }
            // The admission check reads the store: run it off the event loop.
            DispatchQueue.global().async {
                if let reason = admit(id) {
                    refused(id, reason)
                    promise.succeed(.failed)
                } else {
                    verified.set(id)
                    promise.succeed(.certificateVerified)
                }
            }
        }
        if server {
            return NIOSSLServerHandler(context: context, customVerificationCallback: callback)
        }
        return try NIOSSLClientHandler(context: context, serverHostname: nil, customVerificationCallback: callback)
    }
}

/// Completes a promise when the peer's first application bytes arrive — its HELLO, which it
/// sends only once it has accepted this node's certificate (in TLS 1.3 the client's handshake
/// completes before the server has judged the client) — or fails it when the connection errs
/// or closes first.
private final class HandshakeWaiter: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let promise: EventLoopPromise<Void>

    init(_ promise: EventLoopPromise<Void>) { self.promise = promise }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        promise.succeed(())
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(ChannelError.eof)
        context.fireChannelInactive()
    }
}

extension NodeTLS {
    /// A connection error in words: which step failed, without NIO's type names.
    static func describe(_ error: any Error) -> String {
        if let e = error as? NIOConnectionError {
            if e.dnsAAAAError != nil || e.dnsAError != nil, e.connectionErrors.isEmpty { return "the name \(e.host) does not resolve" }
            return e.connectionErrors.first.map { describe($0.error) } ?? "no address of \(e.host) answered"
        }
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)).lowercased() }
        if case ChannelError.connectTimeout = error { return "no answer in time" }
        return "\(error)"
    }

    /// Connects to `address`, completes a TLS handshake as this node, and returns the node ID of
    /// the peer if its key is the centre of `community`. Used by `gridsync join`: the community
    /// ID, given out of band, pins the centre's key.
    public func identifyCentre(at address: String, community: CommunityID, timeout: TimeAmount = .seconds(10)) throws -> NodeID {
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) else {
            throw GridSyncError(.invalidInput, Localized("社区中心地址「\(address)」应为 主机:端口，例如 192.168.1.10:7420", en: "centre address '\(address)' must be HOST:PORT, e.g. 192.168.1.10:7420"))
        }
        let host = String(address[..<colon])
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let context = try NIOSSLContext(configuration: configuration(server: false))
        let seen = VerifiedPeer()
        let wrongKey = NIOLockedValueBox<NodeID?>(nil)
        let done = group.next().makePromise(of: Void.self)
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let callback: NIOSSLCustomVerificationCallback = { certificates, promise in
                        guard let id = certificates.first.flatMap(NodeTLS.nodeID(of:)) else { return promise.succeed(.failed) }
                        if community.isCentre(id) {
                            seen.set(id)
                            promise.succeed(.certificateVerified)
                        } else {
                            wrongKey.withLockedValue { $0 = id }
                            promise.succeed(.failed)
                        }
                    }
                    let sync = channel.pipeline.syncOperations
                    try sync.addHandler(try NIOSSLClientHandler(context: context, serverHostname: nil, customVerificationCallback: callback))
                    try sync.addHandler(HandshakeWaiter(done))
                }
            }
        let channel: any Channel
        do {
            channel = try bootstrap.connect(host: host, port: port).wait()
        } catch {
            // No channel ever completes the handshake promise: complete it here, or NIO traps
            // on a promise leaked at shutdown.
            done.fail(error)
            throw GridSyncError(.io, Localized("无法连接社区中心 \(address)（\(Self.describe(error))）；请检查地址，并确认社区中心的守护进程在运行", en: "cannot connect to the centre at \(address) (\(Self.describe(error))); check the address and that the centre's daemon runs"))
        }
        defer { try? channel.close().wait() }
        let timer = group.next().scheduleTask(in: timeout) { done.fail(ChannelError.connectTimeout(timeout)) }
        defer { timer.cancel() }
        do {
            try done.futureResult.wait()
        } catch {
            if let other = wrongKey.withLockedValue({ $0 }) {
                throw GridSyncError(.notPermitted, Localized("\(address) 上的节点是 \(other.short)，不是社区 \(community.text) 的中心；请检查地址和社区 ID", en: "the node at \(address) is \(other.short), which is not the centre of community \(community.text); check the address and the community ID"))
            }
            throw GridSyncError(.notPermitted, Localized("\(address) 的社区中心没有接受本节点（\(error)）；请社区中心为它登记：gridsync roster add \(nodeID.text) --name … --role …", en: "the centre at \(address) did not accept this node (\(error)); ask the centre to enrol it: gridsync roster add \(nodeID.text) --name … --role …"))
        }
        guard let centre = seen.nodeID else {
            throw GridSyncError(.notPermitted, Localized("\(address) 的节点没有出示密钥证明；它是 GridSync 守护进程吗？", en: "the node at \(address) did not prove a key; is it a GridSync daemon?"))
        }
        return centre
    }
}
