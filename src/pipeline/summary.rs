//! What a run did: the table printed at the end, the manifest and the report.
use crate::config::Config;
use crate::dedup::near::NearDedupStats;
use crate::ingest::stream::Samples;
use crate::ingest::IngestStats;
use crate::report::{
    self,
    manifest::{self, Manifest},
};
use crate::run_dir::RunDir;
use crate::shard::PublishStats;
use crate::vocab::VocabReport;
use anyhow::Result;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Serialize, Deserialize)]
pub struct Summary {
    pub ingest: IngestStats,
    pub near_dedup: NearDedupStats,
    pub publish: PublishStats,
    pub vocab: Option<VocabReport>,
    pub seconds: f64,
}

impl Summary {
    /// The table printed at the end of a run.
    pub fn table(&self) -> String {
        let i = &self.ingest;
        let mb = i.bytes_in as f64 / 1e6;
        let mut t = format!(
            "files {:>10}   input {:>10.1} MB   {:.1} s   {:.1} MB/s\n",
            i.files,
            mb,
            self.seconds,
            mb / self.seconds.max(1e-9)
        );
        t += &format!("documents extracted {:>10}\n", i.extracted);
        t += &format!(
            "documents kept      {:>10}   ({} train, {} valid)\n",
            self.publish.docs, self.publish.train_docs, self.publish.valid_docs
        );
        if let Some(tokens) = &self.publish.tokens {
            t += &format!(
                "tokens              {:>10}   ({} train, {} valid)\n",
                tokens.train_tokens + tokens.valid_tokens,
                tokens.train_tokens,
                tokens.valid_tokens
            );
        }
        for (reason, n) in &i.rejected {
            t += &format!("rejected {reason:<18} {n:>7}\n");
        }
        let n = &self.near_dedup;
        if n.dropped_docs + n.trimmed_docs > 0 {
            t += &format!("rejected {:<18} {:>7}\n", "near-duplicate", n.dropped_docs);
            t += &format!(
                "trimmed  {:<18} {:>7}   ({} chars cut)\n",
                "near-duplicate", n.trimmed_docs, n.trimmed_chars
            );
        }
        for (stage, n) in &i.errors {
            t += &format!("errors in {stage:<17} {n:>7}   (see errors.jsonl)\n");
        }
        if let Some(v) = &self.vocab {
            t += &format!("vocabulary {:?}     {:>10} tokens", v.mode, v.size);
            if let Some(h) = &v.held_out {
                t += &format!("   held-out [UNK] rate {:.4}%", h.ours.unk_rate * 100.0);
                if let Some(b) = &h.baseline {
                    t += &format!(" (base {:.4}%)", b.unk_rate * 100.0);
                }
            }
            t += "\n";
        }
        t
    }
}

impl Summary {
    /// `manifest.json`, `report.json` and `report.html`, written last: the run is finished
    /// once the report exists.
    pub fn write_reports(
        &self,
        run: &RunDir,
        config: &Config,
        reject_samples: &Samples,
    ) -> Result<()> {
        let summary = self;
        let mut phases = BTreeMap::new();
        phases.insert(
            "near-duplicates".to_string(),
            serde_json::to_value(&self.near_dedup)?,
        );

        let seconds = run.seconds();
        let files = manifest::list_outputs(&run.root, &summary.publish.shards)?;
        manifest::write(
            &run.root,
            &Manifest {
                medcorpus_version: env!("CARGO_PKG_VERSION"),
                config: &serde_json::to_value(config)?,
                ingest: &summary.ingest,
                near_dedup: &summary.near_dedup,
                publish: &summary.publish,
                vocab: summary.vocab.as_ref(),
                bytes_in: summary.ingest.bytes_in,
                bytes_out: files.iter().map(|f| f.bytes).sum(),
                seconds: summary.seconds,
                phase_seconds: seconds.clone(),
                peak_rss_mb: report::peak_rss_mb(),
                files,
            },
        )?;
        report::html::write(
            &run.root,
            &report::html::Report {
                medcorpus_version: env!("CARGO_PKG_VERSION"),
                seconds: summary.seconds,
                phase_seconds: &seconds,
                peak_rss_mb: report::peak_rss_mb(),
                ingest: &summary.ingest,
                publish: &summary.publish,
                reject_samples,
                phases: &phases,
            },
        )?;
        Ok(())
    }
}
