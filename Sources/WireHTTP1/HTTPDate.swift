#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// RFC 9110's IMF-fixdate, `Sun, 06 Nov 1994 08:49:37 GMT`: the form of `Date` and `Last-Modified`.
public enum HTTPDate {
    private static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// The date of an instant given in seconds since the Unix epoch (UTC).
    public static func format(secondsSinceEpoch seconds: Int64) -> String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func pad(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(Self.weekdays[Int(parts.tm_wday)]), \(pad(parts.tm_mday)) \(Self.months[Int(parts.tm_mon)]) \(1900 + parts.tm_year) "
            + "\(pad(parts.tm_hour)):\(pad(parts.tm_min)):\(pad(parts.tm_sec)) GMT"
    }

    /// The `Date` header's value for now, formatted once a second: one per connection handler.
    struct Clock {
        private var second: Int64 = -1
        private var value = ""

        mutating func now() -> String {
            var spec = timespec()
            clock_gettime(CLOCK_REALTIME, &spec)
            let second = Int64(spec.tv_sec)
            if second != self.second {
                self.second = second
                self.value = HTTPDate.format(secondsSinceEpoch: second)
            }
            return self.value
        }
    }
}
