import NIOConcurrencyHelpers
import NIOCore

/// Counts the bytes a connection reads and writes, into totals shared by all connections.
final class ByteCounter: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let totals: NIOLockedValueBox<SyncNode.Traffic>

    init(_ totals: NIOLockedValueBox<SyncNode.Traffic>) { self.totals = totals }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let n = UInt64(unwrapInboundIn(data).readableBytes)
        totals.withLockedValue { $0.received += n }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let n = UInt64(unwrapOutboundIn(data).readableBytes)
        totals.withLockedValue { $0.sent += n }
        context.write(data, promise: promise)
    }
}
