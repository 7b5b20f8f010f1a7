//! pptx: the text of each slide in presentation order (from the slide list in
//! presentation.xml, not the part names), slides separated by a blank line.
use super::{markup_text, open_zip, read_part, relationship_id, relationships, Zip};
use crate::document::{Document, Outcome};
use anyhow::{bail, Result};
use quick_xml::events::Event;
use quick_xml::Reader;

pub fn extract(source: &str, bytes: &[u8]) -> Result<Vec<Outcome>> {
    let mut zip = open_zip(bytes)?;
    let slides = slide_parts(&mut zip)?;
    if slides.is_empty() {
        bail!("no slides found: not a PowerPoint presentation");
    }
    let mut texts = Vec::new();
    for part in &slides {
        if let Some(xml) = read_part(&mut zip, part)? {
            let text = markup_text(&xml)?;
            if !text.is_empty() {
                texts.push(text);
            }
        }
    }
    let mut doc = Document::new(source, None, texts.join("\n\n"));
    doc.set_meta("slides", slides.len());
    doc.set_meta("bytes", bytes.len());
    Ok(vec![Outcome::Kept(doc)])
}

/// Slide part names in presentation order; by slide number when the list is missing.
fn slide_parts(zip: &mut Zip) -> Result<Vec<String>> {
    let presentation = "ppt/presentation.xml";
    let targets = relationships(zip, presentation)?;
    let mut ordered = Vec::new();
    if let Some(xml) = read_part(zip, presentation)? {
        let mut reader = Reader::from_str(&xml);
        loop {
            match reader.read_event()? {
                Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == b"sldId" => {
                    if let Some(target) = relationship_id(&e).and_then(|id| targets.get(&id)) {
                        ordered.push(target.clone());
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
    }
    if ordered.is_empty() {
        let mut numbered: Vec<(u64, String)> = zip
            .file_names()
            .filter_map(|name| {
                let number = name
                    .strip_prefix("ppt/slides/slide")?
                    .strip_suffix(".xml")?
                    .parse()
                    .ok()?;
                Some((number, name.to_string()))
            })
            .collect();
        numbered.sort();
        ordered = numbered.into_iter().map(|(_, name)| name).collect();
    }
    Ok(ordered)
}
