import NIOCore

/// Sent down the pipeline (outbound) by a session whose peer has identified itself: TLS done,
/// HELLO received and checked.
struct SessionIdentified {}

/// The first handler of every connection: closes it if its peer has not identified itself
/// (``SessionIdentified``) within the deadline — a stalled TLS handshake, or a client that
/// sends nothing — and tells the node once when the connection stops counting as
/// unidentified (identified or closed), so the listener can bound such connections.
final class HandshakeDeadline: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let deadline: TimeAmount
    private var release: (() -> Void)?
    private var timer: Scheduled<Void>?

    init(deadline: TimeAmount, release: (() -> Void)? = nil) {
        self.deadline = deadline
        self.release = release
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let loop = context.eventLoop
        let bound = NIOLoopBound(context, eventLoop: loop)
        timer = loop.scheduleTask(in: deadline) { bound.value.close(promise: nil) }
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard event is SessionIdentified else { return context.triggerUserOutboundEvent(event, promise: promise) }
        finish()
        promise?.succeed(())
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish()
        context.fireChannelInactive()
    }

    private func finish() {
        timer?.cancel()
        timer = nil
        release?()
        release = nil
    }
}
