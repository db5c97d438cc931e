/// A block of consecutive simulated paths held in memory: for each path, step
/// and asset, the spot and the instantaneous annualised variance.
///
/// Layout is step-major, index `(k·paths + p)·assets + a`, so a generator
/// advancing all paths of the chunk in lockstep writes each step contiguously.
///
/// Generators whose state is more than their variance (the deep model's
/// feature averages) also leave that state per path and step
/// (the generator's `state_len` values), so option chains can be
/// priced from it.
#[derive(Debug, Clone, PartialEq)]
pub struct PathChunk {
    first_path: u64,
    paths: usize,
    points: usize,
    assets: usize,
    spot: Vec<f64>,
    variance: Vec<f64>,
    state_len: usize,
    state: Vec<f64>,
}

impl PathChunk {
    /// A zeroed chunk for paths `first_path..first_path+paths`, each with
    /// `steps + 1` points of `assets` assets.
    pub fn new(first_path: u64, paths: usize, steps: usize, assets: usize) -> Self {
        let n = paths * (steps + 1) * assets;
        PathChunk {
            first_path,
            paths,
            points: steps + 1,
            assets,
            spot: vec![0.0; n],
            variance: vec![0.0; n],
            state_len: 0,
            state: Vec::new(),
        }
    }

    /// The same chunk with room for `len` state values per path and step.
    pub fn with_state(mut self, len: usize) -> Self {
        self.state_len = len;
        self.state = vec![0.0; self.paths * self.points * len];
        self
    }

    /// State values per path and step (0 unless the generator has them).
    pub fn state_len(&self) -> usize {
        self.state_len
    }

    /// The generator's state of local path `path` at `step` (empty when it
    /// has none beyond the variance).
    #[inline]
    pub fn state(&self, path: usize, step: usize) -> &[f64] {
        let i = (step * self.paths + path) * self.state_len;
        &self.state[i..i + self.state_len]
    }

    /// Mutable state slot of local path `path` at `step`.
    #[inline]
    pub fn state_mut(&mut self, path: usize, step: usize) -> &mut [f64] {
        let i = (step * self.paths + path) * self.state_len;
        &mut self.state[i..i + self.state_len]
    }

    /// Reuses the buffers for another block of the same shape.
    pub fn reset(&mut self, first_path: u64, paths: usize) {
        let n = paths * self.points * self.assets;
        self.first_path = first_path;
        self.paths = paths;
        self.spot.resize(n, 0.0);
        self.variance.resize(n, 0.0);
        self.state.resize(paths * self.points * self.state_len, 0.0);
    }

    /// Global index of the first path.
    pub fn first_path(&self) -> u64 {
        self.first_path
    }

    /// Number of paths in the chunk.
    pub fn paths(&self) -> usize {
        self.paths
    }

    /// Number of steps per path (points − 1).
    pub fn steps(&self) -> usize {
        self.points - 1
    }

    /// Number of assets per path.
    pub fn assets(&self) -> usize {
        self.assets
    }

    #[inline]
    fn index(&self, path: usize, step: usize) -> usize {
        (step * self.paths + path) * self.assets
    }

    /// Spots of all assets of local path `path` at `step`.
    #[inline]
    pub fn spot(&self, path: usize, step: usize) -> &[f64] {
        let i = self.index(path, step);
        &self.spot[i..i + self.assets]
    }

    /// Variances of all assets of local path `path` at `step`.
    #[inline]
    pub fn variance(&self, path: usize, step: usize) -> &[f64] {
        let i = self.index(path, step);
        &self.variance[i..i + self.assets]
    }

    /// Every spot and every variance of the chunk, step-major: the value of
    /// local path `p`, asset `a` at step `k` is at `(k·paths + p)·assets + a`.
    #[inline]
    pub fn all(&self) -> (&[f64], &[f64]) {
        (&self.spot, &self.variance)
    }

    /// Mutable spot and variance slots of local path `path` at `step`.
    #[inline]
    pub fn point_mut(&mut self, path: usize, step: usize) -> (&mut [f64], &mut [f64]) {
        let i = self.index(path, step);
        let a = self.assets;
        (&mut self.spot[i..i + a], &mut self.variance[i..i + a])
    }

    /// Mutable spots and variances of every path and asset at `step`
    /// (`paths × assets` values each, path-major).
    #[inline]
    pub fn step_mut(&mut self, step: usize) -> (&mut [f64], &mut [f64]) {
        let w = self.paths * self.assets;
        let i = step * w;
        (&mut self.spot[i..i + w], &mut self.variance[i..i + w])
    }

    /// The spot series of one asset along local path `path`.
    pub fn spot_series(&self, path: usize, asset: usize) -> impl Iterator<Item = f64> + '_ {
        (0..self.points).map(move |k| self.spot[self.index(path, k) + asset])
    }

    /// The variance series of one asset along local path `path`.
    pub fn variance_series(&self, path: usize, asset: usize) -> impl Iterator<Item = f64> + '_ {
        (0..self.points).map(move |k| self.variance[self.index(path, k) + asset])
    }
}
