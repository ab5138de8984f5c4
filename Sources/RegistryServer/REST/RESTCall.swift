import Foundation
import Hummingbird
import Registry
import WireHTTP1

/// One REST request, parsed: the caller, the path parameters, and the parameters from the query
/// string and the body (JSON or form-encoded, as GitLab accepts both; the body wins).
struct RESTCall {
    let request: Request
    let principal: Principal
    let credential: Credential?
    let pathParameters: [String: String]
    private let parameters: [String: ParameterValue]
    /// `http(s)://host`, for `web_url` and pagination links.
    let externalBase: String
    /// The client's IP address as the connection shows it (for audit events), when known.
    let clientAddress: String?

    enum ParameterValue {
        case string(String)
        case list([String])
        case bool(Bool)
        case number(Int64)
        /// JSON `null`: "no value", which some fields take as "inherit" or "clear".
        case null
    }

    /// GitLab's REST bodies are small (names, settings, a member's level).
    static let maxBodyBytes = 1024 * 1024

    static func make(
        _ request: Request,
        principal: Principal,
        credential: Credential?,
        pathParameters: [String: String],
        externalBase: String,
        clientAddress: String?
    ) async throws -> RESTCall {
        var parameters: [String: ParameterValue] = [:]
        for (key, value) in request.uri.queryParameters {
            Self.add(String(key), .string(String(value)), to: &parameters)
        }
        if request.method == .post || request.method == .put {
            let body = try await BoundedBody.collect(request, upTo: Self.maxBodyBytes, for: "the REST API")
            let contentType = request.headers[.contentType]?.lowercased() ?? ""
            if contentType.hasPrefix("application/json") {
                if body.readableBytes > 0 {
                    guard let object = try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any] else {
                        throw RegistryError.invalid("The body is not a JSON object")
                    }
                    for (key, value) in object { if let converted = Self.convert(value) { parameters[key] = converted } }
                }
            } else if body.readableBytes > 0 {
                for pair in String(decoding: body.readableBytesView, as: UTF8.self).split(separator: "&") {
                    let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                    let key = Self.formDecode(parts[0])
                    let value = parts.count > 1 ? Self.formDecode(parts[1]) : ""
                    Self.add(key, .string(value), to: &parameters)
                }
            }
        }
        return RESTCall(
            request: request,
            principal: principal,
            credential: credential,
            pathParameters: pathParameters,
            parameters: parameters,
            externalBase: externalBase,
            clientAddress: clientAddress
        )
    }

    /// `scopes[]=a&scopes[]=b` and repeated keys become lists.
    private static func add(_ key: String, _ value: ParameterValue, to parameters: inout [String: ParameterValue]) {
        let isList = key.hasSuffix("[]")
        let name = isList ? String(key.dropLast(2)) : key
        guard case .string(let text) = value else {
            parameters[name] = value
            return
        }
        switch parameters[name] {
        case .list(let values): parameters[name] = .list(values + [text])
        case .string(let first) where isList: parameters[name] = .list([first, text])
        default: parameters[name] = isList ? .list([text]) : value
        }
    }

    private static func convert(_ value: Any) -> ParameterValue? {
        switch value {
        case let bool as Bool where type(of: value) == type(of: true): return .bool(bool)
        // A fraction is not a whole number: kept as its text, so that integer fields refuse it.
        case let number as NSNumber where number.doubleValue != Double(number.int64Value): return .string(number.stringValue)
        case let number as NSNumber: return .number(number.int64Value)
        case let text as String: return .string(text)
        case let list as [Any]: return .list(list.compactMap { $0 as? String ?? ($0 as? NSNumber)?.stringValue })
        case is NSNull: return .null
        default: return nil
        }
    }

    private static func formDecode(_ text: Substring) -> String {
        PercentDecoding.decode(Substring(text.replacingOccurrences(of: "+", with: " "))) ?? String(text)
    }

    // MARK: Reading parameters

    func path(_ name: String) -> String { self.pathParameters[name] ?? "" }

    func pathID(_ name: String) throws -> Int64 {
        guard let id = Int64(self.path(name)) else { throw RegistryError.notFound("404 Not Found") }
        return id
    }

    func string(_ name: String) -> String? {
        switch self.parameters[name] {
        case .string(let value): value
        case .number(let value): String(value)
        case .bool(let value): String(value)
        case .list(let values): values.first
        case .null, nil: nil
        }
    }

    /// Whether the request gave the parameter at all (JSON `null` included).
    func has(_ name: String) -> Bool { self.parameters[name] != nil }

    /// A boolean parameter, strictly: JSON true/false, or `true`/`false`/`1`/`0` in a form; nil when
    /// absent; 400 for anything else.
    func strictBool(_ name: String) throws -> Bool? {
        switch self.parameters[name] {
        case nil: return nil
        case .bool(let value): return value
        case .number(let value) where value == 0 || value == 1: return value == 1
        case .string(let text) where ["true", "1", "false", "0"].contains(text.lowercased()): return text.lowercased() == "true" || text == "1"
        default: throw RESTError.invalidField(name, "must be true or false")
        }
    }

    /// A group's forwarding override: true, false, or null / empty / `inherit` to follow its parent.
    func forwardingOverride(_ name: String) throws -> ForwardingOverride? {
        switch self.parameters[name] {
        case nil: return nil
        case .null: return .inherit
        case .string(let text) where ["", "null", "inherit"].contains(text.lowercased()): return .inherit
        default: return try self.strictBool(name).map { $0 ? .enabled : .disabled }
        }
    }

    func int(_ name: String) throws -> Int64? {
        guard let text = self.string(name), !text.isEmpty else { return nil }
        guard let value = Int64(text) else { throw RegistryError.invalid("\(name) is invalid") }
        return value
    }

    func bool(_ name: String) -> Bool {
        switch self.parameters[name] {
        case .bool(let value): value
        case .string(let value): value == "true" || value == "1"
        case .number(let value): value != 0
        default: false
        }
    }

    /// A list given as a JSON array, repeated keys, `key[]`, or a comma-separated string.
    func list(_ name: String) -> [String]? {
        switch self.parameters[name] {
        case .list(let values): values
        case .string(let value): value.split(separator: ",").map { String($0.trimmingOptionalWhitespace()) }
        default: nil
        }
    }

    func required(_ name: String) throws -> String {
        guard let value = self.string(name), !value.isEmpty else { throw RESTError.missing(name) }
        return value
    }

    func visibility(default fallback: Visibility? = nil) throws -> Visibility? {
        guard let text = self.string("visibility") else { return fallback }
        guard let visibility = Visibility(rawValue: text) else {
            throw RESTError.invalidField("visibility", "does not have a valid value")
        }
        return visibility
    }

    func day(_ name: String) throws -> Day? {
        guard let text = self.string(name), !text.isEmpty else { return nil }
        guard let day = Day(iso8601: String(text.prefix(10))) else { throw RESTError.invalidField(name, "is not a date (YYYY-MM-DD)") }
        return day
    }

    /// Who makes the change this call asks for, as its audit event records them.
    var author: AuditAuthor { AuditAuthor(self.principal, ipAddress: self.clientAddress) }

    var page: PageRequest {
        PageRequest(page: Int(self.string("page") ?? "") ?? 1, perPage: Int(self.string("per_page") ?? "") ?? 20)
    }
}

/// GitLab's validation error shapes: `{"message": {"field": ["..."]}}` and `{"error": "..."}`, with 400.
enum RESTError: HTTPResponseError {
    case missing(String)
    case invalidField(String, String)

    var body: JSONValue {
        switch self {
        case .missing(let field): .object([("error", .string("\(field) is missing"))])
        case .invalidField(let field, let problem): .object([("message", .object([(field, .array([.string(problem)]))]))])
        }
    }

    var summary: String {
        switch self {
        case .missing(let field): "\(field) is missing"
        case .invalidField(let field, let problem): "\(field) \(problem)"
        }
    }
}

extension RESTError {
    var status: HTTPResponse.Status { .badRequest }

    func response(from request: Request, context: some RequestContext) -> Response {
        var headers = HTTPFields()
        headers.setInternal(ReasonPhrase(message: self.summary))
        return RESTResponse.json(self.body, status: .badRequest, headers: headers)
    }
}
