import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A push-based, streaming parser for `multipart/form-data` bodies (RFC 7578 / RFC 2046).
///
/// Feed it the body chunk by chunk as it arrives; it returns the events those bytes complete.
/// Body bytes are handed out as slices of the chunks fed in (no copy for all but the few bytes that
/// straddle a chunk edge), so a part of any size is streamed with bounded memory. Part headers are
/// limited in size and count, since they are the only thing the parser itself has to buffer.
public struct MultipartParser: Sendable {
    public struct Limits: Sendable {
        /// The largest header block one part may have, in bytes.
        public var maxHeaderBytes: Int
        /// The most parts one body may have.
        public var maxParts: Int

        public init(maxHeaderBytes: Int = 16 * 1024, maxParts: Int = 1_000) {
            self.maxHeaderBytes = maxHeaderBytes
            self.maxParts = maxParts
        }
    }

    private enum State: Sendable {
        /// Before the first delimiter: the preamble is skipped.
        case preamble
        /// Right after a delimiter: either `--` (the close delimiter) or CRLF follows.
        case afterDelimiter
        /// Inside a part's header block.
        case headers
        /// Inside a part's body.
        case body
        /// After the close delimiter: the epilogue is ignored.
        case finished
    }

    /// `CRLF--boundary`: what ends every part's body.
    private let delimiter: [UInt8]
    private let limits: Limits
    private var state: State = .preamble
    /// Bytes received but not yet turned into events.
    private var pending: ByteBuffer
    private var partCount = 0

    /// - Parameter boundary: the `boundary` parameter of the request's `Content-Type`.
    public init(boundary: String, limits: Limits = .init()) throws(MultipartError) {
        let bytes = Array(boundary.utf8)
        // RFC 2046: 1 to 70 characters.
        guard (1...70).contains(bytes.count), !bytes.contains(where: { $0 == 13 || $0 == 10 }) else {
            throw .invalidBoundary
        }
        self.delimiter = [13, 10, 45, 45] + bytes
        self.limits = limits
        // The first delimiter may open the body without a preceding CRLF: start as if one came.
        self.pending = ByteBuffer(bytes: [13, 10])
    }

    /// Whether the closing delimiter has been seen.
    public var isFinished: Bool {
        if case .finished = self.state { return true }
        return false
    }

    /// Consumes `chunk` and returns the events it completes, in order.
    public mutating func feed(_ chunk: ByteBuffer) throws(MultipartError) -> [MultipartEvent] {
        if case .finished = self.state { return [] }
        if self.pending.readableBytes == 0 {
            self.pending = chunk
        } else {
            var chunk = chunk
            self.pending.writeBuffer(&chunk)
        }
        var events: [MultipartEvent] = []
        while try self.step(into: &events) {}
        // Give back the memory of fully consumed chunks.
        if self.pending.readableBytes == 0 {
            self.pending = ByteBuffer()
        } else if self.pending.readerIndex > 64 * 1024 {
            self.pending.discardReadBytes()
        }
        return events
    }

    /// Signals the end of the body; throws if the close delimiter never came.
    public func finish() throws(MultipartError) {
        guard self.isFinished else { throw .truncated }
    }

    /// Makes one unit of progress; returns false when more input is needed.
    private mutating func step(into events: inout [MultipartEvent]) throws(MultipartError) -> Bool {
        switch self.state {
        case .preamble:
            guard let index = self.firstIndex(of: self.delimiter) else {
                // Keep only what could be the start of the delimiter.
                let keep = min(self.pending.readableBytes, self.delimiter.count - 1)
                self.pending.moveReaderIndex(forwardBy: self.pending.readableBytes - keep)
                return false
            }
            self.pending.moveReaderIndex(forwardBy: index + self.delimiter.count)
            self.state = .afterDelimiter
            return true

        case .afterDelimiter:
            guard self.pending.readableBytes >= 2 else { return false }
            let first = self.pending.readInteger(as: UInt8.self)!
            let second = self.pending.readInteger(as: UInt8.self)!
            switch (first, second) {
            case (45, 45):  // "--": close delimiter
                self.state = .finished
                self.pending = ByteBuffer()
                return false
            case (13, 10):
                self.partCount += 1
                guard self.partCount <= self.limits.maxParts else { throw .tooManyParts }
                self.state = .headers
                return true
            default:
                throw .malformed("expected CRLF after boundary")
            }

        case .headers:
            // An empty header block is legal: the part starts with CRLF directly.
            if self.pending.readableBytes >= 2,
                self.pending.getInteger(at: self.pending.readerIndex, as: UInt16.self) == 0x0D0A
            {
                self.pending.moveReaderIndex(forwardBy: 2)
                events.append(.partBegin(MultipartPartHeaders([])))
                self.state = .body
                return true
            }
            guard let end = self.firstIndex(of: [13, 10, 13, 10]) else {
                guard self.pending.readableBytes <= self.limits.maxHeaderBytes else { throw .headersTooLarge }
                return false
            }
            guard end <= self.limits.maxHeaderBytes else { throw .headersTooLarge }
            let block = self.pending.readSlice(length: end)!
            self.pending.moveReaderIndex(forwardBy: 4)
            events.append(.partBegin(try MultipartPartHeaders(parsing: block)))
            self.state = .body
            return true

        case .body:
            if let index = self.firstIndex(of: self.delimiter) {
                if index > 0 { events.append(.body(self.pending.readSlice(length: index)!)) }
                self.pending.moveReaderIndex(forwardBy: self.delimiter.count)
                events.append(.partEnd)
                self.state = .afterDelimiter
                return true
            }
            // Everything but a possible delimiter prefix at the end is body.
            let safe = self.pending.readableBytes - (self.delimiter.count - 1)
            if safe > 0 { events.append(.body(self.pending.readSlice(length: safe)!)) }
            return false

        case .finished:
            return false
        }
    }

    /// Offset of `needle` in the readable bytes of `pending`: `memchr` finds candidates for the first
    /// byte at C speed, `memcmp` confirms them.
    private func firstIndex(of needle: [UInt8]) -> Int? {
        self.pending.withUnsafeReadableBytes { haystack -> Int? in
            guard haystack.count >= needle.count, let base = haystack.baseAddress else { return nil }
            return needle.withUnsafeBytes { needleBytes -> Int? in
                let last = haystack.count - needleBytes.count
                var offset = 0
                while offset <= last {
                    guard let candidate = memchr(base + offset, Int32(needleBytes[0]), last - offset + 1) else {
                        return nil
                    }
                    let index = base.distance(to: UnsafeRawPointer(candidate))
                    if memcmp(candidate, needleBytes.baseAddress!, needleBytes.count) == 0 { return index }
                    offset = index + 1
                }
                return nil
            }
        }
    }
}

/// What the parser reports, in body order: for each part a `partBegin`, zero or more `body` slices, a `partEnd`.
public enum MultipartEvent: Sendable {
    case partBegin(MultipartPartHeaders)
    case body(ByteBuffer)
    case partEnd
}

public enum MultipartError: Error, Sendable, Equatable, CustomStringConvertible {
    case invalidBoundary
    case malformed(String)
    case headersTooLarge
    case tooManyParts
    case truncated

    public var description: String {
        switch self {
        case .invalidBoundary: "Invalid multipart boundary"
        case .malformed(let reason): "Malformed multipart body: \(reason)"
        case .headersTooLarge: "Multipart part headers are too large"
        case .tooManyParts: "Too many multipart parts"
        case .truncated: "Multipart body ended before its closing boundary"
        }
    }
}
