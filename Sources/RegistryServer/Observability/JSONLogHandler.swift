import Logging
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `--log-format json`: one JSON object per line on standard error, for log shippers. `time`
/// (RFC 3339, UTC, milliseconds), `level`, `message`, then the metadata (the request id from the
/// task's `RequestLogContext`, and a request line's route, method, path, status, duration_ms and
/// caller). Numbers logged as numbers stay numbers.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let output: LineWriter

    public init(label: String, metadataProvider: Logger.MetadataProvider? = RequestLogContext.metadataProvider) {
        self.label = label
        self.metadataProvider = metadataProvider
        self.output = LineWriter.standardError
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let level = event.level
        let message = event.message
        let explicit = event.metadata
        var merged = self.metadata
        if let provided = self.metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let explicit { merged.merge(explicit) { _, new in new } }
        var text = "{\"time\":\"\(Self.now())\",\"level\":\"\(level.rawValue)\",\"message\":"
        Self.appendString("\(message)", to: &text)
        for key in merged.keys.sorted() where !["time", "level", "message"].contains(key) {
            text.append(",")
            Self.appendString(key, to: &text)
            text.append(":")
            Self.appendValue(merged[key]!, to: &text)
        }
        text.append("}\n")
        self.output.write(text)
    }

    private static func appendValue(_ value: Logger.Metadata.Value, to text: inout String) {
        switch value {
        case .string(let string): self.appendString(string, to: &text)
        case .stringConvertible(let number as any BinaryInteger): text.append("\(number)")
        case .stringConvertible(let number as Double) where number.isFinite: text.append("\(number)")
        case .stringConvertible(let other): self.appendString(other.description, to: &text)
        case .array(let values):
            text.append("[")
            for (index, value) in values.enumerated() {
                if index > 0 { text.append(",") }
                self.appendValue(value, to: &text)
            }
            text.append("]")
        case .dictionary(let values):
            text.append("{")
            for (index, key) in values.keys.sorted().enumerated() {
                if index > 0 { text.append(",") }
                self.appendString(key, to: &text)
                text.append(":")
                self.appendValue(values[key]!, to: &text)
            }
            text.append("}")
        }
    }

    /// A JSON string: quotes, backslashes and control characters escaped.
    static func appendString(_ string: String, to text: inout String) {
        text.append("\"")
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": text.append("\\\"")
            case "\\": text.append("\\\\")
            case "\n": text.append("\\n")
            case "\r": text.append("\\r")
            case "\t": text.append("\\t")
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16)
                text.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
            default: text.unicodeScalars.append(scalar)
            }
        }
        text.append("\"")
    }

    /// The time now as `2026-12-03T09:20:00.123Z`.
    private static func now() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let milliseconds = Int(now.tv_nsec / 1_000_000)
        let ms = milliseconds < 10 ? "00\(milliseconds)" : milliseconds < 100 ? "0\(milliseconds)" : "\(milliseconds)"
        return
            "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec)).\(ms)Z"
    }
}

/// Writes whole lines to a descriptor, one `write` each under a lock, so lines from many threads
/// never interleave.
final class LineWriter: Sendable {
    private let descriptor: Int32
    private let lock = NIOLock()

    static let standardError = LineWriter(descriptor: 2)

    init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    func write(_ line: String) {
        var line = line
        line.withUTF8 { bytes in
            self.lock.withLock {
                var offset = 0
                while offset < bytes.count {
                    let written = Glibc.write(self.descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                    if written <= 0 {
                        if written < 0, errno == EINTR { continue }
                        return
                    }
                    offset += written
                }
            }
        }
    }
}
