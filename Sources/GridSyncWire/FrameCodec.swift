import NIOCore

/// Splits the byte stream into frames (`u32be length | type | payload`) and decodes each into a
/// ``Message``. The length is checked against ``WireLimits/maxFrameBytes`` as soon as its four
/// bytes arrive, before the frame is buffered.
public struct MessageFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = Message

    public init() {}

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let message = try Self.next(&buffer) else { return .needMoreData }
        context.fireChannelRead(wrapInboundOut(message))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }

    /// Takes one whole frame from `buffer`, or nil if it has not fully arrived.
    public static func next(_ buffer: inout ByteBuffer) throws(WireError) -> Message? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        guard length >= 1 else { throw WireError(.protocolViolation, "empty frame") }
        guard length <= WireLimits.maxFrameBytes else {
            throw WireError(.frameTooLarge, "frame of \(length) bytes exceeds the limit of \(WireLimits.maxFrameBytes)")
        }
        guard buffer.readableBytes >= 4 + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 4)
        let payload = buffer.readBytes(length: Int(length))!
        return try MessageCodec.decode(payload)
    }
}

/// Writes each ``Message`` as one frame.
public struct MessageFrameEncoder: MessageToByteEncoder {
    public typealias OutboundIn = Message

    public init() {}

    public func encode(data: Message, out: inout ByteBuffer) throws {
        Self.write(data, to: &out)
    }

    public static func write(_ message: Message, to out: inout ByteBuffer) {
        let payload = MessageCodec.encode(message)
        precondition(payload.count <= WireLimits.maxFrameBytes, "a batch was built larger than a frame")
        out.writeInteger(UInt32(payload.count))
        out.writeBytes(payload)
    }
}
