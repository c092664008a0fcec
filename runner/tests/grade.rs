//! `runner grade` over a folder of submissions written for the test: one
//! correct, one with a wrong prompt, one that leaks, one that hangs, one that
//! does not build (all in C, built by their Makefile), and one in Rust built
//! by cargo. Each gets the expected points, in every report format.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::*;
use runner::grade::{Grade, SubmissionGrade};

struct Graded {
    _dir: tempfile::TempDir,
    results: PathBuf,
    grade: Grade,
    stdout: String,
}

/// One grading run, shared by the tests of this file.
fn graded() -> &'static Graded {
    static GRADED: OnceLock<Graded> = OnceLock::new();
    GRADED.get_or_init(|| {
        let dir = tempfile::Builder::new().prefix("ipc-labs-grade.").tempdir().unwrap();
        let submissions = dir.path().join("submissions");
        copy_tree(&fixtures().join("submissions"), &submissions);
        for student in ["correct", "wrong_prompt", "leaks", "hangs"] {
            fs::copy(fixtures().join("pipe_client.c"), submissions.join(student).join("pipe_client.c")).unwrap();
        }
        let results = dir.path().join("results");
        let output = runner(
            &repo_root(),
            &["grade", submissions.to_str().unwrap(), "--results", results.to_str().unwrap(), "--format", "json"],
        );
        let stdout = String::from_utf8(output.stdout).unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{stderr}");
        let grade: Grade = serde_json::from_str(&stdout).unwrap_or_else(|err| panic!("{err}\n{stdout}\n{stderr}"));
        Graded { _dir: dir, results, grade, stdout }
    })
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn student(name: &str) -> &'static SubmissionGrade {
    graded().grade.submissions.iter().find(|submission| submission.student == name).expect("graded")
}

/// The FIFO lab's points: (scenario or "leak check", score).
fn fifo_points(name: &str) -> BTreeMap<String, u32> {
    let lab = student(name).labs.iter().find(|lab| lab.lab == "02-fifo").unwrap();
    let mut points: BTreeMap<String, u32> =
        lab.scenarios.iter().map(|scenario| (scenario.name.clone(), scenario.score)).collect();
    points.insert("leak check".to_string(), lab.leak_check.score);
    points
}

fn points(pairs: &[(&str, u32)]) -> BTreeMap<String, u32> {
    pairs.iter().map(|(name, score)| (name.to_string(), *score)).collect()
}

#[test]
fn every_submission_is_graded_in_order() {
    let students: Vec<&str> = graded().grade.submissions.iter().map(|s| s.student.as_str()).collect();
    assert_eq!(students, ["broken", "correct", "hangs", "leaks", "rust", "wrong_prompt"]);
    assert_eq!(graded().grade.schema, "ipc-labs/grade/1");
}

#[test]
fn a_correct_client_in_c_or_rust_earns_the_points_of_what_it_plays() {
    // The client plays in seed000 only; chat and timed_fifo need other
    // programs (not submitted), and shell is only system commands.
    let full = points(&[("seed000", 1), ("chat", 0), ("timed_fifo", 0), ("leak check", 1)]);
    assert_eq!(fifo_points("correct"), full);
    assert_eq!(fifo_points("rust"), full);
    assert_eq!(student("rust").build.how, "cargo");
    assert_eq!(student("correct").build.how, "make");
    let lab = student("correct").labs.iter().find(|lab| lab.lab == "02-fifo").unwrap();
    assert_eq!(lab.programs.keys().collect::<Vec<_>>(), ["client"]);
    assert_eq!((lab.score, lab.max_score), (2, 4));
    let chat = lab.scenarios.iter().find(|scenario| scenario.name == "chat").unwrap();
    assert_eq!(chat.problem.as_deref(), Some("not played: submit chat_user1 and chat_user2 to play it"));
}

#[test]
fn a_wrong_prompt_loses_the_scenario_and_leaves_a_pending_snapshot() {
    assert_eq!(
        fifo_points("wrong_prompt"),
        points(&[("seed000", 0), ("chat", 0), ("timed_fifo", 0), ("leak check", 1)])
    );
    let lab = student("wrong_prompt").labs.iter().find(|lab| lab.lab == "02-fifo").unwrap();
    let seed000 = &lab.scenarios[0];
    assert_eq!(seed000.problem.as_deref(), Some("client did not print \"Send Message: \" within 5.0 s"));
    let diff = seed000.diffs.iter().find(|diff| diff.party == "client").unwrap();
    assert!(diff.diff.contains("-Send Message: abc\n") && diff.diff.contains("+Send message:\n"), "{}", diff.diff);
    let pending = graded().results.join("wrong_prompt/02-fifo/snapshots/seed000__client.snap.new");
    assert_eq!(diff.pending.as_deref(), Some(pending.as_path()));
    assert!(pending.is_file() && pending.with_extension("").is_file(), "expected and pending side by side");
}

#[test]
fn a_leak_loses_the_leak_check_points() {
    assert_eq!(fifo_points("leaks"), points(&[("seed000", 1), ("chat", 0), ("timed_fifo", 0), ("leak check", 0)]));
    let lab = student("leaks").labs.iter().find(|lab| lab.lab == "02-fifo").unwrap();
    assert_eq!(lab.leak_check.leaks.len(), 1, "{:?}", lab.leak_check.leaks);
    assert!(lab.leak_check.leaks[0].contains("ipcrm -m"), "{:?}", lab.leak_check.leaks);
}

#[test]
fn a_hanging_client_loses_its_scenario_and_is_stopped() {
    let hangs = fifo_points("hangs");
    assert_eq!((hangs["seed000"], hangs["leak check"]), (0, 1));
    let lab = student("hangs").labs.iter().find(|lab| lab.lab == "02-fifo").unwrap();
    let problem = lab.scenarios[0].problem.as_deref().unwrap();
    assert_eq!(problem, "client is still running after 5.0 s");
}

#[test]
fn a_submission_that_does_not_build_is_graded_zero_with_the_compiler_output() {
    let broken = student("broken");
    assert!(!broken.build.ok);
    assert!(broken.build.log.contains("error"), "{}", broken.build.log);
    assert_eq!(broken.score, 0);
    let lab = broken.labs.iter().find(|lab| lab.lab == "02-fifo").unwrap();
    assert_eq!(lab.error.as_deref(), Some("the build failed"));
}

#[test]
fn labs_without_programs_are_not_submitted_and_totals_add_up() {
    for submission in &graded().grade.submissions {
        let sum: u32 = submission.labs.iter().map(|lab| lab.score).sum();
        let max: u32 = submission.labs.iter().map(|lab| lab.max_score).sum();
        assert_eq!((submission.score, submission.max_score), (sum, max), "{}", submission.student);
        for lab in submission.labs.iter().filter(|lab| lab.lab != "02-fifo") {
            assert_eq!(lab.score, 0);
            assert!(lab.programs.is_empty());
        }
    }
}

#[test]
fn the_junit_report_validates_against_its_schema() {
    let junit = graded().results.join("junit.xml");
    let output = std::process::Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(fixtures().join("junit.xsd"))
        .arg(&junit)
        .output()
        .expect("xmllint (libxml2-utils) is installed");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let text = fs::read_to_string(&junit).unwrap();
    assert!(text.contains("classname=\"wrong_prompt.02-fifo\""), "{text}");
    assert!(text.contains("+Send message:"), "the diff is in the failure");
}

#[test]
fn the_gradescope_results_follow_the_autograder_specification() {
    let text = fs::read_to_string(graded().results.join("leaks/results.json")).unwrap();
    let results: serde_json::Value = serde_json::from_str(&text).unwrap();
    let top = results.as_object().unwrap();
    let allowed_top = ["score", "execution_time", "output", "visibility", "stdout_visibility", "tests", "leaderboard"];
    assert!(top.keys().all(|key| allowed_top.contains(&key.as_str())), "{top:?}");
    assert!(top["score"].is_number() && top["tests"].is_array());
    let allowed_test = [
        "score",
        "max_score",
        "status",
        "name",
        "name_format",
        "number",
        "output",
        "output_format",
        "tags",
        "visibility",
        "extra_data",
    ];
    let visibilities = ["hidden", "after_due_date", "after_published", "visible"];
    let mut total = 0.0;
    for test in top["tests"].as_array().unwrap() {
        let test = test.as_object().unwrap();
        assert!(test.keys().all(|key| allowed_test.contains(&key.as_str())), "{test:?}");
        assert!(test["name"].is_string() && test["max_score"].is_number());
        assert!(["passed", "failed"].contains(&test["status"].as_str().unwrap()));
        assert!(visibilities.contains(&test["visibility"].as_str().unwrap()));
        total += test["score"].as_f64().unwrap();
    }
    assert_eq!(top["score"].as_f64().unwrap(), total);
    assert_eq!(total, student("leaks").score as f64);
}

#[test]
fn the_summary_csv_and_html_hold_every_student_and_the_diffs() {
    let csv = fs::read_to_string(graded().results.join("summary.csv")).unwrap();
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().starts_with("student,01-pipe,02-fifo"));
    let correct = csv.lines().find(|line| line.starts_with("correct,")).unwrap();
    assert!(correct.starts_with("correct,0,2,0,"), "{correct}");
    let html = fs::read_to_string(graded().results.join("report.html")).unwrap();
    let parsed = std::process::Command::new("python3")
        .args(["-c", "import sys, html.parser; p = html.parser.HTMLParser(); p.feed(sys.stdin.read()); p.close()"])
        .stdin(fs::File::open(graded().results.join("report.html")).unwrap())
        .status()
        .unwrap();
    assert!(parsed.success());
    assert!(html.contains("<span class=\"ins\">+Send message:</span>"), "the diff is in the page");
    assert!(html.contains("<h2 id=\"broken\">broken: 0 of"));
}

#[test]
fn review_accepts_a_pending_snapshot_for_that_submission() {
    let folder = graded().results.join("wrong_prompt");
    let copy = tempfile::tempdir().unwrap();
    copy_tree(&folder, copy.path());
    let pending = runner::snapshot::pending_below(copy.path()).len();
    assert!(pending >= 1);
    let output = runner(copy.path(), &["review", copy.path().to_str().unwrap(), "--accept-all"]);
    let summary = format!("accepted {pending}, rejected 0, skipped 0");
    assert!(String::from_utf8_lossy(&output.stdout).contains(&summary), "{}", String::from_utf8_lossy(&output.stdout));
    let accepted = fs::read_to_string(copy.path().join("02-fifo/snapshots/seed000__client.snap")).unwrap();
    assert!(accepted.contains("Send message:"));
    assert!(runner::snapshot::pending_below(copy.path()).is_empty());
    assert!(!copy.path().join("02-fifo/snapshots/seed000__client.snap.new").exists());
}

#[test]
fn the_json_on_stdout_is_the_grade_file() {
    let file = fs::read_to_string(graded().results.join("grade.json")).unwrap();
    let from_file: Grade = serde_json::from_str(&file).unwrap();
    let from_stdout: Grade = serde_json::from_str(&graded().stdout).unwrap();
    assert_eq!(
        serde_json::to_value(&from_file.submissions).unwrap(),
        serde_json::to_value(&from_stdout.submissions).unwrap()
    );
}

#[test]
fn the_gradescope_package_holds_the_scripts_and_the_labs() {
    let dir = tempfile::tempdir().unwrap();
    let zip = dir.path().join("autograder.zip");
    let output = runner(&repo_root(), &["gradescope-package", zip.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let script = "import sys, zipfile\n\
                  z = zipfile.ZipFile(sys.argv[1])\n\
                  assert z.testzip() is None\n\
                  for i in z.infolist(): print(oct(i.external_attr >> 16), i.filename)";
    let listing = std::process::Command::new("python3").args(["-c", script]).arg(&zip).output().unwrap();
    assert!(listing.status.success(), "{}", String::from_utf8_lossy(&listing.stderr));
    let listing = String::from_utf8(listing.stdout).unwrap();
    assert!(listing.contains("0o100755 setup.sh\n") && listing.contains("0o100755 run_autograder\n"), "{listing}");
    assert!(listing.contains(" source/labs/02-fifo/lab.toml\n"), "{listing}");
    assert!(listing.contains(" source/runner/src/main.rs\n"), "{listing}");
    assert!(!listing.contains("target/"), "{listing}");
}

/// A submission made of the reference programs themselves, for every lab.
fn reference_submission(into: &Path) {
    fs::create_dir_all(into).unwrap();
    let catalog = runner::catalog::Catalog::find(Some(&repo_root())).unwrap();
    let labs: Vec<runner::lab::Lab> = catalog.labs.iter().map(|dir| runner::lab::Lab::load(dir).unwrap()).collect();
    runner::compile::ensure_built(&catalog.root, &labs.iter().collect::<Vec<_>>()).unwrap();
    let bins = runner::compile::bin_dir(&catalog.root);
    for lab in &labs {
        for bin in lab.parties.values().filter_map(|party| party.bin()) {
            fs::copy(bins.join(bin), into.join(bin)).unwrap();
        }
    }
}

#[test]
fn the_reference_programs_graded_as_a_submission_earn_every_point() {
    let dir = tempfile::tempdir().unwrap();
    let submission = dir.path().join("reference");
    reference_submission(&submission);
    let results = dir.path().join("results");
    let args = [
        "grade",
        submission.to_str().unwrap(),
        "--single",
        "--results",
        results.to_str().unwrap(),
        "--format",
        "gradescope",
    ];
    let output = runner(&repo_root(), &args);
    assert_eq!(output.status.code(), Some(0), "{}", String::from_utf8_lossy(&output.stderr));
    let results: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let failed: Vec<&serde_json::Value> =
        results["tests"].as_array().unwrap().iter().filter(|test| test["status"] != "passed").collect();
    assert!(failed.is_empty(), "{failed:#?}");
    let grade: Grade =
        serde_json::from_str(&fs::read_to_string(dir.path().join("results/grade.json")).unwrap()).unwrap();
    let reference = &grade.submissions[0];
    assert_eq!(reference.score, reference.max_score);
    assert_eq!(results["score"].as_f64().unwrap(), reference.max_score as f64);
}

/// Every field path of a JSON value: `a.b`, `list[].c`.
fn field_paths(value: &serde_json::Value, prefix: &str, into: &mut std::collections::BTreeSet<String>) {
    match value {
        serde_json::Value::Object(fields) => {
            for (key, inner) in fields {
                let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
                into.insert(path.clone());
                // `programs` maps party names to programs: its keys are data.
                if key != "programs" {
                    field_paths(inner, &path, into);
                }
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                field_paths(item, &format!("{prefix}[]"), into);
            }
        }
        _ => {}
    }
}

#[test]
fn every_field_of_the_json_reports_is_documented() {
    let docs = fs::read_to_string(repo_root().join("docs/json.md")).unwrap();
    let (grade_doc, lab_doc) = {
        let at = docs.find("## `runner grade").unwrap();
        (&docs[at..], &docs[..at])
    };
    let mut grade_paths = std::collections::BTreeSet::new();
    field_paths(&serde_json::from_str(&graded().stdout).unwrap(), "", &mut grade_paths);
    let mut lab_paths = std::collections::BTreeSet::new();
    for args in [
        &["lab", "90", "--no-build", "--scenario", "killed_holding"][..],
        &["lab", "90", "--no-build", "--scenario", "forever"],
    ] {
        let project = fault_project();
        let (_, report) = runner_json(project.path(), args);
        field_paths(&serde_json::to_value(&report).unwrap(), "", &mut lab_paths);
    }
    for (paths, doc) in [(&grade_paths, grade_doc), (&lab_paths, lab_doc)] {
        let missing: Vec<&String> = paths.iter().filter(|path| !doc.contains(&format!("| `{path}` |"))).collect();
        assert!(missing.is_empty(), "not in docs/json.md: {missing:?}");
    }
    assert!(
        lab_paths.contains("scenarios[].failure.last_lines")
            && grade_paths.contains("submissions[].labs[].scenarios[].diffs[].pending")
    );
}

#[test]
fn a_build_that_never_ends_is_stopped_at_its_timeout() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let student = dir.path().join("submissions/stuck");
    fs::create_dir_all(&student).unwrap();
    let script = student.join("build");
    fs::write(&script, "#!/bin/sh\necho compiling\nsleep 600 &\nwait\n").unwrap();
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
    let results = dir.path().join("results");
    let started = std::time::Instant::now();
    let output = runner(
        &repo_root(),
        &[
            "grade",
            student.to_str().unwrap(),
            "--single",
            "--build-timeout",
            "1",
            "--results",
            results.to_str().unwrap(),
            "--format",
            "json",
        ],
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(30), "took {:?}", started.elapsed());
    let grade: Grade = serde_json::from_slice(&output.stdout).unwrap();
    let build = &grade.submissions[0].build;
    assert_eq!((build.how.as_str(), build.ok), ("build script", false));
    assert!(build.log.contains("compiling") && build.log.contains("did not finish within 1 s"), "{}", build.log);
    assert_eq!(grade.submissions[0].score, 0);
    // The whole process group went, the background sleep too.
    assert_eq!(processes_mentioning("sleep 600"), Vec::<String>::new());
}
