//! Same seed ⇒ same paths, whatever the chunking or thread count; path i
//! does not depend on how many paths were asked for.

use synthmarket::market::{PathChunk, TimeGrid};
use synthmarket::sim::{Drift, Driver, Heston, HestonParams, HestonScheme};

fn all_spots(seed: u64, paths: u64, chunk: usize, threads: usize) -> Vec<u64> {
    let grid = TimeGrid::new(50, 1.0 / 252.0).unwrap();
    let p = HestonParams::new(
        100.0,
        Drift::RealWorld { mu: 0.05 },
        0.04,
        1.5,
        0.04,
        0.6,
        -0.7,
    )
    .unwrap();
    let g = Heston::new(p, HestonScheme::Qe, &grid);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        Driver::new(seed, paths)
            .chunk_paths(chunk)
            .collect(&g, 50, |c: &PathChunk| {
                (0..c.paths())
                    .flat_map(|p| c.spot_series(p, 0).map(f64::to_bits).collect::<Vec<_>>())
                    .collect::<Vec<_>>()
            })
            .unwrap()
            .concat()
    })
}

#[test]
fn output_is_independent_of_threads_chunking_and_path_count() {
    let reference = all_spots(7, 300, 64, 1);
    assert_eq!(all_spots(7, 300, 64, 2), reference, "thread count");
    assert_eq!(all_spots(7, 300, 7, 2), reference, "chunk size");
    assert_eq!(all_spots(7, 300, 1000, 1), reference, "single chunk");
    let first_100 = all_spots(7, 100, 64, 2);
    assert_eq!(
        first_100[..],
        reference[..first_100.len()],
        "prefix of a larger run"
    );
    assert_ne!(all_spots(8, 300, 64, 1), reference, "another seed");
}
