//! The grade of many submissions at a glance: a student × lab table as CSV,
//! and a self-contained HTML page with the same table and every diff.

use std::fmt::Write;

use crate::grade::Grade;
use crate::junit::escape;

pub fn csv(grade: &Grade) -> String {
    let labs = lab_names(grade);
    let mut out = format!("student,{},total,max\n", labs.join(","));
    for submission in &grade.submissions {
        let scores: Vec<String> = submission.labs.iter().map(|lab| lab.score.to_string()).collect();
        let _ = writeln!(
            out,
            "{},{},{},{}",
            csv_field(&submission.student),
            scores.join(","),
            submission.score,
            submission.max_score
        );
    }
    out
}

/// The student × lab table for people: points per lab, then the total.
pub fn table(grade: &Grade) -> String {
    let labs = lab_names(grade);
    let width = grade.submissions.iter().map(|submission| submission.student.len()).max().unwrap_or(7).max(7);
    let mut out = format!("{:<width$}", "student");
    for lab in &labs {
        let _ = write!(out, " {:>9}", lab.split('-').next().unwrap_or(lab));
    }
    out.push_str("     total\n");
    for submission in &grade.submissions {
        let _ = write!(out, "{:<width$}", submission.student);
        for lab in &submission.labs {
            let _ = write!(out, " {:>9}", format!("{}/{}", lab.score, lab.max_score));
        }
        let _ = writeln!(out, " {:>9}", format!("{}/{}", submission.score, submission.max_score));
        if !submission.build.ok {
            let _ = writeln!(out, "{:<width$}   the build ({}) failed", "", submission.build.how);
        }
    }
    out
}

/// The labs every submission was graded on, in order.
fn lab_names(grade: &Grade) -> Vec<&str> {
    grade.submissions.first().map(|first| first.labs.iter().map(|lab| lab.lab.as_str()).collect()).unwrap_or_default()
}

fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

const STYLE: &str = "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}\
td,th{border:1px solid #ccc;padding:.3em .6em;text-align:right}td:first-child,th:first-child{text-align:left}\
.full{background:#e6f4e6}.part{background:#fff4d6}.none{background:#fbe3e3}\
pre{background:#f6f6f6;padding:.6em;overflow-x:auto}.del{color:#b00}.ins{color:#070}.hunk{color:#06c}";

pub fn html(grade: &Grade) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>ipc-labs grades</title>\n\
         <style>{STYLE}</style>\n</head>\n<body>\n<h1>ipc-labs grades</h1>\n"
    );
    write_table(&mut out, grade);
    for submission in &grade.submissions {
        let _ = writeln!(
            out,
            "<h2 id=\"{0}\">{0}: {1} of {2} points</h2>",
            escape(&submission.student),
            submission.score,
            submission.max_score
        );
        if !submission.build.ok {
            let _ = writeln!(
                out,
                "<p>The build ({}) failed:</p>\n<pre>{}</pre>",
                escape(&submission.build.how),
                escape(&submission.build.log)
            );
        }
        // Labs with none of the student's programs: one line for all of them.
        let (graded, absent): (Vec<_>, Vec<_>) = submission.labs.iter().partition(|lab| !lab.programs.is_empty());
        if !absent.is_empty() {
            let names: Vec<String> = absent.iter().map(|lab| escape(&lab.lab)).collect();
            let _ = writeln!(out, "<p>No programs for {} (0 points).</p>", names.join(", "));
        }
        for lab in graded {
            let _ = writeln!(out, "<h3>{}: {} of {} points</h3>\n<ul>", escape(&lab.lab), lab.score, lab.max_score);
            if let Some(error) = &lab.error {
                let _ = writeln!(out, "<li>{}</li>", escape(error));
            }
            for scenario in &lab.scenarios {
                let verdict = match scenario.problem.as_deref() {
                    _ if scenario.passed => "passed".to_string(),
                    Some(problem) if problem.starts_with("not ") => escape(problem),
                    Some(problem) => format!("failed, {}", escape(problem)),
                    None => "failed".to_string(),
                };
                let (name, score, max) = (escape(&scenario.name), scenario.score, scenario.max_score);
                let _ = write!(out, "<li>{name} ({score}/{max}): {verdict}");
                for diff in &scenario.diffs {
                    let _ = write!(out, "<pre class=\"diff\">{}</pre>", colored_diff(&diff.diff));
                }
                out.push_str("</li>\n");
            }
            let leaks = &lab.leak_check;
            let _ = writeln!(out, "<li>leak check ({}/{})", leaks.score, leaks.max_score);
            for leak in &leaks.leaks {
                let _ = writeln!(out, "<br>{}", escape(leak));
            }
            out.push_str("</li>\n</ul>\n");
        }
    }
    out.push_str("</body>\n</html>\n");
    out
}

fn write_table(out: &mut String, grade: &Grade) {
    out.push_str("<table>\n<tr><th>student</th>");
    if let Some(first) = grade.submissions.first() {
        for lab in &first.labs {
            let _ = write!(out, "<th>{}</th>", escape(&lab.lab));
        }
    }
    out.push_str("<th>total</th></tr>\n");
    for submission in &grade.submissions {
        let _ = write!(out, "<tr><td><a href=\"#{0}\">{0}</a></td>", escape(&submission.student));
        for lab in &submission.labs {
            let class = match lab.score {
                0 => "none",
                score if score == lab.max_score => "full",
                _ => "part",
            };
            let _ = write!(out, "<td class=\"{class}\">{}/{}</td>", lab.score, lab.max_score);
        }
        let _ = writeln!(out, "<td>{}/{}</td></tr>", submission.score, submission.max_score);
    }
    out.push_str("</table>\n");
}

fn colored_diff(diff: &str) -> String {
    diff.lines()
        .map(|line| {
            let class = match line.chars().next() {
                Some('@') => "hunk",
                Some('-') if !line.starts_with("---") => "del",
                Some('+') if !line.starts_with("+++") => "ins",
                _ => return escape(line),
            };
            format!("<span class=\"{class}\">{}</span>", escape(line))
        })
        .collect::<Vec<_>>()
        .join("\n")
}
