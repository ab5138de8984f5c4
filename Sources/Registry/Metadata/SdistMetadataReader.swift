import CWheelhouseZlib

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Finds `<name>-<version>/PKG-INFO` in a `.tar.gz` sdist by inflating it as a stream and walking the
/// tar headers, keeping only that member. Best effort by design: an sdist without a readable PKG-INFO
/// is still a valid upload, so every failure is just "no metadata". Work is bounded: at most
/// `maxInflatedBytes` are inflated and `maxBytes` kept.
struct SdistMetadataReader {
    var maxBytes = 8 * 1024 * 1024
    var maxInflatedBytes: Int64 = 256 * 1024 * 1024

    /// Blocking: call it on a thread pool. Returns nil when there is no usable PKG-INFO.
    func read(sdistAt path: String) -> [UInt8]? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        let inflater = GzipInflater()
        guard inflater.isReady else { return nil }
        var tar = TarScanner(maxMemberBytes: self.maxBytes)
        var input = [UInt8](repeating: 0, count: 64 * 1024)
        var inflated: Int64 = 0
        while true {
            let count = input.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, file) }
            guard count > 0 else { return nil }
            var found: [UInt8]?
            let ok = inflater.inflate(input[..<count]) { output in
                inflated += Int64(output.count)
                guard inflated <= self.maxInflatedBytes, found == nil else { return false }
                switch tar.feed(output) {
                case .needMore: return true
                case .found(let bytes):
                    found = bytes
                    return false
                case .failed: return false
                }
            }
            if let found { return found }
            guard ok else { return nil }
        }
    }
}

/// Streaming gzip inflation over zlib. zlib keeps a pointer to its stream, so the stream lives at a
/// fixed heap address for the inflater's lifetime.
private final class GzipInflater {
    private let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
    private(set) var isReady = false
    private var finished = false

    init() {
        self.stream.initialize(to: z_stream())
        // 15 + 32: a 32 KiB window, gzip or zlib header detected automatically.
        self.isReady = inflateInit2_(self.stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK
    }

    deinit {
        if self.isReady { inflateEnd(self.stream) }
        self.stream.deallocate()
    }

    /// Inflates `input`, handing each piece of output to `consume`, which returns false to stop.
    /// Returns false when inflation failed, finished or was stopped.
    func inflate(_ input: ArraySlice<UInt8>, consume: ([UInt8]) -> Bool) -> Bool {
        guard !self.finished else { return false }
        var output = [UInt8](repeating: 0, count: 64 * 1024)
        var input = Array(input)
        return input.withUnsafeMutableBufferPointer { inputBuffer in
            self.stream.pointee.next_in = inputBuffer.baseAddress
            self.stream.pointee.avail_in = uInt(inputBuffer.count)
            while true {
                let status = output.withUnsafeMutableBufferPointer { outputBuffer in
                    self.stream.pointee.next_out = outputBuffer.baseAddress
                    self.stream.pointee.avail_out = uInt(outputBuffer.count)
                    return CWheelhouseZlib.inflate(self.stream, Z_NO_FLUSH)
                }
                guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else { return false }
                let produced = output.count - Int(self.stream.pointee.avail_out)
                if produced > 0, !consume(Array(output[..<produced])) { return false }
                if status == Z_STREAM_END {
                    self.finished = true
                    return false
                }
                // All input consumed and the output not full: zlib needs more input.
                if self.stream.pointee.avail_in == 0 && self.stream.pointee.avail_out > 0 { return true }
                if status == Z_BUF_ERROR { return true }
            }
        }
    }
}

/// Walks tar (ustar/pax) headers in a byte stream, looking for a top-level `*/PKG-INFO` member.
private struct TarScanner {
    enum Step {
        case needMore
        case found([UInt8])
        case failed
    }

    let maxMemberBytes: Int
    private var buffer: [UInt8] = []
    /// Bytes of the current member's data still to skip or collect (with padding).
    private var remaining: Int64 = 0
    private var padding: Int64 = 0
    private var collecting: [UInt8]?
    private var memberSize: Int64 = 0
    private var paxPath: String?
    private var readingPax = false

    init(maxMemberBytes: Int) {
        self.maxMemberBytes = maxMemberBytes
    }

    mutating func feed(_ bytes: [UInt8]) -> Step {
        self.buffer += bytes
        var offset = 0
        defer { self.buffer.removeFirst(offset) }
        while true {
            if self.remaining > 0 {
                let take = Int(min(self.remaining, Int64(self.buffer.count - offset)))
                guard take > 0 else { return .needMore }
                if self.collecting != nil { self.collecting! += self.buffer[offset..<offset + take] }
                offset += take
                self.remaining -= Int64(take)
                if self.remaining > 0 { return .needMore }
                if let collected = self.collecting {
                    self.collecting = nil
                    let data = Array(collected.prefix(Int(self.memberSize)))
                    if self.readingPax {
                        self.readingPax = false
                        self.paxPath = Self.paxPath(in: data)
                    } else {
                        return .found(data)
                    }
                }
                continue
            }
            guard self.buffer.count - offset >= 512 else { return .needMore }
            let header = self.buffer[offset..<offset + 512]
            offset += 512
            if header.allSatisfy({ $0 == 0 }) { return .failed }  // end of archive, not found
            guard let size = Self.octal(header.dropFirst(124).prefix(12)) else { return .failed }
            let type = header[header.startIndex + 156]
            let padded = (size + 511) / 512 * 512
            var name = Self.string(header.prefix(100))
            let prefix = Self.string(header.dropFirst(345).prefix(155))
            if !prefix.isEmpty { name = prefix + "/" + name }
            if let pax = self.paxPath {
                name = pax
                self.paxPath = nil
            }

            self.remaining = padded
            self.memberSize = size
            switch type {
            case UInt8(ascii: "x"):
                guard size <= 64 * 1024 else { return .failed }
                self.readingPax = true
                self.collecting = []
            case UInt8(ascii: "0"), 0:
                let components = name.split(separator: "/", omittingEmptySubsequences: true)
                if components.count == 2, components[1] == "PKG-INFO" {
                    guard size <= Int64(self.maxMemberBytes) else { return .failed }
                    self.collecting = []
                    if padded == 0 { return .found([]) }
                }
            default:
                break
            }
        }
    }

    private static func string(_ field: ArraySlice<UInt8>) -> String {
        String(decoding: field.prefix { $0 != 0 }, as: UTF8.self)
    }

    private static func octal(_ field: ArraySlice<UInt8>) -> Int64? {
        var value: Int64 = 0
        var sawDigit = false
        for byte in field {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "7"):
                let (shifted, overflow) = value.multipliedReportingOverflow(by: 8)
                guard !overflow else { return nil }
                value = shifted + Int64(byte - UInt8(ascii: "0"))
                sawDigit = true
            case 0, UInt8(ascii: " "):
                if sawDigit { return value }
            default:
                return nil
            }
        }
        return sawDigit ? value : nil
    }

    /// The `path` record of a pax extended header: lines of `<length> <key>=<value>\n`.
    private static func paxPath(in data: [UInt8]) -> String? {
        let text = String(decoding: data, as: UTF8.self)
        for line in text.split(separator: "\n") {
            guard let space = line.firstIndex(of: " ") else { continue }
            let record = line[line.index(after: space)...]
            if record.hasPrefix("path=") { return String(record.dropFirst(5)) }
        }
        return nil
    }
}
