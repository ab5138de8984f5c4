/// A package's long description as an HTML fragment safe to put into a page. (Placeholder until the
/// sanitiser lands: escaped text in a `<pre>`.)
public enum ReadmeRenderer {
    public static func render(_ description: String, contentType: String?) -> String {
        "<pre class=\"readme-text\">" + HTML.escape(description) + "</pre>"
    }
}
