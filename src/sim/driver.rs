use super::PathGenerator;
use crate::error::{Error, Result};
use crate::market::PathChunk;
use rayon::prelude::*;
use std::sync::mpsc::sync_channel;

/// Runs a generator over many paths: in parallel (rayon), in fixed-size
/// chunks, and hands the results to a consumer in path order while the next
/// chunks are being simulated. Memory is bounded by a few chunks per thread,
/// whatever the number of paths.
///
/// Output is independent of the thread count and of the chunk size: path `i`
/// draws only from the stream `(seed, i)`.
#[derive(Debug, Clone, Copy)]
pub struct Driver {
    seed: u64,
    /// Index of the first path simulated (a shard of a larger run starts
    /// past 0).
    first_path: u64,
    paths: u64,
    chunk_paths: usize,
    /// Whether chunks carry the generator's pricing state
    /// ([`PathGenerator::state_len`]).
    keep_state: bool,
}

impl Driver {
    /// Default number of paths per chunk.
    pub const DEFAULT_CHUNK_PATHS: usize = 64;

    /// A driver for `paths` paths seeded with `seed`.
    pub fn new(seed: u64, paths: u64) -> Self {
        Driver {
            seed,
            first_path: 0,
            paths,
            chunk_paths: Self::DEFAULT_CHUNK_PATHS,
            keep_state: false,
        }
    }

    /// Simulates paths `first..first + paths` instead of `0..paths`: a
    /// shard of a larger run, bit for bit the same paths (path `i` draws
    /// only from the stream `(seed, i)`).
    pub fn first_path(mut self, first: u64) -> Self {
        self.first_path = first;
        self
    }

    /// Sets the number of paths per chunk (at least 1).
    pub fn chunk_paths(mut self, n: usize) -> Self {
        self.chunk_paths = n.max(1);
        self
    }

    /// Makes every chunk carry the generator's pricing state per path and
    /// step ([`PathGenerator::observe_state`]), for pricing chains from it.
    /// Off by default: paths alone do not need it.
    pub fn keep_state(mut self, keep: bool) -> Self {
        self.keep_state = keep;
        self
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The number of paths.
    pub fn paths(&self) -> u64 {
        self.paths
    }

    /// Simulates every path over `steps` steps. Each chunk is turned into a
    /// `T` by `map` on a worker thread (format it, reduce it…) and the `T`s
    /// are passed to `consume` in path order on a separate thread. Stops at
    /// the first error `consume` returns.
    pub fn run<G, T, M, C>(&self, generator: &G, steps: usize, map: M, mut consume: C) -> Result<()>
    where
        G: PathGenerator,
        T: Send,
        M: Fn(&PathChunk) -> T + Sync,
        C: FnMut(T) -> Result<()> + Send,
    {
        let chunk = self.chunk_paths as u64;
        let n_chunks = self.paths.div_ceil(chunk);
        let window = 4 * rayon::current_num_threads().max(1) as u64;
        let assets = generator.assets();
        let state_len = if self.keep_state {
            generator.state_len()
        } else {
            0
        };
        std::thread::scope(|scope| {
            let (tx, rx) = sync_channel::<T>(window as usize);
            let consumer = scope.spawn(move || -> Result<()> {
                for item in rx {
                    consume(item)?;
                }
                Ok(())
            });
            let mut start = 0;
            'windows: while start < n_chunks {
                let end = (start + window).min(n_chunks);
                let results: Vec<T> = (start..end)
                    .into_par_iter()
                    // One path buffer per rayon task, reused across its chunks.
                    .map_init(
                        || PathChunk::new(0, chunk as usize, steps, assets).with_state(state_len),
                        |buf, c| {
                            let offset = c * chunk;
                            let n = chunk.min(self.paths - offset) as usize;
                            buf.reset(self.first_path + offset, n);
                            generator.fill_chunk(self.seed, buf);
                            map(buf)
                        },
                    )
                    .collect();
                for r in results {
                    if tx.send(r).is_err() {
                        // The consumer stopped on an error; it is reported below.
                        break 'windows;
                    }
                }
                start = end;
            }
            drop(tx);
            consumer
                .join()
                .map_err(|_| Error::Internal("output thread panicked".into()))?
        })
    }

    /// Daily log returns of every path and asset, `[path][asset][day]`, in
    /// path order (what the scorecards and the market's calibration read).
    pub fn log_returns<G: PathGenerator>(
        &self,
        generator: &G,
        steps: usize,
    ) -> Result<Vec<Vec<Vec<f64>>>> {
        let d = generator.assets();
        Ok(self
            .collect(generator, steps, |c| {
                (0..c.paths())
                    .map(|p| {
                        (0..d)
                            .map(|a| {
                                let s: Vec<f64> = c.spot_series(p, a).collect();
                                s.windows(2).map(|w| (w[1] / w[0]).ln()).collect()
                            })
                            .collect::<Vec<Vec<f64>>>()
                    })
                    .collect::<Vec<_>>()
            })?
            .into_iter()
            .flatten()
            .collect())
    }

    /// Convenience for tests and small runs: simulates everything and
    /// collects `f(chunk)` for every chunk, in path order.
    pub fn collect<G, T, F>(&self, generator: &G, steps: usize, f: F) -> Result<Vec<T>>
    where
        G: PathGenerator,
        T: Send,
        F: Fn(&PathChunk) -> T + Sync,
    {
        let mut out = Vec::new();
        self.run(generator, steps, f, |t| {
            out.push(t);
            Ok(())
        })?;
        Ok(out)
    }
}
