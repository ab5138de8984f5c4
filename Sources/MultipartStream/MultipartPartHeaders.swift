import NIOCore

/// The header fields of one multipart part, and the `Content-Disposition` parameters parsed from them.
public struct MultipartPartHeaders: Sendable, Equatable {
    /// Header fields in order, names as sent.
    public let fields: [(name: String, value: String)]
    /// The `name` parameter of `Content-Disposition: form-data`.
    public let name: String?
    /// The `filename` parameter of `Content-Disposition`, if the part is a file.
    public let filename: String?

    public init(_ fields: [(name: String, value: String)]) {
        self.fields = fields
        let disposition = fields.first { $0.name.lowercased() == "content-disposition" }
            .map { ContentDisposition(parsing: $0.value) }
        self.name = disposition?.parameters["name"]
        self.filename = disposition?.parameters["filename"]
    }

    init(parsing block: ByteBuffer) throws(MultipartError) {
        var fields: [(name: String, value: String)] = []
        let text = String(decoding: block.readableBytesView, as: UTF8.self)
        for line in text.split(separator: "\r\n", omittingEmptySubsequences: true) {
            guard let colon = line.firstIndex(of: ":") else {
                throw .malformed("part header line without a colon")
            }
            let name = line[..<colon].trimmingSpaces()
            guard !name.isEmpty else { throw .malformed("empty part header name") }
            fields.append((String(name), String(line[line.index(after: colon)...].trimmingSpaces())))
        }
        self.init(fields)
    }

    public func value(of name: String) -> String? {
        let lowered = name.lowercased()
        return self.fields.first { $0.name.lowercased() == lowered }?.value
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.fields.elementsEqual(rhs.fields) { $0.name == $1.name && $0.value == $1.value }
    }
}

/// `form-data; name="content"; filename="pkg-1.0.tar.gz"` (RFC 6266 / RFC 7578), quoted strings unescaped.
struct ContentDisposition {
    var type: String
    var parameters: [String: String] = [:]

    init(parsing value: String) {
        var scanner = Substring(value)
        self.type = String(scanner.prefix { $0 != ";" }.trimmingSpaces()).lowercased()
        scanner = scanner.drop { $0 != ";" }
        while scanner.first == ";" {
            scanner = scanner.dropFirst().drop { $0 == " " || $0 == "\t" }
            let key = scanner.prefix { $0 != "=" && $0 != ";" }.trimmingSpaces().lowercased()
            scanner = scanner.dropFirst(scanner.prefix { $0 != "=" && $0 != ";" }.count)
            guard scanner.first == "=" else { continue }
            scanner = scanner.dropFirst().drop { $0 == " " || $0 == "\t" }
            var parsed = ""
            if scanner.first == "\"" {
                scanner = scanner.dropFirst()
                while let character = scanner.first, character != "\"" {
                    scanner = scanner.dropFirst()
                    if character == "\\", let escaped = scanner.first {
                        parsed.append(escaped)
                        scanner = scanner.dropFirst()
                    } else {
                        parsed.append(character)
                    }
                }
                scanner = scanner.dropFirst()  // closing quote
                scanner = scanner.drop { $0 != ";" }
            } else {
                let token = scanner.prefix { $0 != ";" }
                parsed = String(token.trimmingSpaces())
                scanner = scanner.dropFirst(token.count)
            }
            // The first occurrence wins; a later duplicate cannot override it.
            if self.parameters[key] == nil { self.parameters[key] = parsed }
        }
    }
}

extension StringProtocol {
    func trimmingSpaces() -> SubSequence {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        guard let start = self.firstIndex(where: { !isSpace($0) }) else { return self[self.endIndex...] }
        let end = self.lastIndex(where: { !isSpace($0) })!
        return self[start...end]
    }
}
