//! The vocabulary as HF `transformers` loads it: `vocab.txt`, `tokenizer.json` (normaliser,
//! pre-tokeniser, WordPiece, [CLS]/[SEP] template, whole words as added tokens),
//! `tokenizer_config.json` and `special_tokens_map.json`; and the same tokenizer in process, so
//! medcorpus tokenises exactly as a model trained on its output will.
use super::{CLS, CONTINUATION, MASK, PAD, SEP, SPECIAL_TOKENS, UNK};
use anyhow::{anyhow, bail, Context, Result};
use std::path::Path;
use tokenizers::decoders::wordpiece::WordPiece as WordPieceDecoder;
use tokenizers::models::wordpiece::WordPiece;
use tokenizers::normalizers::bert::BertNormalizer;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::processors::template::TemplateProcessing;
use tokenizers::{AddedToken, Tokenizer};

/// BERT's maximum sequence length, for `tokenizer_config.json`.
const MODEL_MAX_LENGTH: usize = 512;

/// A BERT tokenizer over `tokens` (id = position). `whole_words` are matched before WordPiece,
/// longest first, because BERT's normaliser would otherwise split them into characters.
pub fn bert_tokenizer(
    tokens: &[String],
    whole_words: &[&str],
    lowercase: bool,
) -> Result<Tokenizer> {
    let mut vocab = ahash::AHashMap::with_capacity(tokens.len());
    for (id, token) in tokens.iter().enumerate() {
        // A repeated token keeps its first id, as a lookup by token can only give one.
        vocab.entry(token.clone()).or_insert(id as u32);
    }
    let id = |token: &str| {
        vocab
            .get(token)
            .copied()
            .ok_or_else(|| anyhow!("the vocabulary has no {token} token"))
    };
    let (cls, sep) = (id(CLS)?, id(SEP)?);
    for special in SPECIAL_TOKENS {
        id(special)?;
    }
    let model = WordPiece::builder()
        .vocab(vocab)
        .unk_token(UNK.into())
        .continuing_subword_prefix(CONTINUATION.into())
        .max_input_chars_per_word(super::counting::MAX_WORD_CHARS)
        .build()
        .map_err(|e| anyhow!("bad vocabulary: {e}"))?;
    let template = TemplateProcessing::builder()
        .try_single(format!("{CLS} $A {SEP}"))
        .and_then(|t| t.try_pair(format!("{CLS} $A {SEP} $B:1 {SEP}:1")))
        .map_err(|e| anyhow!("bad template: {e}"))?
        .special_tokens(vec![(CLS, cls), (SEP, sep)])
        .build()
        .map_err(|e| anyhow!("bad template: {e}"))?;
    let mut tokenizer = Tokenizer::new(model);
    tokenizer
        .with_normalizer(Some(BertNormalizer::new(true, true, None, lowercase)))
        .with_pre_tokenizer(Some(BertPreTokenizer))
        .with_post_processor(Some(template))
        .with_decoder(Some(WordPieceDecoder::new(CONTINUATION.into(), true)));
    let specials: Vec<AddedToken> = SPECIAL_TOKENS
        .iter()
        .map(|t| AddedToken::from(*t, true))
        .collect();
    tokenizer.add_special_tokens(&specials);
    let words: Vec<AddedToken> = whole_words
        .iter()
        .map(|w| AddedToken::from(*w, false))
        .collect();
    tokenizer.add_tokens(&words);
    Ok(tokenizer)
}

/// Writes the four tokenizer files into `dir` and returns the tokenizer they describe.
pub fn write_dir(
    dir: &Path,
    tokens: &[String],
    whole_words: &[&str],
    lowercase: bool,
) -> Result<Tokenizer> {
    for token in tokens {
        if token.is_empty() || token.contains('\n') {
            bail!("token {token:?} cannot be written to vocab.txt");
        }
    }
    let tokenizer = bert_tokenizer(tokens, whole_words, lowercase)?;
    let mut vocab_txt = String::with_capacity(tokens.len() * 8);
    for token in tokens {
        vocab_txt.push_str(token);
        vocab_txt.push('\n');
    }
    crate::run_dir::write_atomic(&dir.join("vocab.txt"), vocab_txt.as_bytes())?;
    let json = tokenizer
        .to_string(true)
        .map_err(|e| anyhow!("cannot serialise tokenizer.json: {e}"))?;
    crate::run_dir::write_atomic(&dir.join("tokenizer.json"), json.as_bytes())?;
    let specials = serde_json::json!({
        "unk_token": UNK, "sep_token": SEP, "pad_token": PAD, "cls_token": CLS, "mask_token": MASK,
    });
    let mut config = serde_json::json!({
        "tokenizer_class": "BertTokenizer",
        "do_lower_case": lowercase,
        "tokenize_chinese_chars": true,
        "strip_accents": null,
        "model_max_length": MODEL_MAX_LENGTH,
        "clean_up_tokenization_spaces": true,
    });
    if let (Some(config), Some(specials)) = (config.as_object_mut(), specials.as_object()) {
        config.extend(specials.clone());
    }
    crate::run_dir::write_atomic(
        &dir.join("tokenizer_config.json"),
        &serde_json::to_vec_pretty(&config)?,
    )?;
    crate::run_dir::write_atomic(
        &dir.join("special_tokens_map.json"),
        &serde_json::to_vec_pretty(&specials)?,
    )?;
    Ok(tokenizer)
}

/// A tokenizer from a folder (its `tokenizer.json`, else its `vocab.txt`), a `tokenizer.json`,
/// or a BERT `vocab.txt` (lowercasing, as bert-base-chinese).
pub fn load(path: &Path) -> Result<Tokenizer> {
    let file = if path.is_dir() {
        let json = path.join("tokenizer.json");
        if json.is_file() {
            json
        } else {
            path.join("vocab.txt")
        }
    } else {
        path.to_path_buf()
    };
    if file.extension().is_some_and(|e| e == "json") {
        Tokenizer::from_file(&file)
            .map_err(|e| anyhow!("cannot load tokenizer {}: {e}", file.display()))
    } else {
        let tokens = super::read_vocab_txt(&file)?;
        bert_tokenizer(&tokens, &[], true).with_context(|| format!("in {}", file.display()))
    }
}
