import XCTest

@testable import AWSSigV4

/// Credentials come from the variables every AWS tool reads, and their secrets never show when a
/// value is printed, interpolated into a log line or dumped.
final class AWSCredentialsTests: XCTestCase {
    static let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    static let token = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwth"

    func testReadsTheEnvironmentLikeAWSTools() throws {
        let full = try XCTUnwrap(
            AWSCredentials(environment: [
                "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": Self.secret, "AWS_SESSION_TOKEN": Self.token, "HOME": "/root",
            ])
        )
        XCTAssertEqual(full.accessKeyID, "AKIDEXAMPLE")
        XCTAssertEqual(full.secretAccessKey, Self.secret)
        XCTAssertEqual(full.sessionToken, Self.token)

        let longTerm = try XCTUnwrap(AWSCredentials(environment: ["AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": Self.secret]))
        XCTAssertNil(longTerm.sessionToken)
        // An exported but empty token is no token (`export AWS_SESSION_TOKEN=` after a session ends).
        let emptyToken = try XCTUnwrap(
            AWSCredentials(environment: ["AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": Self.secret, "AWS_SESSION_TOKEN": ""])
        )
        XCTAssertNil(emptyToken.sessionToken)
    }

    func testMissingOrEmptyKeysGiveNoCredentials() {
        let cases: [[String: String]] = [
            [:],
            ["AWS_ACCESS_KEY_ID": "AKIDEXAMPLE"],
            ["AWS_SECRET_ACCESS_KEY": Self.secret],
            ["AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": Self.secret],
            ["AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": ""],
            // A token alone is not credentials, nor are other tools' spellings.
            ["AWS_SESSION_TOKEN": Self.token],
            ["AWS_ACCESS_KEY": "AKIDEXAMPLE", "AWS_SECRET_KEY": Self.secret],
        ]
        for environment in cases {
            XCTAssertNil(AWSCredentials(environment: environment), "\(environment.keys.sorted())")
        }
    }

    func testPrintingNeverShowsTheSecretOrTheToken() {
        let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: Self.secret, sessionToken: Self.token)
        var dumped = ""
        dump(credentials, to: &dumped)
        let renderings = [
            "description": credentials.description,
            "interpolation": "\(credentials)",
            "String(describing:)": String(describing: credentials),
            "String(reflecting:)": String(reflecting: credentials),
            "dump": dumped,
            "in an optional": String(describing: Optional(credentials)),
            "in an array": "\([credentials])",
        ]
        for (how, text) in renderings {
            XCTAssertTrue(text.contains("AKIDEXAMPLE"), "\(how) names the key id: \(text)")
            XCTAssertFalse(text.contains(Self.secret), "\(how) shows the secret: \(text)")
            XCTAssertFalse(text.contains("wJalrXUtnFEMI"), "\(how) shows part of the secret: \(text)")
            XCTAssertFalse(text.contains(Self.token), "\(how) shows the session token: \(text)")
            XCTAssertFalse(text.contains("AQoDYXdzEPT"), "\(how) shows part of the session token: \(text)")
        }
        XCTAssertEqual(credentials.description, "AWSCredentials(accessKeyID: AKIDEXAMPLE, secret: <redacted>)")
    }
}
