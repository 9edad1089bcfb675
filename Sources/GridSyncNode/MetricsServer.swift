import NIOCore
import NIOHTTP1

/// Answers `GET /metrics` with the Prometheus text format; anything else gets 404 or 405.
/// One request per connection: the response closes it, which every scraper handles.
final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    /// Produces the exposition; called on the channel's event loop.
    private let render: @Sendable (any EventLoop) -> EventLoopFuture<[UInt8]>
    private var head: HTTPRequestHead?

    init(render: @escaping @Sendable (any EventLoop) -> EventLoopFuture<[UInt8]>) {
        self.render = render
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let h): head = h
        case .body: break  // ignored; bounded by the decoder's own limits and the close below
        case .end:
            guard let head else { return }
            self.head = nil
            let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
            guard path == "/metrics" else {
                return respond(context, .notFound, "text/plain; charset=utf-8", Array("GridSync serves its metrics at /metrics\n".utf8))
            }
            guard head.method == .GET || head.method == .HEAD else {
                return respond(context, .methodNotAllowed, "text/plain; charset=utf-8", Array("use GET\n".utf8))
            }
            let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let isHead = head.method == .HEAD
            render(context.eventLoop).whenComplete { result in
                let (handler, context) = bound.value
                switch result {
                case .success(let body):
                    handler.respond(context, .ok, "text/plain; version=0.0.4; charset=utf-8", isHead ? [] : body, length: body.count)
                case .failure(let error):
                    handler.respond(context, .internalServerError, "text/plain; charset=utf-8", Array("cannot read the store: \(error)\n".utf8))
                }
            }
        }
    }

    private func respond(_ context: ChannelHandlerContext, _ status: HTTPResponseStatus, _ type: String, _ body: [UInt8], length: Int? = nil) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: type)
        headers.add(name: "Content-Length", value: String(length ?? body.count))
        headers.add(name: "Connection", value: "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        if !body.isEmpty {
            context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))), promise: nil)
        }
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in bound.value.close(promise: nil) }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
