//! The one place where text becomes markup.
//!
//! Titles, descriptions, gear, device names, season names, display names, the instance name
//! and photo file names come from users or from activity files, and a page is read by every
//! member of an instance: a string that reached markup unescaped once redirected every visitor
//! of an athlete page with a `<meta>` refresh. So every string is escaped exactly here:
//!
//! - [`html`] is Tera's escape function (set in `crate::templates`, with autoescaping on for
//!   every `.html` and `.xml` template), so every `{{ value }}` goes through it; the SVG built
//!   by hand in `crate::site::svg` calls it on every string it interpolates, so its callers
//!   pass raw text. Only that SVG, markdown sanitised by ammonia (`view::render_markdown`)
//!   and [`json_for_html`] output are inserted with `| safe`.
//! - [`json_for_html`] serialises data embedded in a page (`<script type="application/json">`),
//!   where HTML escaping does not apply and a `</script>` or `<!--` inside a string would end
//!   or confuse the element.
//! - [`xml_chars`] only replaces the control characters XML forbids, for a writer that
//!   escapes markup itself; the GPX download of an activity (`site/pages/activity.rs`) does
//!   both in one pass, as the `gpx` crate's writer did after `xml_chars`.
//!
//! Values are kept raw everywhere else (view models, BAS JSON), so nothing is escaped twice.

use serde::Serialize;
use std::fmt::Write;

/// Escape text for HTML, SVG and XML: element content and quoted attribute values alike.
///
/// `& < > " '` become entities. Control characters other than tab, line feed and carriage
/// return become U+FFFD: they are not allowed in XML 1.0 at all (not even as references), so
/// one would make the Atom feed unreadable, and browsers replace them anyway. `/` is left
/// alone (Tera's default escapes it, which makes every URL unreadable for no safety gain
/// inside quoted attributes and text).
pub fn html(input: &str) -> String {
    let mut out = String::with_capacity(input.len() + 8);
    html_into(&mut out, input);
    out
}

/// [`html`] appended to `out`: what the activity page's pre-rendered rows
/// (`site/pages/activity.rs`) use, so a cell costs no string of its own.
///
/// One pass over the bytes, copying each run of plain bytes at once. Every byte that needs a
/// change is ASCII or starts one of the three forbidden non-ASCII sequences (U+0080–U+009F is
/// `C2 80`–`C2 9F`, U+FFFE/U+FFFF are `EF BF BE`/`EF BF BF`), so the runs always start and end
/// on character boundaries. It was a loop over the `char`s of any string with one character
/// to escape, which a page's JSON (its quotes) always has.
pub fn html_into(out: &mut String, input: &str) {
    let b = input.as_bytes();
    let (mut start, mut i) = (0, 0);
    while i < b.len() {
        let (rep, len) = match b[i] {
            b'&' => ("&amp;", 1),
            b'<' => ("&lt;", 1),
            b'>' => ("&gt;", 1),
            b'"' => ("&quot;", 1),
            b'\'' => ("&#39;", 1),
            b'\t' | b'\n' | b'\r' => {
                i += 1;
                continue;
            }
            0..=0x1f | 0x7f => ("\u{FFFD}", 1),
            0xC2 if matches!(b.get(i + 1), Some(0x80..=0x9F)) => ("\u{FFFD}", 2),
            0xEF if b.get(i + 1) == Some(&0xBF) && matches!(b.get(i + 2), Some(0xBE | 0xBF)) => {
                ("\u{FFFD}", 3)
            }
            _ => {
                i += 1;
                continue;
            }
        };
        out.push_str(&input[start..i]);
        out.push_str(rep);
        i += len;
        start = i;
    }
    out.push_str(&input[start..]);
}

/// Characters XML 1.0 forbids (C0 controls except tab, LF, CR, and U+FFFE/U+FFFF) plus DEL
/// and the C1 range, which HTML treats as parse errors.
pub fn is_forbidden_control(c: char) -> bool {
    (c.is_control() && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{FFFE}' | '\u{FFFF}')
}

/// `input` with [`is_forbidden_control`] characters replaced by U+FFFD, for text handed to a
/// writer that escapes markup itself but would write such characters as they are (the `gpx`
/// crate's XML writer).
pub fn xml_chars(input: &str) -> String {
    input.chars().map(|c| if is_forbidden_control(c) { '\u{FFFD}' } else { c }).collect()
}

/// `value` as JSON that is safe to place raw inside an HTML element (`<script
/// type="application/json">`): `<`, `>` and `&` are written as `\u003c`, `\u003e`, `\u0026`
/// (so no `</script>`, `<!--` or entity can appear), and U+2028/U+2029 as `\u2028`/`\u2029`.
/// `JSON.parse` reads it back unchanged.
pub fn json_for_html<T: Serialize + ?Sized>(value: &T) -> Result<String, serde_json::Error> {
    let json = serde_json::to_string(value)?;
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            // serde_json writes C0 controls as escapes already; DEL and C1 too, as in `html`.
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy;

    /// `html` as it was written before [`html_into`]: a byte test for the common case, then
    /// one `char` at a time.
    fn reference_html(input: &str) -> String {
        let plain = |b: &u8| match b {
            b'&' | b'<' | b'>' | b'"' | b'\'' | 0x7f..=0xff => false,
            b'\t' | b'\n' | b'\r' => true,
            b => *b >= 0x20,
        };
        if input.as_bytes().iter().all(plain) {
            return input.to_owned();
        }
        let mut out = String::with_capacity(input.len() + 8);
        for c in input.chars() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '"' => out.push_str("&quot;"),
                '\'' => out.push_str("&#39;"),
                '\t' | '\n' | '\r' => out.push(c),
                c if is_forbidden_control(c) => out.push('\u{FFFD}'),
                c => out.push(c),
            }
        }
        out
    }

    proptest::proptest! {
        /// Any text, weighted towards what needs escaping: markup, controls (C0, DEL, C1),
        /// U+FFFE/U+FFFF and their neighbours in UTF-8 (`C2 A0`, `EF BF BD`), other
        /// non-ASCII.
        #[test]
        fn html_is_the_char_by_char_escape(
            parts in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::sample::select(vec![
                        "&", "<", ">", "\"", "'", "\t", "\n", "\r", "\u{0}", "\u{1f}", "\u{7f}",
                        "\u{80}", "\u{9f}", "\u{a0}", "\u{c2}", "\u{fffd}", "\u{fffe}", "\u{ffff}",
                        "\u{efbf}", "\u{10ffff}", "é", "—", "/", " ", "km",
                    ]).prop_map(str::to_owned),
                    proptest::prelude::any::<String>(),
                ],
                0..24,
            ),
        ) {
            let text = parts.concat();
            proptest::prop_assert_eq!(html(&text), reference_html(&text));
            let mut appended = "kept ".to_owned();
            html_into(&mut appended, &text);
            proptest::prop_assert_eq!(appended, format!("kept {}", reference_html(&text)));
        }
    }

    #[test]
    fn html_escapes_markup_and_replaces_forbidden_controls() {
        assert_eq!(
            html(r#"</title><meta content="0;url=/x" a='b'> & co"#),
            "&lt;/title&gt;&lt;meta content=&quot;0;url=/x&quot; a=&#39;b&#39;&gt; &amp; co"
        );
        assert_eq!(html("a\u{0}b\u{1b}c\u{7f}d\u{85}e"), "a\u{FFFD}b\u{FFFD}c\u{FFFD}d\u{FFFD}e");
        assert_eq!(xml_chars("a\u{0}b\u{85}<&"), "a\u{FFFD}b\u{FFFD}<&");
        assert_eq!(
            html("tab\tline\nret\r /url/ \u{202e}rtl"),
            "tab\tline\nret\r /url/ \u{202e}rtl"
        );
    }

    #[test]
    fn json_for_html_cannot_end_its_script_element_and_still_parses() {
        let names = vec!["</script><!--<script>", "a & b", "line\u{2028}sep", "del\u{7f}"];
        let json = json_for_html(&names).unwrap();
        assert_eq!(
            json,
            r#"["\u003c/script\u003e\u003c!--\u003cscript\u003e","a \u0026 b","line\u2028sep","del\u007f"]"#
        );
        let back: Vec<String> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, names);
    }
}
