import PythonPackaging

/// Where token secrets are made and how they are stored: the secret is shown once, the database
/// keeps only its sha256. Tokens are 160-bit random secrets, so a fast hash is the right one
/// (nothing to brute-force), and the database never holds a usable secret.
enum TokenSecrets {
    enum Kind {
        case personal
        case deploy

        var prefix: String {
            switch self {
            case .personal: "whpat-"
            case .deploy: "whdt-"
            }
        }
    }

    /// A new secret of `kind`, and its stored form.
    static func mint(_ kind: Kind) -> (secret: String, digest: String) {
        let secret = kind.prefix + Hex.random(bytes: 20)
        return (secret, self.digest(of: secret))
    }

    /// The stored form of a secret: its sha256, lowercase hex.
    static func digest(of secret: String) -> String {
        ContentHash.sha256(secret.utf8)
    }
}
