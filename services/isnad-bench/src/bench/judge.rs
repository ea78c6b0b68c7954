//! Judging a run against the targets of this machine class.
//!
//! A target is met, missed, or not measured. It is judged only on figures measured as the
//! target is specified: every scheduled verification answered (none dropped, failed or timed
//! out) at the target's rate, and, for a target defined at 10^7 entries, a log that reached
//! that size. Anything else is listed as not measured, with the reasons, and makes no
//! judgement either way. A wrong verdict is a measured failure: the verification target is
//! missed whatever its latency, and the run fails (see [`Judgements::run_fails`]).
//!
//! Everything here is pure: the phases gather [`Measurements`], [`judge`] turns them into
//! [`Judgements`].

use std::io::Write;

use serde_json::{Map, Value};

use super::targets::*;
use super::verify_load::VerifyOutcome;

/// What the phases measured that a target is judged on; `None` where a figure was not taken.
#[derive(Debug, Clone, Default)]
pub struct Measurements {
    /// Capture of single-unit events, as a share of the Ed25519 batch-verification ceiling.
    pub capture_ratio_to_ceiling: Option<f64>,
    /// Units commissioned per second.
    pub commission_units_per_s: Option<f64>,
    /// The verification load on the log as capture left it.
    pub verify: Option<VerifyRun>,
    /// The verification load again, once the log is grown.
    pub verify_at_scale: Option<VerifyRun>,
    /// The log's size when memory and disk were read and the server restarted.
    pub tree_size_end: Option<u64>,
    /// The data directory's size per log entry, bytes; `None` when it cannot be read here.
    pub bytes_per_event_on_disk: Option<f64>,
    /// The server's peak resident memory, MiB; `None` when it cannot be read here.
    pub server_rss_mib_max: Option<f64>,
    /// From restart to serving, seconds; `None` for a server started elsewhere.
    pub restart_to_serving_s: Option<f64>,
}

/// One verification phase: what the load measured, and what it ran against.
#[derive(Debug, Clone)]
pub struct VerifyRun {
    /// Verifications scheduled per second.
    pub rate_per_s: u32,
    /// The log's size while the load ran.
    pub tree_size: u64,
    /// What the load measured.
    pub outcome: VerifyOutcome,
}

/// The judgement of one target.
#[derive(Debug, Clone, PartialEq)]
pub enum Judgement {
    /// Measured as specified, and within the target.
    Met,
    /// Measured and outside the target, or a wrong verdict was given; says by how much or why.
    Missed(String),
    /// Not measured as the target is specified, so not judged; every reason why.
    NotMeasured(Vec<String>),
}

/// A target and its judgement.
#[derive(Debug, Clone, PartialEq)]
pub struct Judged {
    /// The target's name, as in the JSON line.
    pub target: &'static str,
    /// Met, missed or not measured.
    pub judgement: Judgement,
}

/// Every target's judgement, and the wrong verdicts that fail the run.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgements {
    /// In the order they are printed.
    pub targets: Vec<Judged>,
    /// Wrong verdicts over every verification phase.
    pub wrong_verdicts: u64,
}

impl Judgements {
    /// Whether the process must exit with a failure: a ledger that gives a wrong verdict is
    /// broken, whatever its speed. A missed or unmeasured target is a figure, not a failure.
    pub fn run_fails(&self) -> bool {
        self.wrong_verdicts > 0
    }

    /// The targets that were not measured, with their reasons.
    pub fn not_measured(&self) -> impl Iterator<Item = (&'static str, &[String])> {
        self.targets
            .iter()
            .filter_map(|judged| match &judged.judgement {
                Judgement::NotMeasured(reasons) => Some((judged.target, reasons.as_slice())),
                _ => None,
            })
    }

    /// `targets_met`: each judged target, met (`true`) or missed (`false`); a target not
    /// measured is absent.
    pub fn met_json(&self) -> Value {
        let met = self
            .targets
            .iter()
            .filter_map(|judged| match judged.judgement {
                Judgement::Met => Some((judged.target.to_owned(), Value::Bool(true))),
                Judgement::Missed(_) => Some((judged.target.to_owned(), Value::Bool(false))),
                Judgement::NotMeasured(_) => None,
            });
        Value::Object(met.collect::<Map<_, _>>())
    }

    /// `targets_not_measured`: each target not measured, with its reasons joined by "; ".
    pub fn not_measured_json(&self) -> Value {
        let reasons = self
            .not_measured()
            .map(|(target, reasons)| (target.to_owned(), Value::from(reasons.join("; "))));
        Value::Object(reasons.collect::<Map<_, _>>())
    }

    /// Prints a line per target, then the list of targets not measured and the wrong
    /// verdicts, if any.
    pub fn print(&self, out: &mut dyn Write) -> std::io::Result<()> {
        for judged in &self.targets {
            let line = match &judged.judgement {
                Judgement::Met => "met".to_owned(),
                Judgement::Missed(why) => format!("MISSED ({why})"),
                Judgement::NotMeasured(reasons) => {
                    format!("NOT MEASURED ({})", reasons.join("; "))
                }
            };
            writeln!(out, "target {}: {line}", judged.target)?;
        }
        let names: Vec<&str> = self.not_measured().map(|(target, _)| target).collect();
        if !names.is_empty() {
            writeln!(
                out,
                "not measured, so neither met nor missed: {}",
                names.join(", ")
            )?;
        }
        if self.run_fails() {
            writeln!(
                out,
                "FAILED: {} wrong verdicts; the ledger answered scans wrongly",
                self.wrong_verdicts
            )?;
        }
        Ok(())
    }
}

/// Judges every target on `measured`.
pub fn judge(measured: &Measurements) -> Judgements {
    let targets = vec![
        Judged {
            target: "capture",
            judgement: at_least(
                measured.capture_ratio_to_ceiling,
                CAPTURE_RATIO_MIN,
                "of the ceiling",
            ),
        },
        Judged {
            target: "commission",
            judgement: at_least(
                measured.commission_units_per_s,
                COMMISSION_UNITS_PER_S_MIN,
                "units/s",
            ),
        },
        Judged {
            target: "verify_p50",
            judgement: verification(measured.verify.as_ref(), Percentile::P50, None),
        },
        Judged {
            target: "verify_p99",
            judgement: verification(measured.verify.as_ref(), Percentile::P99, None),
        },
        Judged {
            target: "verify_at_scale_p50",
            judgement: verification(
                measured.verify_at_scale.as_ref(),
                Percentile::P50,
                Some(SCALE_ENTRIES),
            ),
        },
        Judged {
            target: "verify_at_scale_p99",
            judgement: verification(
                measured.verify_at_scale.as_ref(),
                Percentile::P99,
                Some(SCALE_ENTRIES),
            ),
        },
        Judged {
            target: "bytes_per_event",
            judgement: at_scale(
                measured.tree_size_end,
                measured.bytes_per_event_on_disk,
                "the server's data directory cannot be read here",
                |bytes| at_most(Some(bytes), BYTES_PER_EVENT_MAX, "B"),
            ),
        },
        Judged {
            target: "server_rss",
            judgement: at_scale(
                measured.tree_size_end,
                measured.server_rss_mib_max,
                "the server's memory cannot be read here",
                |mib| at_most(Some(mib), SERVER_RSS_MIB_MAX, "MiB"),
            ),
        },
        Judged {
            target: "restart",
            judgement: at_scale(
                measured.tree_size_end,
                measured.restart_to_serving_s,
                "a server started elsewhere is not restarted",
                |seconds| at_most(Some(seconds), RESTART_S_MAX, "s"),
            ),
        },
    ];
    let wrong_verdicts = [&measured.verify, &measured.verify_at_scale]
        .into_iter()
        .flatten()
        .map(|run| run.outcome.wrong_verdicts)
        .sum();
    Judgements {
        targets,
        wrong_verdicts,
    }
}

/// A latency percentile a verification target bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Percentile {
    /// The median.
    P50,
    /// The 99th percentile.
    P99,
}

/// A verification latency target: `verify` judged on `percentile`, against the target at the
/// log's size `at_entries` (the size it is defined at, `None` for the log as capture left it;
/// the latency may be [`AT_SCALE_FACTOR`] times longer there).
fn verification(
    verify: Option<&VerifyRun>,
    percentile: Percentile,
    at_entries: Option<u64>,
) -> Judgement {
    let Some(run) = verify else {
        return not_measured("the phase did not run");
    };
    let outcome = &run.outcome;
    if outcome.wrong_verdicts > 0 {
        return Judgement::Missed(format!(
            "{} wrong verdicts of {} answered",
            outcome.wrong_verdicts, outcome.answered
        ));
    }
    let mut reasons = Vec::new();
    if outcome.answered == 0 {
        reasons.push("no samples".to_owned());
    }
    let unanswered = outcome.scheduled.saturating_sub(outcome.answered);
    if unanswered > 0 {
        reasons.push(format!(
            "{unanswered} of {} scheduled not answered ({})",
            outcome.scheduled,
            unanswered_parts(outcome)
        ));
    }
    if run.rate_per_s < VERIFY_RATE_PER_S {
        reasons.push(format!(
            "scheduled at {}/s, not the target's {VERIFY_RATE_PER_S}/s",
            run.rate_per_s
        ));
    }
    if let Some(entries) = at_entries {
        reasons.extend(log_too_small(run.tree_size, entries));
    }
    if !reasons.is_empty() {
        return Judgement::NotMeasured(reasons);
    }
    let factor = if at_entries.is_some() {
        AT_SCALE_FACTOR
    } else {
        1.0
    };
    let (value, max, name) = match percentile {
        Percentile::P50 => (outcome.latency.p50_ms, VERIFY_P50_MS_MAX * factor, "p50"),
        Percentile::P99 => (outcome.latency.p99_ms, VERIFY_P99_MS_MAX * factor, "p99"),
    };
    if value <= max {
        Judgement::Met
    } else {
        Judgement::Missed(format!("{name} {value:.3} ms, at most {max} ms"))
    }
}

/// Why the requests not answered were not: dropped, failed, timed out (the ones that
/// happened).
fn unanswered_parts(outcome: &VerifyOutcome) -> String {
    let parts = [
        (outcome.dropped, "dropped"),
        (outcome.errors, "errors"),
        (outcome.timeouts, "timed out"),
    ];
    let named: Vec<String> = parts
        .iter()
        .filter(|(count, _)| *count > 0)
        .map(|(count, what)| format!("{count} {what}"))
        .collect();
    if named.is_empty() {
        "unaccounted for".to_owned()
    } else {
        named.join(", ")
    }
}

/// A target defined at [`SCALE_ENTRIES`]: judged by `check` on `figure` only when the log
/// held at least that many entries; `absent` says why a missing figure is missing.
fn at_scale(
    tree_size: Option<u64>,
    figure: Option<f64>,
    absent: &str,
    check: impl FnOnce(f64) -> Judgement,
) -> Judgement {
    let mut reasons = Vec::new();
    match tree_size {
        Some(size) => reasons.extend(log_too_small(size, SCALE_ENTRIES)),
        None => reasons.push("the log's size was not read".to_owned()),
    }
    if figure.is_none() {
        reasons.push(absent.to_owned());
    }
    match figure {
        Some(value) if reasons.is_empty() => check(value),
        _ => Judgement::NotMeasured(reasons),
    }
}

/// The reason a log of `tree_size` entries does not measure a target defined at `entries`.
fn log_too_small(tree_size: u64, entries: u64) -> Option<String> {
    (tree_size < entries)
        .then(|| format!("the log reached {tree_size} entries, not the target's {entries}"))
}

/// A target met by at least `min`.
fn at_least(value: Option<f64>, min: f64, unit: &str) -> Judgement {
    match value {
        None => not_measured("no figure"),
        Some(value) if value >= min => Judgement::Met,
        Some(value) => {
            Judgement::Missed(format!("{} {unit}, at least {min} {unit}", figure(value)))
        }
    }
}

/// A target met by at most `max`.
fn at_most(value: Option<f64>, max: f64, unit: &str) -> Judgement {
    match value {
        None => not_measured("no figure"),
        Some(value) if value <= max => Judgement::Met,
        Some(value) => Judgement::Missed(format!("{} {unit}, at most {max} {unit}", figure(value))),
    }
}

/// `value` with at most three decimals, trailing zeros left out, for a reason.
fn figure(value: f64) -> String {
    let text = format!("{value:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Not measured, for one reason.
fn not_measured(reason: &str) -> Judgement {
    Judgement::NotMeasured(vec![reason.to_owned()])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::stats::Latencies;

    /// A verification phase run as specified: every request answered at the target rate,
    /// on a log of `tree_size` entries, with latencies `p50_ms` and `p99_ms`.
    fn verify_run(tree_size: u64, p50_ms: f64, p99_ms: f64) -> VerifyRun {
        let scheduled = 25_000;
        VerifyRun {
            rate_per_s: VERIFY_RATE_PER_S,
            tree_size,
            outcome: VerifyOutcome {
                latency: Latencies {
                    count: scheduled as usize,
                    p50_ms,
                    p99_ms,
                    p999_ms: p99_ms,
                    max_ms: p99_ms,
                },
                scheduled,
                answered: scheduled,
                ..VerifyOutcome::default()
            },
        }
    }

    /// Every target measured as specified, and met.
    fn all_met() -> Measurements {
        Measurements {
            capture_ratio_to_ceiling: Some(0.31),
            commission_units_per_s: Some(100_000.0),
            verify: Some(verify_run(1_000_000, 0.9, 4.0)),
            verify_at_scale: Some(verify_run(SCALE_ENTRIES + 1_234, 1.9, 9.0)),
            tree_size_end: Some(SCALE_ENTRIES + 1_234),
            bytes_per_event_on_disk: Some(590.0),
            server_rss_mib_max: Some(500.0),
            restart_to_serving_s: Some(4.5),
        }
    }

    /// What a judgement is, in the words of the output, and its reasons.
    fn kind(judgement: &Judgement) -> (&'static str, String) {
        match judgement {
            Judgement::Met => ("met", String::new()),
            Judgement::Missed(why) => ("missed", why.clone()),
            Judgement::NotMeasured(reasons) => ("not measured", reasons.join("; ")),
        }
    }

    /// Checks that `target` is judged `expected` ("met", "missed" or "not measured") on
    /// `measured`, for a reason that says `because`.
    #[track_caller]
    fn check(measured: &Measurements, target: &str, expected: &str, because: &str) {
        let judgements = judge(measured);
        let judged = judgements
            .targets
            .iter()
            .find(|judged| judged.target == target)
            .unwrap_or_else(|| panic!("no target {target}"));
        let (found, reasons) = kind(&judged.judgement);
        assert_eq!(found, expected, "{target}: {reasons}");
        assert!(
            reasons.contains(because),
            "{target}: {reasons:?} does not say {because:?}"
        );
    }

    #[test]
    fn a_run_as_specified_is_judged_on_its_figures() {
        let measured = all_met();
        for judged in judge(&measured).targets {
            assert_eq!(judged.judgement, Judgement::Met, "{}", judged.target);
        }
        let mut slow = all_met();
        slow.verify = Some(verify_run(1_000_000, 0.9, 6.0));
        slow.restart_to_serving_s = Some(42.0);
        check(&slow, "verify_p50", "met", "");
        check(&slow, "verify_p99", "missed", "p99 6.000 ms, at most 5 ms");
        check(&slow, "restart", "missed", "42 s, at most 5 s");
        let mut few = all_met();
        few.commission_units_per_s = Some(27_321.456_7);
        check(
            &few,
            "commission",
            "missed",
            "27321.457 units/s, at least 100000 units/s",
        );
        assert!(!judge(&slow).run_fails());
    }

    #[test]
    fn no_samples_is_not_measured() {
        let mut measured = all_met();
        // Every percentile zero, as the percentiles of no samples are.
        let mut empty = verify_run(1_000_000, 0.0, 0.0);
        empty.outcome.scheduled = 0;
        empty.outcome.answered = 0;
        empty.outcome.latency = Latencies::default();
        measured.verify = Some(empty);
        check(&measured, "verify_p50", "not measured", "no samples");
        check(&measured, "verify_p99", "not measured", "no samples");
        measured.verify = None;
        check(&measured, "verify_p99", "not measured", "did not run");
    }

    #[test]
    fn requests_not_answered_leave_the_latency_unmeasured() {
        let cases = [
            (5, 0, 0, "5 of 25000 scheduled not answered (5 dropped)"),
            (0, 3, 0, "3 of 25000 scheduled not answered (3 errors)"),
            (0, 0, 1, "1 of 25000 scheduled not answered (1 timed out)"),
            (
                2,
                1,
                1,
                "4 of 25000 scheduled not answered (2 dropped, 1 errors, 1 timed out)",
            ),
        ];
        for (dropped, errors, timeouts, because) in cases {
            let mut run = verify_run(1_000_000, 0.5, 2.0);
            run.outcome.answered -= dropped + errors + timeouts;
            run.outcome.dropped = dropped;
            run.outcome.errors = errors;
            run.outcome.timeouts = timeouts;
            let mut measured = all_met();
            measured.verify = Some(run.clone());
            check(&measured, "verify_p50", "not measured", because);
            check(&measured, "verify_p99", "not measured", because);
            measured.verify_at_scale = Some(VerifyRun {
                tree_size: SCALE_ENTRIES,
                ..run
            });
            check(&measured, "verify_at_scale_p99", "not measured", because);
        }
    }

    #[test]
    fn a_rate_below_the_targets_is_not_measured() {
        let mut measured = all_met();
        let mut run = verify_run(1_000_000, 0.5, 2.0);
        run.rate_per_s = 1_000;
        measured.verify = Some(run);
        check(
            &measured,
            "verify_p50",
            "not measured",
            "at 1000/s, not the target's 5000/s",
        );
    }

    #[test]
    fn wrong_verdicts_miss_the_target_and_fail_the_run() {
        let mut measured = all_met();
        let mut run = verify_run(1_000_000, 0.5, 2.0);
        run.outcome.wrong_verdicts = 3;
        measured.verify = Some(run);
        check(&measured, "verify_p50", "missed", "3 wrong verdicts");
        check(&measured, "verify_p99", "missed", "3 wrong verdicts");
        check(&measured, "verify_at_scale_p50", "met", "");
        let judgements = judge(&measured);
        assert_eq!(judgements.wrong_verdicts, 3);
        assert!(judgements.run_fails());
        // A wrong verdict is a failure even where the latency was not measured.
        let mut short = all_met();
        let mut run = verify_run(300_000, 0.5, 2.0);
        run.outcome.wrong_verdicts = 1;
        short.verify_at_scale = Some(run);
        check(&short, "verify_at_scale_p50", "missed", "1 wrong verdicts");
        assert!(judge(&short).run_fails());
        assert!(!judge(&all_met()).run_fails());
    }

    #[test]
    fn targets_at_ten_million_entries_are_not_measured_on_a_smaller_log() {
        // A short run: every figure within its target, at 3·10^5 entries.
        let mut short = all_met();
        short.tree_size_end = Some(300_412);
        short.verify_at_scale = Some(verify_run(300_412, 0.5, 2.0));
        let because = "the log reached 300412 entries, not the target's 10000000";
        for target in [
            "verify_at_scale_p50",
            "verify_at_scale_p99",
            "bytes_per_event",
            "server_rss",
            "restart",
        ] {
            check(&short, target, "not measured", because);
        }
        check(&short, "verify_p50", "met", "");
        check(&short, "capture", "met", "");
        let mut reached = all_met();
        reached.tree_size_end = Some(SCALE_ENTRIES);
        check(&reached, "server_rss", "met", "");
        reached.server_rss_mib_max = Some(1_145.0);
        check(
            &reached,
            "server_rss",
            "missed",
            "1145 MiB, at most 512 MiB",
        );
    }

    #[test]
    fn figures_that_cannot_be_taken_are_listed_as_not_measured() {
        // A server started elsewhere, with neither its process id nor its data directory.
        let mut external = all_met();
        external.server_rss_mib_max = None;
        external.bytes_per_event_on_disk = None;
        external.restart_to_serving_s = None;
        check(
            &external,
            "server_rss",
            "not measured",
            "memory cannot be read",
        );
        check(
            &external,
            "bytes_per_event",
            "not measured",
            "data directory",
        );
        check(&external, "restart", "not measured", "not restarted");
        let names: Vec<&str> = judge(&external)
            .not_measured()
            .map(|(target, _)| target)
            .collect();
        assert_eq!(names, ["bytes_per_event", "server_rss", "restart"]);
    }

    #[test]
    fn the_output_lists_what_was_not_measured() {
        let mut measured = all_met();
        measured.tree_size_end = Some(300_412);
        measured.capture_ratio_to_ceiling = Some(0.12);
        let mut run = verify_run(300_412, 0.5, 2.0);
        run.outcome.wrong_verdicts = 2;
        measured.verify_at_scale = Some(run);
        let judgements = judge(&measured);
        let met = judgements.met_json();
        assert_eq!(met["capture"], Value::Bool(false));
        assert_eq!(met["verify_p50"], Value::Bool(true));
        assert_eq!(met["verify_at_scale_p50"], Value::Bool(false));
        assert!(met.get("restart").is_none(), "not measured, so not judged");
        let not_measured = judgements.not_measured_json();
        let names: Vec<&String> = not_measured
            .as_object()
            .expect("an object")
            .keys()
            .collect();
        assert_eq!(names, ["bytes_per_event", "restart", "server_rss"]);
        assert!(
            not_measured["restart"]
                .as_str()
                .expect("a reason")
                .contains("300412 entries")
        );
        let mut out = Vec::new();
        judgements.print(&mut out).expect("writing to memory");
        let printed = String::from_utf8(out).expect("text");
        assert!(
            printed.contains(
                "target capture: MISSED (0.12 of the ceiling, at least 0.3 of the ceiling)"
            )
        );
        assert!(printed.contains("target restart: NOT MEASURED (the log reached 300412"));
        assert!(printed.contains(
            "not measured, so neither met nor missed: bytes_per_event, server_rss, restart"
        ));
        assert!(printed.contains("FAILED: 2 wrong verdicts"));
    }
}
