//! Replays every target on stable: the committed seed corpus, then pseudo-random inputs derived from
//! the seeds by a fixed-seed mutator (so a failure reproduces exactly).

use std::path::Path;

type Target = fn(&[u8]);

const TARGETS: &[(&str, Target)] = &[
    ("resp_decode", crate::resp::decode),
    ("resp_roundtrip", crate::resp::roundtrip),
    ("slot_classify", crate::slot::classify),
    ("topology_shards", crate::topology::shards),
    ("topology_slots", crate::topology::slots),
    ("topology_nodes", crate::topology::nodes),
    ("cluster_events", crate::cluster::events),
    ("cluster_sentinel", crate::cluster::sentinel),
];

/// Mutations per target, on top of the seeds.
const MUTATIONS: usize = 3000;

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("seed-"))
        .filter_map(|e| std::fs::read(e.path()).ok())
        .collect();
    seeds.sort();
    seeds.push(Vec::new());
    seeds
}

/// xorshift64*: deterministic, good enough to mutate bytes.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, input: &mut Vec<u8>, pool: &[Vec<u8>]) {
    for _ in 0..=rng.below(4) {
        match rng.below(6) {
            0 if !input.is_empty() => {
                let i = rng.below(input.len());
                input[i] = rng.next() as u8;
            }
            1 => {
                let i = rng.below(input.len() + 1);
                input.insert(i, b"\r\n*$%~>|?.;:-+_#,(!=0123456789"[rng.below(30)]);
            }
            2 if !input.is_empty() => {
                let i = rng.below(input.len());
                input.remove(i);
            }
            3 => {
                let i = rng.below(input.len() + 1);
                input.truncate(i);
            }
            4 => {
                let other = &pool[rng.below(pool.len())];
                input.extend_from_slice(other);
            }
            _ => {
                let n = rng.below(16);
                input.extend((0..n).map(|_| rng.next() as u8));
            }
        }
    }
}

#[test]
fn replay_seeds_and_mutations() {
    for (name, target) in TARGETS {
        let pool = seeds(name);
        for seed in &pool {
            target(seed);
        }
        let mut rng = Rng(0x5107_0_715e ^ name.len() as u64);
        for i in 0..MUTATIONS {
            let mut input = pool[i % pool.len()].clone();
            mutate(&mut rng, &mut input, &pool);
            target(&input);
        }
    }
}
