//! JUnit XML, the report CI servers load: one `<testsuite>` per lab (and
//! student, when grading), one `<testcase>` per scenario plus the leak check.

use std::fmt::Write;

use crate::grade::Grade;
use crate::run::LabReport;

pub struct Suite {
    pub name: String,
    pub cases: Vec<Case>,
}

pub struct Case {
    pub class: String,
    pub name: String,
    pub seconds: f64,
    /// A short message and the details (a diff, the leaks...), when it failed.
    pub failure: Option<(String, String)>,
}

/// The suites of a `runner check`: one per lab.
pub fn from_check(reports: &[LabReport]) -> Vec<Suite> {
    reports
        .iter()
        .map(|report| {
            let class = format!("reference.{}", report.lab);
            let mut cases: Vec<Case> = report
                .scenarios
                .iter()
                .map(|scenario| {
                    let problem = scenario
                        .error
                        .clone()
                        .or_else(|| scenario.failure.as_ref().map(|failure| failure.problem.clone()))
                        .or_else(|| (!scenario.passed).then(|| "transcript or leak check failed".to_string()));
                    let details: Vec<String> = scenario
                        .parties
                        .iter()
                        .filter_map(|party| party.diff.clone())
                        .chain(scenario.leaks.iter().map(|leak| format!("leak: {} ({})", leak.object, leak.removal)))
                        .collect();
                    Case {
                        class: class.clone(),
                        name: scenario.name.clone(),
                        seconds: scenario.elapsed_ms as f64 / 1000.0,
                        failure: problem.map(|message| (message, details.join("\n"))),
                    }
                })
                .collect();
            if let Some(error) = &report.error {
                cases.push(Case {
                    class,
                    name: "run".to_string(),
                    seconds: 0.0,
                    failure: Some((error.clone(), String::new())),
                });
            }
            Suite { name: report.lab.clone(), cases }
        })
        .collect()
}

/// The suites of a `runner grade`: one per student and lab.
pub fn from_grade(grade: &Grade) -> Vec<Suite> {
    let mut suites = Vec::new();
    for submission in &grade.submissions {
        for lab in &submission.labs {
            let class = format!("{}.{}", submission.student, lab.lab);
            let mut cases: Vec<Case> = lab
                .scenarios
                .iter()
                .map(|scenario| {
                    let details: Vec<&str> = scenario.diffs.iter().map(|diff| diff.diff.as_str()).collect();
                    Case {
                        class: class.clone(),
                        name: format!("{} ({}/{} points)", scenario.name, scenario.score, scenario.max_score),
                        seconds: scenario.elapsed_ms as f64 / 1000.0,
                        failure: (!scenario.passed).then(|| {
                            let message = scenario.problem.clone().unwrap_or_else(|| "failed".to_string());
                            (message, details.join("\n"))
                        }),
                    }
                })
                .collect();
            let leaks = &lab.leak_check;
            cases.push(Case {
                class: class.clone(),
                name: format!("leak check ({}/{} points)", leaks.score, leaks.max_score),
                seconds: 0.0,
                failure: (leaks.score < leaks.max_score).then(|| {
                    let message = if leaks.leaks.is_empty() { "not run".to_string() } else { "leaks".to_string() };
                    (message, leaks.leaks.join("\n"))
                }),
            });
            suites.push(Suite { name: format!("{}/{}", submission.student, lab.lab), cases });
        }
    }
    suites
}

pub fn xml(suites: &[Suite]) -> String {
    let tests: usize = suites.iter().map(|suite| suite.cases.len()).sum();
    let failures: usize = suites.iter().map(failed).sum();
    let seconds: f64 = suites.iter().flat_map(|suite| &suite.cases).map(|case| case.seconds).sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ =
        writeln!(out, "<testsuites name=\"ipc-labs\" tests=\"{tests}\" failures=\"{failures}\" time=\"{seconds:.3}\">");
    for suite in suites {
        let time: f64 = suite.cases.iter().map(|case| case.seconds).sum();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\" time=\"{time:.3}\">",
            escape(&suite.name),
            suite.cases.len(),
            failed(suite)
        );
        for case in &suite.cases {
            let head = format!(
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
                escape(&case.class),
                escape(&case.name),
                case.seconds
            );
            match &case.failure {
                None => {
                    let _ = writeln!(out, "{head}/>");
                }
                Some((message, details)) => {
                    let _ = writeln!(out, "{head}>");
                    let _ =
                        writeln!(out, "      <failure message=\"{}\">{}</failure>", escape(message), escape(details));
                    let _ = writeln!(out, "    </testcase>");
                }
            }
        }
        let _ = writeln!(out, "  </testsuite>");
    }
    out.push_str("</testsuites>\n");
    out
}

fn failed(suite: &Suite) -> usize {
    suite.cases.iter().filter(|case| case.failure.is_some()).count()
}

/// Text safe inside XML attributes and elements; control characters that
/// XML 1.0 forbids (a terminal may show them) become `?`.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' | '\t' | '\r' => out.push(c),
            c if (c as u32) < 0x20 => out.push('?'),
            c => out.push(c),
        }
    }
    out
}
