extension [UInt8] {
    /// Whether the byte at `index` is an ASCII character that Swift, and so Ink, which reads
    /// `Character`s, sees as a character of its own: `]` followed by a combining accent is one
    /// character, not `]`, and so is `]` after a prepended mark (U+0600 ARABIC NUMBER SIGN and the
    /// like). Ink's scans stop only at characters, so the checks in front of it must not count a byte
    /// that is not one. When in doubt, the answer is no.
    func isStandaloneASCII(at index: Int) -> Bool {
        guard self[index] < 0x80 else { return false }
        if index > 0, self[index - 1] >= 0x80, let previous = scalar(endingAt: index - 1), Self.mayPrepend(previous) {
            return false
        }
        if index + 1 < count, self[index + 1] >= 0x80 {
            guard let next = scalar(startingAt: index + 1) else { return false }
            if Self.mayExtend(next) { return false }
        }
        return true
    }

    /// Grapheme_Cluster_Break=Prepend, generously: every format character (most prepended marks are
    /// Cf), the few Prepend letters of Malayalam, and the historic Brahmic scripts of U+11000…U+11FFF.
    private static func mayPrepend(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.generalCategory == .format || scalar.value == 0x0D4E || (0x11000...0x11FFF).contains(scalar.value)
    }

    /// Grapheme_Cluster_Break=Extend, ZWJ or SpacingMark: what joins the character before it.
    private static func mayExtend(_ scalar: Unicode.Scalar) -> Bool {
        let properties = scalar.properties
        switch properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .format, .unassigned, .surrogate, .control:
            return true
        default:
            // Thai and Lao SARA AM are letters that join; emoji skin tones and half-width voicing
            // marks extend.
            return properties.isGraphemeExtend || properties.isEmojiModifier || scalar.value == 0x0E33
                || scalar.value == 0x0EB3
        }
    }

    private func scalar(startingAt start: Int) -> Unicode.Scalar? {
        let lead = self[start]
        let length = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1
        guard length > 1, start + length <= count else { return nil }
        var value = UInt32(lead) & (0xFF >> (length + 1))
        for offset in 1..<length {
            let continuation = self[start + offset]
            guard continuation & 0xC0 == 0x80 else { return nil }
            value = value << 6 | UInt32(continuation & 0x3F)
        }
        return Unicode.Scalar(value)
    }

    private func scalar(endingAt last: Int) -> Unicode.Scalar? {
        var start = last
        while start > 0, last - start < 3, self[start] & 0xC0 == 0x80 { start -= 1 }
        return scalar(startingAt: start)
    }
}
