import XCTest

@testable import AWSSigV4

final class AmzDateTests: XCTestCase {
    func testFormatsAndParsesUTC() {
        // 2015-08-30T12:36:00Z, the moment of AWS's published test suite.
        let date = AmzDate(secondsSince1970: 1_440_938_160)
        XCTAssertEqual(date.timestamp, "20150830T123600Z")
        XCTAssertEqual(date.day, "20150830")
        XCTAssertEqual(AmzDate(timestamp: "20150830T123600Z"), date)
        XCTAssertEqual(AmzDate(secondsSince1970: 0).timestamp, "19700101T000000Z")
        XCTAssertEqual(AmzDate(timestamp: "20240229T235959Z")?.secondsSince1970, 1_709_251_199)
    }

    func testRefusesMalformedTimestamps() {
        for bad in ["", "20150830T123600", "20151330T123600Z", "20150230T123600Z", "2015083OT123600Z", "20150830T246000Z"] {
            XCTAssertNil(AmzDate(timestamp: bad), bad)
        }
    }
}
