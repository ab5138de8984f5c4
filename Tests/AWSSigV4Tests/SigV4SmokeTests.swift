import XCTest

@testable import AWSSigV4

/// One case by hand, so that a broken build of the signer fails here before the suites run.
final class SigV4SmokeTests: XCTestCase {
    func testGetVanillaOfAWSTestSuite() {
        let signer = SigV4Signer(
            credentials: AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            region: "us-east-1",
            service: "service"
        )
        let date = AmzDate(timestamp: "20150830T123600Z")!
        let request = SignableRequest(
            method: "GET",
            path: "/",
            headers: [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")]
        )
        XCTAssertEqual(
            signer.authorization(for: request, payload: .emptyBody, at: date),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, "
                + "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        )
    }
}
