import Testing

@testable import Registry

@Suite struct PasswordHasherTests {
    /// Made once with Python's `hashlib.scrypt(password, salt=salt, n=32768, r=8, p=1,
    /// maxmem=64*1024*1024, dklen=32)`, key and salt in base64 without padding.
    static let knownAnswers: [(password: String, salt: [UInt8], stored: String)] = [
        (
            "correct horse battery staple", Array(0..<16),
            "$scrypt$ln=15,r=8,p=1$AAECAwQFBgcICQoLDA0ODw$eo40JB24mNWRdcaWU4xBdGepdf/laQaEJfFhiNMVnFg"
        ),
        (
            "pässwörd-ünïcode", Array("wheelhouse-salt!".utf8),
            "$scrypt$ln=15,r=8,p=1$d2hlZWxob3VzZS1zYWx0IQ$EPT4xAIbXDUz0H4Xga0LnrTxFE5+Eu9/zpRUvd2Yq3w"
        ),
    ]

    @Test func matchesPythonsScrypt() throws {
        for answer in Self.knownAnswers {
            #expect(try PasswordHasher.hash(answer.password, salt: answer.salt) == answer.stored)
            #expect(PasswordHasher.verify(answer.password, against: answer.stored))
        }
    }

    @Test func newHashesHaveTheStandardShapeAndAFreshSalt() throws {
        let first = try PasswordHasher.hash("s3cret-enough")
        let second = try PasswordHasher.hash("s3cret-enough")
        #expect(first != second)
        for stored in [first, second] {
            let parsed = try #require(StoredPassword(stored))
            #expect(stored.hasPrefix("$scrypt$ln=15,r=8,p=1$") && !stored.dropFirst(22).contains("="))
            #expect(parsed.parameters == .standard && parsed.salt.count == 16 && parsed.key.count == 32)
            #expect(PasswordHasher.verify("s3cret-enough", against: stored))
        }
    }

    @Test func wrongPasswordsDoNotMatch() throws {
        let stored = Self.knownAnswers[0].stored
        for guess in ["correct horse battery stapl", "correct horse battery staple ", "Correct horse battery staple", ""] {
            #expect(!PasswordHasher.verify(guess, against: stored))
        }
        #expect(!PasswordHasher.verify("anything at all", against: PasswordVerifier.dummyHash))
    }

    @Test func malformedStoredStringsMatchNothing() {
        let password = Self.knownAnswers[0].password
        let good = Self.knownAnswers[0].stored
        let salt = "AAECAwQFBgcICQoLDA0ODw"
        let key = "eo40JB24mNWRdcaWU4xBdGepdf/laQaEJfFhiNMVnFg"
        let malformed = [
            "", "$scrypt$", password, good + "$", "$" + good, good.replacingOccurrences(of: "$scrypt$", with: "$bcrypt$"),
            "$scrypt$ln=15,r=8$\(salt)$\(key)", "$scrypt$r=8,ln=15,p=1$\(salt)$\(key)", "$scrypt$ln=15,r=8,p=1,x=1$\(salt)$\(key)",
            "$scrypt$ln=+5,r=8,p=1$\(salt)$\(key)", "$scrypt$ln=015,r=8,p=1$\(salt)$\(key)", "$scrypt$ln=١٥,r=8,p=1$\(salt)$\(key)",
            // Absurd costs are refused before any work: 2^21 rounds, 0, a block size or memory too large.
            "$scrypt$ln=21,r=8,p=1$\(salt)$\(key)", "$scrypt$ln=0,r=8,p=1$\(salt)$\(key)", "$scrypt$ln=15,r=0,p=1$\(salt)$\(key)",
            "$scrypt$ln=20,r=8,p=1$\(salt)$\(key)", "$scrypt$ln=15,r=8,p=99$\(salt)$\(key)",
            // Salt and key: padded, another alphabet, truncated, empty, too short.
            "$scrypt$ln=15,r=8,p=1$\(salt)==$\(key)", "$scrypt$ln=15,r=8,p=1$\(salt)$\(key)=",
            "$scrypt$ln=15,r=8,p=1$\(salt)$\(key.replacingOccurrences(of: "/", with: "_"))",
            "$scrypt$ln=15,r=8,p=1$\(salt)$\(key.dropLast())", "$scrypt$ln=15,r=8,p=1$\(salt)$\(key.dropLast(2))",
            // The right key with stray low bits in its last character, and a key one byte short.
            "$scrypt$ln=15,r=8,p=1$\(salt)$\(key.dropLast())h", "$scrypt$ln=15,r=8,p=1$\(salt)$\(key.dropLast(3))",
            "$scrypt$ln=15,r=8,p=1$$\(key)", "$scrypt$ln=15,r=8,p=1$\(salt)$", "$scrypt$ln=15,r=8,p=1$AAEC$\(key)",
        ]
        for stored in malformed {
            #expect(StoredPassword(stored) == nil, "\(stored)")
            #expect(!PasswordHasher.verify(password, against: stored), "\(stored)")
        }
        // Only the cost is out of range here; the same string at an acceptable cost parses.
        #expect(StoredPassword("$scrypt$ln=20,r=1,p=1$\(salt)$\(key)") != nil)
        #expect(StoredPassword("$scrypt$ln=21,r=1,p=1$\(salt)$\(key)") == nil)
    }

    @Test func theComparisonLooksAtLengthAndEveryByte() {
        #expect(PasswordHasher.constantTimeEqual([1, 2, 3], [1, 2, 3]))
        #expect(!PasswordHasher.constantTimeEqual([1, 2, 3], [1, 2, 4]))
        #expect(!PasswordHasher.constantTimeEqual([0, 2, 3], [1, 2, 3]))
        #expect(!PasswordHasher.constantTimeEqual([1, 2], [1, 2, 3]))
        #expect(PasswordHasher.constantTimeEqual([], []))
    }

    @Test func rulesCountUTF8Bytes() throws {
        try PasswordRules.validate("12345678")
        try PasswordRules.validate(String(repeating: "x", count: 128))
        try PasswordRules.validate("ééüü")  // 4 characters, 8 bytes
        #expect(throws: RegistryError.invalid("password is too short (minimum is 8 characters)")) {
            try PasswordRules.validate("1234567")
        }
        #expect(throws: RegistryError.invalid("password is too short (minimum is 8 characters)")) { try PasswordRules.validate("") }
        #expect(throws: RegistryError.invalid("password is too long (maximum is 128 characters)")) {
            try PasswordRules.validate(String(repeating: "x", count: 129))
        }
        #expect(throws: RegistryError.invalid("password is too long (maximum is 128 characters)")) {
            try PasswordRules.validate(String(repeating: "é", count: 65))
        }
    }
}
