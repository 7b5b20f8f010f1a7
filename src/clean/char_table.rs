//! Per-character properties of the Basic Multilingual Plane computed once into a table, the
//! lead-byte test for common ideographs, walks that stop only at chosen lead bytes, and lines.
//! Cleaning, filtering, dedup keys and sentence splitting look at every character of the
//! corpus several times; a table lookup replaces a chain of range tests and Unicode property
//! searches per character, and most ideographs are told from their first bytes alone.

/// Whether `rest` starts with a common CJK ideograph (U+4E00–U+9FFF, most of Chinese text),
/// told from its first two bytes; it takes three.
pub fn starts_common_ideograph(rest: &[u8]) -> bool {
    match rest {
        [0xE5..=0xE9, ..] => true,             // U+5000–U+9FFF
        [0xE4, second, ..] => *second >= 0xB8, // U+4E00–U+4FFF
        _ => false,
    }
}

/// A walk over UTF-8 a character at a time that stops only at characters whose first byte is
/// one of a few stop bytes: an ideograph costs one step, not three.
pub struct Stops {
    /// Per byte: 0 for a stop, else the length of the character it begins (1 for ASCII, and
    /// for continuation bytes, where a walk from a character boundary never lands).
    steps: [u8; 256],
}

impl Stops {
    pub const fn new(stops: &[u8]) -> Stops {
        let mut steps = [1u8; 256];
        let mut b = 0xC0;
        while b < 256 {
            steps[b] = if b >= 0xF0 {
                4
            } else if b >= 0xE0 {
                3
            } else {
                2
            };
            b += 1;
        }
        let mut i = 0;
        while i < stops.len() {
            steps[stops[i] as usize] = 0;
            i += 1;
        }
        Stops { steps }
    }

    /// 0 if `byte` is a stop, else the length of the character it begins.
    pub fn step(&self, byte: u8) -> usize {
        self.steps[byte as usize] as usize
    }

    /// The offset of the first stop at or after `i` (a character boundary), or the end.
    pub fn next(&self, bytes: &[u8], mut i: usize) -> usize {
        while let Some(&b) = bytes.get(i) {
            match self.step(b) {
                0 => return i,
                step => i += step,
            }
        }
        bytes.len()
    }
}

/// Bytes that begin a character `char::is_whitespace` may accept (ASCII spaces, and the lead
/// bytes of U+0085, U+00A0, U+1680, U+2000–U+205F and U+3000): only there is a character decoded.
pub static SPACE_LEADS: Stops = Stops::new(b"\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \xc2\xe1\xe2\xe3");

/// The lines of `text` as `text.split('\n')` gives them, found by a vectorised search (the
/// standard library's searches a word at a time).
pub fn lines(text: &str) -> Lines<'_> {
    Lines {
        text,
        start: Some(0),
        breaks: memchr::memchr_iter(b'\n', text.as_bytes()),
    }
}

pub struct Lines<'a> {
    text: &'a str,
    /// Where the next line starts; `None` after the last.
    start: Option<usize>,
    breaks: memchr::Memchr<'a>,
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let start = self.start?;
        match self.breaks.next() {
            Some(end) => {
                self.start = Some(end + 1);
                Some(&self.text[start..end])
            }
            None => {
                self.start = None;
                Some(&self.text[start..])
            }
        }
    }
}

/// A property (a few bits) of every BMP character.
pub struct BmpTable {
    bits: Box<[u8]>,
}

impl BmpTable {
    pub fn new(property: impl Fn(char) -> u8) -> BmpTable {
        let bits = (0..=0xFFFFu32)
            .map(|code| char::from_u32(code).map_or(0, &property))
            .collect();
        BmpTable { bits }
    }

    /// The property of `c`; `None` outside the BMP, where callers compute it.
    pub fn get(&self, c: char) -> Option<u8> {
        self.bits.get(c as usize).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lead_bytes_and_table_agree_with_the_characters() {
        for c in ['一', '倀', '中', '鿿'] {
            assert!(starts_common_ideograph(c.to_string().as_bytes()));
        }
        for c in ['䷀', '㐀', 'a', '，', '𠀀'] {
            assert!(!starts_common_ideograph(c.to_string().as_bytes()));
        }
        let table = BmpTable::new(|c| c.is_alphabetic() as u8);
        assert_eq!(table.get('a'), Some(1));
        assert_eq!(table.get('，'), Some(0));
        assert_eq!(table.get('𠀀'), None);
    }

    #[test]
    fn walks_stop_only_at_stop_characters() {
        let stops = Stops::new(b"\n\xe3");
        let text = "a中é𠀀。b\n".as_bytes();
        assert_eq!(stops.next(text, 0), "a中é𠀀".len());
        assert_eq!(stops.next(text, "a中é𠀀。".len()), "a中é𠀀。b".len());
        assert_eq!(stops.next(b"ab", 0), 2);
    }

    #[test]
    fn lines_are_those_of_split() {
        for text in ["", "\n", "a", "甲\n乙\n\n丙", "\n甲\n"] {
            assert_eq!(
                lines(text).collect::<Vec<_>>(),
                text.split('\n').collect::<Vec<_>>()
            );
        }
    }
}
