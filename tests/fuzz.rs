//! Mutation fuzzing of every parser that reads what a user hands the page: model files, saved runs,
//! model specs, training and search settings, CSV tables and sequence files. Each starts from valid
//! inputs and reads a few thousand seeded mutations of them (bytes flipped, cut, repeated, spliced,
//! numbers and punctuation put in); every one must come back as a value or as an error with a
//! message, never as a panic, and in bounded time.

use serde_json::{json, Value};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};
use whetstone::backend::cpu::Cpu;
use whetstone::backend::ready;
use whetstone::data::{sequence, tabular, toy};
use whetstone::model_file::ModelFile;
use whetstone::nn::{preset, ModelSpec};
use whetstone::optim::OptimizerSpec;
use whetstone::rng::Rng;
use whetstone::train::{Checkpoint, TrainConfig, Trainer};
use whetstone::tune::Search;
use whetstone::Error;

/// Mutations of each parser's inputs.
const MUTATIONS: usize = 3000;
/// The longest one read may take.
const SLOWEST: Duration = Duration::from_secs(2);

/// Pieces that parsers treat specially, put into inputs at random.
const TOKENS: &[&[u8]] = &[
    b"-1",
    b"0",
    b"-5",
    b"1e309",
    b"NaN",
    b"4294967296",
    b"18446744073709551616",
    b"9999999999",
    b"\"",
    b",",
    b";",
    b"\n",
    b"\r\n",
    b"{",
    b"}",
    b"[",
    b"]",
    b":",
    b"null",
    b"true",
    b"\"type\"",
    b"\"units\"",
    b"\x00",
    b"\xff\xfe",
    b"\xe2\x80",
    b"1,5",
    b"..",
];

/// One random change to `input`.
fn mutate(input: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut out = input.to_vec();
    let at = |rng: &mut Rng, len: usize| rng.below(len.max(1));
    for _ in 0..1 + rng.below(4) {
        match rng.below(6) {
            0 if !out.is_empty() => {
                let i = at(rng, out.len());
                out[i] ^= 1 << rng.below(8);
            }
            1 => out.truncate(at(rng, out.len() + 1)),
            2 if !out.is_empty() => {
                let (a, b) = (at(rng, out.len()), at(rng, out.len()));
                let (a, b) = (a.min(b), a.max(b));
                let copy = out[a..b].to_vec();
                out.splice(b..b, copy);
            }
            3 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                let i = at(rng, out.len() + 1);
                out.splice(i..i, token.iter().copied());
            }
            4 if !out.is_empty() => {
                let (a, b) = (at(rng, out.len()), at(rng, out.len()));
                out.drain(a.min(b)..a.max(b));
            }
            _ if !out.is_empty() => {
                let i = at(rng, out.len());
                out[i] = rng.below(256) as u8;
            }
            _ => {}
        }
    }
    out
}

/// One random change deep inside a JSON value: a value replaced by one of an awkward kind or size,
/// a key or element removed, an element repeated.
fn mutate_json(v: &mut Value, rng: &mut Rng) {
    match v {
        Value::Object(m) if !m.is_empty() && rng.below(4) > 0 => {
            let key = m.keys().nth(rng.below(m.len())).cloned().expect("a key");
            if rng.below(6) == 0 {
                m.remove(&key);
            } else {
                mutate_json(m.get_mut(&key).expect("the key"), rng);
            }
        }
        Value::Array(a) if !a.is_empty() && rng.below(4) > 0 => {
            let i = rng.below(a.len());
            match rng.below(5) {
                0 => drop(a.remove(i)),
                1 => a.insert(i, a[i].clone()),
                _ => mutate_json(&mut a[i], rng),
            }
        }
        _ => {
            let awkward = [
                json!(-1),
                json!(0),
                json!(1e300),
                json!(4_294_967_296u64),
                json!(2.5),
                json!("x"),
                json!(null),
                json!(true),
                json!([]),
                json!({}),
                json!(1_000_000_000u64),
                json!(u64::MAX),
            ];
            *v = awkward[rng.below(awkward.len())].clone();
        }
    }
}

/// Half the time a byte-level change, half the time (for JSON) a change deep in the value.
fn mutate_any(input: &[u8], rng: &mut Rng) -> Vec<u8> {
    match serde_json::from_slice::<Value>(input) {
        Ok(mut v) if rng.below(2) == 0 => {
            for _ in 0..1 + rng.below(3) {
                mutate_json(&mut v, rng);
            }
            serde_json::to_vec(&v).expect("a value serialises")
        }
        _ => mutate(input, rng),
    }
}

/// Reads `MUTATIONS` mutations of `seeds` with `parse`: no panic, no slow read, and every error
/// has a message.
fn fuzz(name: &str, seeds: &[Vec<u8>], parse: impl Fn(&[u8]) -> Result<(), Error>) {
    let mut rng = Rng::new(0x5eed ^ name.len() as u64);
    let (mut accepted, mut refused) = (0, 0);
    for seed in seeds {
        parse(seed).unwrap_or_else(|e| panic!("{name}: a valid input is refused: {e}"));
    }
    for i in 0..MUTATIONS {
        let input = mutate_any(&seeds[i % seeds.len()], &mut rng);
        let started = Instant::now();
        let result = catch_unwind(AssertUnwindSafe(|| parse(&input)))
            .unwrap_or_else(|_| panic!("{name}: mutation {i} panics: {:?}", String::from_utf8_lossy(&input)));
        assert!(
            started.elapsed() < SLOWEST,
            "{name}: mutation {i} took {:?}",
            started.elapsed()
        );
        match result {
            Ok(()) => accepted += 1,
            Err(e) => {
                assert!(e.to_string().len() > 10, "{name}: mutation {i} has no message: {e:?}");
                refused += 1;
            }
        }
    }
    assert!(refused > 0, "{name}: no mutation was refused");
    eprintln!("{name}: {accepted} mutations read, {refused} refused with a message");
}

fn text(bytes: &[u8]) -> Result<&str, Error> {
    std::str::from_utf8(bytes).map_err(|e| Error::InvalidData(format!("not UTF-8 text: {e}")))
}

fn small_run() -> Trainer<Cpu> {
    let data = toy::generate("circle", 200, 0.05, 1).unwrap();
    let (train, val) = data.split(50, 1).unwrap();
    let config = TrainConfig::new(
        2,
        16,
        OptimizerSpec::Adam {
            lr: 0.01,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        },
        1,
    );
    let mut run = Trainer::new(Cpu, preset("toy", &[2], 2).unwrap(), config, &train, &val).unwrap();
    ready(run.run(1000)).unwrap();
    run
}

#[test]
fn model_files_and_saved_runs() {
    let mut run = small_run();
    let file = ready(run.model_file(vec!["in".into(), "out".into()], Some("epoch\n1\n".into())))
        .unwrap()
        .to_bytes()
        .unwrap();
    fuzz("model file", &[file], |b| ModelFile::from_bytes(b).map(drop));
    let checkpoint = ready(run.checkpoint()).unwrap().expect("between two epochs").to_bytes();
    fuzz("saved run", &[checkpoint], |b| Checkpoint::from_bytes(b).map(drop));
}

#[test]
fn model_specs_and_settings() {
    let specs: Vec<Vec<u8>> = [
        serde_json::to_string(&preset("cnn", &[1, 28, 28], 10).unwrap()).unwrap(),
        r#"{"input":[12,3],"layers":[{"type":"lstm","units":8,"return_sequences":true},{"type":"layer_norm"},{"type":"gru","units":4},{"type":"dense","units":2}]}"#.into(),
        r#"{"input":[4],"layers":[{"type":"residual","layers":[{"type":"dense","units":4},{"type":"gelu"}]},{"type":"batch_norm"},{"type":"dropout","rate":0.1},{"type":"dense","units":2}]}"#.into(),
    ]
    .map(String::into_bytes)
    .to_vec();
    // A spec the summary takes is built too, where it is small enough to build quickly.
    fuzz("model spec", &specs, |b| {
        let spec = ModelSpec::from_json(text(b)?)?;
        if spec.summary()?.params < 2_000_000 {
            whetstone::nn::Model::new(&Cpu, spec, 1)?;
        }
        Ok(())
    });
    let config = br#"{"epochs":5,"batch_size":8,"optimizer":{"type":"adamw","lr":0.01,"weight_decay":0.01},"schedule":{"type":"cosine_restarts","period":2},"early_stopping":{"patience":3},"augment":[{"type":"rotate","degrees":10,"p":0.5}],"clip_norm":1.0}"#;
    fuzz("training settings", &[config.to_vec()], |b| {
        TrainConfig::from_json(text(b)?).map(drop)
    });
    let search = br#"{"params":[{"type":"float","name":"lr","low":0.001,"high":0.1,"log":true},{"type":"int","name":"units","low":4,"high":64},{"type":"choice","name":"optimizer","values":["adam","sgd"]}],"strategy":{"type":"bayesian"},"budget":6,"seed":1,"maximize":true}"#;
    fuzz("search settings", &[search.to_vec()], |b| {
        Search::from_json(text(b)?).map(drop)
    });
}

#[test]
fn tables_and_sequence_files() {
    let table =
        b"size;colour;weight;kind\n1,5;red;10;cat\n2;blue;NA;dog\n;red;12;cat\n4;\"gr\"\"een\";?;dog\n".to_vec();
    let plain = b"a,b,label\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n".to_vec();
    fuzz("table", &[table, plain], |b| {
        tabular::from_csv(text(b)?, None).map(drop)
    });
    let waves = b"label,1,2,3,4\nsine,0.1,0.5,0.9,0.5\nsquare,1,1,-1,-1\nsine,0.2,0.6,0.8,0.4\n".to_vec();
    fuzz("sequence file", &[waves], |b| sequence::from_csv(text(b)?, 2).map(drop));
}
