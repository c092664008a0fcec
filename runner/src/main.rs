//! `runner`: run the ipc-labs labs and check them.
//!
//! Exit status: 0 when everything passed, 1 when a lab failed, 2 for a usage
//! or configuration error (unknown lab, malformed lab.toml, bad --party).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use runner::catalog::Catalog;
use runner::compile;
use runner::lab::{Lab, Party};
use runner::party::Command;
use runner::report::{self, Detail};
use runner::run::{self, IsolationChoice, LabReport, Options};
use runner::sandbox::Isolation;

#[derive(Parser)]
#[command(
    name = "runner",
    version,
    about = "Run the ipc-labs labs: both parties on their own terminals, transcripts checked against snapshots, leaks reported."
)]
struct Cli {
    /// The project folder (the one holding labs/); found from the current folder by default.
    #[arg(long, global = true, value_name = "DIR")]
    root: Option<PathBuf>,
    #[command(subcommand)]
    command: Commands,
}

#[derive(Subcommand)]
enum Commands {
    /// List all labs with their title and last result.
    List,
    /// Build a lab, run its scenarios and check transcripts and leaks.
    Lab {
        /// Lab id: 2, 02, fifo or 02-fifo.
        id: String,
        /// Run COMMAND in place of one of the lab's parties, e.g. client=./my_client.
        #[arg(long = "party", value_name = "NAME=COMMAND")]
        parties: Vec<String>,
        /// Store this run's transcripts as the expected snapshots.
        #[arg(long)]
        accept: bool,
        /// Run only this scenario.
        #[arg(long, value_name = "NAME")]
        scenario: Option<String>,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        #[arg(long, value_enum, default_value_t = Isolation::Auto)]
        isolation: Isolation,
        /// Show terminals only for scenarios that failed.
        #[arg(long, short)]
        quiet: bool,
        /// Do not build the lab first.
        #[arg(long)]
        no_build: bool,
        /// Read and write snapshots in DIR instead of the lab's snapshots/ (seeded from them).
        #[arg(long, value_name = "DIR")]
        snapshot_dir: Option<PathBuf>,
        /// With --party: also run the reference and show its transcript beside yours where they differ.
        #[arg(long, value_enum)]
        against: Option<Against>,
    },
    /// Grade every submission in SUBMISSIONS/ (one folder per student) through every lab.
    Grade {
        submissions: PathBuf,
        /// SUBMISSIONS is one submission, not a folder of them (Gradescope).
        #[arg(long)]
        single: bool,
        /// Where builds, pending snapshots and reports go.
        #[arg(long, value_name = "DIR", default_value = "grade-results")]
        results: PathBuf,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// How many submissions are graded at the same time (default: the number of cores).
        #[arg(long, short)]
        jobs: Option<usize>,
        /// Seconds a submission's build may take.
        #[arg(long, default_value_t = 300)]
        build_timeout: u64,
        #[arg(long, value_enum, default_value_t = Isolation::Auto)]
        isolation: Isolation,
    },
    /// Walk the pending snapshots (.snap.new) below DIR: accept, reject or skip each.
    Review {
        dir: PathBuf,
        /// Accept every pending snapshot without asking.
        #[arg(long, conflicts_with = "reject_all")]
        accept_all: bool,
        /// Reject every pending snapshot without asking.
        #[arg(long)]
        reject_all: bool,
    },
    /// Write the Gradescope autograder zip (setup.sh, run_autograder, the labs) to OUT.
    GradescopePackage {
        #[arg(default_value = "ipc-labs-autograder.zip")]
        out: PathBuf,
    },
    /// What a lab teaches, its parties and scenarios, and the seed programs it comes from.
    Show { id: String },
    /// Hints for a lab.
    Hint { id: String },
    /// List the IPC objects on this machine, with owners and the commands that remove them.
    Leaks,
    /// Remove your own IPC objects from this machine (never other users').
    Clean {
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
    /// Run every lab and print a summary table.
    Check {
        /// Every lab (the default; kept for scripts that say so).
        #[arg(long)]
        all: bool,
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        #[arg(long, value_enum, default_value_t = Isolation::Auto)]
        isolation: Isolation,
        /// How many labs run at the same time (default: the number of cores).
        #[arg(long, short)]
        jobs: Option<usize>,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Against {
    Reference,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Human,
    Json,
    /// JUnit XML, for CI servers.
    Junit,
    /// Gradescope's results.json (grade only).
    Gradescope,
}

/// A failure to do what was asked, with the exit status it deserves.
struct Problem {
    status: u8,
    message: String,
}

fn usage(message: impl Into<String>) -> Problem {
    Problem { status: 2, message: message.into() }
}

fn main() -> ExitCode {
    // Like other command-line tools, end quietly when the reader of our output
    // goes away (`runner show 04 | head`), instead of failing to print.
    // SAFETY: restoring the default action installs no handler.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    let cli = Cli::parse();
    runner::interrupt::catch();
    let result = execute(cli);
    if runner::interrupt::requested() {
        eprintln!("runner: interrupted; the parties were killed and their sandboxes removed");
        return ExitCode::from(130);
    }
    match result {
        Ok(code) => code,
        Err(problem) => {
            eprintln!("runner: {}", problem.message);
            ExitCode::from(problem.status)
        }
    }
}

fn execute(cli: Cli) -> Result<ExitCode, Problem> {
    let catalog = match cli.command {
        Commands::Leaks | Commands::Clean { .. } | Commands::Review { .. } => {
            Catalog { root: PathBuf::new(), labs: Vec::new() }
        }
        _ => Catalog::find(cli.root.as_deref()).map_err(usage)?,
    };
    match cli.command {
        Commands::List => list(&catalog),
        Commands::Leaks => {
            let objects = runner::host::objects();
            if objects.is_empty() {
                println!("No IPC objects on this machine.");
            } else {
                print!("{}", runner::host::table(&objects));
            }
            Ok(ExitCode::SUCCESS)
        }
        Commands::Clean { yes } => clean(yes),
        Commands::Show { id } => show(&load(&catalog, &id)?),
        Commands::Hint { id } => hint(&load(&catalog, &id)?),
        Commands::Lab { id, parties, accept, scenario, format, isolation, quiet, no_build, snapshot_dir, against } => {
            if format == Format::Gradescope {
                return Err(usage("--format gradescope is for runner grade"));
            }
            let lab = load(&catalog, &id)?;
            if let Some(name) = &scenario {
                if lab.scenario(name).is_none() {
                    let names: Vec<&str> = lab.scenarios.iter().map(|s| s.name.as_str()).collect();
                    return Err(usage(format!(
                        "lab {} has no scenario {name:?} (scenarios: {})",
                        lab.name(),
                        names.join(", ")
                    )));
                }
            }
            let overrides = parse_overrides(&lab, &parties)?;
            if !no_build {
                compile::ensure_built(&catalog.root, &[&lab]).map_err(|message| Problem { status: 1, message })?;
            }
            let swapped: Vec<String> = overrides.keys().cloned().collect();
            let mut choice = IsolationChoice::new(isolation);
            let options = Options { isolation, overrides, accept, scenario, snapshot_dir };
            let report = run::run_lab(&catalog.root, &lab, &options, &mut choice);
            if options.overrides.is_empty() {
                remember(&catalog.root, &report);
            }
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&report).expect("reports serialize")),
                Format::Junit => {
                    print!("{}", runner::junit::xml(&runner::junit::from_check(std::slice::from_ref(&report))))
                }
                Format::Gradescope => unreachable!("refused above"),
                Format::Human => {
                    let detail = if quiet { Detail::Failures } else { Detail::Terminals };
                    let hint = lab.hints.first().map(|hint| format!("{hint} (more: runner hint {})", lab.id));
                    print!("{}", report::human(&report, detail, hint.as_deref()));
                    if against.is_some() && !swapped.is_empty() {
                        let reference_options =
                            Options { overrides: BTreeMap::new(), accept: false, snapshot_dir: None, ..options };
                        let reference = run::run_lab(&catalog.root, &lab, &reference_options, &mut choice);
                        print!("{}", report::against_reference(&report, &reference, &swapped));
                    }
                }
            }
            Ok(verdict(report.passed))
        }
        Commands::Check { all: _, format, isolation, jobs } => check(&catalog, format, isolation, jobs),
        Commands::Grade { submissions, single, results, format, jobs, build_timeout, isolation } => {
            grade(&catalog, &submissions, single, results, format, jobs, build_timeout, isolation)
        }
        Commands::Review { dir, accept_all, reject_all } => review(&dir, accept_all, reject_all),
        Commands::GradescopePackage { out } => {
            let count =
                runner::gradescope::package(&catalog.root, &out).map_err(|message| Problem { status: 1, message })?;
            println!("wrote {} ({count} files): upload it as the Gradescope autograder", out.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn load(catalog: &Catalog, id: &str) -> Result<Lab, Problem> {
    let dir = catalog.resolve(id).map_err(usage)?;
    Lab::load(dir).map_err(|err| usage(err.to_string()))
}

fn verdict(passed: bool) -> ExitCode {
    if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

/// `--party client=./my_client --flag` → the client is played by ./my_client.
fn parse_overrides(lab: &Lab, specs: &[String]) -> Result<BTreeMap<String, Command>, Problem> {
    let mut overrides = BTreeMap::new();
    for spec in specs {
        let (name, command) = spec
            .split_once('=')
            .ok_or_else(|| usage(format!("--party {spec:?} should be NAME=COMMAND, e.g. client=./my_client")))?;
        if !lab.parties.contains_key(name) {
            let names: Vec<&str> = lab.parties.keys().map(String::as_str).collect();
            return Err(usage(format!("lab {} has no party {name:?} (parties: {})", lab.name(), names.join(", "))));
        }
        let mut words = command.split_whitespace();
        let program = words.next().ok_or_else(|| usage(format!("--party {name}= names no program")))?;
        let program = runner::party::find_program(program).map_err(usage)?;
        overrides.insert(name.to_string(), Command { program, args: words.map(str::to_string).collect() });
    }
    Ok(overrides)
}

fn list(catalog: &Catalog) -> Result<ExitCode, Problem> {
    for dir in &catalog.labs {
        match Lab::load(dir) {
            Ok(lab) => {
                let last = last_result(&catalog.root, &lab.name()).unwrap_or("not run yet");
                println!("{:<12} {:<44} {last}", lab.name(), lab.title);
            }
            Err(err) => println!("{:<12} {err}", dir.file_name().unwrap_or_default().to_string_lossy()),
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn show(lab: &Lab) -> Result<ExitCode, Problem> {
    println!("{} · {}\n\n{}\n", lab.name(), lab.title, lab.summary);
    println!("What it teaches:");
    for lesson in &lab.teaches {
        println!("  - {lesson}");
    }
    println!("\nParties:");
    let width = lab.parties.keys().map(String::len).max().unwrap_or(0);
    for (name, party) in &lab.parties {
        match party {
            Party::Bin(bin) => println!("  {name:<width$}  {}/src/bin/{bin}.rs", lab.dir.display()),
            Party::Command(command) => println!("  {name:<width$}  the command `{}`", command.join(" ")),
        }
    }
    println!("\nScenarios:");
    let width = lab.scenarios.iter().map(|scenario| scenario.name.len()).max().unwrap_or(0);
    for scenario in &lab.scenarios {
        println!("  {:<width$}  {}", scenario.name, scenario.about);
    }
    println!("\nFrom the seed notes:");
    for source in &lab.sources {
        println!("  seed {} ({}): {}", source.seed, source.programs.join(", "), source.note);
    }
    Ok(ExitCode::SUCCESS)
}

fn hint(lab: &Lab) -> Result<ExitCode, Problem> {
    if lab.hints.is_empty() {
        println!("{} has no hints.", lab.name());
    }
    for (number, hint) in lab.hints.iter().enumerate() {
        println!("{}. {hint}", number + 1);
    }
    Ok(ExitCode::SUCCESS)
}

fn check(catalog: &Catalog, format: Format, isolation: Isolation, jobs: Option<usize>) -> Result<ExitCode, Problem> {
    let labs: Vec<Lab> = catalog
        .labs
        .iter()
        .map(|dir| Lab::load(dir).map_err(|err| usage(err.to_string())))
        .collect::<Result<_, _>>()?;
    let refs: Vec<&Lab> = labs.iter().collect();
    compile::ensure_built(&catalog.root, &refs).map_err(|message| Problem { status: 1, message })?;
    let jobs = jobs_or_cores(jobs);
    let reports = run_in_parallel(catalog, &labs, isolation, jobs);
    for report in &reports {
        remember(&catalog.root, report);
    }
    let passed = reports.iter().all(|report| report.passed);
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&reports).expect("reports serialize")),
        Format::Junit => print!("{}", runner::junit::xml(&runner::junit::from_check(&reports))),
        Format::Gradescope => return Err(usage("--format gradescope is for runner grade")),
        Format::Human => {
            for report in reports.iter().filter(|report| !report.passed) {
                print!("{}", report::human(report, Detail::Failures, None));
            }
            println!("{:<12} {:<8} {:>9} {:>8}", "lab", "verdict", "scenarios", "time");
            for report in &reports {
                let good = report.scenarios.iter().filter(|scenario| scenario.passed).count();
                let verdict = if report.passed { "pass" } else { "FAIL" };
                let count = format!("{good}/{}", report.scenarios.len());
                println!("{:<12} {verdict:<8} {count:>9} {:>5} ms", report.lab, report.elapsed_ms);
            }
        }
    }
    Ok(verdict(passed))
}

/// Run each lab as its own `runner lab … --format json` process, `jobs` at a
/// time, and return the reports in lab order.
fn run_in_parallel(catalog: &Catalog, labs: &[Lab], isolation: Isolation, jobs: usize) -> Vec<LabReport> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;
    let me = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("runner"));
    let isolation = isolation.to_possible_value().expect("isolation has names").get_name().to_string();
    let next = AtomicUsize::new(0);
    let reports: Mutex<Vec<Option<LabReport>>> = Mutex::new(vec![None; labs.len()]);
    std::thread::scope(|scope| {
        for _ in 0..jobs.min(labs.len()) {
            scope.spawn(|| loop {
                let index = next.fetch_add(1, Ordering::SeqCst);
                let Some(lab) = labs.get(index) else { break };
                let output = std::process::Command::new(&me)
                    .arg("--root")
                    .arg(&catalog.root)
                    .args(["lab", &lab.name(), "--format", "json", "--no-build", "--isolation", &isolation])
                    .output();
                let report = match output {
                    Ok(output) => serde_json::from_slice(&output.stdout).unwrap_or_else(|_| {
                        LabReport::broken(lab, String::from_utf8_lossy(&output.stderr).trim().to_string())
                    }),
                    Err(err) => LabReport::broken(lab, format!("cannot start {}: {err}", me.display())),
                };
                reports.lock().expect("no thread panics holding it")[index] = Some(report);
            });
        }
    });
    reports.into_inner().expect("no thread panicked").into_iter().flatten().collect()
}

/// Remove the current user's IPC objects, after asking.
fn clean(yes: bool) -> Result<ExitCode, Problem> {
    let me = nix::unistd::geteuid().as_raw();
    let mine: Vec<_> = runner::host::objects().into_iter().filter(|(object, _)| object.uid == me).collect();
    if mine.is_empty() {
        println!("You have no IPC objects on this machine.");
        return Ok(ExitCode::SUCCESS);
    }
    print!("{}", runner::host::table(&mine));
    if !yes {
        print!("Remove these {} objects? [y/N] ", mine.len());
        let _ = std::io::Write::flush(&mut std::io::stdout());
        let mut answer = String::new();
        let _ = std::io::stdin().read_line(&mut answer);
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            println!("Nothing removed.");
            return Ok(ExitCode::SUCCESS);
        }
    }
    let mut failed = false;
    for (object, _) in &mine {
        match runner::inventory::remove(object) {
            Ok(()) => println!("removed {object}"),
            Err(problem) => {
                failed = true;
                eprintln!("runner: {problem}");
            }
        }
    }
    Ok(verdict(!failed))
}

fn jobs_or_cores(jobs: Option<usize>) -> usize {
    jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |cores| cores.get())).max(1)
}

#[allow(clippy::too_many_arguments)]
fn grade(
    catalog: &Catalog,
    submissions: &Path,
    single: bool,
    results: PathBuf,
    format: Format,
    jobs: Option<usize>,
    build_timeout: u64,
    isolation: Isolation,
) -> Result<ExitCode, Problem> {
    use runner::grade;
    let labs: Vec<Lab> = catalog
        .labs
        .iter()
        .map(|dir| Lab::load(dir).map_err(|err| usage(err.to_string())))
        .collect::<Result<_, _>>()?;
    let folders = grade::submissions(submissions, single).map_err(usage)?;
    let refs: Vec<&Lab> = labs.iter().collect();
    compile::ensure_built(&catalog.root, &refs).map_err(|message| Problem { status: 1, message })?;
    std::fs::create_dir_all(&results).map_err(|err| usage(format!("{}: {err}", results.display())))?;
    let results = results.canonicalize().map_err(|err| usage(format!("{}: {err}", results.display())))?;
    let options = grade::Options {
        jobs: jobs_or_cores(jobs),
        isolation,
        results: results.clone(),
        build_timeout: std::time::Duration::from_secs(build_timeout),
        runner: std::env::current_exe().unwrap_or_else(|_| PathBuf::from("runner")),
        root: catalog.root.clone(),
    };
    let graded = grade::grade(&labs, &folders, &options);
    let write = |name: &str, text: String| {
        let path = results.join(name);
        std::fs::write(&path, text).map_err(|err| Problem { status: 1, message: format!("{}: {err}", path.display()) })
    };
    write("grade.json", serde_json::to_string_pretty(&graded).expect("grades serialize"))?;
    write("junit.xml", runner::junit::xml(&runner::junit::from_grade(&graded)))?;
    write("summary.csv", runner::summary::csv(&graded))?;
    write("report.html", runner::summary::html(&graded))?;
    for submission in &graded.submissions {
        let results_json = serde_json::to_string_pretty(&runner::gradescope::results(submission)).expect("serializes");
        write(&format!("{}/results.json", submission.student), results_json)?;
    }
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&graded).expect("grades serialize")),
        Format::Junit => print!("{}", runner::junit::xml(&runner::junit::from_grade(&graded))),
        Format::Gradescope => {
            let all: Vec<_> = graded.submissions.iter().map(runner::gradescope::results).collect();
            let text = match all.as_slice() {
                [one] => serde_json::to_string_pretty(one),
                many => serde_json::to_string_pretty(many),
            };
            println!("{}", text.expect("results serialize"));
        }
        Format::Human => {
            print!("{}", runner::summary::table(&graded));
            println!(
                "reports in {}: grade.json, junit.xml, summary.csv, report.html, <student>/results.json",
                results.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Walk the pending snapshots below `dir`, one at a time.
fn review(dir: &Path, accept_all: bool, reject_all: bool) -> Result<ExitCode, Problem> {
    let pending = runner::snapshot::pending_below(dir);
    if pending.is_empty() {
        println!("No pending snapshots below {}.", dir.display());
        return Ok(ExitCode::SUCCESS);
    }
    let (mut accepted, mut rejected, mut skipped) = (0, 0, 0);
    for new in &pending {
        let expected = new.with_extension("");
        let old_text = runner::snapshot::read_body(&expected).unwrap_or_default();
        let new_text = runner::snapshot::read_body(new).unwrap_or_default();
        let choice = if accept_all {
            'a'
        } else if reject_all {
            'r'
        } else {
            println!("{}", new.display());
            let name = expected.file_name().unwrap_or_default().to_string_lossy().into_owned();
            print!("{}", report::paint_diff(&runner::snapshot::diff(&old_text, &new_text, &name)));
            print!("[a]ccept, [r]eject or [s]kip? ");
            let _ = std::io::Write::flush(&mut std::io::stdout());
            let mut answer = String::new();
            if std::io::stdin().read_line(&mut answer).unwrap_or(0) == 0 {
                break;
            }
            answer.trim().chars().next().unwrap_or('s')
        };
        let done = match choice {
            'a' => std::fs::rename(new, &expected).map(|()| accepted += 1),
            'r' => std::fs::remove_file(new).map(|()| rejected += 1),
            _ => {
                skipped += 1;
                Ok(())
            }
        };
        done.map_err(|err| Problem { status: 1, message: format!("{}: {err}", new.display()) })?;
    }
    println!("accepted {accepted}, rejected {rejected}, skipped {skipped}");
    Ok(ExitCode::SUCCESS)
}

fn results_dir(root: &Path) -> PathBuf {
    compile::bin_dir(root).join("ipc-labs-results")
}

/// Keep each lab's last verdict for `runner list`.
fn remember(root: &Path, report: &LabReport) {
    let dir = results_dir(root);
    let word = if report.passed { "passed" } else { "failed" };
    let _ = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(dir.join(&report.lab), word));
}

fn last_result(root: &Path, lab: &str) -> Option<&'static str> {
    match std::fs::read_to_string(results_dir(root).join(lab)).ok()?.as_str() {
        "passed" => Some("passed last time"),
        "failed" => Some("FAILED last time"),
        _ => None,
    }
}
