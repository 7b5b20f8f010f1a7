//! Chinese word segmentation: jieba with medical user dictionaries, shared by the vocabulary
//! (word statistics, whole-word tokens) and the whole-word-mask references.
use anyhow::{Context, Result};
use jieba_rs::Jieba;
use std::path::Path;

pub struct Segmenter {
    jieba: Jieba,
}

impl Segmenter {
    /// jieba's own dictionary plus each lexicon file (see `from_lexicon_texts`).
    pub fn new(lexicons: &[impl AsRef<Path>]) -> Result<Segmenter> {
        let mut texts = Vec::new();
        for path in lexicons {
            let path = path.as_ref();
            let bytes = std::fs::read(path)
                .with_context(|| format!("cannot read lexicon {}", path.display()))?;
            let text = String::from_utf8(bytes)
                .with_context(|| format!("lexicon {} is not UTF-8", path.display()))?;
            texts.push(text);
        }
        Ok(Segmenter::from_lexicon_texts(&texts))
    }

    /// jieba's own dictionary plus each lexicon: lines of `word [frequency] [tag]`, separated by
    /// tabs or spaces (THUOCL's format). Words without a frequency get jieba's default.
    pub fn from_lexicon_texts(lexicons: &[String]) -> Segmenter {
        let mut jieba = Jieba::new();
        for text in lexicons {
            for line in text.lines() {
                let mut fields = line.split_whitespace();
                let Some(word) = fields.next() else { continue };
                let freq = fields.next().and_then(|f| f.parse().ok());
                jieba.add_word(word, freq, None);
            }
        }
        Segmenter { jieba }
    }

    pub fn cut<'a>(&self, text: &'a str) -> Vec<&'a str> {
        self.jieba.cut(text, true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medical_lexicon_keeps_terms_whole() {
        let seg = Segmenter::new(&["configs/lexicons/THUOCL_medical.txt"]).unwrap();
        let words = seg.cut("患者口服二甲双胍后出现低血糖");
        assert!(words.contains(&"二甲双胍"), "{words:?}");
    }
}
