//! Any bytes decode to text without panicking, and newline normalisation leaves no CR.
#![no_main]
use libfuzzer_sys::fuzz_target;
use medcorpus::extract::decode::{decode, normalize_newlines};

fuzz_target!(|data: &[u8]| {
    let decoded = decode(data);
    assert!(!normalize_newlines(decoded.text).contains('\r'));
});
