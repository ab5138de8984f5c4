/// The period a listing of audit events covers (`created_after` and `created_before`, both
/// inclusive). A bound given as a day covers that whole day: `created_before=2026-12-03` includes
/// the events of the 3rd.
public struct AuditPeriod: Sendable, Equatable {
    public var after: Timestamp?
    public var before: Timestamp?

    public init(after: Timestamp? = nil, before: Timestamp? = nil) {
        self.after = after
        self.before = before
    }

    /// Why a bound is not a time.
    public struct InvalidBound: Error, Equatable {
        /// The parameter it came in: `created_after` or `created_before`.
        public var field: String
        public var text: String
    }

    /// Parses the bounds as GitLab takes them (ISO 8601: a day, or a day and time with an optional
    /// fraction and `Z` or an offset; no zone means UTC); nil stays unbounded.
    public init(after: String?, before: String?) throws(InvalidBound) {
        self.after = try after.map { text throws(InvalidBound) in
            guard let instant = ISO8601Instant.parse(text, endOfDay: false) else { throw InvalidBound(field: "created_after", text: text) }
            return instant
        }
        self.before = try before.map { text throws(InvalidBound) in
            guard let instant = ISO8601Instant.parse(text, endOfDay: true) else { throw InvalidBound(field: "created_before", text: text) }
            return instant
        }
    }
}

/// ISO 8601 instants, strictly: `YYYY-MM-DD`, then optionally `THH:MM`, `:SS`, `.fraction`, and `Z` or `±HH:MM`.
enum ISO8601Instant {
    static func parse(_ text: String, endOfDay: Bool) -> Timestamp? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 10, let day = Day(iso8601: String(decoding: bytes[0..<10], as: UTF8.self)) else { return nil }
        let dayStart = Int64(day.daysSinceEpoch) * 86_400_000_000
        if bytes.count == 10 { return Timestamp(microseconds: endOfDay ? dayStart + 86_400_000_000 - 1 : dayStart) }
        guard bytes[10] == UInt8(ascii: "T") || bytes[10] == UInt8(ascii: " ") else { return nil }
        var index = 11
        func number(_ width: Int, max: Int) -> Int? {
            guard index + width <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[index..<index + width] {
                guard (48...57).contains(byte) else { return nil }
                value = value * 10 + Int(byte - 48)
            }
            index += width
            return value <= max ? value : nil
        }
        func skip(_ character: Character) -> Bool {
            guard index < bytes.count, bytes[index] == character.asciiValue else { return false }
            index += 1
            return true
        }
        guard let hour = number(2, max: 23), skip(":"), let minute = number(2, max: 59) else { return nil }
        var second = 0
        var micros: Int64 = 0
        if skip(":") {
            guard let value = number(2, max: 59) else { return nil }
            second = value
            if skip(".") {
                var digits = 0
                while index < bytes.count, (48...57).contains(bytes[index]) {
                    if digits < 6 { micros = micros * 10 + Int64(bytes[index] - 48) }
                    digits += 1
                    index += 1
                }
                guard digits > 0 else { return nil }
                for _ in digits..<max(digits, 6) { micros *= 10 }
            }
        }
        var offsetSeconds = 0
        if !skip("Z"), index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            let sign = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            index += 1
            guard let hours = number(2, max: 23) else { return nil }
            _ = skip(":")
            guard let minutes = number(2, max: 59) else { return nil }
            offsetSeconds = sign * (hours * 3600 + minutes * 60)
        }
        guard index == bytes.count else { return nil }
        let seconds = Int64(hour * 3600 + minute * 60 + second - offsetSeconds)
        return Timestamp(microseconds: dayStart + seconds * 1_000_000 + micros)
    }
}
