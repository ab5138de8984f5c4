/// What a `Range` request header asks of a representation whose length is known
/// (RFC 9110 §14.2).
///
/// Only a single byte range is served. A request for several ranges gets the whole
/// representation rather than a `multipart/byteranges` response, which RFC 9110 allows: a server
/// may always ignore `Range`. Installers ask for one range at a time (pip's lazy wheel reads the
/// central directory at the end of a wheel), so nothing is lost.
///
/// The caller checks any `If-Range` precondition before asking, and only for `GET`.
enum ByteRangeRequest: Equatable, Sendable {
    /// Send the whole representation (200): there is no `Range` header, or one this server
    /// ignores (malformed, another unit, several ranges).
    case whole
    /// Send these bytes (206) with ``contentRange(_:length:)`` as `Content-Range`. The range is
    /// never empty and lies within the representation.
    case partial(ClosedRange<Int64>)
    /// The range lies outside the representation: send 416 with
    /// ``unsatisfiedContentRange(length:)`` as `Content-Range`.
    case unsatisfiable

    /// Interprets a `Range` header value for a representation of `length` bytes.
    ///
    /// - `bytes=0-99`: the first hundred bytes; a last position beyond the end is clamped to it.
    /// - `bytes=100-`: from byte 100 to the end.
    /// - `bytes=-500`: the last 500 bytes, or the whole representation if it is shorter.
    /// - A first position at or beyond the end, or a suffix of length 0, is unsatisfiable. Of a
    ///   zero-length representation only a non-empty suffix is satisfiable (RFC 9110 §14.1.1);
    ///   its answer, no bytes at all, cannot be a 206, so it is ``whole``.
    /// - Positions too large for `Int64` saturate: they are still well-formed, just far away.
    static func parse(_ header: String?, length: Int64) -> ByteRangeRequest {
        precondition(length >= 0, "a representation has a non-negative length")
        guard let header else {
            return .whole
        }
        let value = Substring(header).trimmingOptionalWhitespace()
        guard let equals = value.utf8.firstIndex(of: UInt8(ascii: "=")),
            value[..<equals].lowercased() == "bytes"
        else {
            return .whole
        }
        let specs = value[value.utf8.index(after: equals)...]
            .split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingOptionalWhitespace() }
            .filter { !$0.isEmpty }
        guard specs.count == 1, let spec = specs.first, let dash = spec.utf8.firstIndex(of: UInt8(ascii: "-")) else {
            return .whole
        }
        let first = spec[..<dash]
        let last = spec[spec.utf8.index(after: dash)...]

        if first.isEmpty {
            guard let suffixLength = Self.position(last) else {
                return .whole
            }
            guard suffixLength > 0 else {
                return .unsatisfiable
            }
            guard length > 0 else {
                return .whole
            }
            return .partial(max(0, length - suffixLength)...(length - 1))
        }

        guard let start = Self.position(first) else {
            return .whole
        }
        var end = Int64.max
        if !last.isEmpty {
            guard let position = Self.position(last), position >= start else {
                return .whole
            }
            end = position
        }
        guard start < length else {
            return .unsatisfiable
        }
        return .partial(start...min(end, length - 1))
    }

    /// The `Content-Range` value of a 206 response: `bytes 0-99/1000`.
    static func contentRange(_ range: ClosedRange<Int64>, length: Int64) -> String {
        "bytes \(range.lowerBound)-\(range.upperBound)/\(length)"
    }

    /// The `Content-Range` value of a 416 response: `bytes */1000`.
    static func unsatisfiedContentRange(length: Int64) -> String {
        "bytes */\(length)"
    }

    /// A non-empty run of ASCII digits as a number, saturating at `Int64.max`; `nil` otherwise.
    private static func position(_ digits: Substring) -> Int64? {
        guard !digits.isEmpty else {
            return nil
        }
        var value: Int64 = 0
        for byte in digits.utf8 {
            let digit = byte &- UInt8(ascii: "0")
            guard digit < 10 else {
                return nil
            }
            let (shifted, overflowA) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflowB) = shifted.addingReportingOverflow(Int64(digit))
            value = overflowA || overflowB ? .max : sum
        }
        return value
    }

}
