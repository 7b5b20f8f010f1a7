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
    let mut copied = 0;
    while let Some(offset) = memchr::memchr(b'&', &bytes[copied..]) {
        let amp = copied + offset;
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
    let Some(number) = after_amp.strip_prefix(b"#") else {
        return PREDEFINED
            .iter()
            .find(|(name, _)| after_amp.starts_with(name))
            .map(|&(name, c)| (c, name.len()));
    };
    // `#x` is hexadecimal, `#X` is not (quick-xml rejects it, so the fallback decides).
    let (digits, radix, prefix) = match number.strip_prefix(b"x") {
        Some(hex) => (hex, 16, 2),
        None => (number, 10, 1),
    };
    let mut code: u32 = 0;
    let mut length = 0;
    for &byte in digits {
        if byte == b';' {
            break;
        }
        let digit = (byte as char).to_digit(radix)?;
        code = code.checked_mul(radix)?.checked_add(digit)?;
        length += 1;
    }
    // Needs digits and a closing `;`; U+0000 and surrogates are errors in quick-xml.
    if length == 0 || digits.get(length) != Some(&b';') || code == 0 {
        return None;
    }
    Some((char::from_u32(code)?, prefix + length + 1))
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
