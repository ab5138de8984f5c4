/// Character references (`&amp;`, `&#106;`, `&#x6A;`) decoded as a browser decodes them, so that the
/// sanitiser judges the very text a browser would see: `jav&#x61;script:` is `javascript:` to it.
/// What this table does not know stays literal, and is re-escaped on output, so a browser sees it
/// literally too: an unknown reference can make text look odd, never make it unsafe.
enum CharacterReferences {
    /// Decodes the references in `bytes` (UTF-8). NUL, surrogates and code points past U+10FFFF become
    /// U+FFFD, as in a browser.
    static func decode(_ bytes: ArraySlice<UInt8>) -> String {
        guard bytes.contains(UInt8(ascii: "&")) || bytes.contains(0) else {
            return String(decoding: bytes, as: UTF8.self)
        }
        var decoded = [UInt8]()
        decoded.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == 0 {
                decoded.append(contentsOf: replacementCharacter)
                index += 1
            } else if byte == UInt8(ascii: "&"), let reference = reference(in: bytes, at: index) {
                append(reference.scalar, to: &decoded)
                index = reference.end
            } else {
                decoded.append(byte)
                index += 1
            }
        }
        return String(decoding: decoded, as: UTF8.self)
    }

    private static let replacementCharacter = Array("\u{FFFD}".utf8)

    /// The reference that begins at `start` (an `&`), and the index just past it; nil when what follows
    /// the `&` is no reference (then the `&` is literal).
    private static func reference(in bytes: ArraySlice<UInt8>, at start: Int) -> (scalar: Unicode.Scalar, end: Int)? {
        var index = start + 1
        guard index < bytes.endIndex else { return nil }
        if bytes[index] == UInt8(ascii: "#") {
            return numericReference(in: bytes, afterHash: index + 1)
        }
        let nameStart = index
        while index < bytes.endIndex, index - nameStart < longestName, isASCIIAlphanumeric(bytes[index]) {
            index += 1
        }
        guard index > nameStart else { return nil }
        let name = String(decoding: bytes[nameStart..<index], as: UTF8.self)
        if index < bytes.endIndex, bytes[index] == UInt8(ascii: ";"), let scalar = named[name] {
            return (scalar, index + 1)
        }
        // The few legacy names browsers still take without the semicolon.
        if let scalar = legacyNamed[name], index >= bytes.endIndex || bytes[index] != UInt8(ascii: "=") {
            return (scalar, index)
        }
        return nil
    }

    private static func numericReference(in bytes: ArraySlice<UInt8>, afterHash: Int) -> (scalar: Unicode.Scalar, end: Int)? {
        var index = afterHash
        var radix: UInt32 = 10
        if index < bytes.endIndex, bytes[index] | 0x20 == UInt8(ascii: "x") {
            radix = 16
            index += 1
        }
        let digitsStart = index
        var value: UInt32 = 0
        while index < bytes.endIndex, let digit = digitValue(bytes[index], radix: radix) {
            // Past U+10FFFF the value no longer matters (it becomes U+FFFD), so it stops growing.
            if value <= 0x10FFFF { value = value * radix + digit }
            index += 1
        }
        guard index > digitsStart else { return nil }
        if index < bytes.endIndex, bytes[index] == UInt8(ascii: ";") { index += 1 }
        return (scalar(forCodePoint: value), index)
    }

    private static func scalar(forCodePoint value: UInt32) -> Unicode.Scalar {
        if value == 0 || value > 0x10FFFF { return "\u{FFFD}" }
        if (0x80...0x9F).contains(value), let mapped = windows1252[value] { return mapped }
        return Unicode.Scalar(value) ?? "\u{FFFD}"
    }

    private static func digitValue(_ byte: UInt8, radix: UInt32) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f") where radix == 16: return UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F") where radix == 16: return UInt32(byte - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    private static func isASCIIAlphanumeric(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"):
            return true
        default:
            return false
        }
    }

    private static func append(_ scalar: Unicode.Scalar, to bytes: inout [UInt8]) {
        bytes.append(contentsOf: UTF8.encode(scalar)!)
    }

    private static let longestName = 32

    /// The names a README or an obfuscated URL is likely to use: HTML's own, the punctuation that could
    /// spell a URL scheme (`&colon;`, `&Tab;`, `&NewLine;`), typography, arrows and a few symbols.
    private static let named: [String: Unicode.Scalar] = [
        "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "apos": "'", "nbsp": "\u{A0}",
        "colon": ":", "Tab": "\t", "NewLine": "\n", "excl": "!", "num": "#", "dollar": "$", "percnt": "%",
        "lpar": "(", "rpar": ")", "ast": "*", "plus": "+", "comma": ",", "period": ".", "sol": "/",
        "semi": ";", "equals": "=", "quest": "?", "commat": "@", "lsqb": "[", "lbrack": "[", "bsol": "\\",
        "rsqb": "]", "rbrack": "]", "Hat": "^", "lowbar": "_", "grave": "`", "lcub": "{", "lbrace": "{",
        "verbar": "|", "vert": "|", "rcub": "}", "rbrace": "}", "tilde": "\u{2DC}", "hyphen": "\u{2010}",
        "copy": "\u{A9}", "reg": "\u{AE}", "trade": "\u{2122}", "deg": "\u{B0}", "plusmn": "\u{B1}",
        "times": "\u{D7}", "divide": "\u{F7}", "micro": "\u{B5}", "para": "\u{B6}", "sect": "\u{A7}",
        "middot": "\u{B7}", "bull": "\u{2022}", "hellip": "\u{2026}", "prime": "\u{2032}", "Prime": "\u{2033}",
        "ndash": "\u{2013}", "mdash": "\u{2014}", "lsquo": "\u{2018}", "rsquo": "\u{2019}", "sbquo": "\u{201A}",
        "ldquo": "\u{201C}", "rdquo": "\u{201D}", "bdquo": "\u{201E}", "laquo": "\u{AB}", "raquo": "\u{BB}",
        "lsaquo": "\u{2039}", "rsaquo": "\u{203A}", "dagger": "\u{2020}", "Dagger": "\u{2021}", "permil": "\u{2030}",
        "euro": "\u{20AC}", "pound": "\u{A3}", "yen": "\u{A5}", "cent": "\u{A2}", "curren": "\u{A4}",
        "iexcl": "\u{A1}", "iquest": "\u{BF}", "shy": "\u{AD}", "ensp": "\u{2002}", "emsp": "\u{2003}",
        "thinsp": "\u{2009}", "zwnj": "\u{200C}", "zwj": "\u{200D}", "lrm": "\u{200E}", "rlm": "\u{200F}",
        "larr": "\u{2190}", "uarr": "\u{2191}", "rarr": "\u{2192}", "darr": "\u{2193}", "harr": "\u{2194}",
        "lArr": "\u{21D0}", "rArr": "\u{21D2}", "hArr": "\u{21D4}", "le": "\u{2264}", "ge": "\u{2265}",
        "ne": "\u{2260}", "asymp": "\u{2248}", "equiv": "\u{2261}", "infin": "\u{221E}", "minus": "\u{2212}",
        "radic": "\u{221A}", "sum": "\u{2211}", "prod": "\u{220F}", "part": "\u{2202}", "nabla": "\u{2207}",
        "isin": "\u{2208}", "notin": "\u{2209}", "forall": "\u{2200}", "exist": "\u{2203}", "empty": "\u{2205}",
        "and": "\u{2227}", "or": "\u{2228}", "cap": "\u{2229}", "cup": "\u{222A}", "sub": "\u{2282}",
        "sup": "\u{2283}", "not": "\u{AC}", "frac12": "\u{BD}", "frac14": "\u{BC}", "frac34": "\u{BE}",
        "sup1": "\u{B9}", "sup2": "\u{B2}", "sup3": "\u{B3}", "ordf": "\u{AA}", "ordm": "\u{BA}",
        "alpha": "\u{3B1}", "beta": "\u{3B2}", "gamma": "\u{3B3}", "delta": "\u{3B4}", "epsilon": "\u{3B5}",
        "lambda": "\u{3BB}", "mu": "\u{3BC}", "pi": "\u{3C0}", "sigma": "\u{3C3}", "tau": "\u{3C4}",
        "phi": "\u{3C6}", "omega": "\u{3C9}", "Delta": "\u{394}", "Sigma": "\u{3A3}", "Omega": "\u{3A9}",
        "check": "\u{2713}", "cross": "\u{2717}", "star": "\u{2606}", "starf": "\u{2605}", "hearts": "\u{2665}",
        "loz": "\u{25CA}", "auml": "\u{E4}", "ouml": "\u{F6}", "uuml": "\u{FC}", "Auml": "\u{C4}",
        "Ouml": "\u{D6}", "Uuml": "\u{DC}", "szlig": "\u{DF}", "eacute": "\u{E9}", "egrave": "\u{E8}",
        "ecirc": "\u{EA}", "aacute": "\u{E1}", "agrave": "\u{E0}", "acirc": "\u{E2}", "ccedil": "\u{E7}",
        "iacute": "\u{ED}", "oacute": "\u{F3}", "uacute": "\u{FA}", "ntilde": "\u{F1}", "Eacute": "\u{C9}",
        "aring": "\u{E5}", "Aring": "\u{C5}", "oslash": "\u{F8}", "Oslash": "\u{D8}", "aelig": "\u{E6}",
    ]

    private static let legacyNamed: [String: Unicode.Scalar] = [
        "amp": "&", "lt": "<", "gt": ">", "quot": "\"", "nbsp": "\u{A0}", "copy": "\u{A9}", "reg": "\u{AE}",
    ]

    /// What browsers make of `&#128;`…`&#159;`: the Windows-1252 characters, not C1 controls.
    private static let windows1252: [UInt32: Unicode.Scalar] = [
        0x80: "\u{20AC}", 0x82: "\u{201A}", 0x83: "\u{192}", 0x84: "\u{201E}", 0x85: "\u{2026}", 0x86: "\u{2020}",
        0x87: "\u{2021}", 0x88: "\u{2C6}", 0x89: "\u{2030}", 0x8A: "\u{160}", 0x8B: "\u{2039}", 0x8C: "\u{152}",
        0x8E: "\u{17D}", 0x91: "\u{2018}", 0x92: "\u{2019}", 0x93: "\u{201C}", 0x94: "\u{201D}", 0x95: "\u{2022}",
        0x96: "\u{2013}", 0x97: "\u{2014}", 0x98: "\u{2DC}", 0x99: "\u{2122}", 0x9A: "\u{161}", 0x9B: "\u{203A}",
        0x9C: "\u{153}", 0x9E: "\u{17E}", 0x9F: "\u{178}",
    ]
}
