/// The `Content-Type` of an upload.
enum MultipartContentType {
    /// The boundary of a `multipart/form-data` content type, or nil for any other type.
    static func boundary(of contentType: String) -> String? {
        let parameters = contentType.split(separator: ";").map { String($0.trimmingOptionalWhitespace()) }
        guard let type = parameters.first, type.lowercased() == "multipart/form-data" else { return nil }
        for parameter in parameters.dropFirst() {
            guard let equals = parameter.firstIndex(of: "="),
                parameter[..<equals].trimmingOptionalWhitespace().lowercased() == "boundary"
            else { continue }
            var value = String(parameter[parameter.index(after: equals)...].trimmingOptionalWhitespace())
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            return value.isEmpty ? nil : value
        }
        return nil
    }
}
