//! Per-character properties of the Basic Multilingual Plane computed once into a table, and the
//! lead-byte test for common ideographs. Cleaning and filtering look at every character of the
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
}
