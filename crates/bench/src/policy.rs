//! SPEC 8: "policy with 1000 rules: resolve + apply <= 10 ms". Measured as
//! parse + resolve, and parse + resolve + the enforcement plan, in-process;
//! applying is measured end to end by the `run` figures. The whole
//! `stockade explain --json` process is reported too.

use crate::stats::{Figure, Target, sample};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use stockade_policy::{Overrides, PolicyFile, Source, SourceText, resolve};

/// A workspace with a policy of exactly 1000 filesystem rules: nested
/// carve-outs (read under write, write under read, none under both), deny
/// globs, and paths both existing and not.
fn fixture() -> (tempfile::TempDir, PathBuf, String) {
    let dir = tempfile::tempdir_in(std::env::temp_dir()).expect("temporary directory");
    let ws = std::fs::canonicalize(dir.path())
        .expect("canonical temp dir")
        .join("ws");
    let mut text =
        String::from("[profiles.bench]\nextends = \"workspace\"\n[profiles.bench.filesystem]\n");
    let mut rules = 0;
    for a in 0..50 {
        for b in 0..20 {
            if rules == 1000 {
                break;
            }
            let path = format!("pkg{a}/mod{b}");
            if b % 2 == 0 {
                std::fs::create_dir_all(ws.join(&path)).expect("fixture dir");
            }
            let access = match (a + b) % 4 {
                0 => "\"read\"",
                1 => "\"write\"",
                2 => "\"none\"",
                _ => "\"read\"",
            };
            let _ = writeln!(text, "\"./{path}\" = {access}");
            rules += 1;
        }
    }
    std::fs::create_dir_all(&ws).expect("workspace");
    std::fs::write(ws.join(".stockade.toml"), &text).expect("policy file");
    (dir, ws, text)
}

pub fn figures(iterations: usize, stockade: &Path) -> Vec<Figure> {
    let (_dir, ws, text) = fixture();
    let file_path = ws.join(".stockade.toml");
    let mut ctx = stockade::process_context(Some(&ws)).expect("process context");
    ctx.cwd = ws.clone();
    let parse_and_resolve = || {
        let file = PolicyFile::parse(SourceText::new(
            Source::File {
                path: file_path.as_path().into(),
            },
            text.clone(),
        ))
        .expect("policy parses");
        let policy = resolve(Some(&file), Some("bench"), &Overrides::default(), &ctx)
            .expect("policy resolves");
        assert!(policy.rules.len() >= 1000, "all rules resolved");
        policy
    };
    let in_process = sample(iterations, || {
        parse_and_resolve();
    });
    let with_plan = sample(iterations, || {
        let plan = stockade::plan(&parse_and_resolve(), &[]);
        assert!(!plan.items.is_empty(), "a plan");
    });
    let parse_only = sample(iterations, || {
        PolicyFile::parse(SourceText::new(
            Source::File {
                path: file_path.as_path().into(),
            },
            text.clone(),
        ))
        .expect("policy parses");
    });
    let mut figures = vec![
        Figure::new(
            "1000-rule policy: parse only (in process)",
            &parse_only,
            Target::Time(Duration::from_millis(10)),
        ),
        Figure::new(
            "1000-rule policy: parse + resolve (in process)",
            &in_process,
            Target::Time(Duration::from_millis(10)),
        ),
        Figure::new(
            "1000-rule policy: parse + resolve + enforcement plan",
            &with_plan,
            Target::Time(Duration::from_millis(10)),
        ),
    ];
    if stockade.is_file() {
        let explain = sample(iterations.min(100), || {
            let status = Command::new(stockade)
                .args(["explain", "--json", "-p", "bench"])
                .current_dir(&ws)
                .stdout(Stdio::null())
                .status()
                .expect("stockade explain runs");
            assert!(status.success(), "stockade explain failed");
        });
        figures.push(Figure::new(
            "1000-rule policy: `stockade explain --json` (whole process)",
            &explain,
            Target::Time(Duration::from_millis(10)),
        ));
    } else {
        eprintln!(
            "note: {} not found; build it first (cargo build --release)",
            stockade.display()
        );
    }
    figures
}
