extension Substring {
    /// Without leading and trailing spaces and tabs (RFC 9110 `OWS`): how header fields are trimmed.
    func trimmingOptionalWhitespace() -> Substring {
        let isBlank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        guard let start = self.utf8.firstIndex(where: { !isBlank($0) }) else { return self[self.endIndex...] }
        let last = self.utf8.lastIndex(where: { !isBlank($0) })!
        return self[start..<self.utf8.index(after: last)]
    }
}
