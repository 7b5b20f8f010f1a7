//! Bytes → text: BOM, then strict UTF-8, then strict decoders in the order a detector suggests,
//! and only then a lossy decode whose replacements are counted. Detectors alone guess wrong on
//! real GBK books (charset-normalizer gives up, chardet says koi8-u); strict decoding does not.
use encoding_rs::{
    DecoderResult, Encoding, BIG5, EUC_JP, EUC_KR, GB18030, ISO_2022_JP, SHIFT_JIS, UTF_16BE,
    UTF_16LE, UTF_8,
};
use std::borrow::Cow;

pub struct Decoded {
    pub text: String,
    pub encoding: &'static str,
    /// Byte sequences no candidate decoder accepted, each replaced by U+FFFD.
    pub replacements: usize,
}

/// How much of the file the detector reads; strict decoding still checks the whole file.
const DETECT_BYTES: usize = 64 << 10;

pub fn decode(bytes: &[u8]) -> Decoded {
    let (text, encoding, replacements) = decode_borrowed(bytes);
    Decoded {
        text: text.into_owned(),
        encoding,
        replacements,
    }
}

/// As [`decode`], borrowing the bytes when they are plain UTF-8: a big file is not copied.
pub fn decode_borrowed(bytes: &[u8]) -> (Cow<'_, str>, &'static str, usize) {
    let owned = |decoded: Decoded| {
        (
            Cow::Owned(decoded.text),
            decoded.encoding,
            decoded.replacements,
        )
    };
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        return owned(lossy(encoding, &bytes[bom_len..], bom_name(encoding)));
    }
    // Before UTF-8: NUL-interleaved UTF-16 is also valid UTF-8.
    if let Some(encoding) = utf16_bom_or_guess(bytes) {
        return owned(lossy(encoding, bytes, encoding.name()));
    }
    match simdutf8::basic::from_utf8(bytes) {
        Ok(text) => (Cow::Borrowed(text), "utf-8", 0),
        Err(_) => owned(legacy(bytes)),
    }
}

/// Text in a legacy multi-byte or single-byte encoding.
fn legacy(bytes: &[u8]) -> Decoded {
    // Most legacy text is GBK/GB18030. When no other multi-byte encoding the detector could
    // name accepts the bytes, the candidate order below always ends at GB18030 whatever the
    // detector guesses, so the detector (about 1,800 instructions per byte) is skipped.
    if let Some(text) = GB18030.decode_without_bom_handling_and_without_replacement(bytes) {
        if !DETECTABLE_MULTI_BYTE
            .iter()
            .any(|&encoding| decodes_strictly(encoding, bytes))
        {
            return Decoded {
                text: text.into_owned(),
                encoding: canonical_name(GB18030),
                replacements: 0,
            };
        }
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(
        &bytes[..bytes.len().min(DETECT_BYTES)],
        bytes.len() <= DETECT_BYTES,
    );
    let guess = detector.guess(None, chardetng::Utf8Detection::Deny);
    // Single-byte encodings accept any bytes, so they cannot be tested strictly: the
    // multi-byte candidates go first, the detector's multi-byte guess leading them.
    let mut candidates: Vec<&'static Encoding> = Vec::new();
    if !guess.is_single_byte() {
        candidates.push(guess);
    }
    for fallback in [GB18030, BIG5] {
        if !candidates.contains(&fallback) {
            candidates.push(fallback);
        }
    }
    for &encoding in &candidates {
        if let Some(text) = encoding.decode_without_bom_handling_and_without_replacement(bytes) {
            return Decoded {
                text: text.into_owned(),
                encoding: canonical_name(encoding),
                replacements: 0,
            };
        }
    }
    // No multi-byte decoder accepts every byte: the one needing fewest replacements wins when
    // they are rare (a damaged GBK file), else the detector's single-byte guess.
    let best = candidates
        .into_iter()
        .map(|encoding| lossy(encoding, bytes, canonical_name(encoding)))
        .min_by_key(|decoded| decoded.replacements)
        .unwrap_or_else(|| lossy(UTF_8, bytes, "utf-8"));
    if guess.is_single_byte() && best.replacements * 100 > bytes.len() {
        return lossy(guess, bytes, guess.name());
    }
    best
}

/// The multi-byte encodings other than GBK that chardetng can guess (UTF-8 and ISO-2022-JP are
/// denied to it above, ISO-2022-JP is listed anyway: it costs nothing on 8-bit text).
const DETECTABLE_MULTI_BYTE: [&Encoding; 5] = [BIG5, SHIFT_JIS, EUC_JP, EUC_KR, ISO_2022_JP];

/// Whether `encoding` decodes every byte without a replacement; stops at the first error, and
/// decodes through a small buffer so a quick rejection costs no allocation of the file's size.
fn decodes_strictly(encoding: &'static Encoding, bytes: &[u8]) -> bool {
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let mut buffer = [0u8; 8192];
    let mut rest = bytes;
    loop {
        let (result, read, _) = decoder.decode_to_utf8_without_replacement(rest, &mut buffer, true);
        rest = &rest[read..];
        match result {
            DecoderResult::InputEmpty => return true,
            DecoderResult::OutputFull => continue,
            DecoderResult::Malformed(_, _) => return false,
        }
    }
}

fn lossy(encoding: &'static Encoding, bytes: &[u8], name: &'static str) -> Decoded {
    let (text, had_errors) = encoding.decode_without_bom_handling(bytes);
    let replacements = if had_errors {
        text.chars().filter(|&c| c == '\u{FFFD}').count()
    } else {
        0
    };
    Decoded {
        text: text.into_owned(),
        encoding: name,
        replacements,
    }
}

/// WHATWG's "GBK" decoder is GB18030; say what the bytes really were.
fn canonical_name(encoding: &'static Encoding) -> &'static str {
    if encoding == GB18030 || encoding == encoding_rs::GBK {
        "gb18030"
    } else {
        encoding.name()
    }
}

fn bom_name(encoding: &'static Encoding) -> &'static str {
    if encoding == UTF_8 {
        "utf-8-bom"
    } else if encoding == UTF_16LE {
        "utf-16le-bom"
    } else {
        "utf-16be-bom"
    }
}

/// UTF-16 without a BOM: text that is mostly ASCII has a NUL in every other byte.
pub fn utf16_bom_or_guess(bytes: &[u8]) -> Option<&'static Encoding> {
    if bytes.starts_with(b"\xff\xfe") {
        return Some(UTF_16LE);
    }
    if bytes.starts_with(b"\xfe\xff") {
        return Some(UTF_16BE);
    }
    let head = &bytes[..bytes.len().min(4096) & !1];
    if head.len() < 16 {
        return None;
    }
    let pairs = head.len() / 2;
    let even_nuls = head.iter().step_by(2).filter(|&&b| b == 0).count();
    let odd_nuls = head.iter().skip(1).step_by(2).filter(|&&b| b == 0).count();
    if odd_nuls * 10 > pairs * 3 && even_nuls * 20 < pairs {
        Some(UTF_16LE)
    } else if even_nuls * 10 > pairs * 3 && odd_nuls * 20 < pairs {
        Some(UTF_16BE)
    } else {
        None
    }
}

/// CRLF and lone CR become LF.
pub fn normalize_newlines(text: String) -> String {
    if !text.contains('\r') {
        return text;
    }
    text.replace("\r\n", "\n").replace('\r', "\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_decoders_pick_the_right_encoding() {
        let (gbk, _, _) = GB18030.encode("高血压患者能吃党参吗？");
        let decoded = decode(&gbk);
        assert_eq!(decoded.text, "高血压患者能吃党参吗？");
        assert_eq!(decoded.encoding, "gb18030");
        let (big5, _, _) =
            BIG5.encode("醫學院學生在臨床實習時應該注意病人的隱私與尊嚴，這是醫療倫理的基本要求。");
        assert_eq!(decode(&big5).encoding, "Big5");
    }

    #[test]
    fn utf16_without_bom_is_recognised() {
        let bytes: Vec<u8> = "patient: fever 38.5 C, cough"
            .encode_utf16()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        assert_eq!(decode(&bytes).text, "patient: fever 38.5 C, cough");
    }

    #[test]
    fn newlines_are_normalised() {
        assert_eq!(normalize_newlines("a\r\r\n\nb\rc".into()), "a\n\n\nb\nc");
    }
}
