//! Step text: Markdown to HTML for the lesson page. Raw HTML in a lesson is shown as text,
//! so a lesson cannot put scripts into the learner's page.

use pulldown_cmark::{Event, Options, Parser, html};

pub fn to_html(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let events = Parser::new_ext(markdown, options).map(|event| match event {
        Event::Html(text) | Event::InlineHtml(text) => Event::Text(text),
        other => other,
    });
    let mut out = String::new();
    html::push_html(&mut out, events);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_blocks_and_inline_code_render() {
        let html = to_html("Run `ls`:\n\n```sh\nls -la\n```\n");
        assert!(html.contains("<code>ls</code>"), "{html}");
        assert!(
            html.contains("<pre><code class=\"language-sh\">ls -la\n</code></pre>"),
            "{html}"
        );
    }

    #[test]
    fn raw_html_is_shown_not_run() {
        let html = to_html("<script>alert(1)</script>\n\nhi <img src=x onerror=alert(1)>");
        assert!(!html.contains("<script>"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }
}
