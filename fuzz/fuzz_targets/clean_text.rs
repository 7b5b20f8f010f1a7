//! Any text goes through every cleaning step without panicking.
#![no_main]
use libfuzzer_sys::fuzz_target;
use medcorpus::clean::{CleanConfig, Cleaner};
use medcorpus::document::Document;

fuzz_target!(|text: &str| {
    let config = CleanConfig { opencc_dir: concat!(env!("CARGO_MANIFEST_DIR"), "/../configs/opencc").into(), ..Default::default() };
    if let Ok(cleaner) = Cleaner::new(&config) {
        let _ = cleaner.clean(Document::new("fuzz.txt", None, text.to_string()));
    }
});
