import Crypto
import Foundation
import _CryptoExtras

/// How web sign-in passwords are kept: never as written, only as an scrypt key with its salt and
/// cost, so a copy of the database does not hand out passwords and each guess against it costs 32 MiB
/// and a noticeable fraction of a second. The stored form carries its own parameters
/// (`$scrypt$ln=15,r=8,p=1$<salt>$<key>`, base64 without padding), so the cost can be raised later
/// without making the passwords already stored unusable.
///
/// Hashing is slow on purpose: callers on an event loop run it on a thread pool (`PasswordVerifier`).
public enum PasswordHasher {
    /// scrypt's cost: N = 2^`logRounds`, r = `blockSize`, p = `parallelism`.
    public struct Parameters: Sendable, Equatable {
        public var logRounds: Int
        public var blockSize: Int
        public var parallelism: Int

        public init(logRounds: Int, blockSize: Int, parallelism: Int) {
            self.logRounds = logRounds
            self.blockSize = blockSize
            self.parallelism = parallelism
        }

        /// What new passwords get: N=2^15, r=8, p=1 (32 MiB), the cost OWASP and Python's examples use.
        public static let standard = Parameters(logRounds: 15, blockSize: 8, parallelism: 1)

        /// Whether a stored hash's cost is one this server will pay: a corrupted or hostile row must
        /// not make one sign-in allocate gigabytes or run for minutes.
        var isAcceptable: Bool {
            guard (1...20).contains(self.logRounds), (1...32).contains(self.blockSize),
                (1...16).contains(self.parallelism)
            else { return false }
            return self.memory <= 256 * 1024 * 1024
        }

        /// scrypt's working memory, in bytes.
        var memory: Int { 128 * self.blockSize * (1 << self.logRounds) * self.parallelism }
    }

    static let saltByteCount = 16
    static let keyByteCount = 32
    private static let prefix = "$scrypt$"

    /// The stored form of `password` with a new random salt.
    public static func hash(_ password: String) throws -> String {
        var generator = SystemRandomNumberGenerator()
        let salt = (0..<Self.saltByteCount).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return try self.hash(password, salt: salt)
    }

    /// The stored form of `password` with a given salt (tests, known answers).
    static func hash(_ password: String, salt: [UInt8], parameters: Parameters = .standard) throws -> String {
        let key = try self.derive(Array(password.utf8), salt: salt, parameters: parameters, byteCount: Self.keyByteCount)
        let cost = "ln=\(parameters.logRounds),r=\(parameters.blockSize),p=\(parameters.parallelism)"
        return Self.prefix + cost + "$" + Base64NoPadding.encode(salt) + "$" + Base64NoPadding.encode(key)
    }

    /// Whether `password` is the one `stored` was made from. A malformed stored string, or one whose
    /// cost is out of bounds, matches nothing. The key comparison looks at every byte whatever the
    /// first difference, so the time taken does not tell how close a guess came.
    public static func verify(_ password: String, against stored: String) -> Bool {
        guard let parsed = StoredPassword(stored) else { return false }
        let candidate = Array(password.utf8)
        // BoringSSL is handed a pointer to the password's bytes; an empty one gets the same work on a
        // placeholder (no password is empty: `PasswordRules`), and then does not match.
        let input = candidate.isEmpty ? [0] : candidate
        guard
            let key = try? self.derive(input, salt: parsed.salt, parameters: parsed.parameters, byteCount: parsed.key.count)
        else { return false }
        return Self.constantTimeEqual(key, parsed.key) && !candidate.isEmpty
    }

    private static func derive(_ password: [UInt8], salt: [UInt8], parameters: Parameters, byteCount: Int) throws -> [UInt8] {
        let key = try KDF.Scrypt.deriveKey(
            from: password,
            salt: salt,
            outputByteCount: byteCount,
            rounds: 1 << parameters.logRounds,
            blockSize: parameters.blockSize,
            parallelism: parameters.parallelism
        )
        return key.withUnsafeBytes { Array($0) }
    }

    /// Equal lengths and equal bytes, reading all of them. Lengths are not secret (they come from the
    /// stored string).
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }
}

/// A stored password hash taken apart: `$scrypt$ln=L,r=R,p=P$<salt>$<key>`.
struct StoredPassword: Equatable {
    var parameters: PasswordHasher.Parameters
    var salt: [UInt8]
    var key: [UInt8]

    /// nil for anything but that exact shape with acceptable parameters, a salt of 8 to 64 bytes and
    /// a key of 32 (a shorter key is a weaker one, and the prefix of a longer key would match).
    init?(_ stored: String) {
        let fields = stored.split(separator: "$", omittingEmptySubsequences: false)
        guard fields.count == 5, fields[0].isEmpty, fields[1] == "scrypt" else { return nil }
        guard let parameters = Self.parameters(fields[2]), parameters.isAcceptable else { return nil }
        guard let salt = Base64NoPadding.decode(fields[3]), (8...64).contains(salt.count) else { return nil }
        guard let key = Base64NoPadding.decode(fields[4]), key.count == PasswordHasher.keyByteCount else { return nil }
        self.parameters = parameters
        self.salt = salt
        self.key = key
    }

    /// `ln=L,r=R,p=P` in that order, each a plain decimal of at most two digits.
    private static func parameters(_ text: Substring) -> PasswordHasher.Parameters? {
        let pairs = text.split(separator: ",", omittingEmptySubsequences: false)
        guard pairs.count == 3 else { return nil }
        var values: [Int] = []
        for (pair, name) in zip(pairs, ["ln", "r", "p"]) {
            let parts = pair.split(separator: "=", omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0] == name, (1...2).contains(parts[1].count),
                parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let value = Int(parts[1])
            else { return nil }
            values.append(value)
        }
        return PasswordHasher.Parameters(logRounds: values[0], blockSize: values[1], parallelism: values[2])
    }
}

/// Standard base64 without the `=` padding, as the stored form writes salt and key (the PHC string
/// format's convention).
enum Base64NoPadding {
    static func encode(_ bytes: [UInt8]) -> String {
        var text = Data(bytes).base64EncodedString()
        while text.hasSuffix("=") { text.removeLast() }
        return text
    }

    /// nil for anything that is not unpadded base64 of the standard alphabet, in its one canonical
    /// spelling (no stray bits in the last character).
    static func decode(_ text: Substring) -> [UInt8]? {
        guard !text.isEmpty, text.count % 4 != 1,
            text.utf8.allSatisfy({ Self.alphabet.contains($0) })
        else { return nil }
        let padded = String(text) + String(repeating: "=", count: (4 - text.count % 4) % 4)
        guard let bytes = Data(base64Encoded: padded).map({ Array($0) }), Self.encode(bytes) == text else { return nil }
        return bytes
    }

    private static let alphabet = Set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8
    )
}

/// What a password must be: 8 to 128 bytes of UTF-8, GitLab's minimum and a maximum that keeps one
/// hash's input small. The messages are GitLab's wording.
public enum PasswordRules {
    public static let minimumBytes = 8
    public static let maximumBytes = 128

    public static func validate(_ password: String) throws(RegistryError) {
        let count = password.utf8.count
        if count < Self.minimumBytes {
            throw .invalid("password is too short (minimum is \(Self.minimumBytes) characters)")
        }
        if count > Self.maximumBytes {
            throw .invalid("password is too long (maximum is \(Self.maximumBytes) characters)")
        }
    }
}
