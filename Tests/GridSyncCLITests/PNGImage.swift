import Foundation
import GridSyncCore
import GridSyncWire

/// Just enough of PNG to look at a screenshot: 8-bit RGB or RGBA, not interlaced (what
/// Chromium writes). Pixels as RGB triples.
struct PNGImage {
    let width: Int
    let height: Int
    let rgb: [UInt8]

    struct Unreadable: Error, CustomStringConvertible {
        var description: String
    }

    init(data: Data) throws {
        let bytes = [UInt8](data)
        guard bytes.count > 8, bytes.prefix(8) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] else { throw Unreadable(description: "not a PNG") }
        var i = 8, w = 0, h = 0, channels = 0
        var compressed: [UInt8] = []
        func u32(_ at: Int) -> Int { Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3]) }
        while i + 8 <= bytes.count {
            let length = u32(i), type = String(decoding: bytes[i + 4..<i + 8], as: UTF8.self)
            guard i + 12 + length <= bytes.count else { throw Unreadable(description: "truncated chunk \(type)") }
            let body = Array(bytes[i + 8..<i + 8 + length])
            if type == "IHDR" {
                w = u32(i + 8); h = u32(i + 12)
                guard body[8] == 8, body[12] == 0, [2, 6].contains(body[9]) else { throw Unreadable(description: "not 8-bit RGB(A) non-interlaced") }
                channels = body[9] == 6 ? 4 : 3
            } else if type == "IDAT" {
                compressed += body
            } else if type == "IEND" {
                break
            }
            i += 12 + length
        }
        guard w > 0, h > 0, w * h < 50_000_000, compressed.count > 6 else { throw Unreadable(description: "no image data") }
        // zlib: a 2-byte header, raw DEFLATE, a 4-byte checksum.
        let stride = 1 + w * channels
        let raw = try compressed[2..<compressed.count - 4].withUnsafeBytes { try Deflate.inflate($0, size: stride * h) }
        var out = [UInt8](repeating: 0, count: w * h * 3)
        var previous = [UInt8](repeating: 0, count: w * channels), line = previous
        for y in 0..<h {
            let filter = raw[y * stride]
            for x in 0..<w * channels {
                let v = raw[y * stride + 1 + x]
                let a = x >= channels ? Int(line[x - channels]) : 0, b = Int(previous[x]), c = x >= channels ? Int(previous[x - channels]) : 0
                let p: Int
                switch filter {
                case 0: p = 0
                case 1: p = a
                case 2: p = b
                case 3: p = (a + b) / 2
                case 4:
                    let e = a + b - c, pa = abs(e - a), pb = abs(e - b), pc = abs(e - c)
                    p = pa <= pb && pa <= pc ? a : pb <= pc ? b : c
                default: throw Unreadable(description: "filter \(filter)")
                }
                line[x] = UInt8(truncatingIfNeeded: Int(v) + p)
            }
            for x in 0..<w { for k in 0..<3 { out[(y * w + x) * 3 + k] = line[x * channels + k] } }
            previous = line
        }
        (width, height, rgb) = (w, h, out)
    }

    /// How many distinct colours, and the share of pixels not the most common colour.
    var variety: (colours: Int, inked: Double) {
        var counts: [UInt32: Int] = [:]
        for p in 0..<width * height {
            let key = UInt32(rgb[p * 3]) << 16 | UInt32(rgb[p * 3 + 1]) << 8 | UInt32(rgb[p * 3 + 2])
            counts[key, default: 0] += 1
        }
        let most = counts.values.max() ?? 0
        return (counts.count, 1 - Double(most) / Double(max(1, width * height)))
    }
}
