//! The `spot.csv` format: one row per (path, step[, asset]) with columns
//! `path,step,date[,asset],spot,variance`.
//!
//! Numbers are written in the shortest form that reads back to the same f64
//! (ryu), so a file round-trips exactly and is byte-identical across runs.

use crate::market::{BusinessCalendar, PathChunk, TimeGrid};

/// Formats chunks of paths as CSV rows.
#[derive(Debug, Clone)]
pub struct SpotCsvFormat {
    dates: Vec<String>,
    asset_names: Option<Vec<String>>,
}

impl SpotCsvFormat {
    /// One date per grid point from the calendar; asset names when the run
    /// has several assets (adds the `asset` column).
    pub fn new(
        grid: &TimeGrid,
        calendar: &BusinessCalendar,
        asset_names: Option<Vec<String>>,
    ) -> Self {
        let dates = (0..=grid.steps())
            .map(|k| calendar.date_at(grid.time(k)).to_string())
            .collect();
        SpotCsvFormat { dates, asset_names }
    }

    /// The date string of grid point `k`.
    pub fn date(&self, k: usize) -> &str {
        &self.dates[k]
    }

    /// The header line, with its newline.
    pub fn header(&self) -> &'static str {
        if self.asset_names.is_some() {
            "path,step,date,asset,spot,variance\n"
        } else {
            "path,step,date,spot,variance\n"
        }
    }

    /// The rows of `chunk` in a buffer sized for them.
    pub fn format_chunk(&self, chunk: &PathChunk) -> Vec<u8> {
        // ~60 bytes per row: indices, a 10-byte date, two shortest-form doubles.
        let rows = chunk.paths() * (chunk.steps() + 1) * chunk.assets();
        let mut buf = Vec::with_capacity(rows * 64);
        self.write_chunk(chunk, &mut buf);
        buf
    }

    /// Appends the rows of `chunk` to `out`.
    pub fn write_chunk(&self, chunk: &PathChunk, out: &mut Vec<u8>) {
        let mut ib = itoa::Buffer::new();
        let mut fb = ryu::Buffer::new();
        for p in 0..chunk.paths() {
            let mut path_buf = [0u8; 24];
            let path_str = ib.format(chunk.first_path() + p as u64).as_bytes();
            let plen = path_str.len();
            path_buf[..plen].copy_from_slice(path_str);
            for (k, date) in self.dates.iter().enumerate().take(chunk.steps() + 1) {
                let spots = chunk.spot(p, k);
                let vars = chunk.variance(p, k);
                for a in 0..chunk.assets() {
                    out.extend_from_slice(&path_buf[..plen]);
                    out.push(b',');
                    out.extend_from_slice(ib.format(k).as_bytes());
                    out.push(b',');
                    out.extend_from_slice(date.as_bytes());
                    out.push(b',');
                    if let Some(names) = &self.asset_names {
                        out.extend_from_slice(names[a].as_bytes());
                        out.push(b',');
                    }
                    out.extend_from_slice(fb.format(spots[a]).as_bytes());
                    out.push(b',');
                    out.extend_from_slice(fb.format(vars[a]).as_bytes());
                    out.push(b'\n');
                }
            }
        }
    }
}
