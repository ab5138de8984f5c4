import HTTPTypes
import Hummingbird
import Registry
import SafeHTML

/// How every page goes out: HTML with the headers that keep hostile content inert (no inline
/// script, no framing, no sniffing), and no caching of anything a signed-in visitor sees.
enum WebResponse {
    static let contentSecurityPolicy =
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; "
        + "frame-ancestors 'none'; base-uri 'none'; report-uri /-/csp-report"

    static func securityHeaders(_ headers: inout HTTPFields) {
        headers[.pageContentSecurityPolicy] = Self.contentSecurityPolicy
        headers[.pageFrameOptions] = "DENY"
        headers[.pageContentTypeOptions] = "nosniff"
        headers[.pageReferrerPolicy] = "same-origin"
    }

    static func page(_ html: String, status: HTTPResponse.Status = .ok, visitor: WebVisitor, secure: Bool, isHead: Bool) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.contentLength] = String(html.utf8.count)
        Self.securityHeaders(&headers)
        headers[.cacheControl] = "no-store"
        if let token = visitor.newFormTokenCookie {
            headers.append(HTTPField(name: .setCookie, value: Cookies.set(Cookies.formToken, token, secure: secure)))
        }
        return Response(status: status, headers: headers, body: isHead ? .init() : .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// 303 See Other: after a form's POST, the browser GETs the result.
    static func redirect(to location: String, cookies: [String] = []) -> Response {
        var headers = HTTPFields()
        headers[.location] = location
        headers[.contentLength] = "0"
        headers[.cacheControl] = "no-store"
        Self.securityHeaders(&headers)
        for cookie in cookies { headers.append(HTTPField(name: .setCookie, value: cookie)) }
        return Response(status: .seeOther, headers: headers)
    }

    static func asset(_ body: String, contentType: String, isHead: Bool) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[.contentLength] = String(body.utf8.count)
        headers[.cacheControl] = "public, max-age=3600"
        Self.securityHeaders(&headers)
        return Response(status: .ok, headers: headers, body: isHead ? .init() : .init(byteBuffer: ByteBuffer(string: body)))
    }
}

extension HTTPField.Name {
    static let pageContentSecurityPolicy = Self("Content-Security-Policy")!
    static let pageFrameOptions = Self("X-Frame-Options")!
    static let pageContentTypeOptions = Self("X-Content-Type-Options")!
    static let pageReferrerPolicy = Self("Referrer-Policy")!
}
