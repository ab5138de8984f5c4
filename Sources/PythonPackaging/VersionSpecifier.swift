/// One PEP 440 version specifier clause, such as `>=3.8`, `~=1.4.2`, `!=3.0.*` or `===foobar`.
///
/// Parsing accepts what `packaging.specifiers.Specifier` accepts, and refuses what it refuses:
/// the local version label only with `==`, `!=` and `===`; the `.*` suffix only with `==` and `!=`,
/// right after the release segment; at least two release segments with `~=`; and any string
/// without whitespace, `;` or `)` with `===`. Whitespace is allowed around the clause and between
/// the operator and its version.
public struct VersionSpecifier: Sendable, Hashable, CustomStringConvertible {
    public enum Operator: String, Sendable, CaseIterable {
        case compatible = "~="
        case equal = "=="
        case notEqual = "!="
        case lessThanOrEqual = "<="
        case greaterThanOrEqual = ">="
        case lessThan = "<"
        case greaterThan = ">"
        case arbitraryEqual = "==="
    }

    public let op: Operator
    /// The version as written after the operator (without surrounding whitespace), `.*` included.
    public let version: String

    public init(parsing text: some StringProtocol) throws(VersionSpecifierError) {
        let clause = String(text).trimmingASCIIWhitespace()
        guard !clause.isEmpty else { throw .empty }
        // The longest operator that begins the clause: `===` before `==`, `<=` before `<`.
        guard let op = Operator.allCases.filter({ clause.hasPrefix($0.rawValue) }).max(by: { $0.rawValue.count < $1.rawValue.count })
        else { throw .noOperator(clause) }
        let version = String(clause.dropFirst(op.rawValue.count)).trimmingASCIIWhitespace()
        guard !version.isEmpty else { throw .invalid(clause) }
        try Self.check(version, for: op, clause: clause)
        self.op = op
        self.version = version
    }

    private static func check(_ version: String, for op: Operator, clause: String) throws(VersionSpecifierError) {
        if op == .arbitraryEqual {
            guard !version.contains(where: { $0.isWhitespace || $0 == ";" || $0 == ")" }) else { throw .invalid(clause) }
            return
        }
        // Anything after the version (`>=3.8 ;`, `>=3.8 3.9`) is not part of a clause.
        guard !version.contains(where: { $0.isWhitespace }) else { throw .invalid(clause) }
        if version.hasSuffix(".*") {
            guard op == .equal || op == .notEqual else { throw .invalid(clause) }
            // The prefix is an epoch and release only: `==1.0.*`, not `==1.0rc1.*` or `==1.0+local.*`.
            guard let parsed = try? Version(parsing: version.dropLast(2)),
                parsed.preRelease == nil, parsed.postRelease == nil, parsed.devRelease == nil, parsed.local == nil
            else { throw .invalid(clause) }
            return
        }
        guard let parsed = try? Version(parsing: version) else { throw .invalid(clause) }
        switch op {
        case .equal, .notEqual, .arbitraryEqual:
            break
        case .compatible:
            guard parsed.local == nil, parsed.release.count >= 2 else { throw .invalid(clause) }
        case .lessThanOrEqual, .greaterThanOrEqual, .lessThan, .greaterThan:
            guard parsed.local == nil else { throw .invalid(clause) }
        }
    }

    public var description: String { self.op.rawValue + self.version }
}

/// A comma-separated set of PEP 440 version specifiers, such as `>=3.8,<4` (a `Requires-Python`
/// value). Empty clauses are skipped and an empty string is the empty set, as in `packaging`.
public struct VersionSpecifierSet: Sendable, Hashable, CustomStringConvertible {
    public let specifiers: [VersionSpecifier]

    public init(parsing text: some StringProtocol) throws(VersionSpecifierError) {
        var specifiers: [VersionSpecifier] = []
        for clause in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard !String(clause).trimmingASCIIWhitespace().isEmpty else { continue }
            specifiers.append(try VersionSpecifier(parsing: clause))
        }
        self.specifiers = specifiers
    }

    public var description: String { self.specifiers.map(\.description).joined(separator: ",") }
}

/// Why a string is not a PEP 440 version specifier.
public enum VersionSpecifierError: Error, Hashable, Sendable, CustomStringConvertible {
    case empty
    /// The clause does not begin with one of `~=`, `==`, `!=`, `<=`, `>=`, `<`, `>`, `===`.
    case noOperator(String)
    /// The version after the operator is not one this operator takes.
    case invalid(String)

    public var description: String {
        switch self {
        case .empty: "Invalid specifier: the specifier is empty"
        case .noOperator(let clause): "Invalid specifier: \(quotedForMessage(clause)) does not begin with a comparison operator"
        case .invalid(let clause): "Invalid specifier: \(quotedForMessage(clause)) is not a PEP 440 version specifier"
        }
    }
}

extension String {
    fileprivate func trimmingASCIIWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\u{0B}" || $0 == "\u{0C}" }
        guard let first = self.firstIndex(where: { !isSpace($0) }), let last = self.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
