/// One dot-separated part of a local version label, such as `ubuntu` or `1` in `+ubuntu.1`.
///
/// PEP 440 compares numeric parts as numbers and alphanumeric parts as (lowercase) strings,
/// and orders every alphanumeric part before every numeric one.
enum LocalVersionSegment: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// A part made only of digits, kept as its decimal digits without leading zeros (`"0"` for
    /// zero), so that it compares numerically at any size.
    case numeric(String)
    /// Any other part, lowercased.
    case alphanumeric(String)

    /// Classifies a part of a local label, which the parser guarantees is non-empty ASCII
    /// letters and digits.
    init(_ bytes: ArraySlice<UInt8>) {
        if bytes.allSatisfy(ASCII.isDigit) {
            let significant = bytes.drop { $0 == UInt8(ascii: "0") }
            self = .numeric(significant.isEmpty ? "0" : String(decoding: significant, as: UTF8.self))
        } else {
            self = .alphanumeric(String(decoding: bytes.lazy.map(ASCII.lowercased), as: UTF8.self))
        }
    }

    var description: String {
        switch self {
        case .numeric(let digits): return digits
        case .alphanumeric(let text): return text
        }
    }

    static func < (lhs: Self, rhs: Self) -> Bool {
        switch (lhs, rhs) {
        case (.alphanumeric(let left), .alphanumeric(let right)):
            return left.utf8.lexicographicallyPrecedes(right.utf8)
        case (.numeric(let left), .numeric(let right)):
            // Without leading zeros, a shorter run of digits is a smaller number.
            if left.utf8.count != right.utf8.count {
                return left.utf8.count < right.utf8.count
            }
            return left.utf8.lexicographicallyPrecedes(right.utf8)
        case (.alphanumeric, .numeric):
            return true
        case (.numeric, .alphanumeric):
            return false
        }
    }
}
