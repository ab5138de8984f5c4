import Hummingbird
import Registry

/// An `application/x-www-form-urlencoded` body, as the web interface's forms send it: at most
/// 64 KiB, names and values percent-decoded (`+` is a space), repeated names kept in order.
struct FormBody {
    static let maxBytes = 64 * 1024
    private var fields: [(String, String)]

    static func read(_ request: Request) async throws -> FormBody {
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/x-www-form-urlencoded") else {
            throw RegistryError.invalid("Expected a form (application/x-www-form-urlencoded)")
        }
        let body = try await BoundedBody.collect(request, upTo: Self.maxBytes, for: "a form")
        return try FormBody(String(decoding: body.readableBytesView, as: UTF8.self))
    }

    init(_ text: String) throws {
        self.fields = []
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(parts[0]), let value = Self.decode(parts.count > 1 ? parts[1] : "") else {
                throw RegistryError.invalid("The form is not correctly encoded")
            }
            self.fields.append((name, value))
        }
    }

    private static func decode(_ text: Substring) -> String? {
        PercentDecoding.decode(Substring(String(text.map { $0 == "+" ? " " : $0 })))
    }

    subscript(_ name: String) -> String? { self.fields.first { $0.0 == name }?.1 }

    func all(_ name: String) -> [String] { self.fields.filter { $0.0 == name }.map(\.1) }
}
