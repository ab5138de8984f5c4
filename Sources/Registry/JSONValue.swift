/// The little JSON Wheelhouse writes (CLI output, API messages), with keys in a fixed order.
public enum JSONValue: Sendable {
    case string(String)
    case int(Int64)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func optional(_ value: String?) -> JSONValue { value.map(JSONValue.string) ?? .null }

    public var rendered: String {
        switch self {
        case .string(let value): Self.quote(value)
        case .int(let value): String(value)
        case .bool(let value): value ? "true" : "false"
        case .null: "null"
        case .array(let values): "[" + values.map(\.rendered).joined(separator: ",") + "]"
        case .object(let members): "{" + members.map { "\(Self.quote($0.0)):\($0.1.rendered)" }.joined(separator: ",") + "}"
        }
    }

    private static func quote(_ value: String) -> String {
        var output = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: output.unicodeScalars.append(scalar)
            }
        }
        return output + "\""
    }
}
