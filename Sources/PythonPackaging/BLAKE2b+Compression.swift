extension BLAKE2b {
    /// The initialisation vector: the first 64 bits of the fractional parts of the square
    /// roots of the first eight primes, as in SHA-512.
    static let initializationVector: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (
        0x6A09_E667_F3BC_C908, 0xBB67_AE85_84CA_A73B, 0x3C6E_F372_FE94_F82B, 0xA54F_F53A_5F1D_36F1,
        0x510E_527F_ADE6_82D1, 0x9B05_688C_2B3E_6C1F, 0x1F83_D9AB_FB41_BD6B, 0x5BE0_CD19_137E_2179
    )

    /// The eight-word hash state `h` of RFC 7693, carried from block to block.
    struct ChainingValue {
        var h0, h1, h2, h3, h4, h5, h6, h7: UInt64

        /// The initial state for the given first word of the parameter block.
        init(parameterWord: UInt64) {
            let iv = BLAKE2b.initializationVector
            (self.h0, self.h1, self.h2, self.h3) = (iv.0 ^ parameterWord, iv.1, iv.2, iv.3)
            (self.h4, self.h5, self.h6, self.h7) = (iv.4, iv.5, iv.6, iv.7)
        }

        /// The compression function F of RFC 7693 §3.2 over the 128 bytes at `block`.
        ///
        /// `counterLow`/`counterHigh` are the bytes hashed so far including this block, and
        /// `isFinal` marks the last block. The twelve rounds are unrolled with the message
        /// schedule `SIGMA` written out, so that the whole state stays in registers.
        @inline(__always)
        mutating func compress(_ block: UnsafeRawPointer, counterLow: UInt64, counterHigh: UInt64, isFinal: Bool) {
            @inline(__always)
            func word(_ index: Int) -> UInt64 {
                UInt64(littleEndian: block.loadUnaligned(fromByteOffset: index &* 8, as: UInt64.self))
            }
            let m = (
                word(0), word(1), word(2), word(3), word(4), word(5), word(6), word(7),
                word(8), word(9), word(10), word(11), word(12), word(13), word(14), word(15)
            )
            let iv = BLAKE2b.initializationVector
            var v = WorkingVector(
                v0: self.h0,
                v1: self.h1,
                v2: self.h2,
                v3: self.h3,
                v4: self.h4,
                v5: self.h5,
                v6: self.h6,
                v7: self.h7,
                v8: iv.0,
                v9: iv.1,
                v10: iv.2,
                v11: iv.3,
                v12: iv.4 ^ counterLow,
                v13: iv.5 ^ counterHigh,
                v14: isFinal ? ~iv.6 : iv.6,
                v15: iv.7
            )
            v.round(m.0, m.1, m.2, m.3, m.4, m.5, m.6, m.7, m.8, m.9, m.10, m.11, m.12, m.13, m.14, m.15)
            v.round(m.14, m.10, m.4, m.8, m.9, m.15, m.13, m.6, m.1, m.12, m.0, m.2, m.11, m.7, m.5, m.3)
            v.round(m.11, m.8, m.12, m.0, m.5, m.2, m.15, m.13, m.10, m.14, m.3, m.6, m.7, m.1, m.9, m.4)
            v.round(m.7, m.9, m.3, m.1, m.13, m.12, m.11, m.14, m.2, m.6, m.5, m.10, m.4, m.0, m.15, m.8)
            v.round(m.9, m.0, m.5, m.7, m.2, m.4, m.10, m.15, m.14, m.1, m.11, m.12, m.6, m.8, m.3, m.13)
            v.round(m.2, m.12, m.6, m.10, m.0, m.11, m.8, m.3, m.4, m.13, m.7, m.5, m.15, m.14, m.1, m.9)
            v.round(m.12, m.5, m.1, m.15, m.14, m.13, m.4, m.10, m.0, m.7, m.6, m.3, m.9, m.2, m.8, m.11)
            v.round(m.13, m.11, m.7, m.14, m.12, m.1, m.3, m.9, m.5, m.0, m.15, m.4, m.8, m.6, m.2, m.10)
            v.round(m.6, m.15, m.14, m.9, m.11, m.3, m.0, m.8, m.12, m.2, m.13, m.7, m.1, m.4, m.10, m.5)
            v.round(m.10, m.2, m.8, m.4, m.7, m.6, m.1, m.5, m.15, m.11, m.9, m.14, m.3, m.12, m.13, m.0)
            v.round(m.0, m.1, m.2, m.3, m.4, m.5, m.6, m.7, m.8, m.9, m.10, m.11, m.12, m.13, m.14, m.15)
            v.round(m.14, m.10, m.4, m.8, m.9, m.15, m.13, m.6, m.1, m.12, m.0, m.2, m.11, m.7, m.5, m.3)
            self.h0 ^= v.v0 ^ v.v8
            self.h1 ^= v.v1 ^ v.v9
            self.h2 ^= v.v2 ^ v.v10
            self.h3 ^= v.v3 ^ v.v11
            self.h4 ^= v.v4 ^ v.v12
            self.h5 ^= v.v5 ^ v.v13
            self.h6 ^= v.v6 ^ v.v14
            self.h7 ^= v.v7 ^ v.v15
        }

        /// The first `length` bytes of the state, little-endian.
        func digest(length: Int) -> [UInt8] {
            let words = [self.h0, self.h1, self.h2, self.h3, self.h4, self.h5, self.h6, self.h7]
            var bytes: [UInt8] = []
            bytes.reserveCapacity(64)
            for word in words {
                withUnsafeBytes(of: word.littleEndian) { bytes.append(contentsOf: $0) }
            }
            return Array(bytes.prefix(length))
        }
    }

    /// The sixteen-word working vector `v` of the compression function.
    struct WorkingVector {
        var v0, v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12, v13, v14, v15: UInt64

        /// One round: mixes the columns, then the diagonals, with the message words given in
        /// the round's `SIGMA` order.
        @inline(__always)
        mutating func round(
            _ m0: UInt64,
            _ m1: UInt64,
            _ m2: UInt64,
            _ m3: UInt64,
            _ m4: UInt64,
            _ m5: UInt64,
            _ m6: UInt64,
            _ m7: UInt64,
            _ m8: UInt64,
            _ m9: UInt64,
            _ m10: UInt64,
            _ m11: UInt64,
            _ m12: UInt64,
            _ m13: UInt64,
            _ m14: UInt64,
            _ m15: UInt64
        ) {
            Self.mix(&self.v0, &self.v4, &self.v8, &self.v12, m0, m1)
            Self.mix(&self.v1, &self.v5, &self.v9, &self.v13, m2, m3)
            Self.mix(&self.v2, &self.v6, &self.v10, &self.v14, m4, m5)
            Self.mix(&self.v3, &self.v7, &self.v11, &self.v15, m6, m7)
            Self.mix(&self.v0, &self.v5, &self.v10, &self.v15, m8, m9)
            Self.mix(&self.v1, &self.v6, &self.v11, &self.v12, m10, m11)
            Self.mix(&self.v2, &self.v7, &self.v8, &self.v13, m12, m13)
            Self.mix(&self.v3, &self.v4, &self.v9, &self.v14, m14, m15)
        }

        /// The mixing function G of RFC 7693 §3.1.
        @inline(__always)
        static func mix(
            _ a: inout UInt64,
            _ b: inout UInt64,
            _ c: inout UInt64,
            _ d: inout UInt64,
            _ x: UInt64,
            _ y: UInt64
        ) {
            a = a &+ b &+ x
            d = rotateRight(d ^ a, by: 32)
            c = c &+ d
            b = rotateRight(b ^ c, by: 24)
            a = a &+ b &+ y
            d = rotateRight(d ^ a, by: 16)
            c = c &+ d
            b = rotateRight(b ^ c, by: 63)
        }

        @inline(__always)
        static func rotateRight(_ value: UInt64, by amount: UInt64) -> UInt64 {
            (value &>> amount) | (value &<< (64 &- amount))
        }
    }
}
