//! Kept documents as lines of `docs/`: the bytes serde_json's compact output gives, with the
//! strings escaped a 16-byte block at a time. serde_json looks up every byte of the text in a
//! table (about nine instructions per byte, 15% of publishing on the spine's Chinese text);
//! here a block without a quote, backslash or control byte, most of them, costs a few vector
//! instructions.
use crate::document::Document;

/// Appends `doc` as one JSON line, '\n' included.
pub fn push_document(doc: &Document, out: &mut Vec<u8>) -> serde_json::Result<()> {
    out.extend_from_slice(b"{\"id\":");
    push_string(&doc.id, out);
    out.extend_from_slice(b",\"source\":");
    push_string(&doc.source, out);
    out.extend_from_slice(b",\"text\":");
    push_string(&doc.text, out);
    out.extend_from_slice(b",\"meta\":");
    serde_json::to_writer(&mut *out, &doc.meta)?;
    out.extend_from_slice(b"}\n");
    Ok(())
}

/// `text` as a JSON string, escaped as serde_json escapes: `\"`, `\\`, `\b \t \n \f \r`, and
/// `\u00xx` for the other control characters; everything else as it is.
fn push_string(text: &str, out: &mut Vec<u8>) {
    let bytes = text.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    let mut copied = 0;
    let mut escape = |i: usize, out: &mut Vec<u8>| {
        out.extend_from_slice(&bytes[copied..i]);
        push_escape(bytes[i], out);
        copied = i + 1;
    };
    let mut blocks = bytes.chunks_exact(16);
    for (n, block) in blocks.by_ref().enumerate() {
        // `|` rather than `any`, so the test compiles to a few vector instructions.
        if block.iter().fold(false, |any, &b| any | needs_escape(b)) {
            for (k, &b) in block.iter().enumerate() {
                if needs_escape(b) {
                    escape(n * 16 + k, out);
                }
            }
        }
    }
    let tail = bytes.len() - blocks.remainder().len();
    for (k, &b) in blocks.remainder().iter().enumerate() {
        if needs_escape(b) {
            escape(tail + k, out);
        }
    }
    out.extend_from_slice(&bytes[copied..]);
    out.push(b'"');
}

fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

fn push_escape(b: u8, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let short = match b {
        b'"' => b'"',
        b'\\' => b'\\',
        0x08 => b'b',
        b'\t' => b't',
        b'\n' => b'n',
        0x0c => b'f',
        b'\r' => b'r',
        _ => {
            let hex = [HEX[usize::from(b >> 4)], HEX[usize::from(b & 0xf)]];
            out.extend_from_slice(b"\\u00");
            out.extend_from_slice(&hex);
            return;
        }
    };
    out.extend_from_slice(&[b'\\', short]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_bytes_as_serde_json() {
        let every_ascii: String = (0u8..128).map(char::from).collect();
        let texts = [
            String::new(),
            "糖尿病患者应定期监测血糖".repeat(5),
            format!("{every_ascii}第二行\n\"引号\"\\ 𠀀\u{7f}\u{2028}é"),
            format!("{}\n{}\t", "甲".repeat(40), every_ascii.repeat(3)),
        ];
        for text in texts {
            let mut doc = Document::new("dir/\"a\"\\b.txt", Some(3), text);
            doc.set_meta("encoding", "gb18030");
            doc.set_meta("note", "\u{1}\n");
            let mut line = Vec::new();
            push_document(&doc, &mut line).unwrap();
            let mut expected = serde_json::to_vec(&doc).unwrap();
            expected.push(b'\n');
            assert_eq!(
                String::from_utf8(line).unwrap(),
                String::from_utf8(expected).unwrap()
            );
        }
    }
}
