import AWSSigV4

/// HTTP's date (RFC 9110's IMF-fixdate, `Wed, 12 Oct 2009 17:50:00 GMT`), as S3 writes an
/// object's Last-Modified: `gc` compares it with its minimum age.
enum HTTPDate {
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// Seconds since 1970, or nil for anything but an IMF-fixdate.
    static func secondsSince1970(_ text: String) -> Int64? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[5] == "GMT", let day = Int(parts[1]), let month = Self.months.firstIndex(of: String(parts[2])),
            parts[3].count == 4, let year = Int(parts[3])
        else { return nil }
        let clock = parts[4].split(separator: ":")
        guard clock.count == 3, clock.allSatisfy({ $0.count == 2 }) else { return nil }
        func pad(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let compact = "\(year)\(pad(month + 1))\(pad(day))T\(clock.joined())Z"
        return AmzDate(timestamp: compact)?.secondsSince1970
    }
}
