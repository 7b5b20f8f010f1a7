//! Cheap unescaping of XML text nodes. Exam workbooks written by some tools store every CJK
//! character of an inline string as a numeric reference (`&#19978;`): quick-xml's
//! `BytesText::unescape` costs a few hundred instructions per reference (a fresh string per
//! node, a double-needle search per reference), which made it the largest cost of such files.
//! The fast path here decodes the common references straight into the caller's string and
//! hands anything else to quick-xml, so output and error handling stay exactly its own.
use quick_xml::events::BytesText;

/// Appends the unescaped text of `text` to `out`. Text that quick-xml cannot unescape (bad
/// UTF-8, unknown entity, malformed reference) is appended raw, lossily decoded.
pub fn push_unescaped(out: &mut String, text: &BytesText) {
    let start = out.len();
    if push_common_references(out, text).is_none() {
        out.truncate(start);
        match text.unescape() {
            Ok(unescaped) => out.push_str(&unescaped),
            Err(_) => out.push_str(&String::from_utf8_lossy(text)),
        }
    }
}

/// Appends `raw` with `&#NNN;`, `&#xHHH;` and the five predefined entities resolved, or
/// returns `None` (leaving `out` partly written) on anything else: non-UTF-8 bytes, another
/// entity, or a reference quick-xml would reject. The crate is built without its `encoding`
/// feature, so text is always UTF-8 as here.
fn push_common_references(out: &mut String, raw: &[u8]) -> Option<()> {
    let raw = std::str::from_utf8(raw).ok()?;
    let bytes = raw.as_bytes();
    // Resolved text is never longer than its references.
    out.reserve(raw.len());
    let mut copied = 0;
    loop {
        // References come in runs (`&#19978;&#28023;`): look at the next byte before searching.
        let amp = match bytes.get(copied) {
            Some(b'&') => copied,
            _ => match memchr::memchr(b'&', &bytes[copied..]) {
                Some(offset) => copied + offset,
                None => break,
            },
        };
        out.push_str(&raw[copied..amp]);
        let (decoded, length) = reference(&bytes[amp + 1..])?;
        out.push(decoded);
        copied = amp + 1 + length;
    }
    out.push_str(&raw[copied..]);
    Some(())
}

/// The character of the reference at the start of `after_amp` (the bytes after `&`) and the
/// length of the reference up to and including `;`.
fn reference(after_amp: &[u8]) -> Option<(char, usize)> {
    const PREDEFINED: [(&[u8], char); 5] = [
        (b"lt;", '<'),
        (b"gt;", '>'),
        (b"amp;", '&'),
        (b"apos;", '\''),
        (b"quot;", '"'),
    ];
    match after_amp {
        // `#x` is hexadecimal, `#X` is not (quick-xml rejects it, so the fallback decides).
        [b'#', b'x', hex @ ..] => number(hex, 16).map(|(c, length)| (c, length + 2)),
        [b'#', decimal @ ..] => number(decimal, 10).map(|(c, length)| (c, length + 1)),
        _ => PREDEFINED
            .iter()
            .find(|(name, _)| after_amp.starts_with(name))
            .map(|&(name, c)| (c, name.len())),
    }
}

/// The character of the digits before `;` and their length with the `;`. At most 7 decimal
/// or 6 hexadecimal digits (U+10FFFF), so the sum cannot overflow; longer numbers (leading
/// zeros) go to the fallback. U+0000 and surrogates are errors in quick-xml.
fn number(digits: &[u8], radix: u32) -> Option<(char, usize)> {
    let most = if radix == 10 { 7 } else { 6 };
    let mut code = 0u32;
    for (length, &byte) in digits.iter().enumerate().take(most + 1) {
        let digit = match byte {
            b';' if code > 0 => return Some((char::from_u32(code)?, length + 1)),
            b'0'..=b'9' => byte - b'0',
            b'a'..=b'f' if radix == 16 => byte - b'a' + 10,
            b'A'..=b'F' if radix == 16 => byte - b'A' + 10,
            _ => return None,
        };
        code = code * radix + u32::from(digit);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast_and_quick_xml(raw: &str) -> (String, String) {
        let text = BytesText::from_escaped(raw);
        let mut fast = String::from("前缀");
        push_unescaped(&mut fast, &text);
        let reference = match text.unescape() {
            Ok(unescaped) => unescaped.into_owned(),
            Err(_) => String::from_utf8_lossy(&text).into_owned(),
        };
        (fast, format!("前缀{reference}"))
    }

    #[test]
    fn same_text_as_quick_xml_for_references_good_and_bad() {
        for raw in [
            "&#19978;&#28023;中医 &amp; &lt;脏腑&gt; &quot;&apos;",
            "&#x4E0A;&#X4E0A;&#0065;&#x0041;&#1;",
            "plain text, no references",
            "",
            "&#0; &#xD800; &#1114112; &#99999999999; &#+65; &#-65; &#; &#x;",
            "&nbsp; &copy; & alone &amp &#65 &#65&#66; ; &a;b",
            "&#19978",
            "&#00000065; &#x0000041; &#1114111; &#x10FFFF; &#x110000; &#xaBcD;",
        ] {
            let (fast, expected) = fast_and_quick_xml(raw);
            assert_eq!(fast, expected, "{raw:?}");
        }
    }

    #[test]
    fn numeric_references_decode() {
        let mut out = String::new();
        push_unescaped(
            &mut out,
            &BytesText::from_escaped("&#19978;&#x6D77; &lt;1&gt;"),
        );
        assert_eq!(out, "上海 <1>");
    }
}
