import CZlib
import GridSyncCore

/// Raw DEFLATE (RFC 1951, no zlib or gzip header) through the system zlib, for CHANGES
/// batches (`Protocol/SPEC.md` §5.2).
///
/// Inflating is bounded: the caller says how many bytes the stream must produce (a size it
/// has already checked against its limit), the output is allocated once at that size, and a
/// stream that would produce more, less, or that does not end is refused.
public enum Deflate {
    /// zlib's window bits for raw DEFLATE with a 32 KiB window.
    static let rawWindowBits: Int32 = -15

    /// Compresses `input`. Level 1 (zlib's fastest) keeps the sender off the critical path of
    /// a full sync; batches of changes are repetitive enough that higher levels gain little.
    public static func compress(_ input: [UInt8], level: Int32 = 1) -> [UInt8] {
        var stream = z_stream()
        guard gridsync_deflateInit2(&stream, level, rawWindowBits, 8) == Z_OK else {
            fatalError("zlib could not start a deflate stream (out of memory)")
        }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, uLong(input.count)))
        var output = [UInt8](repeating: 0, count: bound)
        let written = input.withUnsafeBufferPointer { src -> Int in
            output.withUnsafeMutableBufferPointer { dst -> Int in
                stream.next_in = UnsafeMutablePointer(mutating: src.baseAddress)
                stream.avail_in = uInt(src.count)
                stream.next_out = dst.baseAddress
                stream.avail_out = uInt(dst.count)
                let status = deflate(&stream, Z_FINISH)
                precondition(status == Z_STREAM_END, "deflate into a deflateBound-sized buffer did not finish")
                return dst.count - Int(stream.avail_out)
            }
        }
        output.removeLast(bound - written)
        return output
    }

    /// Inflates `input`, which must decode to exactly `size` bytes and end there.
    public static func inflate(_ input: UnsafeRawBufferPointer, size: Int) throws(GridSyncError) -> [UInt8] {
        var stream = z_stream()
        guard gridsync_inflateInit2(&stream, rawWindowBits) == Z_OK else {
            throw GridSyncError(.io, Localized("zlib 无法开始解压（内存不足）", en: "zlib could not start an inflate stream (out of memory)"))
        }
        defer { inflateEnd(&stream) }
        // One spare byte: a stream that writes into it is longer than it declared.
        var output = [UInt8](repeating: 0, count: size + 1)
        let (status, produced, unread) = output.withUnsafeMutableBufferPointer { dst in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self))
            stream.avail_in = uInt(input.count)
            stream.next_out = dst.baseAddress
            stream.avail_out = uInt(dst.count)
            let status = CZlib.inflate(&stream, Z_FINISH)
            return (status, dst.count - Int(stream.avail_out), Int(stream.avail_in))
        }
        guard status == Z_STREAM_END else {
            if produced > size {
                throw GridSyncError(.malformed, Localized("压缩批次解压后超过其声明的 \(size) 字节", en: "compressed batch inflates to more than the \(size) bytes it declares"))
            }
            throw GridSyncError(.malformed, Localized("压缩批次不是完整的 DEFLATE 流（zlib 状态 \(status)）", en: "compressed batch is not a complete DEFLATE stream (zlib status \(status))"))
        }
        guard produced == size else {
            throw GridSyncError(.malformed, Localized("压缩批次解压为 \(produced) 字节，而不是声明的 \(size) 字节", en: "compressed batch inflates to \(produced) bytes, not the \(size) it declares"))
        }
        guard unread == 0 else {
            throw GridSyncError(.malformed, Localized("压缩批次在 DEFLATE 流结束后还有 \(unread) 字节", en: "compressed batch has \(unread) bytes after the end of its DEFLATE stream"))
        }
        output.removeLast()
        return output
    }
}
