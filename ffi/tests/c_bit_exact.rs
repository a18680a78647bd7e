//! The C ABI gives the Rust API's results bit for bit.
//!
//! `tests/c/test_values.c` calls every exported function on real data through the C
//! header and the static library, and writes every input and output as raw IEEE bits.
//! This test reads that dump (path in `OTC_C_DUMP`), recomputes each record with
//! `otcore` directly and requires identical bits and statuses. `bash scripts/c.sh test`
//! runs it after the C program; on its own it is ignored, since it needs the dump.

use std::collections::HashMap;

use otcore::ot::{self, workspace_len, Config, Epsilon, Init, Plan, Problem};
use otcore::Real;
use otcore_ffi::otc_status;

/// A float type whose raw bits the dump holds.
trait Bits: Real {
    const NAME: &'static str;
    fn from_raw(bits: u64) -> Self;
    fn to_raw(self) -> u64;
}

impl Bits for f32 {
    const NAME: &'static str = "f32";
    fn from_raw(bits: u64) -> Self {
        f32::from_bits(u32::try_from(bits).expect("f32 bits fit in 32 bits"))
    }
    fn to_raw(self) -> u64 {
        u64::from(self.to_bits())
    }
}

impl Bits for f64 {
    const NAME: &'static str = "f64";
    fn from_raw(bits: u64) -> Self {
        f64::from_bits(bits)
    }
    fn to_raw(self) -> u64 {
        self.to_bits()
    }
}

/// One `record <op> <precision>` … `end` block: key → tokens.
struct Record {
    op: String,
    precision: String,
    fields: HashMap<String, Vec<String>>,
}

impl Record {
    fn int(&self, key: &str) -> i64 {
        self.fields[key][0].parse().expect("integer field")
    }

    fn size(&self, key: &str) -> usize {
        usize::try_from(self.int(key)).expect("size field")
    }

    fn array<T: Bits>(&self, key: &str) -> Vec<T> {
        let tokens = self
            .fields
            .get(key)
            .unwrap_or_else(|| panic!("no field {key}"));
        let len: usize = tokens[0].parse().expect("array length");
        let values: Vec<T> = tokens[1..]
            .iter()
            .map(|t| T::from_raw(u64::from_str_radix(t, 16).expect("hex bits")))
            .collect();
        assert_eq!(values.len(), len, "{key}: length");
        values
    }

    fn scalar<T: Bits>(&self, key: &str) -> T {
        self.array::<T>(key)[0]
    }

    /// Asserts that the C output `key` has exactly the bits of `want`.
    fn same_bits<T: Bits>(&self, key: &str, want: &[T]) {
        let got = self.array::<T>(key);
        assert_eq!(
            got.len(),
            want.len(),
            "{} {}: {key} length",
            self.op,
            self.precision
        );
        for (i, (g, w)) in got.iter().zip(want).enumerate() {
            assert_eq!(
                g.to_raw(),
                w.to_raw(),
                "{} {}: {key}[{i}] C gave {g:?}, Rust {w:?}",
                self.op,
                self.precision
            );
        }
    }
}

fn parse(text: &str) -> Vec<Record> {
    let mut records = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let head: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(head.first(), Some(&"record"), "unexpected line {line:?}");
        let mut fields = HashMap::new();
        for line in lines.by_ref() {
            if line == "end" {
                break;
            }
            let mut tokens = line.split_whitespace().map(str::to_owned);
            let key = tokens.next().expect("key");
            fields.insert(key, tokens.collect());
        }
        records.push(Record {
            op: head[1].to_owned(),
            precision: head[2].to_owned(),
            fields,
        });
    }
    records
}

/// The problem a record describes, borrowing its arrays from `store`.
fn problem<'a, T: Bits>(rec: &Record, store: &'a [Vec<T>; 4]) -> Problem<'a, T> {
    let [first, second, a, b] = store;
    if rec.fields.contains_key("c") {
        Problem::matrix(first, a, b)
    } else {
        Problem::point_clouds(first, second, rec.size("d"), rec.scalar("scale"), a, b)
    }
}

fn problem_arrays<T: Bits>(rec: &Record) -> [Vec<T>; 4] {
    if rec.fields.contains_key("c") {
        [rec.array("c"), Vec::new(), rec.array("a"), rec.array("b")]
    } else {
        [
            rec.array("x"),
            rec.array("y"),
            rec.array("a"),
            rec.array("b"),
        ]
    }
}

fn workspace<T: Bits>(rec: &Record) -> Vec<T> {
    let d = if rec.fields.contains_key("c") {
        0
    } else {
        rec.size("d")
    };
    vec![T::ZERO; workspace_len(rec.size("n"), rec.size("m"), d)]
}

fn status_of<V>(r: &Result<V, otcore::Error>) -> i64 {
    match r {
        Ok(_) => 0,
        Err(e) => i64::from(otc_status::from(*e) as i32),
    }
}

fn config<T: Bits>(rec: &Record) -> Config<T> {
    let eps = rec.scalar("config_epsilon");
    Config {
        epsilon: match rec.int("epsilon_mode") {
            0 => Epsilon::Absolute(eps),
            _ => Epsilon::RelativeToMeanCost(eps),
        },
        rho_a: rec.scalar("rho_a"),
        rho_b: rec.scalar("rho_b"),
        tolerance: rec.scalar("tolerance"),
        max_iterations: u32::try_from(rec.int("max_iterations")).expect("u32"),
        epsilon_scaling: rec.scalar("epsilon_scaling"),
        // The dump's configs come from the `_default` initializer plus the fields
        // above: no acceleration.
        acceleration: otcore::ot::Acceleration::Off,
    }
}

fn check_solve<T: Bits>(rec: &Record) {
    let store = problem_arrays::<T>(rec);
    let problem = problem(rec, &store);
    let init = match rec.int("init") {
        0 => Init::Zero,
        1 => Init::Potentials,
        _ => Init::Resume,
    };
    let (mut f, mut g) = (rec.array::<T>("f_in"), rec.array::<T>("g_in"));
    let mut ws = workspace::<T>(rec);
    let sol = ot::solve(&problem, &config(rec), init, &mut f, &mut g, &mut ws);
    let status = match &sol {
        Ok(s) => i64::from(otc_status::from(s.status) as i32),
        Err(_) => status_of(&sol),
    };
    assert_eq!(rec.int("status"), status, "solve {}: status", rec.precision);
    if let Ok(sol) = sol {
        rec.same_bits("f", &f);
        rec.same_bits("g", &g);
        assert_eq!(rec.int("iterations"), i64::from(sol.iterations));
        rec.same_bits("error", &[sol.error]);
        rec.same_bits("epsilon", &[sol.epsilon]);
        rec.same_bits("reg_ot_cost", &[sol.reg_ot_cost]);
        rec.same_bits("transport_cost", &[sol.transport_cost]);
        rec.same_bits("plan_mass", &[sol.plan_mass]);
    }
}

fn check_plan<T: Bits>(rec: &Record) {
    let store = problem_arrays::<T>(rec);
    let (f, g) = (rec.array::<T>("f"), rec.array::<T>("g"));
    let plan = Plan::new(problem(rec, &store), rec.scalar("epsilon"), &f, &g);
    let mut ws = workspace::<T>(rec);
    let want = rec.array::<T>("out");
    let mut out = vec![T::ZERO; want.len()];
    let result = match rec.op.as_str() {
        "apply" => plan.apply(&rec.array("vec"), &mut out, &mut ws),
        "apply_transpose" => plan.apply_transpose(&rec.array("vec"), &mut out, &mut ws),
        "barycentric" => plan.barycentric(&mut out, &mut ws),
        "dense" => plan.dense(&mut out, &mut ws),
        "transport_cost" => plan.transport_cost(&mut ws).map(|c| out[0] = c),
        other => panic!("unknown plan operation {other}"),
    };
    assert_eq!(status_of(&result), 0, "{} {}", rec.op, rec.precision);
    rec.same_bits("out", &out);
}

fn check_record<T: Bits>(rec: &Record) {
    match rec.op.as_str() {
        "workspace_size" => {
            let (n, m, d) = (rec.size("n"), rec.size("m"), rec.size("d"));
            assert_eq!(rec.size("bytes"), workspace_len(n, m, d) * size_of::<T>());
        }
        "config_default" => {
            let want = Config::<T>::default();
            let got = config::<T>(rec);
            assert_eq!(got, want, "config_default {}", T::NAME);
            assert_eq!(rec.int("init"), 0);
        }
        "solve" => check_solve::<T>(rec),
        _ => check_plan::<T>(rec),
    }
}

#[test]
#[ignore = "needs the dump of tests/c/test_values.c: run by `bash scripts/c.sh test`"]
fn c_results_equal_rust_results_bit_for_bit() {
    let path = std::env::var("OTC_C_DUMP").expect("OTC_C_DUMP names the C test's dump");
    let text = std::fs::read_to_string(&path).expect("read the dump");
    let records = parse(&text);
    let mut seen: HashMap<(String, String), usize> = HashMap::new();
    for rec in &records {
        match rec.precision.as_str() {
            "f32" => check_record::<f32>(rec),
            "f64" => check_record::<f64>(rec),
            other => panic!("unknown precision {other}"),
        }
        *seen
            .entry((rec.op.clone(), rec.precision.clone()))
            .or_default() += 1;
    }
    // Every exported computation is covered, in both precisions.
    for op in [
        "workspace_size",
        "config_default",
        "solve",
        "apply",
        "apply_transpose",
        "barycentric",
        "transport_cost",
        "dense",
    ] {
        for precision in ["f32", "f64"] {
            assert!(
                seen.contains_key(&(op.to_owned(), precision.to_owned())),
                "no {op} {precision} record in the dump"
            );
        }
    }
    eprintln!("{} records compared bit for bit", records.len());
}
